"""Helpers and command lines of ``benchmarks/quality.py`` and ``ema_sweep.py`` (no training)."""

import importlib.util
import math
import subprocess
import sys
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


@pytest.mark.parametrize("script", ["quality.py", "ema_sweep.py"])
def test_a_missing_checkpoint_to_resume_is_refused_by_name(script, tmp_path):
    """Refused before the config is built or anything trains, naming the file."""
    missing = tmp_path / "final.ckpt"
    done = subprocess.run(
        [sys.executable, str(PATH.parent / script), "--config", "configs/demo.yaml",
         "--resume", str(missing), "--out", str(tmp_path / "out")],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 2
    assert f"--resume {missing} does not exist" in done.stderr
    assert not (tmp_path / "out").exists()
