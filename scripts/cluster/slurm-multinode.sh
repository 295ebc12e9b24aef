#!/bin/bash
# Several nodes of 8 GPUs. The batch sizes in the config are GLOBAL (all GPUs together), so the
# schedule is the paper's whatever the node count; the per-GPU batch is global / (nodes x 8).
# Submit with: sbatch --nodes=4 scripts/cluster/slurm-multinode.sh
#SBATCH --job-name=stylegan-multinode
#SBATCH --nodes=2
#SBATCH --ntasks-per-node=8
#SBATCH --gpus-per-node=8
#SBATCH --cpus-per-task=8
#SBATCH --mem=0
#SBATCH --time=48:00:00
#SBATCH --signal=SIGUSR1@120
#SBATCH --requeue
#SBATCH --output=runs/slurm-%j.out
set -euo pipefail
source .venv/bin/activate
export WANDB_MODE=${WANDB_MODE:-offline}
export NCCL_ASYNC_ERROR_HANDLING=1

srun stylegan-lit fit --config configs/ffhq-1024.yaml \
    --data.source "${DATA:-datasets/ffhq}" \
    --trainer.num_nodes "$SLURM_NNODES" --trainer.devices 8 \
    --trainer.plugins lightning.pytorch.plugins.environments.SLURMEnvironment \
    --trainer.plugins.init_args.auto_requeue true
