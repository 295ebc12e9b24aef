"""Reading stylegan_lit checkpoints safely, to sample, evaluate or edit outside training.

Checkpoints are Lightning ``.ckpt`` files; they are always opened with
``torch.load(weights_only=True)``, so a file cannot run code when read. The networks are
rebuilt from the constructor arguments that :class:`~stylegan_lit.training.StyleGANModule`
stores in the checkpoint (:mod:`stylegan_lit.checkpoint_format`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from stylegan_lit.checkpoint_format import CheckpointError, read_meta
from stylegan_lit.models import Discriminator, Generator


@dataclass
class LoadedGenerator:
    """The EMA generator of a checkpoint and where training stood.

    Attributes:
        generator: G_ema, in eval mode, without gradients.
        resolution: Resolution training had reached (sample at this one).
        alpha: Fade-in alpha at that point.
        kimg: Thousands of images shown to D.
    """

    generator: Generator
    resolution: int
    alpha: float
    kimg: float


def read_checkpoint(path: str | Path) -> dict[str, Any]:
    """Load a stylegan_lit checkpoint (tensors and plain data only) on the CPU.

    Raises:
        FileNotFoundError: The file does not exist.
        CheckpointError: It is not a torch file, holds code objects, or is not ours.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint {path} does not exist")
    try:
        checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # truncated file, not a torch file, pickled objects...
        raise CheckpointError(f"{path} could not be read as a checkpoint: {error}") from error
    read_meta(checkpoint, str(path))
    return checkpoint


def _state_of(checkpoint: dict[str, Any], prefix: str) -> dict[str, torch.Tensor]:
    state = checkpoint.get("state_dict", {})
    return {k.removeprefix(prefix): v for k, v in state.items() if k.startswith(prefix)}


def load_network_state(
    network: torch.nn.Module, checkpoint: dict[str, Any], prefix: str, source: str | Path
) -> None:
    """Fill ``network`` with the checkpoint's weights under ``prefix`` (``"generator."``,
    ``"generator_ema."``, ``"discriminator."``), all of them and nothing else.

    Raises:
        CheckpointError: naming ``source`` and the network, when there are none or they do
            not fit.
    """
    what = prefix.rstrip(".")
    state = _state_of(checkpoint, prefix)
    if not state:
        raise CheckpointError(f"{source} holds no {what} weights")
    try:
        network.load_state_dict(state, strict=True)
    except RuntimeError as error:
        raise CheckpointError(
            f"{source}: {what} weights do not fit its config: {str(error).splitlines()[0]}"
        ) from error


def _build(
    cls: type, config: dict[str, Any], checkpoint: dict[str, Any], prefix: str, path: Path
) -> Any:
    try:
        network = cls(**config)
    except TypeError as error:
        raise CheckpointError(
            f"{path}: {prefix.rstrip('.')} config {config} does not fit this version: {error}"
        ) from error
    load_network_state(network, checkpoint, prefix, path)
    return network.eval().requires_grad_(False)


def load_generator(path: str | Path, *, ema: bool = True) -> LoadedGenerator:
    """Rebuild G_ema (or the raw G with ``ema=False``) from a checkpoint."""
    path = Path(path)
    checkpoint = read_checkpoint(path)
    prefix = "generator_ema." if ema else "generator."
    generator = _build(
        Generator, dict(read_meta(checkpoint)["generator_config"]), checkpoint, prefix, path
    )
    meta = read_meta(checkpoint)
    resolution, alpha = _reached(meta, generator.resolution)
    return LoadedGenerator(
        generator=generator,
        resolution=resolution,
        alpha=alpha,
        kimg=int(meta.get("images_seen", 0)) / 1000.0,
    )


def _reached(meta: dict[str, Any], full_resolution: int) -> tuple[int, float]:
    """The resolution and alpha where training stood: its schedule at its image count."""
    if meta.get("schedule") is not None:
        # Imported here: the schedule module is light, but its package imports Lightning.
        from stylegan_lit.training.schedule import ProgressiveSchedule

        phase = ProgressiveSchedule(**meta["schedule"]).phase(int(meta["images_seen"]))
        return phase.resolution, phase.alpha
    reached = meta.get("reached")  # a format-1 checkpoint's stored values
    if reached is not None:
        return int(reached["resolution"]), float(reached["alpha"])
    return full_resolution, 1.0


def load_discriminator(path: str | Path) -> Discriminator:
    """Rebuild D from a checkpoint."""
    path = Path(path)
    checkpoint = read_checkpoint(path)
    config = read_meta(checkpoint).get("discriminator_config")
    if not config:
        raise CheckpointError(f"{path} has no discriminator_config")
    return _build(Discriminator, dict(config), checkpoint, "discriminator.", path)


__all__ = [
    "CheckpointError",
    "LoadedGenerator",
    "load_discriminator",
    "load_generator",
    "load_network_state",
    "read_checkpoint",
]
