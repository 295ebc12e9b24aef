"""Fixtures shared by the metric tests: one random-weights Inception for the whole session."""

from __future__ import annotations

from pathlib import Path

import pytest

from stylegan_lit.metrics.fid import InceptionFeatureExtractor
from tests.metrics.helpers import make_random_inception_weights


@pytest.fixture(scope="session")
def inception_weights(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A torch-fidelity InceptionV3 weights file with random values (no download)."""
    return make_random_inception_weights(tmp_path_factory.mktemp("inception") / "random.pth")


@pytest.fixture(scope="session")
def inception(inception_weights: Path) -> InceptionFeatureExtractor:
    return InceptionFeatureExtractor(inception_weights, download=False)


@pytest.fixture(autouse=True)
def _no_torch_home_writes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep the torch hub cache and our statistics cache inside the test's folder."""
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch_home"))
    monkeypatch.setenv("STYLEGAN_LIT_CACHE_DIR", str(tmp_path / "cache"))
