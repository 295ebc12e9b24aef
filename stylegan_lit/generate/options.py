"""Rendering settings: one object that every renderer in :mod:`stylegan_lit.generate` takes.

Sampling, truncation sweeps, style mixing, stochastic variation, interpolation, editing, the
``eval`` command's sampler and the training callbacks' grids all render the same way: map z
to ws (with the truncation trick), then synthesise at a resolution and fade-in alpha with
some kind of noise, in batches, on a device. :class:`RenderOptions` holds those settings, so
a figure function names only what is its own (seeds, layers, strengths) and a caller that
changes a setting changes it for everything it renders.

The rules that turn a checkpoint into settings live here too
(:meth:`RenderOptions.from_checkpoint`): render at the resolution training reached, with
its alpha only at that resolution, and pick CUDA for ``device="auto"`` when there is one.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import torch
from torch import Tensor

from stylegan_lit.models import Generator
from stylegan_lit.nn import NOISE_MODES, NoiseMode

if TYPE_CHECKING:
    from stylegan_lit.checkpoints import LoadedGenerator

MAPPING_BATCH = 64
"""Mapping is cheap per latent, so it runs in batches of at least this many."""


class OptionError(ValueError):
    """A rendering setting that cannot be used; the message starts with the setting's name.

    Starting with the name (``"resolution 32 is above ..."``) lets a command line report it
    as its own flag (``--resolution 32 is above ...``) without rewording.
    """


def _is_resolution(value: object) -> bool:
    return isinstance(value, int) and value >= 4 and not value & (value - 1)


def pick_device(device: str | torch.device) -> torch.device:
    """``"auto"``: CUDA when there is one, else the CPU; any other name as torch reads it.

    Raises:
        OptionError: A name torch does not know, or CUDA asked for where there is none (found
            now, rather than after a checkpoint is loaded and moved).
    """
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        chosen = torch.device(device)
    except RuntimeError as error:
        raise OptionError(f"device {str(device)!r}: {error}") from None
    if chosen.type == "cuda" and not torch.cuda.is_available():
        raise OptionError(f"device {device}: CUDA is not available")
    return chosen


@dataclass(frozen=True)
class RenderOptions:
    """How to render: truncation, noise, resolution, fade-in, batching and device.

    Frozen, so one instance can be shared by several figures; derive a variant with
    :func:`dataclasses.replace` (``replace(options, noise_mode="random")``).

    Attributes:
        truncation_psi: Pull w towards ``w_avg`` (1: none, 0: the mean face; the paper's
            figures use 0.7).
        truncation_cutoff: Only the first this many style layers are truncated (``None``:
            all; the official sampling setting is 8).
        noise_mode: ``"const"`` (the fixed noise images stored with the weights:
            reproducible, the default for figures), ``"random"`` (fresh noise) or ``"none"``.
        resolution: Output size, up to the generator's (``None``: the generator's). Below
            it, an earlier stage of the network renders (a checkpoint still growing).
        alpha: Fade-in weight of the newest block (a mid-fade checkpoint's alpha).
        batch_size: Images per synthesis pass (memory); mapping uses at least
            :data:`MAPPING_BATCH`.
        device: Where to render: ``None`` keeps the generator where it is, ``"auto"`` picks
            CUDA when there is one, or a torch device (name).

    Raises:
        OptionError: On construction, for a noise mode, batch size or resolution that no
            generator could use (whether a resolution fits a given generator is checked when
            rendering, see :meth:`resolution_for`).
    """

    truncation_psi: float = 1.0
    truncation_cutoff: int | None = None
    noise_mode: NoiseMode = "const"
    resolution: int | None = None
    alpha: float = 1.0
    batch_size: int = 16
    device: str | torch.device | None = None

    def __post_init__(self) -> None:
        if self.noise_mode not in NOISE_MODES:
            raise OptionError(f"noise_mode must be one of {NOISE_MODES}, got {self.noise_mode!r}")
        if self.batch_size < 1:
            raise OptionError(f"batch_size must be at least 1, got {self.batch_size}")
        if self.resolution is not None and not _is_resolution(self.resolution):
            raise OptionError(f"resolution must be a power of two >= 4, got {self.resolution!r}")

    @classmethod
    def from_checkpoint(
        cls, loaded: LoadedGenerator, settings: RenderOptions | None = None
    ) -> RenderOptions:
        """``settings`` (default: the defaults) made concrete for a loaded checkpoint.

        - resolution: ``None`` becomes the resolution training reached; a larger one is
          refused (those layers are untrained, whatever the network could render);
        - alpha: the checkpoint's fade-in alpha at that resolution, 1 below it (lower
          stages are fully faded in); ``settings.alpha`` is not used;
        - device: ``"auto"`` or a name becomes a checked :class:`torch.device`; ``None``
          stays (the generator stays on the CPU it was loaded to).

        Raises:
            OptionError: A resolution above the checkpoint's, or an unusable device.
        """
        settings = settings or cls()
        resolution = loaded.resolution if settings.resolution is None else settings.resolution
        if resolution > loaded.resolution:
            raise OptionError(
                f"resolution {resolution} is above the {loaded.resolution} px this checkpoint "
                "was trained to"
            )
        device = settings.device
        return replace(
            settings,
            resolution=resolution,
            alpha=loaded.alpha if resolution == loaded.resolution else 1.0,
            device=None if device is None else pick_device(device),
        )

    def device_for(self, G: Generator) -> torch.device:
        """The device to render ``G`` on (``None``: where its parameters are)."""
        if self.device is None:
            return next(G.parameters()).device
        return pick_device(self.device)

    def resolution_for(self, G: Generator) -> int:
        """The output resolution for ``G``, checked against what it can render."""
        resolution = G.resolution if self.resolution is None else self.resolution
        if resolution > G.resolution:
            raise OptionError(
                f"resolution must be a power of two from 4 to the generator's {G.resolution}, "
                f"got {resolution!r}"
            )
        return resolution

    def map(self, G: Generator, z: Tensor) -> Tensor:
        """One batch z [N, z_dim] -> ws [N, num_ws, w_dim], truncated, where z is."""
        return G.mapping(
            z, truncation_psi=self.truncation_psi, truncation_cutoff=self.truncation_cutoff
        )

    def synthesis(self, G: Generator, ws: Tensor) -> Tensor:
        """One batch ws [N, num_ws, w_dim] -> images [N, C, R, R], where ws are."""
        return G.synthesis(
            ws, resolution=self.resolution_for(G), alpha=self.alpha, noise_mode=self.noise_mode
        )


__all__ = ["MAPPING_BATCH", "OptionError", "RenderOptions", "pick_device"]
