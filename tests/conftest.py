"""Shared fixtures: CPU only, offline W&B, deterministic seeds."""

from __future__ import annotations

import os

import pytest
import torch

os.environ.setdefault("WANDB_MODE", "offline")
os.environ.setdefault("WANDB_SILENT", "true")


@pytest.fixture(autouse=True)
def _seed() -> None:
    torch.manual_seed(0)


def randomize_parameters(module: torch.nn.Module, scale: float = 0.5) -> torch.nn.Module:
    """Give every parameter a random value, so that invariants are not trivially met at init
    (noise strengths and biases start at zero)."""
    generator = torch.Generator().manual_seed(1234)
    with torch.no_grad():
        for p in module.parameters():
            p.add_(torch.randn(p.shape, generator=generator) * scale)
    return module
