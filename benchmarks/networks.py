"""The networks the speed benchmarks time: the official channel budget and the demo recipe's.

``demo`` is read from ``configs/demo.yaml`` (its generator's arguments and the module's
training arguments), so the benchmarks time the network the demo trains, whatever the
recipe becomes; ``official`` is the paper's channel budget with the module's defaults.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from stylegan_lit.cli.train import SHARED_ARCHITECTURE

DEMO_CONFIG = Path(__file__).resolve().parents[1] / "configs" / "demo.yaml"
PRESETS = ("demo", "official")


def network_arguments(preset: str, resolution: int) -> tuple[dict[str, Any], dict[str, Any]]:
    """G's and D's constructor arguments for ``preset`` at ``resolution``."""
    if preset == "official":
        g_args: dict[str, Any] = dict(fmap_base=8192, fmap_max=512)
    elif preset == "demo":
        g_args = dict(_demo_model()["generator"]["init_args"])
    else:
        raise ValueError(f"unknown network preset {preset!r}; choose from {PRESETS}")
    g_args["resolution"] = resolution
    d_args = {name: g_args[name] for name in SHARED_ARCHITECTURE if name in g_args}
    return g_args, d_args


def module_arguments(preset: str) -> dict[str, Any]:
    """``StyleGANModule`` arguments of ``preset`` besides the networks (the recipe's R1
    interval, EMA half-life, ...; none for ``official``, whose are the module's defaults)."""
    if preset != "demo":
        return {}
    return {k: v for k, v in _demo_model().items() if k not in ("generator", "discriminator")}


def _demo_model() -> dict[str, Any]:
    return yaml.safe_load(DEMO_CONFIG.read_text())["model"]
