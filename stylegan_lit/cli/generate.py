"""``stylegan-lit generate``: images and the paper's figures from a checkpoint.

Examples::

    stylegan-lit generate runs/demo/checkpoints/last.ckpt --seeds 0-7,12 --grid
    stylegan-lit generate last.ckpt --count 64 --truncation-psi 1 --outdir samples
    stylegan-lit generate last.ckpt --figure mixing --row-seeds 0-4 --col-seeds 5-10
    stylegan-lit generate last.ckpt --figure variation --seeds 0-3 --num-draws 16
    stylegan-lit generate last.ckpt --figure truncation --seeds 0-5 --psis 1,0.7,0,-0.7
    stylegan-lit generate last.ckpt --figure interpolation --seeds 0-4 --steps 12 --loop
    stylegan-lit generate last.ckpt --figure edit --attribute hat --seeds 0-7 --strengths=-3,0,3
    stylegan-lit generate last.ckpt --figure edit --attribute hat --condition-on beard,glasses
    stylegan-lit generate last.ckpt --figure edit --attribute glasses --refine
    stylegan-lit generate last.ckpt --w proj/projected_w.npz --figure edit --attribute glasses
    stylegan-lit generate last.ckpt --w a/projected_w.npz --figure mixing --col-seeds 5-10
    stylegan-lit generate last.ckpt --w a/projected_w.npz --w b/projected_w.npz \
        --figure interpolation --space w

``--w`` (from ``stylegan-lit project``) replaces the seeds of every figure but
``variation``: the projected photos are the rows (of a mixing figure too; its columns stay
``--col-seeds``), or the keys of an interpolation (in w). With ``--w`` the default
``--truncation-psi`` is 1, so a projection renders as it was found.

Every problem (a missing, foreign or mismatched checkpoint, bad seeds, a resolution the
model was not trained to) ends with one ``error:`` line and a nonzero exit status.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Literal

import torch

from stylegan_lit.checkpoints import CheckpointError, LoadedGenerator, load_generator
from stylegan_lit.cli.arguments import (
    OneLineParser,
    UsageError,
    float_list,
    name_list,
    positive_int,
    seed_list,
)
from stylegan_lit.generate import figures
from stylegan_lit.generate.animation import find_ffmpeg
from stylegan_lit.generate.attribute_classifier import (
    TRAINING_STEPS,
    check_attribute_name,
    default_cache_dir,
)
from stylegan_lit.generate.edit_refinement import Refinement
from stylegan_lit.generate.editing import DEFAULT_EXTREMES, AttributeDirection
from stylegan_lit.generate.mixing import edit_layers
from stylegan_lit.generate.options import OptionError, RenderOptions
from stylegan_lit.generate.projection import load_projected_ws
from stylegan_lit.generate.sampling import Sources
from stylegan_lit.generate.seeds import SeedError
from stylegan_lit.models import Generator
from stylegan_lit.nn import NOISE_MODES, NoiseMode

PROG = "stylegan-lit generate"
FIGURES = ("images", "mixing", "variation", "truncation", "interpolation", "edit")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (exposed for documentation and tests)."""
    parser = OneLineParser(
        prog=PROG,
        description="Images and figures (style mixing, stochastic variation, truncation, "
        "interpolation, attribute editing) from a stylegan_lit checkpoint's EMA generator.",
    )
    parser.add_argument("checkpoint", type=Path, help="a .ckpt written by `stylegan-lit fit`")
    parser.add_argument("--figure", choices=FIGURES, default="images", help="what to make")
    parser.add_argument("--outdir", type=Path, default=Path("generated"), help="output folder")
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--seeds", type=seed_list, help="seed list, e.g. 0-7,12 (default 0-7)")
    which.add_argument("--count", type=positive_int, help="seeds 0 .. COUNT-1")
    which.add_argument(
        "--w",
        type=Path,
        action="append",
        metavar="NPZ",
        help="a projected_w.npz from `stylegan-lit project` instead of seeds (repeat it for "
        "several; the default --truncation-psi becomes 1)",
    )

    render = parser.add_argument_group("rendering")
    render.add_argument(
        "--truncation-psi", type=float, help="default 0.7 (1 with --w: as projected)"
    )
    render.add_argument(
        "--truncation-cutoff",
        type=int,
        default=8,
        help="truncate only the first N style layers (default 8, as officially; "
        "0 or less: all layers)",
    )
    render.add_argument(
        "--noise-mode",
        choices=NOISE_MODES,
        help="const (default; random for --figure variation) or none",
    )
    render.add_argument(
        "--resolution", type=int, help="output size (default: the resolution trained to)"
    )
    render.add_argument("--batch-size", type=positive_int, default=16)
    render.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:1, ...")
    render.add_argument("--raw", action="store_true", help="use G instead of its EMA (G_ema)")
    render.add_argument("--zoom", type=positive_int, default=1, help="enlarge output files")
    render.add_argument("--grid", action="store_true", help="images: also write grid.png")

    mixing = parser.add_argument_group("--figure mixing")
    mixing.add_argument("--row-seeds", type=seed_list, default=[0, 1, 2, 3, 4, 5])
    mixing.add_argument("--col-seeds", type=seed_list, default=[6, 7, 8, 9, 10])

    variation = parser.add_argument_group("--figure variation")
    variation.add_argument("--num-draws", type=positive_int, default=8)
    variation.add_argument("--noise-seed", type=int, default=0)

    truncation = parser.add_argument_group("--figure truncation")
    truncation.add_argument(
        "--psis",
        type=float_list,
        default=list(figures.PAPER_PSIS),
        help="default 1,0.7,0.5,0,-0.5,-1 (a list starting with '-' needs '=': --psis=-1,0,1)",
    )

    interp = parser.add_argument_group("--figure interpolation")
    interp.add_argument("--steps", type=positive_int, default=8, help="frames per segment")
    interp.add_argument("--space", choices=("z", "w", "both"), default="both")
    interp.add_argument("--loop", action="store_true", help="return to the first seed")
    interp.add_argument("--fps", type=float, default=12.0)

    edit = parser.add_argument_group("--figure edit (synthetic faces)")
    edit.add_argument("--attribute", default="hat", help="e.g. hat, sunglasses, glasses")
    edit.add_argument(
        "--strengths",
        type=float_list,
        default=[-3.0, -1.5, 0.0, 1.5, 3.0],
        help="in standard deviations of the samples along the direction; write "
        "--strengths=-3,0,3 (with '=') when the list starts with '-'",
    )
    edit.add_argument("--direction", type=Path, help="a saved direction (skips fitting)")
    edit.add_argument(
        "--condition-on",
        type=name_list,
        default=[],
        metavar="NAMES",
        help="attributes to keep while editing, e.g. beard,glasses: their directions are "
        "projected out of the edited one (InterFaceGAN's conditional manipulation)",
    )
    edit.add_argument(
        "--refine",
        action="store_true",
        help="optimise the fitted direction on the images so the edit keeps the other "
        "attributes' classifier scores (trains their classifiers once; see README, editing)",
    )
    edit.add_argument(
        "--refine-strength",
        type=float,
        default=Refinement.strength,
        help="the strength (in scales) the refinement flips the attribute at",
    )
    edit.add_argument("--num-samples", type=positive_int, default=2000)
    edit.add_argument("--classifier-steps", type=positive_int, default=TRAINING_STEPS)
    edit.add_argument(
        "--classifier-cache",
        default=str(default_cache_dir()),
        help="folder where trained attribute classifiers are kept and reused (default "
        "%(default)s); '' trains a fresh one every time",
    )
    edit.add_argument(
        "--extremes",
        type=float,
        default=DEFAULT_EXTREMES or 0.0,
        help="fit on this fraction of samples at each end of the classifier's ranking "
        "(InterFaceGAN's choice, e.g. 0.25); 0 (the default): all samples, labelled at P > 0.5",
    )
    edit.add_argument(
        "--edit-layers", default="all", help="all, or a style range: coarse, middle, fine"
    )
    return parser


def _render_options(args: argparse.Namespace, loaded: LoadedGenerator) -> RenderOptions:
    """Rendering options from the arguments and the checkpoint (its resolution, alpha and
    device rules: :meth:`RenderOptions.from_checkpoint`), validated."""
    default_noise: NoiseMode = "random" if args.figure == "variation" else "const"
    try:
        settings = RenderOptions(
            resolution=args.resolution,
            noise_mode=args.noise_mode or default_noise,
            truncation_psi=_psi(args),
            truncation_cutoff=args.truncation_cutoff if args.truncation_cutoff > 0 else None,
            batch_size=args.batch_size,
            device=args.device,
        )
        return RenderOptions.from_checkpoint(loaded, settings)
    except OptionError as error:  # it names the setting: report it as the flag
        raise UsageError(f"--{error}") from None


def _psi(args: argparse.Namespace) -> float:
    if args.truncation_psi is not None:
        return float(args.truncation_psi)
    return 1.0 if args.w else 0.7


def _sources(args: argparse.Namespace, G: Generator) -> Sources:
    """The seeds, or the projected ws [N, num_ws, w_dim] of the ``--w`` files."""
    if not args.w:
        return _seed_list(args)
    if args.figure == "variation":
        raise UsageError("--w is not used by --figure variation (it needs seeds)")
    return torch.stack([load_projected_ws(path, G) for path in args.w])


def _seed_list(args: argparse.Namespace) -> list[int]:
    if args.count is not None:
        return list(range(args.count))
    return args.seeds if args.seeds is not None else list(range(8))


def _edit_layers(args: argparse.Namespace, options: RenderOptions, G: Generator) -> range | None:
    try:
        return edit_layers(options.resolution_for(G), args.edit_layers)
    except KeyError as error:
        raise UsageError(f"--edit-layers: {error.args[0]}") from None


def _run(args: argparse.Namespace, G: Generator, options: RenderOptions) -> list[Path]:
    """Render the requested figure; return the files written."""
    seeds, outdir, zoom = _sources(args, G), args.outdir, args.zoom
    if args.figure == "images":
        return figures.write_images(G, seeds, outdir, options, grid=args.grid, zoom=zoom)
    if args.figure == "mixing":
        rows = seeds if args.w else args.row_seeds
        return figures.write_mixing(G, rows, args.col_seeds, outdir, options, zoom=zoom)
    if args.figure == "variation":
        return figures.write_variation(
            G,
            _seed_list(args),
            outdir,
            options,
            num_draws=args.num_draws,
            noise_seed=args.noise_seed,
            zoom=zoom,
        )
    if args.figure == "truncation":
        return figures.write_truncation(G, seeds, outdir, options, psis=args.psis, zoom=zoom)
    if args.figure == "interpolation":
        if len(seeds) < 2:
            raise UsageError("an interpolation needs at least two seeds (or two --w files)")
        spaces: tuple[Literal["z", "w"], ...] = (
            ("z", "w") if args.space == "both" else (args.space,)
        )
        if args.w:
            if args.space == "z":
                raise UsageError("--w latents have no z: use --space w")
            spaces = ("w",)
        if find_ffmpeg() is None:
            print(f"{PROG}: no ffmpeg found, MP4 skipped (GIF written)", file=sys.stderr)
        return figures.write_interpolation(
            G,
            seeds,
            outdir,
            options,
            steps=args.steps,
            spaces=spaces,
            loop=args.loop,
            fps=args.fps,
            zoom=zoom,
        )
    if args.direction is not None and not args.direction.is_file():
        raise UsageError(f"--direction {args.direction} does not exist")
    direction = AttributeDirection.load(args.direction) if args.direction else None
    paths, direction = figures.write_edit(
        G,
        seeds,
        outdir,
        options,
        attribute=args.attribute,
        strengths=args.strengths,
        direction=direction,
        layers=_edit_layers(args, options, G),
        num_samples=args.num_samples,
        classifier_steps=args.classifier_steps,
        classifier_cache=args.classifier_cache or None,
        extremes=args.extremes if args.extremes > 0 else None,
        zoom=zoom,
        condition_on=args.condition_on,
        refine=Refinement(strength=args.refine_strength) if args.refine else None,
    )
    print(
        f"{PROG}: {args.attribute} direction: boundary accuracy {direction.accuracy:.3f}, "
        f"scale {direction.scale:.4g}",
        file=sys.stderr,
    )
    return paths


def _check_edit_attributes(args: argparse.Namespace) -> None:
    """Refuse, before anything loads, names the classifier cannot learn and a saved
    direction with ``--condition-on`` or ``--refine`` (it is drawn as saved)."""
    if args.direction is not None:
        if args.condition_on or args.refine:
            raise UsageError(
                "--condition-on and --refine apply when the direction is fitted, not to a "
                "saved --direction"
            )
        return
    for name in (args.attribute, *args.condition_on):
        try:
            check_attribute_name(name)
        except ValueError as error:
            raise UsageError(str(error)) from None


def _one_line(error: Exception) -> str:
    """The error's message on one line, without torch's advice to unpickle unsafely."""
    message = str(error.args[0] if isinstance(error, KeyError) and error.args else error)
    message = message.strip().splitlines()[0] if message.strip() else type(error).__name__
    head, found, _ = message.partition(": Weights only load failed")
    if found:
        message = f"{head}: not a plain tensor file (corrupt, or it holds pickled objects)"
    return message


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``stylegan-lit generate``; returns the exit status."""
    parser = build_parser()
    try:
        args = parser.parse_args(sys.argv[1:] if argv is None else argv)
        if args.figure == "interpolation" and args.steps < 2:
            raise UsageError("--steps must be at least 2 for an interpolation")
        if args.figure == "variation" and args.num_draws < 2:
            raise UsageError("--num-draws must be at least 2 to show variation")
        if not 0 <= args.extremes <= 0.5:
            raise UsageError(f"--extremes must be between 0 and 0.5, got {args.extremes}")
        if args.figure == "edit":
            _check_edit_attributes(args)
        loaded = load_generator(args.checkpoint, ema=not args.raw)
        options = _render_options(args, loaded)
        for path in _run(args, loaded.generator, options):
            print(path)
    except SystemExit as exit_:  # --help
        return int(exit_.code or 0)
    except UsageError as error:
        print(f"{PROG}: error: {error} (see --help)", file=sys.stderr)
        return 2
    except (CheckpointError, FileNotFoundError, SeedError, ValueError, KeyError) as error:
        print(f"{PROG}: error: {_one_line(error)}", file=sys.stderr)
        return 1
    return 0
