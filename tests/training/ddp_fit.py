"""A tiny progressive fit under 2-process CPU DDP (gloo), run by tests/training/test_ddp.py.

Lightning's DDP launcher re-runs this script for rank 1, so it must be a script, not a test.
Each rank saves its final weights and progress to OUT/rank<k>.pt; rank 0 also writes OUT/last.ckpt.
Usage: python ddp_fit.py OUT [--devices N] [--resume CKPT] [--total-kimg K] [--max-batches B]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from stylegan_lit.training import GANDDPStrategy
from tests.training.helpers import tiny_data, tiny_growth, tiny_module, tiny_trainer


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("out", type=Path)
    parser.add_argument("--devices", type=int, default=2)
    parser.add_argument("--resume", type=Path, default=None)
    parser.add_argument("--total-kimg", type=float, default=0.096)
    parser.add_argument("--max-batches", type=int, default=-1)
    parser.add_argument("--strategy", choices=["gan", "find_unused"], default="gan")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    strategy: object = "auto"
    if args.devices > 1:
        strategy = GANDDPStrategy() if args.strategy == "gan" else "ddp_find_unused_parameters_true"
    module = tiny_module()
    trainer = tiny_trainer(
        args.out,
        [tiny_growth(args.total_kimg)],
        devices=args.devices,
        strategy=strategy,
        max_steps=2 * args.max_batches if args.max_batches > 0 else -1,
    )
    trainer.fit(module, datamodule=tiny_data(), ckpt_path=args.resume)
    state = {k: v.detach().cpu() for k, v in module.state_dict().items()}
    progress = {"images_seen": module.images_seen, "resolution": module.resolution,
                "alpha": module.alpha}  # fmt: skip
    torch.save({"weights": state, "progress": progress}, args.out / f"rank{trainer.global_rank}.pt")
    trainer.save_checkpoint(args.out / "last.ckpt")


if __name__ == "__main__":
    main()
