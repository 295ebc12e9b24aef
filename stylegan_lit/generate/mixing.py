"""Style mixing figures (paper figure 3): which layers carry which aspects of a face.

Each cell takes the styles of a chosen layer range from its column's source and every
other layer from its row's source. The paper names three ranges by the resolutions their
layers work at: coarse (4-8 px: pose, face shape, hair style, glasses), middle (16-32 px:
finer features, eyes open or closed) and fine (64 px and up: colours, micro-structure).
Layers come two per resolution, so at 1024 px these are layers 0-3, 4-7 and 8-17.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor

from stylegan_lit.generate.options import RenderOptions
from stylegan_lit.generate.sampling import DEFAULT_OPTIONS, Sources, source_ws, synthesize
from stylegan_lit.models import Generator
from stylegan_lit.models.resolution import check_resolution, num_ws_for, resolutions_up_to


@dataclass(frozen=True)
class StyleRange:
    """A named range of style layers.

    Attributes:
        name: ``"coarse"``, ``"middle"``, ``"fine"`` or a user's name.
        layers: Indices into ws' layer axis.
        resolutions: The synthesis resolutions those layers belong to (for captions).
    """

    name: str
    layers: range
    resolutions: tuple[int, ...]

    def __str__(self) -> str:
        low, high = self.resolutions[0], self.resolutions[-1]
        px = f"{low} px" if low == high else f"{low}-{high} px"
        return f"{self.name} ({px}: layers {self.layers.start}-{self.layers.stop - 1})"


def layers_of(resolutions: Sequence[int]) -> range:
    """The style layers of consecutive resolutions (two per resolution, from 4 px)."""
    first, last = resolutions[0], resolutions[-1]
    return range(num_ws_for(first) - 2, num_ws_for(last))


def style_ranges(resolution: int) -> list[StyleRange]:
    """Coarse, middle and fine ranges for a model of ``resolution`` px.

    From 64 px up these are the paper's (4-8, 16-32, 64 px and up). A smaller model has no
    64 px layers, so its levels are scaled down to keep three non-empty ranges: the top
    level is fine, the one below it middle and the rest coarse (32 px: 4-8 / 16 / 32;
    16 px: 4 / 8 / 16). An 8 px model has only coarse (4 px) and fine (8 px).
    """
    check_resolution(resolution)
    levels = resolutions_up_to(resolution)
    if resolution >= 64:
        groups = {"coarse": [4, 8], "middle": [16, 32], "fine": levels[4:]}
    elif len(levels) >= 3:
        groups = {"coarse": levels[:-2], "middle": levels[-2:-1], "fine": levels[-1:]}
    else:
        groups = {"coarse": levels[:1], "fine": levels[1:]}
    return [StyleRange(name, layers_of(res), tuple(res)) for name, res in groups.items() if res]


def style_range(resolution: int, name: str) -> StyleRange:
    """One of :func:`style_ranges` by name (raises ``KeyError`` naming the choices)."""
    ranges = {r.name: r for r in style_ranges(resolution)}
    if name not in ranges:
        raise KeyError(f"no {name!r} styles at {resolution} px; choose from {sorted(ranges)}")
    return ranges[name]


def edit_layers(resolution: int, name: str) -> range | None:
    """The style layers an edit named ``name`` moves: ``"all"`` gives None (every layer, as
    InterFaceGAN edits), otherwise the layers of :func:`style_range` (``KeyError`` as there)."""
    return None if name == "all" else style_range(resolution, name).layers


def copy_layers(ws_dst: Tensor, ws_src: Tensor, layers: range | Sequence[int]) -> Tensor:
    """ws_dst [N, L, w_dim] with ``layers`` replaced by ws_src's (broadcast over N)."""
    mask = torch.zeros(ws_dst.shape[1], dtype=torch.bool)
    mask[list(layers)] = True
    return torch.where(mask[None, :, None].to(ws_dst.device), ws_src, ws_dst)


Layers = StyleRange | range | Sequence[int]
"""Style layers to copy: a named range, a ``range`` or a list of layer indices."""


@dataclass
class MixingFigure:
    """A style-mixing figure.

    Attributes:
        row_images: Sources down the left [R, C, H, W] (they give the layers not copied).
        col_images: Sources along the top [K, C, H, W] (they give the copied layers).
        mixed: Cell (r, k) [R, K, C, H, W]: row r with ``layers[r]`` of column k.
        layers: The style layers copied in each row.
    """

    row_images: Tensor
    col_images: Tensor
    mixed: Tensor
    layers: list[list[int]]

    def grid(self) -> Tensor:
        """The figure as [R + 1, K + 1, C, H, W] (blank corner) for :func:`save_grid`."""
        corner = torch.ones_like(self.col_images[:1])  # white in [-1, 1]
        top = torch.cat([corner, self.col_images])[None]
        rows = torch.cat([self.row_images[:, None], self.mixed], dim=1)
        return torch.cat([top, rows])


def style_mixing(
    G: Generator,
    row_seeds: Sources,
    col_seeds: Sources,
    layers: Layers | Sequence[Layers],
    options: RenderOptions = DEFAULT_OPTIONS,
) -> MixingFigure:
    """Mix every row seed with every column seed, copying ``layers`` from the column.

    Args:
        G: The generator.
        row_seeds: Sources down the left: seeds, or ws [R, num_ws, w_dim] (projections).
        col_seeds: Sources along the top, the same way.
        layers: The layers to copy, for all rows (a :class:`StyleRange`, a ``range`` or a
            list of ints), or one such per row, as in the paper's figure (two coarse rows,
            two middle, one fine: see :func:`assign_ranges`). ``range(0)`` reproduces the
            row sources and ``range(G.num_ws)`` the column sources.
        options: How to render; its truncation applies to both sources' ws, and
            ``"const"`` noise (the default) keeps cells comparable with their sources.
    """
    per_row = _per_row_layers(layers, len(row_seeds), G.num_ws)
    row_ws, col_ws = (source_ws(G, seeds, options) for seeds in (row_seeds, col_seeds))
    mixed_ws = torch.stack(
        [
            copy_layers(row[None], col_ws, row_layers)
            for row, row_layers in zip(row_ws, per_row, strict=True)
        ]
    )  # [R, K, num_ws, w_dim]
    sources, mixed = (synthesize(G, ws, options) for ws in (torch.cat([row_ws, col_ws]), mixed_ws))
    return MixingFigure(
        row_images=sources[: len(row_seeds)],
        col_images=sources[len(row_seeds) :],
        mixed=mixed,
        layers=per_row,
    )


def _layer_list(layers: Layers, num_ws: int) -> list[int]:
    indices = list(layers.layers if isinstance(layers, StyleRange) else layers)
    bad = [i for i in indices if not isinstance(i, int) or not 0 <= i < num_ws]
    if bad:
        raise ValueError(f"style layers {bad} are outside 0..{num_ws - 1}")
    return indices


def _per_row_layers(layers: Layers | Sequence[Layers], rows: int, num_ws: int) -> list[list[int]]:
    single = isinstance(layers, StyleRange | range) or all(isinstance(x, int) for x in layers)
    per_row: list[Any] = [layers] * rows if single else list(layers)  # type: ignore[arg-type]
    if len(per_row) != rows:
        raise ValueError(f"{len(per_row)} layer ranges given for {rows} rows")
    return [_layer_list(row_layers, num_ws) for row_layers in per_row]


def assign_ranges(ranges: Sequence[StyleRange], rows: int) -> list[StyleRange]:
    """Spread ``rows`` over ``ranges`` in order, as evenly as possible, like the paper's
    figure 3 (5 rows over coarse, middle, fine: 2, 2, 1)."""
    if rows < 1 or not ranges:
        raise ValueError("need at least one row and one range")
    base, extra = divmod(rows, len(ranges))
    return [r for i, r in enumerate(ranges) for _ in range(base + (i < extra))]
