"""Writing images and figures to files: what ``stylegan-lit generate`` produces.

Each ``write_*`` function renders one figure with the Python API and saves it as PNG (and
for interpolations GIF and MP4), returning the paths written. Rendering settings shared by
all of them travel in one :class:`RenderOptions`.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import torch

from stylegan_lit.generate.animation import save_gif, save_mp4
from stylegan_lit.generate.attribute_classifier import train_attribute_classifier
from stylegan_lit.generate.editing import AttributeDirection, edit_images, find_direction
from stylegan_lit.generate.images import PathLike, save_grid, save_images, seed_names
from stylegan_lit.generate.interpolation import Space, frames_of, interpolate
from stylegan_lit.generate.mixing import assign_ranges, style_mixing, style_ranges
from stylegan_lit.generate.sampling import sample_images
from stylegan_lit.generate.truncation import PAPER_PSIS, truncation_sweep
from stylegan_lit.generate.variation import stochastic_variation
from stylegan_lit.models import Generator
from stylegan_lit.nn import NoiseMode

log = logging.getLogger(__name__)

__all__ = [
    "PAPER_PSIS",
    "RenderOptions",
    "write_edit",
    "write_images",
    "write_interpolation",
    "write_mixing",
    "write_truncation",
    "write_variation",
]


@dataclass(frozen=True)
class RenderOptions:
    """Rendering settings shared by every figure.

    Attributes:
        resolution: Output size (``None``: the generator's).
        alpha: Fade-in alpha (a mid-fade checkpoint's).
        noise_mode: ``"const"``, ``"random"`` or ``"none"``.
        truncation_psi: Truncation towards ``w_avg`` (1: none).
        truncation_cutoff: Layers truncated (``None``: all).
        batch_size: Images per forward pass.
        device: Where to render (``None``: where the generator is).
        zoom: Nearest-neighbour enlargement of saved files.
    """

    resolution: int | None = None
    alpha: float = 1.0
    noise_mode: NoiseMode = "const"
    truncation_psi: float = 1.0
    truncation_cutoff: int | None = None
    batch_size: int = 16
    device: str | torch.device | None = None
    zoom: int = 1

    def synthesis(self) -> dict[str, Any]:
        """Keyword arguments of :func:`synthesize`-style renderers."""
        return dict(
            resolution=self.resolution,
            alpha=self.alpha,
            noise_mode=self.noise_mode,
            batch_size=self.batch_size,
            device=self.device,
        )

    def truncation(self) -> dict[str, Any]:
        """Keyword arguments for truncation."""
        return dict(truncation_psi=self.truncation_psi, truncation_cutoff=self.truncation_cutoff)


def write_images(
    G: Generator,
    seeds: Sequence[int],
    outdir: PathLike,
    options: RenderOptions = RenderOptions(),
    grid: bool = False,
) -> list[Path]:
    """``seed<NNNN>.png`` per seed, and ``grid.png`` with ``grid``."""
    images = sample_images(G, seeds, **options.truncation(), **options.synthesis())
    paths = save_images(images, outdir, seed_names(seeds), zoom=options.zoom)
    if grid:
        paths.append(save_grid(images, Path(outdir) / "grid.png", zoom=options.zoom))
    return paths


def write_mixing(
    G: Generator,
    row_seeds: Sequence[int],
    col_seeds: Sequence[int],
    outdir: PathLike,
    options: RenderOptions = RenderOptions(),
) -> list[Path]:
    """``style-mixing.png`` (the paper's layout: rows spread over coarse, middle, fine)
    and ``style-mixing-<range>.png`` (every row with one range)."""
    resolution = options.resolution or G.resolution
    ranges = style_ranges(resolution)
    outdir = Path(outdir)
    kwargs = dict(**options.truncation(), **options.synthesis())
    layout = assign_ranges(ranges, len(row_seeds))
    figure = style_mixing(G, row_seeds, col_seeds, layout, **kwargs)
    paths = [save_grid(figure.grid(), outdir / "style-mixing.png", zoom=options.zoom)]
    for style in ranges:
        figure = style_mixing(G, row_seeds, col_seeds, style, **kwargs)
        path = outdir / f"style-mixing-{style.name}.png"
        paths.append(save_grid(figure.grid(), path, zoom=options.zoom))
        log.info("%s: %s", path.name, style)
    return paths


def write_variation(
    G: Generator,
    seeds: Sequence[int],
    outdir: PathLike,
    options: RenderOptions = RenderOptions(noise_mode="random"),
    num_draws: int = 8,
    noise_seed: int = 0,
) -> list[Path]:
    """``variation.png``: per seed, its noise draws and their per-pixel std (white: most)."""
    result = stochastic_variation(
        G, seeds, num_draws, noise_seed=noise_seed, **options.truncation(), **options.synthesis()
    )
    return [save_grid(result.grid(), Path(outdir) / "variation.png", zoom=options.zoom)]


def write_truncation(
    G: Generator,
    seeds: Sequence[int],
    outdir: PathLike,
    options: RenderOptions = RenderOptions(),
    psis: Sequence[float] = PAPER_PSIS,
) -> list[Path]:
    """``truncation.png``: a row per seed, a column per psi (``options``' psi is unused)."""
    images = truncation_sweep(
        G, seeds, psis, truncation_cutoff=options.truncation_cutoff, **options.synthesis()
    )
    return [save_grid(images, Path(outdir) / "truncation.png", zoom=options.zoom)]


def write_interpolation(
    G: Generator,
    seeds: Sequence[int],
    outdir: PathLike,
    options: RenderOptions = RenderOptions(),
    steps: int = 8,
    spaces: Sequence[Space] = ("z", "w"),
    loop: bool = False,
    fps: float = 12.0,
    mp4: bool = True,
) -> list[Path]:
    """Per space, ``interpolation-<space>.png`` (a row per segment), ``.gif`` and, when an
    ffmpeg is found, ``.mp4`` (skipped silently otherwise; see :func:`find_ffmpeg`)."""
    outdir = Path(outdir)
    paths = []
    for space in spaces:
        segments = interpolate(
            G, seeds, steps, space=space, loop=loop, **options.truncation(), **options.synthesis()
        )
        stem = outdir / f"interpolation-{space}"
        paths.append(save_grid(segments, stem.with_suffix(".png"), zoom=options.zoom))
        frames = frames_of(segments, loop=loop)
        paths.append(save_gif(frames, stem.with_suffix(".gif"), fps=fps, zoom=options.zoom))
        if mp4:
            video = save_mp4(frames, stem.with_suffix(".mp4"), fps=fps, zoom=options.zoom)
            if video is None:
                log.info("no ffmpeg found: %s.mp4 skipped", stem.name)
            else:
                paths.append(video)
    return paths


def write_edit(
    G: Generator,
    seeds: Sequence[int],
    outdir: PathLike,
    options: RenderOptions = RenderOptions(),
    attribute: str = "hat",
    strengths: Sequence[float] = (-3.0, -1.5, 0.0, 1.5, 3.0),
    direction: AttributeDirection | None = None,
    layers: Sequence[int] | range | None = None,
    num_samples: int = 2000,
    classifier_steps: int = 400,
    extremes: float | None = 0.25,
) -> tuple[list[Path], AttributeDirection]:
    """``edit-<attribute>.png`` (a row per seed, a column per strength) and, when the
    direction is fitted here, ``direction-<attribute>.pt`` to reuse with ``direction``.

    Fitting trains an attribute classifier on synthetic renders (see
    :mod:`.attribute_classifier`), so it only makes sense for a model of the synthetic
    faces; for other data, fit a direction with :func:`fit_direction` and your labels.
    """
    outdir = Path(outdir)
    paths = []
    resolution = options.resolution or G.resolution
    if direction is None:
        classifier = train_attribute_classifier(
            attribute, resolution, img_channels=G.img_channels, steps=classifier_steps
        )
        fit_options = replace(options, noise_mode="const", batch_size=max(options.batch_size, 64))
        synthesis = fit_options.synthesis()
        synthesis.pop("noise_mode")
        direction = find_direction(
            G,
            classifier.predict_proba,
            num_samples,
            extremes=extremes,
            attribute=attribute,
            **fit_options.truncation(),
            **synthesis,
        )
        paths.append(direction.save(outdir / f"direction-{attribute}.pt"))
    elif direction.normal.shape[0] != G.w_dim:
        raise ValueError(
            f"the direction has {direction.normal.shape[0]} dimensions but this generator's "
            f"w has {G.w_dim}"
        )
    images = edit_images(
        G, seeds, direction, strengths, layers=layers, **options.truncation(), **options.synthesis()
    )
    paths.insert(0, save_grid(images, outdir / f"edit-{attribute}.png", zoom=options.zoom))
    return paths, direction
