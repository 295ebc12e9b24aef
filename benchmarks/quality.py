"""Quality curves: train a config and measure its G_ema as it learns (SWD ratio, attributes).

A GAN's loss says nothing about how its images look, and one SWD number says little without
the floor it is measured against. This script trains any config (the config's own schedule
by default) and, every ``--every-kimg`` and at the end, measures G_ema (no truncation,
random noise) against the training faces:

* **SWD** (the package's :class:`~stylegan_lit.metrics.swd.SlicedWassersteinDistance`, x1e3)
  of ``--num-images`` samples against as many real faces, per pyramid level and averaged,
  next to the real-vs-real floor measured in the same run (a second, disjoint set of real
  faces against the first), and their ratio: 1 is as good as SWD can tell.
* **Attributes**: one small classifier per yes/no attribute of the synthetic faces
  (:func:`~stylegan_lit.generate.attribute_classifier.train_attribute_classifier`, trained
  on fresh renders before training starts) labels the samples and the real faces; the
  frequency in samples against the frequency in the data, per attribute, and the largest
  gap. Both frequencies come from the same classifier, so its errors on sharp renders
  largely cancel (the true label frequency is recorded too).
* **Noise strengths**: the mean absolute learned noise strength per resolution of G_ema,
  the quantity behind the demo's speckle (issue 18).

Training time excludes the measurements (their seconds are recorded apart), so the
wall-clock axis is what a plain ``stylegan-lit fit`` of the config would take.

Writes to ``--out``: ``quality.jsonl`` (one line per measurement, then a summary line),
``quality.png`` (curves vs kimg and vs wall-clock), ``samples.png`` (the final G_ema grid),
``final.ckpt`` (the trained model, for ``stylegan-lit generate``) and ``samples-kimg*.png``
(one per measurement, so an interrupted run still shows its images), and prints a summary
table; the summary holds the CPU model, thread count, images/s and peak memory (max RSS
of this process and of its data workers).

    python benchmarks/quality.py --config configs/demo.yaml                  # its schedule
    python benchmarks/quality.py --config configs/demo.yaml --kimg 4 --every-kimg 2
    python benchmarks/quality.py --config configs/demo.yaml --minutes 3 --model.r1_gamma=1
    python benchmarks/quality.py --config configs/synthetic-64.yaml --resume OUT/final.ckpt \
        --kimg 210   # go on where a run stopped (training time then counts from the resume)

Arguments the script does not know are passed to ``stylegan-lit fit`` as overrides. Needs
the ``bench`` extra (matplotlib) for the plot.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import lightning.pytorch as pl  # noqa: E402

from benchmarks.machine import cpu_model  # noqa: E402
from stylegan_lit.callbacks.steps import crossed_multiple  # noqa: E402
from stylegan_lit.generate.attribute_classifier import (  # noqa: E402
    SCORED_ATTRIBUTES,
    TRAINING_STEPS,
    default_cache_dir,
)
from stylegan_lit.metrics.swd import SlicedWassersteinDistance  # noqa: E402
from stylegan_lit.models import Generator  # noqa: E402

ATTRIBUTES = SCORED_ATTRIBUTES
"""Yes/no attributes scored (``attribute_labels`` accepts these; colours are not yes/no)."""

REAL_SEED = 7919
"""Seed of the real-face permutation used for SWD and attributes (distinct from metrics')."""


def peak_memory_mb() -> dict[str, float]:
    """Max resident set size so far of this process and of its reaped children (MiB)."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return {"peak_rss_mb": round(own, 1), "peak_rss_children_mb": round(children, 1)}


def swd_ratio(swd: float, floor: float) -> float:
    """SWD divided by the real-vs-real floor; ``inf`` when the floor is not positive."""
    return swd / floor if floor > 0 else float("inf")


def attribute_gaps(fake: dict[str, float], real: dict[str, float]) -> dict[str, float]:
    """Absolute frequency difference per attribute present in both dicts."""
    return {name: abs(fake[name] - real[name]) for name in fake if name in real}


def largest_gap(gaps: dict[str, float]) -> tuple[str | None, float]:
    """The attribute with the largest gap and the gap (``(None, 0.0)`` when empty)."""
    if not gaps:
        return None, 0.0
    name = max(gaps, key=lambda k: (gaps[k], k))
    return name, gaps[name]


def swd_of(reals: torch.Tensor, others: torch.Tensor, seed: int = 0) -> dict[str, float]:
    """Multi-scale SWD (x1e3) of two image sets (uint8, or floats in [-1, 1])."""
    swd = SlicedWassersteinDistance(seed=seed)
    swd.update(reals, real=True)
    swd.update(others, real=False)
    return swd.compute()


def fixed_samples(
    pl_module: Any,
    generator: Generator,
    count: int,
    seed: int = 0,
    noise_mode: str = "random",
    batch_size: int = 128,
) -> torch.Tensor:
    """``count`` images in [-1, 1] of ``generator`` (the run's G_ema, its raw G or an EMA
    copy) at the module's resolution and alpha, without truncation. The latents and the noise
    depend only on ``seed``, so generators are compared on the same inputs."""
    z = torch.randn(count, generator.z_dim, generator=torch.Generator().manual_seed(seed))
    with torch.no_grad(), torch.random.fork_rng():
        torch.manual_seed(seed)
        parts = [
            generator(
                chunk.to(pl_module.device),
                resolution=pl_module.resolution,
                alpha=pl_module.alpha,
                noise_mode=noise_mode,
            )
            .float()
            .cpu()
            for chunk in z.split(batch_size)
        ]
    return torch.cat(parts).clamp(-1, 1)


def fit_arguments(config: str, root: Path, kimg: float | None, overrides: list[str]) -> list[str]:
    """``stylegan-lit fit`` arguments for a measured run: the config under ``root``, without
    the run's own logger, checkpoints, progress bar, grids and metrics (the benchmark measures),
    and without its wall-clock cap (a benchmark's budget counts training time only)."""
    return [
        f"--config={config}",
        f"--trainer.default_root_dir={root}",
        "--trainer.logger=false",
        "--trainer.enable_checkpointing=false",
        "--trainer.enable_progress_bar=false",
        "--trainer.enable_model_summary=false",
        "--metrics.every_kimg=1e9",  # measured by the benchmark; the run's own only at 0
        "--metrics.at_end=false",
        "--samples.every_kimg=1e9",
        "--trainer.max_time=null",
        *([f"--progressive.total_kimg={kimg}"] if kimg is not None else []),
        *overrides,
    ]


def check_resume(parser: argparse.ArgumentParser, resume: Path | None) -> None:
    """Refuse a ``--resume`` checkpoint that does not exist before anything is built."""
    if resume is not None and not resume.is_file():
        parser.error(f"--resume {resume} does not exist")


class QualityProbe(pl.Callback):
    """Measures G_ema every ``every_kimg`` and at the end; stops after ``minutes`` of training.

    Args:
        out: Folder for ``quality.jsonl``.
        every_kimg: Measurement interval.
        num_images: Samples (and real faces per set) per measurement.
        classifiers: Attribute name -> trained classifier.
        minutes: Training wall-clock budget (measurements excluded), or ``None``.
        batch_size: Sampling batch.
        min_accuracy: Classifiers below this held-out balanced accuracy are recorded but
            left out of the largest gap (one that guesses says nothing about the samples).
    """

    def __init__(
        self,
        out: Path,
        every_kimg: float,
        num_images: int,
        classifiers: dict[str, Any],
        minutes: float | None,
        batch_size: int = 128,
        min_accuracy: float = 0.75,
    ) -> None:
        self.out = out
        self.every_images = max(1, int(every_kimg * 1000))
        self.num_images = num_images
        self.classifiers = classifiers
        self.reliable = {
            name for name, clf in classifiers.items() if clf.validation_accuracy >= min_accuracy
        }
        self.minutes = minutes
        self.batch_size = batch_size
        self.rows: list[dict[str, Any]] = []
        self.start = 0.0
        self.eval_seconds = 0.0
        self.images_at_start = 0
        self._reals: dict[int, dict[str, Any]] = {}  # resolution -> reals, floor, attributes

    def train_seconds(self) -> float:
        return time.perf_counter() - self.start - self.eval_seconds

    def on_train_start(self, trainer: pl.Trainer, pl_module: Any) -> None:
        self.start = time.perf_counter()
        self.images_at_start = int(pl_module.images_seen)  # > 0 when resumed

    def on_train_batch_end(
        self, trainer: pl.Trainer, pl_module: Any, outputs: Any, batch: Any, batch_idx: int
    ) -> None:
        if crossed_multiple(pl_module, self.every_images):
            self.measure(trainer, pl_module)
        if self.minutes is not None and self.train_seconds() >= 60 * self.minutes:
            trainer.should_stop = True

    def on_train_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if not self.rows or self.rows[-1]["images"] != int(pl_module.images_seen):
            self.measure(trainer, pl_module)

    def _real_reference(self, datamodule: Any, resolution: int) -> dict[str, Any]:
        """Two disjoint real sets at ``resolution``, their SWD (the floor), attribute rates."""
        if resolution not in self._reals:
            both = datamodule.real_images(resolution, 2 * self.num_images, seed=REAL_SEED)
            first, second = both[: self.num_images], both[self.num_images :]
            floor = swd_of(first, second)
            as_float = first.float().div(127.5).sub(1)
            rates = {
                name: float((clf.predict_proba(as_float) > 0.5).float().mean())
                for name, clf in self.classifiers.items()
            }
            self._reals[resolution] = {"images": first, "floor": floor, "rates": rates}
        return self._reals[resolution]

    @torch.no_grad()
    def samples(
        self, pl_module: Any, count: int, seed: int = 0, noise_mode: str = "random"
    ) -> torch.Tensor:
        """``count`` G_ema images (see :func:`fixed_samples`)."""
        return fixed_samples(
            pl_module, pl_module.generator_ema, count, seed, noise_mode, self.batch_size
        )

    def measure(self, trainer: pl.Trainer, pl_module: Any) -> dict[str, Any]:
        began = time.perf_counter()
        trained = self.train_seconds()  # before this measurement's own work
        resolution = int(pl_module.resolution)
        reference = self._real_reference(trainer.datamodule, resolution)
        fakes = self.samples(pl_module, self.num_images)
        swd = swd_of(reference["images"], fakes)
        # The same latents without noise inputs: tells noise-made speckle from bad shapes.
        quiet = swd_of(reference["images"], self.samples(pl_module, self.num_images, 0, "none"))
        rates = {
            name: float((clf.predict_proba(fakes) > 0.5).float().mean())
            for name, clf in self.classifiers.items()
        }
        gaps = attribute_gaps(rates, reference["rates"])
        worst, worst_gap = largest_gap({k: v for k, v in gaps.items() if k in self.reliable})
        strengths: dict[str, float] = {}
        for name, module in pl_module.generator_ema.named_modules():
            strength = getattr(module, "strength", None)
            if isinstance(strength, torch.Tensor) and "noise" in name:
                res = str(getattr(module, "resolution", "?"))
                strengths.setdefault(res, []).append(float(strength.abs().mean()))  # type: ignore[attr-defined]
        row = {
            "kind": "measure",
            "kimg": round(pl_module.kimg, 3),
            "images": int(pl_module.images_seen),
            "resolution": resolution,
            "alpha": round(float(pl_module.alpha), 3),
            "train_seconds": round(trained, 1),
            "swd": {k: round(v, 3) for k, v in swd.items()},
            "floor": {k: round(v, 3) for k, v in reference["floor"].items()},
            "swd_avg": round(swd["swd_avg"], 3),
            "floor_avg": round(reference["floor"]["swd_avg"], 3),
            "ratio": round(swd_ratio(swd["swd_avg"], reference["floor"]["swd_avg"]), 3),
            "swd_avg_no_noise": round(quiet["swd_avg"], 3),
            "attr_fake": {k: round(v, 4) for k, v in rates.items()},
            "attr_real": {k: round(v, 4) for k, v in reference["rates"].items()},
            "attr_max_gap": round(worst_gap, 4),
            "attr_worst": worst,
            "noise_strength": {k: round(float(np.mean(v)), 4) for k, v in strengths.items()},
        }
        grid = self.out / f"samples-kimg{row['kimg']:06.1f}.png"
        save_grid(self.samples(pl_module, 64, seed=1), grid)
        self.eval_seconds += time.perf_counter() - began
        row["eval_seconds"] = round(time.perf_counter() - began, 1)
        self.rows.append(row)
        with (self.out / "quality.jsonl").open("a") as file:
            file.write(json.dumps(row) + "\n")
        print(
            f"[quality] kimg {row['kimg']:.1f} ({resolution} px, alpha {row['alpha']}): "
            f"SWD {row['swd_avg']:.2f} floor {row['floor_avg']:.2f} ratio {row['ratio']:.2f}, "
            f"(noise off {row['swd_avg_no_noise']:.2f}), max attribute gap {worst_gap:.3f} "
            f"({worst}), train {row['train_seconds']:.0f} s",
            flush=True,
        )
        return row


def save_grid(images: torch.Tensor, path: Path) -> None:
    """An 8-wide grid of images in [-1, 1], enlarged to about 128 px per image (nearest)."""
    from stylegan_lit.generate.images import grid_pixels, to_pil

    to_pil(grid_pixels(images, ncols=8), zoom=max(1, 128 // images.shape[-1])).save(path)


def train_classifiers(resolution: int, steps: int, cache: Path | None) -> dict[str, Any]:
    """One attribute classifier per :data:`ATTRIBUTES`, with its held-out accuracy printed.

    Rendering the training faces takes most of the time (tens of seconds per attribute on
    2 cores) and the result depends only on (attribute, resolution, steps), so trained
    classifiers are kept in ``cache`` and reused by later runs.
    """
    from stylegan_lit.generate.attribute_classifier import cached_attribute_classifier

    classifiers = {}
    for name in ATTRIBUTES:
        began = time.perf_counter()
        clf = cached_attribute_classifier(name, resolution, steps=steps, cache_dir=cache)
        classifiers[name] = clf
        print(
            f"[quality] classifier {name}: balanced accuracy {clf.validation_accuracy:.3f} "
            f"({time.perf_counter() - began:.0f} s)",
            flush=True,
        )
    return classifiers


def true_label_rates(datamodule: Any, count: int) -> dict[str, float]:
    """Attribute frequencies from the synthetic faces' own labels (empty for other data)."""
    from stylegan_lit.data import SyntheticFaces
    from stylegan_lit.generate.attribute_classifier import attribute_labels

    hparams = dict(getattr(datamodule, "hparams", {}))
    if hparams.get("source") != "synthetic":
        return {}
    size = int(hparams.get("num_images", count))
    faces = SyntheticFaces(size, seed=int(hparams.get("seed", 0)), resolution=8)
    attrs = faces.attribute_batch(np.arange(min(count, size)))
    return {name: float(attribute_labels(attrs, name).mean()) for name in ATTRIBUTES}


def plot(rows: list[dict[str, Any]], path: Path, title: str) -> None:
    """SWD ratio and the largest attribute gap against kimg and against training minutes."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    kimg = [r["kimg"] for r in rows]
    minutes = [r["train_seconds"] / 60 for r in rows]
    fig, axes = plt.subplots(2, 2, figsize=(11, 7))
    for col, (xs, label) in enumerate(((kimg, "kimg"), (minutes, "training minutes"))):
        ax = axes[0, col]
        ax.plot(xs, [r["swd_avg"] for r in rows], "o-", label="SWD G_ema vs real")
        ax.plot(xs, [r["swd_avg_no_noise"] for r in rows], "x-", label="same, noise off")
        ax.plot(xs, [r["floor_avg"] for r in rows], "s--", label="real vs real (floor)")
        ax.set_yscale("log")
        ax.set_ylabel("SWD x1e3 (avg of levels)")
        ax2 = ax.twinx()
        ax2.plot(xs, [r["ratio"] for r in rows], "^:", color="C3", label="ratio")
        ax2.set_ylabel("ratio", color="C3")
        ax.legend(loc="upper right", fontsize=8)
        ax = axes[1, col]
        for name in rows[-1]["attr_fake"]:
            ax.plot(xs, [r["attr_fake"][name] - r["attr_real"][name] for r in rows], label=name)
        ax.axhline(0, color="k", lw=0.5)
        ax.set_ylabel("attribute frequency, samples - data")
        ax.set_xlabel(label)
        ax.legend(fontsize=7, ncol=2)
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def summary_table(rows: list[dict[str, Any]], summary: dict[str, Any]) -> str:
    lines = [
        f"{'kimg':>7} {'res':>4} {'min':>6} {'SWD':>7} {'floor':>6} {'ratio':>6} {'gap':>6}",
    ]
    for r in rows:
        lines.append(
            f"{r['kimg']:7.1f} {r['resolution']:4d} {r['train_seconds'] / 60:6.2f} "
            f"{r['swd_avg']:7.2f} {r['floor_avg']:6.2f} {r['ratio']:6.2f} {r['attr_max_gap']:6.3f}"
        )
    last = rows[-1]
    lines.append("per level (final): " + ", ".join(
        f"{k}: {v:.2f} / {last['floor'][k]:.2f}" for k, v in last["swd"].items() if k != "swd_avg"
    ))  # fmt: skip
    lines.append("attributes (samples / data by classifier / true labels): " + ", ".join(
        f"{k} {v:.3f}/{last['attr_real'][k]:.3f}/{summary['attr_true'].get(k, float('nan')):.3f}"
        for k, v in last["attr_fake"].items()
    ))  # fmt: skip
    lines.append(
        f"train {summary['train_seconds']:.0f} s ({summary['images_per_second']:.1f} img/s), "
        f"measurements {summary['eval_seconds']:.0f} s, peak RSS {summary['peak_rss_mb']:.0f} "
        f"MiB (workers {summary['peak_rss_children_mb']:.0f}), {summary['cpu']}, "
        f"{summary['threads']} threads"
    )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", required=True, help="a stylegan-lit fit config")
    parser.add_argument("--kimg", type=float, default=None, help="total kimg (default: config)")
    parser.add_argument("--minutes", type=float, default=None, help="training time budget")
    parser.add_argument(
        "--resume", type=Path, default=None, help="continue this checkpoint (e.g. final.ckpt)"
    )
    parser.add_argument("--every-kimg", type=float, default=5.0, help="measurement interval")
    parser.add_argument("--num-images", type=int, default=2000, help="samples per measurement")
    parser.add_argument("--classifier-steps", type=int, default=TRAINING_STEPS)
    parser.add_argument(
        "--min-accuracy", type=float, default=0.75, help="classifiers counted in the max gap"
    )
    parser.add_argument(
        "--classifier-cache",
        default=str(default_cache_dir()),
        help="folder of trained attribute classifiers ('' for none)",
    )
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: all)")
    parser.add_argument("--out", type=Path, default=None, help="default: a new temp folder")
    args, overrides = parser.parse_known_args()
    check_resume(parser, args.resume)

    from stylegan_lit.cli.train import build_cli

    if args.threads:
        torch.set_num_threads(args.threads)
    out = args.out or Path(tempfile.mkdtemp(prefix="quality-"))
    out.mkdir(parents=True, exist_ok=True)
    (out / "quality.jsonl").unlink(missing_ok=True)
    words = fit_arguments(args.config, out / "run", args.kimg, overrides)
    cli = build_cli(words, run=False)
    final_resolution = int(cli.model.generator.resolution)
    cache = Path(args.classifier_cache) if args.classifier_cache else None
    classifiers = train_classifiers(min(final_resolution, 64), args.classifier_steps, cache)
    probe = QualityProbe(
        out, args.every_kimg, args.num_images, classifiers, args.minutes,
        min_accuracy=args.min_accuracy,
    )  # fmt: skip
    cli.trainer.callbacks.append(probe)
    began = time.perf_counter()
    cli.trainer.fit(cli.model, datamodule=cli.datamodule, ckpt_path=args.resume)
    total = time.perf_counter() - began

    # The model the rows measure, for figures (with optimizer states: it can be resumed).
    cli.trainer.save_checkpoint(out / "final.ckpt", weights_only=False)
    rows = probe.rows
    save_grid(probe.samples(cli.model, 64, seed=1), out / "samples.png")
    train_seconds = probe.train_seconds() if rows else total
    summary = {
        "kind": "summary",
        "config": args.config,
        "overrides": overrides,
        "kimg": rows[-1]["kimg"],
        "resolution": rows[-1]["resolution"],
        "ratio": rows[-1]["ratio"],
        "swd_avg": rows[-1]["swd_avg"],
        "floor_avg": rows[-1]["floor_avg"],
        "attr_max_gap": rows[-1]["attr_max_gap"],
        "attr_worst": rows[-1]["attr_worst"],
        "attr_true": true_label_rates(cli.datamodule, 10_000),
        "classifier_accuracy": {k: c.validation_accuracy for k, c in classifiers.items()},
        "attr_in_gap": sorted(probe.reliable),
        "train_seconds": round(train_seconds, 1),
        "eval_seconds": round(probe.eval_seconds, 1),
        "fit_seconds": round(total, 1),
        "resumed_from": str(args.resume) if args.resume else None,
        "images_per_second": round(
            (rows[-1]["images"] - probe.images_at_start) / max(train_seconds, 1e-9), 1
        ),
        "cpu": cpu_model(),
        "threads": torch.get_num_threads(),
        "cores": os.cpu_count(),
        "load_average_1min_at_end": round(os.getloadavg()[0], 2),
        "torch": torch.__version__,
        **peak_memory_mb(),
    }
    with (out / "quality.jsonl").open("a") as file:
        file.write(json.dumps(summary) + "\n")
    try:
        plot(rows, out / "quality.png", f"{args.config} {' '.join(overrides)}")
    except ImportError:
        print("[quality] matplotlib missing (pip install '.[bench]'): no plot", flush=True)
    print(summary_table(rows, summary))
    print(f"[quality] wrote {out}/quality.jsonl, quality.png, samples.png")


if __name__ == "__main__":
    main()
