"""Shared fixtures: CPU only, offline W&B, deterministic seeds."""

from __future__ import annotations

import os
from pathlib import Path

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


@pytest.fixture(autouse=True, scope="session")
def _tests_write_nothing_into_the_checkout():
    """Runs write under their root dir (tmp_path in tests): never into the repository."""
    root = Path(__file__).resolve().parents[1]
    before = {p.name for p in root.iterdir()}
    yield
    added = {p.name for p in root.iterdir()} - before - {".pytest_cache"}
    assert not added, f"tests wrote {sorted(added)} into {root}"
