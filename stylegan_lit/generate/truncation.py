"""Truncation sweeps (paper figure 8): trading variety for typicality.

Pulling w towards the tracked mean ``w_avg`` (``w' = w_avg + psi (w - w_avg)``) makes faces
more typical and cleaner as psi falls to 0, where every latent becomes the "mean face";
negative psi gives the "anti-face", with the attributes inverted.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import torch
from torch import Tensor

from stylegan_lit.generate.options import RenderOptions
from stylegan_lit.generate.sampling import DEFAULT_OPTIONS, Sources, source_ws, synthesize
from stylegan_lit.models import Generator, truncate

PAPER_PSIS: tuple[float, ...] = (1.0, 0.7, 0.5, 0.0, -0.5, -1.0)
"""The psi values of the paper's figure 8."""


def truncation_sweep(
    G: Generator,
    seeds: Sources,
    psis: Sequence[float] = PAPER_PSIS,
    options: RenderOptions = DEFAULT_OPTIONS,
) -> Tensor:
    """Each seed at each psi: [len(seeds), len(psis), C, H, W] (a grid row per seed).

    Args:
        G: The generator.
        seeds: One row per seed (or per latent, for ws [N, num_ws, w_dim]).
        psis: One column per truncation psi.
        options: How to render; its ``truncation_psi`` is replaced by each of ``psis``, its
            ``truncation_cutoff`` applies (``None``: all layers, as in figure 8; the official
            sampling setting is 8).
    """
    if not psis:
        raise ValueError("give at least one psi")
    ws = source_ws(G, seeds, replace(options, truncation_psi=1.0))  # untruncated
    w_avg = G.mapping.w_avg.cpu()
    truncated = torch.stack(
        [truncate(ws, w_avg, psi, options.truncation_cutoff) for psi in psis], dim=1
    )  # [S, P, num_ws, w_dim]
    return synthesize(G, truncated, options)
