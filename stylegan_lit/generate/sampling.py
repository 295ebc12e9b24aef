"""Rendering images from seeds or latents with a trained generator, in batches.

Every figure in :mod:`stylegan_lit.generate` goes through :func:`map_latents` and
:func:`synthesize` with one :class:`~stylegan_lit.generate.options.RenderOptions`, so
batching, device placement and the noise RNG are handled in one place. Results always come
back as float32 CPU tensors in the data range [-1, 1] (not clamped; see :mod:`.images` to
save). :func:`latent_sampler` is the exception, for callers that keep images on the device
(the metrics).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace

import torch
from torch import Tensor

from stylegan_lit.generate.options import MAPPING_BATCH, RenderOptions
from stylegan_lit.generate.seeds import check_seeds, z_from_seeds
from stylegan_lit.models import Generator, truncate
from stylegan_lit.nn import NoiseMode

DEFAULT_OPTIONS = RenderOptions()

Sources = Sequence[int] | Tensor
"""What a figure renders: seeds, or latents ws [N, num_ws, w_dim] found elsewhere (a
projection of a photo, :mod:`.projection`)."""


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


@torch.no_grad()
def map_latents(G: Generator, z: Tensor, options: RenderOptions = DEFAULT_OPTIONS) -> Tensor:
    """z [N, z_dim] -> ws [N, num_ws, w_dim] on the CPU, truncated as ``options`` say."""
    device = options.device_for(G)
    G.to(device)
    size = max(options.batch_size, MAPPING_BATCH)
    return torch.cat([options.map(G, chunk.to(device)).cpu() for chunk in z.split(size)])


@torch.no_grad()
def map_seeds(
    G: Generator, seeds: Sequence[int], options: RenderOptions = DEFAULT_OPTIONS
) -> Tensor:
    """The ws of ``seeds`` (see :func:`z_from_seeds`): [len(seeds), num_ws, w_dim]."""
    return map_latents(G, z_from_seeds(seeds, G.z_dim), options)


def source_ws(G: Generator, sources: Sources, options: RenderOptions = DEFAULT_OPTIONS) -> Tensor:
    """ws [N, num_ws, w_dim] on the CPU of seeds (mapped) or of given ws, truncated as
    ``options`` say either way (psi 1 leaves given ws exactly as they are).

    Raises:
        ValueError: Given ws whose shape does not fit G.
    """
    if not isinstance(sources, Tensor):
        return map_seeds(G, sources, options)
    if sources.ndim != 3 or tuple(sources.shape[1:]) != (G.num_ws, G.w_dim):
        raise ValueError(
            f"latents must have shape [N, {G.num_ws}, {G.w_dim}] for this generator, "
            f"got {tuple(sources.shape)}"
        )
    ws = sources.detach().float().cpu()
    w_avg = G.mapping.w_avg.detach().float().cpu()
    return truncate(ws, w_avg, options.truncation_psi, options.truncation_cutoff)


@torch.no_grad()
def synthesize(
    G: Generator,
    ws: Tensor,
    options: RenderOptions = DEFAULT_OPTIONS,
    *,
    noise_seed: int | None = 0,
) -> Tensor:
    """Render ws [..., num_ws, w_dim] to images [..., C, R, R] (CPU, float32, range [-1, 1]).

    Leading dimensions are kept, so a grid of latents [S, K, num_ws, w_dim] renders to a grid
    of images [S, K, C, R, R] in batches of ``options.batch_size``. The truncation settings
    are not used: ws are rendered as given (they may be mixed or edited).

    Args:
        G: The generator (moved to ``options.device`` if one is given).
        ws: Per-layer latents, e.g. from :func:`map_seeds`, mixed or edited.
        options: Resolution, alpha, noise mode, batch size and device.
        noise_seed: Seeds the random noise so a call is reproducible; ``None`` uses torch's
            global RNG as it stands.
    """
    resolution = options.resolution_for(G)
    device = options.device_for(G)
    G.to(device)
    leading = ws.shape[:-2]
    images = []
    with seeded_rng(noise_seed, device):
        for chunk in ws.flatten(0, -3).split(options.batch_size):
            images.append(options.synthesis(G, chunk.to(device)).float().cpu())
    if not images:
        return torch.empty(*leading, G.img_channels, resolution, resolution)
    return torch.cat(images).unflatten(0, leading)


@torch.no_grad()
def render_latents(
    G: Generator,
    z: Tensor,
    options: RenderOptions = DEFAULT_OPTIONS,
    *,
    noise_seed: int | None = 0,
) -> Tensor:
    """Images of latents z [N, z_dim]: [N, C, R, R] in [-1, 1] (see :func:`synthesize`)."""
    options.resolution_for(G)  # fail before mapping anything
    return synthesize(G, map_latents(G, z, options), options, noise_seed=noise_seed)


@torch.no_grad()
def sample_images(
    G: Generator,
    seeds: Sequence[int] | None = None,
    count: int | None = None,
    options: RenderOptions = DEFAULT_OPTIONS,
    *,
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
    if seeds is None:
        if count is None:
            raise ValueError("give either seeds or count")
        if count < 1:
            raise ValueError(f"count must be at least 1, got {count}")
        seeds = range(count)
    elif count is not None:
        raise ValueError("give either seeds or count")
    z = z_from_seeds(check_seeds(seeds), G.z_dim)
    return render_latents(G, z, options, noise_seed=noise_seed)


def latent_sampler(G: Generator, options: RenderOptions = DEFAULT_OPTIONS) -> Callable[..., Tensor]:
    """``sample(z, noise_mode=options.noise_mode)``: one batch of z to images, kept on the
    device, for callers that batch and seed themselves (the metrics' ``MetricSuite``).

    It renders as :meth:`StyleGANModule.sample <stylegan_lit.training.StyleGANModule.sample>`
    does during training, with a checkpoint's settings instead of the module's progress;
    ``noise_mode`` is the caller's to choose per call.
    """
    options.resolution_for(G)
    device = options.device_for(G)
    G.to(device)

    def sample(z: Tensor, noise_mode: NoiseMode = options.noise_mode) -> Tensor:
        batch = replace(options, noise_mode=noise_mode)
        return batch.synthesis(G, batch.map(G, z.to(device)))

    return sample
