"""How well and how fast ``stylegan-lit project`` finds latents, on any checkpoint.

Four measurements, each printed as one JSON line (the last line is a summary):

* ``known_w``: images the checkpoint renders from known w (seeds, psi 1, const noise) are
  projected back in W and in W+: PSNR of the projection against the target (the issue's
  bar is >= 30 dB in W+), and how far the found w is from the true one, in units of
  ``w_std`` (the spread of W), beside where the search started (the mean w);
* ``held_out``: synthetic faces the model never saw (a render seed unlike training's) are
  projected the same way: PSNR, and whether each known attribute survives (the attribute
  classifier's yes/no on the projection against the face's true label and against the
  classifier's call on the target itself);
* ``edit``: the glasses (or ``--attribute``) direction applied to those projections at
  ``--edit-strength`` (in units of the spread of W along it; 6 by default, where
  ``benchmarks/editing.py`` finds fresh samples of the longer recipe flipping) towards the
  other decision: the classifier's flip rate, beside the same push along a random
  direction;
* ``timing``: seconds per projection (``--timing-steps`` measured, scaled to 1,000 steps)
  at 32 and 64 px for the demo architecture with random weights (speed does not depend on
  training), each in a child process (spawned) so its peak RSS is its own.

The loss is the pixel fallback unless ``--vgg-weights`` names torchvision's VGG16 file.
Default arguments run in under 5 minutes on the 2-core development machine (fewer steps
and images than a real measurement: raise ``--steps 1000 --count 16``) once the attribute
classifiers are cached (the first run trains them: about a minute each at 32 px).

    python benchmarks/projection.py --checkpoint runs/demo/checkpoints/last.ckpt
    python benchmarks/projection.py --checkpoint last.ckpt --steps 1000 --count 16 \\
        --vgg-weights ~/vgg16-397923af.pth --figure docs/figures/projection.png
"""

from __future__ import annotations

import argparse
import json
import math
import multiprocessing
import resource
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.machine import cpu_model
from stylegan_lit.checkpoints import load_generator
from stylegan_lit.data import SyntheticFaces
from stylegan_lit.generate import (
    RenderOptions,
    attribute_labels,
    edit_outcome,
    find_direction,
    save_grid,
)
from stylegan_lit.generate.attribute_classifier import (
    TRAINING_STEPS,
    cached_attribute_classifier,
    default_cache_dir,
)
from stylegan_lit.generate.perceptual import make_distance
from stylegan_lit.generate.projection import ProjectionSettings, project, w_statistics
from stylegan_lit.models import Generator

HELD_OUT_SEED = 2_000_003
"""Render seed of the held-out faces (training uses seed 0, the classifiers 1,000,003)."""
ATTRIBUTES = ("glasses", "sunglasses", "hat", "beard")


def peak_rss_mib() -> float:
    """This process's peak resident memory: ``VmHWM`` (reset by exec, unlike ``ru_maxrss``,
    which a spawned child inherits from its parent), else ``ru_maxrss``."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def psnr(a: Tensor, b: Tensor) -> float:
    """PSNR in dB of images in [-1, 1] (clamped), as 8-bit pixels would give: peak 1 on [0, 1]."""
    mse = float(((a.clamp(-1, 1) - b.clamp(-1, 1)) / 2).square().mean())
    return math.inf if mse == 0 else 10 * math.log10(1 / mse)


def mean_psnr(results: list[Any], targets: Tensor) -> float:
    values = [psnr(r.image, t) for r, t in zip(results, targets, strict=True)]
    return round(float(np.mean(values)), 2)


def emit(record: dict[str, Any]) -> None:
    print(json.dumps(record), flush=True)


def _project_all(G, targets, args, w_plus: bool, options) -> tuple[list[Any], float]:
    distance, _ = make_distance("vgg" if args.vgg_weights else "pixel", args.vgg_weights)
    settings = ProjectionSettings(num_steps=args.steps, w_plus=w_plus, w_avg_samples=args.w_avg)
    started = time.perf_counter()
    results = [project(G, t, distance, settings, options) for t in targets]
    return results, (time.perf_counter() - started) / len(targets)


def known_w(G: Generator, args, options) -> dict[str, Any]:
    gen = torch.Generator().manual_seed(12345)
    with torch.no_grad():
        w_true = G.mapping(torch.randn(args.count, G.z_dim, generator=gen))[:, 0]
        targets = G.synthesis(
            w_true[:, None].expand(-1, G.num_ws, -1),
            resolution=options.resolution,
            alpha=options.alpha,
            noise_mode="const",
        )
    w_avg, w_std = w_statistics(G, args.w_avg)
    record: dict[str, Any] = {
        "measure": "known_w",
        "count": args.count,
        "start_distance_w_std": round(float((w_true - w_avg).norm(dim=1).mean()) / w_std, 3),
    }
    for mode, w_plus in (("W", False), ("W+", True)):
        results, seconds = _project_all(G, targets, args, w_plus, options)
        used = num_layers(options.resolution)
        gaps = [
            float((r.ws[:used] - w).norm(dim=1).mean()) / w_std
            for r, w in zip(results, w_true, strict=True)
        ]
        record[mode] = {
            "psnr_db": mean_psnr(results, targets),
            "w_distance_w_std": round(float(np.mean(gaps)), 3),
            "seconds_per_projection": round(seconds, 2),
        }
    return record


def num_layers(resolution: int) -> int:
    return 2 * (int(math.log2(resolution)) - 1)


def held_out_and_edit(G: Generator, args, options) -> tuple[dict[str, Any], dict[str, Any], Tensor]:
    resolution = options.resolution
    faces = SyntheticFaces(
        args.count, seed=HELD_OUT_SEED, resolution=resolution, img_channels=G.img_channels
    )
    indices = np.arange(args.count)
    targets = torch.from_numpy(faces.read(indices, resolution)).float().div(127.5).sub(1)
    attrs = faces.attribute_batch(indices)
    classifiers = {
        name: cached_attribute_classifier(
            name,
            resolution,
            img_channels=G.img_channels,
            steps=args.classifier_steps,
            cache_dir=Path(args.classifier_cache) if args.classifier_cache else None,
        )
        for name in ATTRIBUTES
    }
    record: dict[str, Any] = {"measure": "held_out", "count": args.count}
    projected: dict[str, Tensor] = {}
    figure_rows = [targets]
    for mode, w_plus in (("W", False), ("W+", True)):
        results, seconds = _project_all(G, targets, args, w_plus, options)
        images = torch.stack([r.image for r in results])
        projected[mode] = torch.stack([r.ws for r in results])
        figure_rows.append(images)
        survive = {}
        for name, clf in classifiers.items():
            truth = torch.from_numpy(attribute_labels(attrs, name))
            on_target = clf.predict_proba(targets) > 0.5
            on_projection = clf.predict_proba(images) > 0.5
            survive[name] = {
                "present": int(truth.sum()),
                "agree_with_truth": round(float((on_projection == truth).float().mean()), 3),
                "agree_with_target": round(float((on_projection == on_target).float().mean()), 3),
            }
        record[mode] = {
            "psnr_db": mean_psnr(results, targets),
            "attributes": survive,
            "seconds_per_projection": round(seconds, 2),
        }
    clf = classifiers[args.attribute]
    scoring = RenderOptions(resolution=resolution, alpha=options.alpha, batch_size=64)
    direction = find_direction(
        G, clf.predict_proba, args.direction_samples, scoring, attribute=args.attribute
    )
    strength = args.edit_strength
    edit: dict[str, Any] = {
        "measure": "edit",
        "attribute": args.attribute,
        "direction_accuracy": round(direction.accuracy, 3),
        "strength": strength,
    }
    for mode, ws in projected.items():
        real = edit_outcome(G, clf.predict_proba, ws, direction, strength, scoring)
        control = edit_outcome(G, clf.predict_proba, ws, direction.random_like(), strength, scoring)
        edit[mode] = {
            "flip_rate": round(real.flip_rate, 3),
            "random_direction_flip_rate": round(control.flip_rate, 3),
        }
    return record, edit, torch.stack(figure_rows)


def _time_child(resolution: int, steps: int, w_avg: int, queue: Any) -> None:
    torch.manual_seed(0)
    G = (
        Generator(
            z_dim=128,
            w_dim=128,
            resolution=resolution,
            mapping_layers=8,
            fmap_base=1024,
            fmap_max=64,
        )
        .eval()
        .requires_grad_(False)
    )
    with torch.no_grad():
        target = G(torch.randn(1, 128), noise_mode="const")[0]
    distance, _ = make_distance("pixel")
    project(G, target, distance, ProjectionSettings(num_steps=5, w_avg_samples=w_avg))  # warm-up
    started = time.perf_counter()
    w_statistics(G, w_avg)  # the start point: paid once per projection, whatever the steps
    setup = time.perf_counter() - started
    settings = ProjectionSettings(num_steps=steps, w_avg_samples=w_avg)
    started = time.perf_counter()
    project(G, target, distance, settings)
    seconds = time.perf_counter() - started - setup
    queue.put({"seconds": seconds, "setup": setup, "peak_rss_mib": round(peak_rss_mib(), 1)})


def timing(args) -> list[dict[str, Any]]:
    records = []
    context = multiprocessing.get_context("spawn")  # a fork of a threaded torch can hang
    for resolution in (32, 64):
        queue = context.Queue()
        child = context.Process(
            target=_time_child, args=(resolution, args.timing_steps, args.w_avg, queue)
        )
        child.start()
        result = queue.get()
        child.join()
        per_step = result["seconds"] / args.timing_steps
        records.append(
            {
                "measure": "timing",
                "resolution": resolution,
                "steps_measured": args.timing_steps,
                "seconds_per_step": round(per_step, 4),
                "seconds_per_1000_steps": round(per_step * 1000 + result["setup"], 1),
                "setup_seconds": round(result["setup"], 2),
                "peak_rss_mib": result["peak_rss_mib"],
                "threads": torch.get_num_threads(),
            }
        )
    return records


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", type=Path, required=True)
    parser.add_argument("--steps", type=int, default=150, help="per projection (official 1000)")
    parser.add_argument("--count", type=int, default=3, help="images per measurement")
    parser.add_argument("--w-avg", type=int, default=10_000, help="mapped z for w_avg, w_std")
    parser.add_argument("--vgg-weights", type=Path, help="VGG16 file: the perceptual loss")
    parser.add_argument("--attribute", default="glasses", choices=ATTRIBUTES)
    parser.add_argument("--classifier-steps", type=int, default=TRAINING_STEPS)
    parser.add_argument(
        "--classifier-cache",
        default=str(default_cache_dir()),
        help="folder of trained attribute classifiers ('' for none)",
    )
    parser.add_argument("--direction-samples", type=int, default=1000)
    parser.add_argument(
        "--edit-strength", type=float, default=6.0, help="edit push, in scales of W (6)"
    )
    parser.add_argument("--timing-steps", type=int, default=50)
    parser.add_argument("--measure", choices=("all", "quality", "timing"), default="all")
    parser.add_argument("--figure", type=Path, help="write target / W / W+ rows as a PNG")
    args = parser.parse_args()
    started = time.perf_counter()
    loaded = load_generator(args.checkpoint)
    options = RenderOptions.from_checkpoint(loaded, RenderOptions(device="cpu"))
    G = loaded.generator
    emit(
        {
            "measure": "setup",
            "checkpoint": str(args.checkpoint),
            "kimg": loaded.kimg,
            "resolution": options.resolution,
            "cpu": cpu_model(),
            "threads": torch.get_num_threads(),
            "loss": "vgg" if args.vgg_weights else "pixel",
            "steps": args.steps,
        }
    )
    if args.measure in ("all", "quality"):
        emit(known_w(G, args, options))
        held, edit, rows = held_out_and_edit(G, args, options)
        emit(held)
        emit(edit)
        if args.figure is not None:
            save_grid(rows, args.figure, zoom=max(1, 128 // int(options.resolution or 1)))
    if args.measure in ("all", "timing"):
        for record in timing(args):
            emit(record)
    emit(
        {
            "measure": "summary",
            "seconds": round(time.perf_counter() - started, 1),
            "peak_rss_mib": round(peak_rss_mib(), 1),
        }
    )


if __name__ == "__main__":
    main()
