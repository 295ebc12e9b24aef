"""DDP strategies for GAN training, side by side: seconds per training step.

Runs the demo-sized network at one resolution under 2-process CPU DDP (gloo) or N GPUs
(NCCL), once with Lightning's ``ddp_find_unused_parameters_true`` and once with
:class:`stylegan_lit.training.GANDDPStrategy`, and prints one JSON line per strategy.

    python benchmarks/ddp_strategies.py [--devices 2] [--accelerator cpu] [--resolution 16]
        [--batch 32] [--steps 20]

Each strategy runs in its own launch (Lightning's DDP launcher re-runs this script per rank).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def worker(args: argparse.Namespace) -> None:
    import lightning.pytorch as pl
    import torch

    from stylegan_lit.callbacks import ProgressiveGrowing
    from stylegan_lit.cli.train import TRAINER_DEFAULTS
    from stylegan_lit.data.datamodule import FaceDataModule
    from stylegan_lit.models import Discriminator, Generator
    from stylegan_lit.training import GANDDPStrategy, StyleGANModule

    class StepTimer(pl.Callback):
        def __init__(self) -> None:
            self.times: list[float] = []

        def on_train_batch_end(self, trainer, *_: object) -> None:
            self.times.append(time.perf_counter())

    torch.manual_seed(0)
    res = args.resolution
    net = dict(resolution=res, fmap_base=1024, fmap_max=128)
    module = StyleGANModule(
        Generator(z_dim=128, w_dim=128, **net), Discriminator(**net), r1_interval=16
    )
    growth = ProgressiveGrowing(
        start_resolution=res,
        stable_kimg=1e6,
        fade_kimg=0,
        total_kimg=args.steps * args.batch / 1000,
        batch_sizes={res: args.batch},
    )
    timer = StepTimer()
    strategy = GANDDPStrategy() if args.strategy == "gan" else "ddp_find_unused_parameters_true"
    trainer = pl.Trainer(
        **{**TRAINER_DEFAULTS, "logger": False, "enable_checkpointing": False},
        accelerator=args.accelerator,
        devices=args.devices,
        strategy=strategy,
        callbacks=[growth, timer],
        enable_progress_bar=False,
        enable_model_summary=False,
        default_root_dir="/tmp/ddp_bench",
    )
    trainer.fit(module, datamodule=FaceDataModule(resolution=res, num_images=2048))
    if trainer.global_rank == 0:
        warm = timer.times[2:]
        per_step = (warm[-1] - warm[0]) / (len(warm) - 1)
        print(
            "RESULT "
            + json.dumps(
                {
                    "strategy": args.strategy,
                    "devices": args.devices,
                    "accelerator": args.accelerator,
                    "resolution": res,
                    "global_batch": args.batch,
                    "sec_per_step": round(per_step, 4),
                    "images_per_s": round(args.batch / per_step, 2),
                }
            ),
            flush=True,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devices", type=int, default=2)
    parser.add_argument("--accelerator", default="cpu")
    parser.add_argument("--resolution", type=int, default=16)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--strategy", choices=["gan", "find_unused"], default=None)
    args = parser.parse_args()
    if args.strategy is not None:
        worker(args)
        return
    for strategy in ("find_unused", "gan"):
        command = [sys.executable, __file__, *sys.argv[1:], "--strategy", strategy]
        env = {**os.environ, "PYTHONWARNINGS": "ignore"}
        out = subprocess.run(command, capture_output=True, text=True, env=env, check=True).stdout
        for line in out.splitlines():
            if line.startswith("RESULT "):
                print(line.removeprefix("RESULT "), flush=True)


if __name__ == "__main__":
    main()
