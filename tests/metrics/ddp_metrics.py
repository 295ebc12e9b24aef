"""Metric evaluation under 2-process CPU DDP (gloo), run by tests/metrics/test_ddp.py.

Lightning's DDP launcher re-runs this script for rank 1, so it must be a script, not a test.
The callback measures G_ema before the first step (identical weights for any world size);
each rank writes the callback's history to OUT/history-<world>-<rank>.json.
Usage: python ddp_metrics.py OUT WEIGHTS [--devices N]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import lightning.pytorch as pl

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from stylegan_lit.callbacks.metrics import MetricsCallback
from tests.metrics.helpers import FakeDataModule, smooth_images, tiny_module


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("out", type=Path)
    parser.add_argument("weights", type=Path)
    parser.add_argument("--devices", type=int, default=2)
    args = parser.parse_args()
    callback = MetricsCallback(
        every_kimg=1000,
        num_fake=16,
        batch_size=4,
        metrics=("fid", "kid", "swd"),
        feature_extractor_weights_path=str(args.weights),
        cache_dir=str(args.out / "stats"),
        kid_subset_size=8,
        real_images=smooth_images(16, 16, seed=3),
        at_end=False,
        download_weights=False,
        inception_features=64,
    )
    trainer = pl.Trainer(
        accelerator="cpu",
        devices=args.devices,
        strategy="ddp_find_unused_parameters_true" if args.devices > 1 else "auto",
        max_steps=2,
        logger=False,
        default_root_dir=str(args.out),
        callbacks=[callback],
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
    )
    trainer.fit(tiny_module(), datamodule=FakeDataModule(num_images=16, batch_size=4))
    name = f"history-{args.devices}-{trainer.global_rank}.json"
    (args.out / name).write_text(json.dumps(callback.history))


if __name__ == "__main__":
    main()
