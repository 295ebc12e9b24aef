"""Writing images and figures to files: what ``stylegan-lit generate`` produces.

Each ``write_*`` function renders one figure with the Python API and saves it as PNG (and
for interpolations GIF and MP4), returning the paths written. Rendering settings travel in
one :class:`~stylegan_lit.generate.options.RenderOptions`, passed on as it is; ``zoom``
(nearest-neighbour enlargement of the saved files) is a file setting and stays here. Where
a function takes seeds it also takes latents ws [N, num_ws, w_dim] (projected photos).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from torch import Tensor

from stylegan_lit.generate.animation import save_gif, save_mp4
from stylegan_lit.generate.attribute_classifier import (
    SCORED_ATTRIBUTES,
    TRAINING_STEPS,
    AttributeClassifier,
    cached_attribute_classifier,
)
from stylegan_lit.generate.edit_refinement import Refinement, refine_direction
from stylegan_lit.generate.editing import (
    DEFAULT_EXTREMES,
    AttributeDirection,
    LabelledSamples,
    direction_from_samples,
    edit_images,
    label_samples,
)
from stylegan_lit.generate.images import PathLike, save_grid, save_images, seed_names
from stylegan_lit.generate.interpolation import Space, frames_of, interpolate
from stylegan_lit.generate.mixing import assign_ranges, style_mixing, style_ranges
from stylegan_lit.generate.options import RenderOptions
from stylegan_lit.generate.sampling import (
    DEFAULT_OPTIONS,
    Sources,
    sample_images,
    source_ws,
    synthesize,
)
from stylegan_lit.generate.truncation import PAPER_PSIS, truncation_sweep
from stylegan_lit.generate.variation import RANDOM_NOISE, stochastic_variation
from stylegan_lit.models import Generator

log = logging.getLogger(__name__)

__all__ = [
    "PAPER_PSIS",
    "write_edit",
    "write_images",
    "write_interpolation",
    "write_mixing",
    "write_truncation",
    "write_variation",
]


def write_images(
    G: Generator,
    seeds: Sources,
    outdir: PathLike,
    options: RenderOptions = DEFAULT_OPTIONS,
    grid: bool = False,
    zoom: int = 1,
) -> list[Path]:
    """``seed<NNNN>.png`` per seed (``projection<N>.png`` per latent when ``seeds`` are
    ws [N, num_ws, w_dim]), and ``grid.png`` with ``grid``."""
    if isinstance(seeds, Tensor):
        images = synthesize(G, source_ws(G, seeds, options), options)
        names = [f"projection{i}.png" for i in range(len(seeds))]
    else:
        images = sample_images(G, seeds, options=options)
        names = seed_names(seeds)
    paths = save_images(images, outdir, names, zoom=zoom)
    if grid:
        paths.append(save_grid(images, Path(outdir) / "grid.png", zoom=zoom))
    return paths


def write_mixing(
    G: Generator,
    row_seeds: Sources,
    col_seeds: Sources,
    outdir: PathLike,
    options: RenderOptions = DEFAULT_OPTIONS,
    zoom: int = 1,
) -> list[Path]:
    """``style-mixing.png`` (the paper's layout: rows spread over coarse, middle, fine)
    and ``style-mixing-<range>.png`` (every row with one range)."""
    ranges = style_ranges(options.resolution_for(G))
    outdir = Path(outdir)
    layout = assign_ranges(ranges, len(row_seeds))
    figure = style_mixing(G, row_seeds, col_seeds, layout, options)
    paths = [save_grid(figure.grid(), outdir / "style-mixing.png", zoom=zoom)]
    for style in ranges:
        figure = style_mixing(G, row_seeds, col_seeds, style, options)
        path = outdir / f"style-mixing-{style.name}.png"
        paths.append(save_grid(figure.grid(), path, zoom=zoom))
        log.info("%s: %s", path.name, style)
    return paths


def write_variation(
    G: Generator,
    seeds: Sequence[int],
    outdir: PathLike,
    options: RenderOptions = RANDOM_NOISE,
    num_draws: int = 8,
    noise_seed: int = 0,
    zoom: int = 1,
) -> list[Path]:
    """``variation.png``: per seed, its noise draws and their per-pixel std (white: most)."""
    result = stochastic_variation(G, seeds, num_draws, options, noise_seed=noise_seed)
    return [save_grid(result.grid(), Path(outdir) / "variation.png", zoom=zoom)]


def write_truncation(
    G: Generator,
    seeds: Sources,
    outdir: PathLike,
    options: RenderOptions = DEFAULT_OPTIONS,
    psis: Sequence[float] = PAPER_PSIS,
    zoom: int = 1,
) -> list[Path]:
    """``truncation.png``: a row per seed, a column per psi (``options``' psi is unused)."""
    images = truncation_sweep(G, seeds, psis, options)
    return [save_grid(images, Path(outdir) / "truncation.png", zoom=zoom)]


def write_interpolation(
    G: Generator,
    seeds: Sources,
    outdir: PathLike,
    options: RenderOptions = DEFAULT_OPTIONS,
    steps: int = 8,
    spaces: Sequence[Space] = ("z", "w"),
    loop: bool = False,
    fps: float = 12.0,
    mp4: bool = True,
    zoom: int = 1,
) -> list[Path]:
    """Per space, ``interpolation-<space>.png`` (a row per segment), ``.gif`` and, when an
    ffmpeg is found, ``.mp4`` (skipped silently otherwise; see :func:`find_ffmpeg`)."""
    outdir = Path(outdir)
    paths = []
    for space in spaces:
        segments = interpolate(G, seeds, steps, options, space=space, loop=loop)
        stem = outdir / f"interpolation-{space}"
        paths.append(save_grid(segments, stem.with_suffix(".png"), zoom=zoom))
        frames = frames_of(segments, loop=loop)
        paths.append(save_gif(frames, stem.with_suffix(".gif"), fps=fps, zoom=zoom))
        if mp4:
            video = save_mp4(frames, stem.with_suffix(".mp4"), fps=fps, zoom=zoom)
            if video is None:
                log.info("no ffmpeg found: %s.mp4 skipped", stem.name)
            else:
                paths.append(video)
    return paths


def write_edit(
    G: Generator,
    seeds: Sources,
    outdir: PathLike,
    options: RenderOptions = DEFAULT_OPTIONS,
    attribute: str = "hat",
    strengths: Sequence[float] = (-3.0, -1.5, 0.0, 1.5, 3.0),
    direction: AttributeDirection | None = None,
    layers: Sequence[int] | range | None = None,
    num_samples: int = 2000,
    classifier_steps: int = TRAINING_STEPS,
    classifier_cache: PathLike | None = None,
    extremes: float | None = DEFAULT_EXTREMES,
    zoom: int = 1,
    condition_on: Sequence[str] = (),
    refine: Refinement | None = None,
) -> tuple[list[Path], AttributeDirection]:
    """``edit-<attribute>.png`` (a row per seed, a column per strength) and, when the
    direction is fitted here, ``direction-<attribute>.pt`` to reuse with ``direction``.

    ``condition_on`` names attributes to keep: their directions are fitted too and projected
    out of this one (:meth:`AttributeDirection.conditioned_on`, InterFaceGAN's conditional
    manipulation). ``refine`` then optimises the direction on the images so that the edit
    flips the attribute while every other :data:`SCORED_ATTRIBUTES` classifier's score stays
    (:func:`~stylegan_lit.generate.edit_refinement.refine_direction`). The saved direction
    is the final one, so reusing it redraws this figure. A given ``direction`` is drawn as
    it is (condition or refine it before saving it).

    Fitting trains attribute classifiers on synthetic renders (see
    :mod:`.attribute_classifier`; kept in and reused from ``classifier_cache`` when one is
    given), so it only makes sense for a model of the synthetic faces; for other data, fit
    a direction with :func:`fit_direction` and your labels.
    The samples for the fit render in batches of at least 64 (they are only scored).
    """
    outdir = Path(outdir)
    paths = []
    scoring = replace(options, batch_size=max(options.batch_size, 64))

    classifiers: dict[str, AttributeClassifier] = {}

    def classifier(name: str) -> AttributeClassifier:
        """Loaded (or, without a cache, trained) once per call, though fit and refinement
        both use the edited attribute's."""
        if name not in classifiers:
            classifiers[name] = cached_attribute_classifier(
                name, options.resolution_for(G), img_channels=G.img_channels,
                steps=classifier_steps, cache_dir=classifier_cache,
            )  # fmt: skip
        return classifiers[name]

    def scored(name: str) -> LabelledSamples:
        return label_samples(G, classifier(name).predict_proba, num_samples, scoring)

    if direction is None:
        pool = scored(attribute)
        direction = direction_from_samples(pool, extremes=extremes, attribute=attribute)
        kept = [name for name in dict.fromkeys(condition_on) if name != attribute]
        direction = direction.conditioned_on(
            [direction_from_samples(scored(n), extremes=extremes, attribute=n) for n in kept]
        )
        if refine is not None:
            keep = {n: classifier(n) for n in SCORED_ATTRIBUTES if n != attribute}
            direction = refine_direction(
                G, direction, classifier(attribute), keep, pool, scoring, refine, layers=layers
            )
        paths.append(direction.save(outdir / f"direction-{attribute}.pt"))
    elif condition_on or refine is not None:
        raise ValueError("condition_on and refine need a direction fitted here, not a given one")
    elif direction.normal.shape[0] != G.w_dim:
        raise ValueError(
            f"the direction has {direction.normal.shape[0]} dimensions but this generator's "
            f"w has {G.w_dim}"
        )
    images = edit_images(G, seeds, direction, strengths, options, layers=layers)
    paths.insert(0, save_grid(images, outdir / f"edit-{attribute}.png", zoom=zoom))
    return paths, direction
