"""Command line of ``benchmarks/editing.py`` (the benchmark itself needs a trained model)."""

import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "editing.py"


@pytest.mark.parametrize("option", ["--attributes", "--condition-on"])
def test_an_unknown_attribute_is_refused_by_name(option, tmp_path):
    """Refused before any model or classifier is loaded, in one line naming the attribute."""
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--checkpoint", str(tmp_path / "none.ckpt"),
         option, "moustache"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 2
    assert "invalid choice: 'moustache'" in done.stderr and "beard" in done.stderr
