"""EMA half-lives and recipe tweaks scored on one training run (SWD ratio of each at the end).

The EMA half-life only changes which average of G's weights is sampled, so several of them
can be judged on a single run: this script trains a config (from scratch, or continuing a
checkpoint for a few kimg to test what the end of a recipe should look like) and keeps, next
to the run's own G_ema, one extra EMA copy per ``--half-lives`` value (started from the run's
G_ema, so a continued run's copies carry its history). At the end each generator (the run's
G_ema, the raw G and every copy) is scored the way ``benchmarks/quality.py`` scores one: SWD
(x1e3) of ``--num-images`` samples (random noise, no truncation) against as many real faces,
divided by the real-vs-real floor of the same run. Training-time budgets (``--minutes``)
make equal-time comparisons of recipes: each run stops at the same seconds, not kimg.

Prints one JSON line (overrides, kimg, training seconds, images/s, floor, and per generator
its ratio and per-level SWD; the CPU model and thread count) and writes a sample grid per
generator into ``--out``.

    # continue the 64 px recipe's model for 15 kimg; score half-lives 0.5, 2, 4 and 8 kimg
    python benchmarks/ema_sweep.py --config configs/synthetic-64.yaml \\
        --resume runs/synthetic-64/checkpoints/last.ckpt --kimg 165 --half-lives 0.5 2 4 8
    # the same with the learning rate lowered for those 15 kimg
    python benchmarks/ema_sweep.py --config configs/synthetic-64.yaml --resume CKPT \\
        --kimg 165 --half-lives 4 --progressive.base_lr=0.002
    # a recipe variant for 370 s of training on one thread (two can run side by side)
    python benchmarks/ema_sweep.py --config configs/demo.yaml --minutes 6.17 --threads 1 \\
        --progressive.batch_sizes='{8: 16, 16: 16, 32: 8}'

Arguments the script does not know are passed to ``stylegan-lit fit`` as overrides.
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import lightning.pytorch as pl  # noqa: E402

from benchmarks.machine import cpu_model  # noqa: E402
from benchmarks.quality import (  # noqa: E402
    REAL_SEED,
    check_resume,
    fit_arguments,
    fixed_samples,
    save_grid,
    swd_of,
    swd_ratio,
)
from stylegan_lit.models import Generator  # noqa: E402
from stylegan_lit.training.ema import ema_beta, update_ema  # noqa: E402


class ExtraEMAs(pl.Callback):
    """Keeps one EMA of G per half-life beside the run's own, and stops after ``seconds`` of
    training when given.

    The copies start from the run's G_ema when training starts (after a checkpoint has been
    restored) and are updated after every step with the step's global batch, as the module
    updates its own (:func:`~stylegan_lit.training.ema.ema_beta`).
    """

    def __init__(self, half_lives: list[float], seconds: float | None) -> None:
        self.half_lives = half_lives
        self.seconds = seconds
        self.copies: dict[str, Generator] = {}
        self.train_seconds = 0.0
        self.images_at_start = 0
        self._began = 0.0

    def on_train_start(self, trainer: pl.Trainer, pl_module: Any) -> None:
        self.copies = {
            f"ema_{h:g}kimg": copy.deepcopy(pl_module.generator_ema).requires_grad_(False)
            for h in self.half_lives
        }
        self.images_at_start = int(pl_module.images_seen)  # > 0 when resumed
        self._began = time.perf_counter()

    def on_train_batch_end(
        self, trainer: pl.Trainer, pl_module: Any, outputs: Any, batch: Any, batch_idx: int
    ) -> None:
        global_batch = len(batch[0] if isinstance(batch, (list, tuple)) else batch)
        global_batch *= trainer.world_size
        for half_life, ema in zip(self.half_lives, self.copies.values(), strict=True):
            update_ema(ema, pl_module.generator, ema_beta(global_batch, half_life))
        self.train_seconds = time.perf_counter() - self._began
        if self.seconds is not None and self.train_seconds >= self.seconds:
            trainer.should_stop = True


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", required=True, help="a stylegan-lit fit config")
    parser.add_argument("--resume", type=Path, default=None, help="a checkpoint to continue")
    parser.add_argument("--kimg", type=float, default=None, help="total kimg (default: config)")
    parser.add_argument("--minutes", type=float, default=None, help="training time budget")
    parser.add_argument("--half-lives", type=float, nargs="*", default=[0.5, 1.0, 2.0, 4.0])
    parser.add_argument("--num-images", type=int, default=2000, help="samples per score")
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: all)")
    parser.add_argument("--out", type=Path, default=None, help="default: a new temp folder")
    args, overrides = parser.parse_known_args()
    check_resume(parser, args.resume)
    if any(h <= 0 for h in args.half_lives):
        parser.error("--half-lives must be positive")

    from stylegan_lit.cli.train import build_cli

    if args.threads:
        torch.set_num_threads(args.threads)
    out = args.out or Path(tempfile.mkdtemp(prefix="ema-sweep-"))
    out.mkdir(parents=True, exist_ok=True)
    words = fit_arguments(args.config, out / "run", args.kimg, overrides)
    cli = build_cli(words, run=False)
    extra = ExtraEMAs(args.half_lives, None if args.minutes is None else args.minutes * 60)
    cli.trainer.callbacks.append(extra)
    cli.trainer.fit(cli.model, datamodule=cli.datamodule, ckpt_path=args.resume)

    module = cli.model
    reals = cli.datamodule.real_images(module.resolution, 2 * args.num_images, seed=REAL_SEED)
    first, second = reals[: args.num_images], reals[args.num_images :]
    floor = swd_of(first, second)
    row: dict[str, Any] = {
        "config": args.config,
        "resume": str(args.resume) if args.resume else None,
        "overrides": overrides,
        "kimg": module.images_seen / 1000,
        "resolution": int(module.resolution),
        "train_s": round(extra.train_seconds, 1),
        "img_per_s": round(
            (module.images_seen - extra.images_at_start) / max(extra.train_seconds, 1e-9), 1
        ),
        "floor": {k: round(v, 3) for k, v in floor.items()},
        "cpu": cpu_model(),
        "threads": torch.get_num_threads(),
    }
    generators = {"run_ema": module.generator_ema, "raw": module.generator, **extra.copies}
    for name, generator in generators.items():
        swd = swd_of(first, fixed_samples(module, generator, args.num_images, seed=0))
        row[name] = {
            "ratio": round(swd_ratio(swd["swd_avg"], floor["swd_avg"]), 3),
            **{k: round(v, 2) for k, v in swd.items()},
        }
        save_grid(fixed_samples(module, generator, 64, seed=1), out / f"samples-{name}.png")
        print(f"{name}: ratio {row[name]['ratio']}", file=sys.stderr, flush=True)
    print(json.dumps(row))


if __name__ == "__main__":
    main()
