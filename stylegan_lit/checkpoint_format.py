"""What a stylegan_lit checkpoint holds beside Lightning's own keys, and its validation.

One place for the format, used by the LightningModule when it saves and resumes and by
:mod:`stylegan_lit.checkpoints` when a checkpoint is read for sampling or evaluation; no
Lightning import, so readers of checkpoints need none.

``checkpoint["stylegan_lit"]`` (:data:`META_KEY`) is a plain dict:

- ``format``: :data:`FORMAT_VERSION`;
- ``generator_config`` and ``discriminator_config``: the networks' constructor arguments
  (their ``config``), enough to rebuild them and to tell whether a checkpoint fits a config;
- ``images_seen``: images shown to D, all ranks together: the one progress count. The
  resolution, fade-in alpha, batch size and learning rate follow from it through the
  schedule;
- ``schedule``: the progressive schedule's constructor arguments (``None`` when the run had
  none, i.e. trained at full resolution);
- ``d_steps``: D steps taken (the lazy regulariser's phase);
- ``nonfinite_skips``: steps skipped for non-finite gradients (a statistic).

Format 1 (before the single counter) kept images seen, resolution and alpha as tensors in the
``state_dict``; :func:`read_meta` upgrades such a checkpoint in memory, keeping the resolution
and alpha it stored as ``reached`` since it has no schedule to derive them from.
"""

from __future__ import annotations

from typing import Any

from torch import nn

META_KEY = "stylegan_lit"
FORMAT_VERSION = 2
_FORMAT_1_COUNTERS = ("images_seen", "resolution", "alpha", "nonfinite_skips")


class CheckpointError(ValueError):
    """A file that is not a readable stylegan_lit checkpoint, or does not fit."""


def network_config(network: nn.Module) -> dict[str, Any]:
    """The constructor arguments of G or D (their ``config`` attribute)."""
    return dict(getattr(network, "config", {}))


def write_meta(
    checkpoint: dict[str, Any],
    generator: nn.Module,
    discriminator: nn.Module,
    *,
    images_seen: int = 0,
    schedule: dict[str, Any] | None = None,
    d_steps: int = 0,
    nonfinite_skips: int = 0,
) -> None:
    """Add the stylegan_lit entry to a checkpoint being saved."""
    checkpoint[META_KEY] = {
        "format": FORMAT_VERSION,
        "generator_config": network_config(generator),
        "discriminator_config": network_config(discriminator),
        "images_seen": int(images_seen),
        "schedule": None if schedule is None else dict(schedule),
        "d_steps": int(d_steps),
        "nonfinite_skips": int(nonfinite_skips),
    }


def read_meta(checkpoint: Any, source: str = "checkpoint") -> dict[str, Any]:
    """The stylegan_lit entry of a loaded checkpoint.

    Raises:
        CheckpointError: ``source`` (a path, for the message) is not ours.
    """
    meta = checkpoint.get(META_KEY) if isinstance(checkpoint, dict) else None
    if not isinstance(meta, dict) or "generator_config" not in meta:
        raise CheckpointError(
            f"{source} is not a stylegan_lit checkpoint (it has no '{META_KEY}' entry); "
            "use a .ckpt written by `stylegan-lit fit`"
        )
    version = int(meta.get("format", 1))
    if version > FORMAT_VERSION:
        raise CheckpointError(
            f"{source} has checkpoint format {meta['format']}, newer than this version's "
            f"{FORMAT_VERSION}: update stylegan_lit"
        )
    if version == 1:
        _upgrade_format_1(checkpoint, meta)
    return meta


def _upgrade_format_1(checkpoint: dict[str, Any], meta: dict[str, Any]) -> None:
    """Move a format-1 checkpoint's counters from its ``state_dict`` into the entry."""
    state = checkpoint.get("state_dict", {})
    counters = {name: state.pop(name, None) for name in _FORMAT_1_COUNTERS}
    meta["format"] = FORMAT_VERSION
    meta["images_seen"] = int(counters["images_seen"] or 0)
    meta["nonfinite_skips"] = int(counters["nonfinite_skips"] or 0)
    meta["schedule"] = None
    if counters["resolution"] is not None:
        meta["reached"] = {
            "resolution": int(counters["resolution"]),
            "alpha": float(counters["alpha"] if counters["alpha"] is not None else 1.0),
        }


def check_networks_match(
    meta: dict[str, Any], generator: nn.Module, discriminator: nn.Module
) -> None:
    """Refuse a checkpoint whose networks were built with other arguments.

    Raises:
        CheckpointError: naming each differing field as ``(checkpoint, config)``.
    """
    for key, network in (("generator_config", generator), ("discriminator_config", discriminator)):
        ours, theirs = network_config(network), meta.get(key, {})
        if ours != theirs:
            diff = {
                k: (theirs.get(k), ours.get(k))
                for k in sorted(set(ours) | set(theirs))
                if ours.get(k) != theirs.get(k)
            }
            raise CheckpointError(
                f"checkpoint {key.split('_')[0]} does not match this config "
                f"(field: (checkpoint, config)) {diff}"
            )


__all__ = [
    "FORMAT_VERSION",
    "META_KEY",
    "CheckpointError",
    "check_networks_match",
    "network_config",
    "read_meta",
    "write_meta",
]
