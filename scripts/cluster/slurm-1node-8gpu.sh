#!/bin/bash
# One node, 8 GPUs: the paper's FFHQ 1024 setup.  Submit with: sbatch scripts/cluster/slurm-1node-8gpu.sh
#SBATCH --job-name=stylegan-ffhq1024
#SBATCH --nodes=1
#SBATCH --ntasks-per-node=8          # one task per GPU: Lightning reads SLURM's process layout
#SBATCH --gpus-per-node=8
#SBATCH --cpus-per-task=8            # data-loader workers per GPU
#SBATCH --mem=0
#SBATCH --time=48:00:00
#SBATCH --signal=SIGUSR1@120         # 2 minutes before the limit: Lightning checkpoints and requeues
#SBATCH --requeue
#SBATCH --output=runs/slurm-%j.out
set -euo pipefail
source .venv/bin/activate
export WANDB_MODE=${WANDB_MODE:-offline}   # compute nodes often have no internet; `wandb sync` later
# Inception weights for FID, downloaded beforehand on a login node (see README, FID):
# export STYLEGAN_LIT_INCEPTION=/path/to/weights-inception-2015-12-05-6726825d.pth

# On a requeue after preemption or time-out, Lightning finds the checkpoint it wrote on
# SIGUSR1 (hpc_ckpt_*.ckpt in default_root_dir) and resumes from it automatically: same kimg,
# resolution and fade-in alpha.
srun stylegan-lit fit --config configs/ffhq-1024.yaml \
    --data.source "${DATA:-datasets/ffhq}" \
    --trainer.num_nodes 1 --trainer.devices 8 \
    --trainer.plugins lightning.pytorch.plugins.environments.SLURMEnvironment \
    --trainer.plugins.init_args.auto_requeue true
