"""Rendering images from seeds or latents with a trained generator, in batches.

Every figure in :mod:`stylegan_lit.generate` goes through :func:`synthesize`, so batching,
device placement and the noise RNG are handled in one place. Results always come back as
float32 CPU tensors in the data range [-1, 1] (not clamped; see :mod:`.images` to save).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence

import torch
from torch import Tensor

from stylegan_lit.generate.seeds import check_seeds, z_from_seeds
from stylegan_lit.models import Generator
from stylegan_lit.nn import NOISE_MODES, NoiseMode


def resolve_device(device: str | torch.device | None, G: Generator) -> torch.device:
    """``None`` keeps G where it is; ``"auto"`` picks CUDA when there is one."""
    if device is None:
        return next(G.parameters()).device
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


@contextlib.contextmanager
def seeded_rng(seed: int | None, device: torch.device) -> Iterator[None]:
    """Run a block with torch's RNG seeded (restored afterwards); ``None`` leaves it alone.

    Noise injection (``noise_mode="random"``) draws from the global RNG, so seeding it here
    makes noisy renders reproducible without disturbing the caller's random state.
    """
    if seed is None:
        yield
        return
    devices = [device] if device.type == "cuda" else []
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(seed)
        yield


def check_render_args(
    G: Generator, resolution: int | None, noise_mode: str, batch_size: int
) -> int:
    """Validate the arguments every renderer shares; return the resolution to use."""
    resolution = G.resolution if resolution is None else resolution
    if (
        not isinstance(resolution, int)
        or resolution < 4
        or resolution & (resolution - 1)
        or resolution > G.resolution
    ):
        raise ValueError(
            f"resolution must be a power of two from 4 to the generator's {G.resolution}, "
            f"got {resolution!r}"
        )
    if noise_mode not in NOISE_MODES:
        raise ValueError(f"noise_mode must be one of {NOISE_MODES}, got {noise_mode!r}")
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")
    return resolution


@torch.no_grad()
def map_latents(
    G: Generator,
    z: Tensor,
    *,
    truncation_psi: float = 1.0,
    truncation_cutoff: int | None = None,
    batch_size: int = 64,
    device: str | torch.device | None = None,
) -> Tensor:
    """z [N, z_dim] -> truncated ws [N, num_ws, w_dim] on the CPU."""
    device = resolve_device(device, G)
    G.to(device)
    chunks = [
        G.mapping(
            chunk.to(device), truncation_psi=truncation_psi, truncation_cutoff=truncation_cutoff
        ).cpu()
        for chunk in z.split(batch_size)
    ]
    return torch.cat(chunks)


@torch.no_grad()
def map_seeds(
    G: Generator,
    seeds: Sequence[int],
    *,
    truncation_psi: float = 1.0,
    truncation_cutoff: int | None = None,
    batch_size: int = 64,
    device: str | torch.device | None = None,
) -> Tensor:
    """The ws of ``seeds`` (see :func:`z_from_seeds`): [len(seeds), num_ws, w_dim]."""
    return map_latents(
        G,
        z_from_seeds(seeds, G.z_dim),
        truncation_psi=truncation_psi,
        truncation_cutoff=truncation_cutoff,
        batch_size=batch_size,
        device=device,
    )


@torch.no_grad()
def synthesize(
    G: Generator,
    ws: Tensor,
    *,
    resolution: int | None = None,
    alpha: float = 1.0,
    noise_mode: NoiseMode = "const",
    batch_size: int = 16,
    device: str | torch.device | None = None,
    noise_seed: int | None = 0,
) -> Tensor:
    """Render ws [..., num_ws, w_dim] to images [..., C, R, R] (CPU, float32, range [-1, 1]).

    Leading dimensions are kept, so a grid of latents [S, K, num_ws, w_dim] renders to a grid
    of images [S, K, C, R, R] in batches of ``batch_size``.

    Args:
        G: The generator (moved to ``device`` if one is given).
        ws: Per-layer latents, e.g. from :func:`map_seeds`, mixed or edited.
        resolution: Output size, up to G's (default: G's). Below G's, the network's earlier
            stage renders (useful for a checkpoint still training at a lower level).
        alpha: Fade-in weight of the newest block (a mid-fade checkpoint's alpha).
        noise_mode: ``"const"`` (fixed noise images stored with the weights: reproducible,
            the default for figures), ``"random"`` (fresh noise) or ``"none"``.
        batch_size: Images per forward pass (memory).
        device: Where to run (``None``: where G is; ``"auto"``: CUDA if available).
        noise_seed: Seeds the random noise so a call is reproducible; ``None`` uses torch's
            global RNG as it stands.
    """
    resolution = check_render_args(G, resolution, noise_mode, batch_size)
    device = resolve_device(device, G)
    G.to(device)
    leading = ws.shape[:-2]
    images = []
    with seeded_rng(noise_seed, device):
        for chunk in ws.flatten(0, -3).split(batch_size):
            out = G.synthesis(
                chunk.to(device), resolution=resolution, alpha=alpha, noise_mode=noise_mode
            )
            images.append(out.float().cpu())
    if not images:
        return torch.empty(*leading, G.img_channels, resolution, resolution)
    return torch.cat(images).unflatten(0, leading)


@torch.no_grad()
def sample_images(
    G: Generator,
    seeds: Sequence[int] | None = None,
    count: int | None = None,
    *,
    truncation_psi: float = 1.0,
    truncation_cutoff: int | None = None,
    noise_mode: NoiseMode = "const",
    resolution: int | None = None,
    alpha: float = 1.0,
    batch_size: int = 16,
    device: str | torch.device | None = None,
    noise_seed: int | None = 0,
) -> Tensor:
    """Images of ``seeds`` (or of seeds ``0 .. count - 1``): [N, C, R, R] in [-1, 1].

    Seed ``s`` gives the same image (up to float rounding) whatever else is in the batch,
    with ``noise_mode`` ``"const"`` or ``"none"``, so a file named after its seed can be
    regenerated on its own.
    The truncation trick pulls w towards ``w_avg`` in the first ``truncation_cutoff`` layers
    (all if ``None``): psi 0.7, cutoff 8 is the paper's setting for figures.

    Raises:
        ValueError: Neither or both of ``seeds`` and ``count``; bad seeds; a resolution the
            generator cannot render.
    """
    if (seeds is None) == (count is None):
        raise ValueError("give either seeds or count")
    if count is not None:
        if count < 1:
            raise ValueError(f"count must be at least 1, got {count}")
        seeds = range(count)
    seeds = check_seeds(seeds)  # type: ignore[arg-type]
    check_render_args(G, resolution, noise_mode, batch_size)
    ws = map_seeds(
        G,
        seeds,
        truncation_psi=truncation_psi,
        truncation_cutoff=truncation_cutoff,
        batch_size=max(batch_size, 64),
        device=device,
    )
    return synthesize(
        G,
        ws,
        resolution=resolution,
        alpha=alpha,
        noise_mode=noise_mode,
        batch_size=batch_size,
        device=device,
        noise_seed=noise_seed,
    )
