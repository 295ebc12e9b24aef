#!/bin/bash
# Without SLURM: torchrun starts one process per GPU and Lightning picks up its environment
# (LOCAL_RANK, WORLD_SIZE, MASTER_ADDR...). For several nodes run the same command on each
# node with --nnodes, --node-rank and --rdzv-endpoint=HOST:PORT, and --trainer.num_nodes.
#   bash scripts/cluster/torchrun-1node.sh [NUM_GPUS]
set -euo pipefail
GPUS=${1:-8}
source .venv/bin/activate
torchrun --standalone --nproc-per-node "$GPUS" -m stylegan_lit fit \
    --config configs/ffhq-1024.yaml --data.source "${DATA:-datasets/ffhq}" \
    --trainer.devices "$GPUS" --trainer.num_nodes 1
