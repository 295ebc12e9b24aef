"""Fixtures for the generation tests: a random-weights generator and a briefly trained one."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from stylegan_lit.checkpoints import LoadedGenerator, load_generator
from stylegan_lit.models import Generator
from tests.conftest import randomize_parameters
from tests.generate.helpers import train_checkpoint


@pytest.fixture(scope="module")
def G() -> Generator:
    """16 px, every parameter (noise strengths, biases) and ``w_avg`` random, so that
    noise and truncation really act: invariants are not met by accident."""
    torch.manual_seed(7)
    generator = Generator(
        z_dim=16, w_dim=16, resolution=16, mapping_layers=2, fmap_base=64, fmap_max=16
    )
    randomize_parameters(generator, scale=0.3)
    with torch.no_grad():
        generator.mapping.w_avg.normal_()
    return generator.eval().requires_grad_(False)


@pytest.fixture(scope="session")
def trained_checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 16 px model trained for 1.5 kimg on the synthetic faces (about 30-60 s on CPU)."""
    return train_checkpoint(tmp_path_factory.mktemp("trained"))


@pytest.fixture(scope="session")
def trained(trained_checkpoint: Path) -> LoadedGenerator:
    return load_generator(trained_checkpoint)
