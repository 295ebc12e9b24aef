"""Latent interpolation: walks between seeds, in z (slerp) or in w (lerp).

z is Gaussian and pixel-normalised by the mapping network, so only its direction matters
and the natural path between two z is the great circle (slerp); w has no such geometry and
is interpolated linearly. These are the paths the paper's perceptual path length uses
(section 4.2); a smooth walk in w is evidence of a disentangled latent space.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Literal

import torch
from torch import Tensor

from stylegan_lit.generate.options import RenderOptions
from stylegan_lit.generate.sampling import (
    DEFAULT_OPTIONS,
    Sources,
    map_latents,
    source_ws,
    synthesize,
)
from stylegan_lit.generate.seeds import check_seeds, z_from_seeds
from stylegan_lit.models import Generator, truncate

Space = Literal["z", "w"]


def lerp(a: Tensor, b: Tensor, t: Tensor) -> Tensor:
    """Linear interpolation of a, b [..., D] at t [T] -> [T, ..., D]."""
    t = t.reshape(-1, *([1] * a.ndim)).to(a.dtype)
    return a + t * (b - a)


def slerp(a: Tensor, b: Tensor, t: Tensor, eps: float = 1e-7) -> Tensor:
    """Spherical interpolation of a, b [..., D] at t [T] -> [T, ..., D].

    The direction moves along the great circle and the norm linearly; for (nearly)
    parallel vectors this falls back to :func:`lerp`.
    """
    t = t.reshape(-1, *([1] * a.ndim)).to(a.dtype)
    norm_a = a.norm(dim=-1, keepdim=True)
    norm_b = b.norm(dim=-1, keepdim=True)
    unit_a, unit_b = a / norm_a.clamp_min(eps), b / norm_b.clamp_min(eps)
    cos = (unit_a * unit_b).sum(-1, keepdim=True).clamp(-1, 1)
    theta = torch.acos(cos)
    sin = torch.sin(theta)
    parallel = sin.abs() < 1e-4
    safe_sin = torch.where(parallel, torch.ones_like(sin), sin)
    direction = (torch.sin((1 - t) * theta) * unit_a + torch.sin(t * theta) * unit_b) / safe_sin
    direction = torch.where(parallel, lerp(unit_a, unit_b, t.flatten()), direction)
    return direction * (norm_a + t * (norm_b - norm_a))


def interpolation_ws(
    G: Generator,
    seeds: Sources,
    steps: int = 8,
    options: RenderOptions = DEFAULT_OPTIONS,
    *,
    space: Space = "w",
    loop: bool = False,
) -> Tensor:
    """ws along the path through ``seeds``: [segments, steps, num_ws, w_dim].

    Each segment goes from one seed to the next with ``steps`` points, both ends included
    (so the last frame of a segment is the first of the next). ``loop`` adds a segment
    back to the first seed, for seamless animations. The path is walked untruncated and
    ``options``' truncation is applied to every point of it.

    ``seeds`` may be ws [N, num_ws, w_dim] instead (projected photos): they have no z, so
    the walk is in w (or W+, layer by layer), and ``space="z"`` is refused.
    """
    if len(seeds) < 2 or steps < 2:
        raise ValueError("interpolation needs at least two seeds and two steps")
    if space not in ("z", "w"):
        raise ValueError(f"space must be 'z' or 'w', got {space!r}")
    if isinstance(seeds, Tensor):
        if space == "z":
            raise ValueError("given latents have no z: interpolate them in w")
        key_ws = source_ws(G, seeds, replace(options, truncation_psi=1.0))
        if loop:
            key_ws = torch.cat([key_ws, key_ws[:1]])
        t = torch.linspace(0, 1, steps)
        ws = torch.stack([lerp(key_ws[i], key_ws[i + 1], t) for i in range(len(key_ws) - 1)])
        return _truncated(G, ws, options)
    seeds = check_seeds(seeds)
    keys = [*seeds, seeds[0]] if loop else seeds
    t = torch.linspace(0, 1, steps)
    z = z_from_seeds(keys, G.z_dim)
    untruncated = replace(options, truncation_psi=1.0)
    if space == "z":
        path = torch.stack([slerp(z[i], z[i + 1], t) for i in range(len(keys) - 1)])
        ws = map_latents(G, path.flatten(0, 1), untruncated).unflatten(0, path.shape[:2])
    else:
        key_ws = map_latents(G, z, untruncated)
        ws = torch.stack([lerp(key_ws[i], key_ws[i + 1], t) for i in range(len(keys) - 1)])
    return _truncated(G, ws, options)


def _truncated(G: Generator, ws: Tensor, options: RenderOptions) -> Tensor:
    """Path ws [S, T, num_ws, w_dim] with ``options``' truncation applied to every point."""
    w_avg = G.mapping.w_avg.cpu()
    psi, cutoff = options.truncation_psi, options.truncation_cutoff
    return truncate(ws.flatten(0, 1), w_avg, psi, cutoff).unflatten(0, ws.shape[:2])


def interpolate(
    G: Generator,
    seeds: Sources,
    steps: int = 8,
    options: RenderOptions = DEFAULT_OPTIONS,
    *,
    space: Space = "w",
    loop: bool = False,
) -> Tensor:
    """Frames of the walk through ``seeds``: [segments, steps, C, H, W].

    As a grid, each row is one segment. For an animation use :func:`frames_of`, which
    drops the repeated frame where segments meet. Truncation is applied after mapping, to
    every point of the path. Const noise (the default) keeps the detail from flickering.
    """
    ws = interpolation_ws(G, seeds, steps, options, space=space, loop=loop)
    return synthesize(G, ws, options)


def frames_of(segments: Tensor, loop: bool = False) -> Tensor:
    """Segments [S, T, C, H, W] -> one frame sequence [N, C, H, W] without repeats.

    With ``loop`` the final frame (equal to the first) is dropped too, so a looping
    animation does not stutter.
    """
    frames = [segments[0]] + [segment[1:] for segment in segments[1:]]
    sequence = torch.cat(frames)
    return sequence[:-1] if loop else sequence
