"""Pure helpers of ``benchmarks/quality.py`` (the benchmark itself trains; never run here)."""

import importlib.util
import math
from pathlib import Path

import pytest
import torch

PATH = Path(__file__).resolve().parents[1] / "benchmarks" / "quality.py"
spec = importlib.util.spec_from_file_location("quality_benchmark", PATH)
quality = importlib.util.module_from_spec(spec)
spec.loader.exec_module(quality)


def test_swd_ratio():
    assert quality.swd_ratio(14.0, 7.0) == 2.0
    assert math.isinf(quality.swd_ratio(1.0, 0.0))


def test_attribute_gaps_and_largest():
    gaps = quality.attribute_gaps({"hat": 0.2, "beard": 0.5, "x": 1.0}, {"hat": 0.1, "beard": 0.6})
    assert gaps == pytest.approx({"hat": 0.1, "beard": 0.1})
    assert quality.largest_gap({"hat": 0.1, "beard": 0.3}) == ("beard", 0.3)
    assert quality.largest_gap({}) == (None, 0.0)


def test_swd_of_identical_sets_is_zero():
    images = torch.randint(0, 256, (8, 3, 16, 16), dtype=torch.uint8)
    assert quality.swd_of(images, images.clone())["swd_avg"] == 0.0
