"""``stylegan-lit project``: find the latent of a photo, to edit, mix and interpolate it.

Examples::

    stylegan-lit project last.ckpt photo.png --outdir proj
    stylegan-lit project last.ckpt photo.png --outdir proj --w-plus --video
    stylegan-lit project last.ckpt photo.png --vgg-weights ~/vgg16-397923af.pth --loss vgg
    stylegan-lit generate last.ckpt --w proj/projected_w.npz --figure edit --attribute hat

Writes ``projected_w.npz`` (``w`` [1, num_ws, w_dim], the noise maps, the loss curve),
``projected.png`` (the render), ``target.png`` (the photo as the model sees it),
``comparison.png`` (target | projection) and with ``--video`` ``projection.gif`` (and
``.mp4`` when an ffmpeg is found) of the optimisation. The loss is LPIPS on VGG16 features
when the weights are found (``--vgg-weights`` or the torch hub cache), else a multi-scale
pixel loss, and the command says which (see :mod:`stylegan_lit.generate.perceptual`).

Every problem (a missing or foreign checkpoint, a file that is not an image, a photo smaller
than the model, missing VGG weights when ``--loss vgg`` is asked) ends with one ``error:``
line and a nonzero exit status. If the loss becomes NaN, the best w found so far is
written and the command exits with status 1.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch

from stylegan_lit.checkpoints import CheckpointError, load_generator
from stylegan_lit.cli.arguments import OneLineParser, UsageError, positive_int
from stylegan_lit.generate.animation import save_gif, save_mp4
from stylegan_lit.generate.images import save_grid, save_image
from stylegan_lit.generate.options import OptionError, RenderOptions
from stylegan_lit.generate.perceptual import LOSSES, VGGWeightsError, make_distance
from stylegan_lit.generate.photos import PhotoError, load_photo
from stylegan_lit.generate.projection import (
    Projection,
    ProjectionError,
    ProjectionSettings,
    project,
)

PROG = "stylegan-lit project"


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (exposed for documentation and tests)."""
    parser = OneLineParser(
        prog=PROG,
        description="Project a photo into a checkpoint's W (or W+) space: the latent whose "
        "render looks most like it, for `stylegan-lit generate --w`.",
    )
    parser.add_argument("checkpoint", type=Path, help="a .ckpt written by `stylegan-lit fit`")
    parser.add_argument("photo", type=Path, help="the image to project (centre-cropped)")
    parser.add_argument("--outdir", type=Path, default=Path("projection"), help="output folder")
    parser.add_argument("--w-plus", action="store_true", help="one w per layer (W+)")
    parser.add_argument("--steps", type=positive_int, default=1000, help="default 1000")
    parser.add_argument("--lr", type=float, default=0.1, help="peak learning rate (0.1)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--loss",
        choices=LOSSES,
        default="auto",
        help="vgg (LPIPS on VGG16 features; needs the weights), pixel (multi-scale MSE), or "
        "auto (default: vgg when the weights are found, else pixel)",
    )
    parser.add_argument(
        "--vgg-weights", type=Path, help="torchvision's vgg16-397923af.pth (default: hub cache)"
    )
    parser.add_argument("--fixed-noise", action="store_true", help="do not optimise the noise maps")
    parser.add_argument(
        "--w-avg-samples", type=positive_int, default=10_000, help="mapped z for the start w"
    )
    parser.add_argument("--video", action="store_true", help="write the optimisation as GIF/MP4")
    parser.add_argument("--video-frames", type=positive_int, default=100)
    parser.add_argument("--device", default="auto", help="auto, cpu, cuda, ...")
    parser.add_argument("--zoom", type=positive_int, default=1, help="enlarge output images")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    return parser


def _progress_bar(total: int, enabled: bool):
    if not enabled:
        return None
    from tqdm import tqdm

    return tqdm(total=total, desc="projecting", unit="step", file=sys.stderr)


def _write(
    result: Projection, target: torch.Tensor, outdir: Path, zoom: int, fps: float, **extra: object
) -> list[Path]:
    paths = [result.save(outdir / "projected_w.npz", **extra)]
    paths.append(save_image(result.image, outdir / "projected.png", zoom))
    paths.append(save_image(target, outdir / "target.png", zoom))
    pair = torch.stack([target, result.image])
    paths.append(save_grid(pair, outdir / "comparison.png", ncols=2, zoom=zoom))
    if result.frames is not None:
        frames = torch.cat([target.expand_as(result.frames), result.frames], dim=-1)
        paths.append(save_gif(frames, outdir / "projection.gif", fps=fps, zoom=zoom))
        video = save_mp4(frames, outdir / "projection.mp4", fps=fps, zoom=zoom)
        if video is not None:
            paths.append(video)
    return paths


def _run(args: argparse.Namespace) -> list[Path]:
    try:
        settings = ProjectionSettings(
            num_steps=args.steps,
            w_plus=args.w_plus,
            initial_lr=args.lr,
            optimize_noise=not args.fixed_noise,
            w_avg_samples=max(2, args.w_avg_samples),
            seed=args.seed,
        )
    except ValueError as error:
        raise UsageError(str(error)) from None
    distance, which = make_distance(args.loss, args.vgg_weights)  # before the long part
    loaded = load_generator(args.checkpoint)
    try:
        options = RenderOptions.from_checkpoint(loaded, RenderOptions(device=args.device))
    except OptionError as error:
        raise UsageError(f"--{error}") from None
    G = loaded.generator
    resolution = options.resolution_for(G)
    target = load_photo(args.photo, resolution, G.img_channels)
    print(f"{PROG}: {which}; {resolution} px, {'W+' if args.w_plus else 'W'}", file=sys.stderr)
    bar = _progress_bar(args.steps, not args.no_progress)

    def progress(step: int, value: float) -> None:
        if bar is not None:
            bar.update(1)
            bar.set_postfix(distance=f"{value:.4g}", refresh=False)

    frame_every = 0 if not args.video else max(1, args.steps // args.video_frames)
    extra = dict(resolution=resolution, loss=which, photo=str(args.photo))
    started = time.perf_counter()
    try:
        result = project(
            G, target, distance, settings, options, progress=progress, frame_every=frame_every
        )
    except ProjectionError as error:
        if error.best is not None:
            path = error.best.save(args.outdir / "projected_w.npz", **extra)
            raise ProjectionError(
                f"{error}; the best w so far (step {error.best.step}) is in {path}", None
            ) from None
        raise
    finally:
        if bar is not None:
            bar.close()
    elapsed = time.perf_counter() - started
    print(
        f"{PROG}: distance {result.distance:.4g} after {args.steps} steps ({elapsed:.1f} s)",
        file=sys.stderr,
    )
    return _write(result, target, args.outdir, args.zoom, fps=12.0, **extra)


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``stylegan-lit project``; returns the exit status."""
    parser = build_parser()
    try:
        args = parser.parse_args(sys.argv[1:] if argv is None else argv)
        for path in _run(args):
            print(path)
    except SystemExit as exit_:  # --help
        return int(exit_.code or 0)
    except UsageError as error:
        print(f"{PROG}: error: {error} (see --help)", file=sys.stderr)
        return 2
    except (
        CheckpointError,
        FileNotFoundError,
        PhotoError,
        ProjectionError,
        VGGWeightsError,
        ValueError,
    ) as error:
        message = str(error).strip().splitlines()[0] if str(error).strip() else repr(error)
        print(f"{PROG}: error: {message}", file=sys.stderr)
        return 1
    return 0
