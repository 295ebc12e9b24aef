"""2-process CPU DDP (gloo): replicas stay identical through a level change; resume in 1 process."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

SCRIPT = Path(__file__).with_name("ddp_fit.py")


def run(*args: str) -> None:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    result = subprocess.run(
        [sys.executable, str(SCRIPT), *args], capture_output=True, text=True, timeout=300, env=env
    )
    assert result.returncode == 0, result.stderr[-4000:]


@pytest.mark.slow
@pytest.mark.parametrize("strategy", ["gan", "find_unused"])
def test_two_process_ddp_replicas_stay_identical(tmp_path, strategy):
    # 0.096 kimg at a global batch of 8 = 12 steps of 4 images per rank, through 8 -> 16 px.
    run(str(tmp_path), "--devices", "2", "--strategy", strategy)
    rank0 = torch.load(tmp_path / "rank0.pt", weights_only=True)
    rank1 = torch.load(tmp_path / "rank1.pt", weights_only=True)
    assert rank0["progress"] == rank1["progress"]
    assert rank0["progress"]["images_seen"] == 96  # global images, not one rank's
    assert rank0["progress"]["resolution"] == 16
    weights0, weights1 = rank0["weights"], rank1["weights"]
    assert weights0.keys() == weights1.keys()
    for key in weights0:
        assert key.split(".")[0] in ("generator", "discriminator", "generator_ema")
        torch.testing.assert_close(weights1[key], weights0[key], rtol=0, atol=0, msg=key)


@pytest.mark.slow
def test_a_two_process_checkpoint_resumes_in_one(tmp_path):
    # Taken mid-fade; the checkpoint's contents do not depend on the DDP strategy, so one
    # strategy writes it (the suite's time limit).
    mid = tmp_path / "mid"
    run(str(mid), "--devices", "2", "--max-batches", "5", "--strategy", "gan")
    resumed = tmp_path / "resumed"
    run(str(resumed), "--devices", "1", "--resume", str(mid / "last.ckpt"))
    state = torch.load(resumed / "rank0.pt", weights_only=True)
    assert state["progress"] == {"images_seen": 96, "resolution": 16, "alpha": 1.0}
