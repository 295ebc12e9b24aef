"""``stylegan-lit import-official`` and fine-tuning from its checkpoint, run as a user runs
them (``python -m stylegan_lit`` in a subprocess, from this checkout)."""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from tests.interop.official_format import dumps, official_pickle_parts, release_tuple
from tests.interop.test_finetune import TINY_OFFICIAL

ROOT = Path(__file__).resolve().parents[2]
FINETUNE = [
    "--config", str(ROOT / "configs" / "finetune.yaml"),
    "--model.init_from=imported.ckpt",
    "--model.generator.init_args.resolution=16",
    "--model.generator.init_args.fmap_base=64",
    "--model.generator.init_args.fmap_max=16",
    "--model.generator.init_args.z_dim=16",
    "--model.generator.init_args.w_dim=16",
    "--model.generator.init_args.mapping_layers=2",
    "--model.r1_interval=4",
    "--progressive.batch_sizes={16: 8}",
    "--data.source=synthetic",
    "--data.num_images=64",
    "--data.num_workers=0",
    "--metrics.metrics=[swd]",
    "--metrics.num_fake=32",
    "--metrics.batch_size=16",
    "--metrics.every_kimg=1",
    "--samples.every_kimg=1",
    "--samples.num_samples=4",
    "--checkpoints.every_kimg=1",
    "--trainer.accelerator=cpu",
    "--trainer.default_root_dir=run",
]  # fmt: skip


def run(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WANDB_")}
    env.update(WANDB_MODE="offline", PYTHONPATH=str(ROOT))
    env.pop("STYLEGAN_LIT_TRACEBACK", None)
    return subprocess.run(
        [sys.executable, "-m", "stylegan_lit", *map(str, args)],
        capture_output=True, text=True, timeout=600, cwd=cwd, env=env, stdin=subprocess.DEVNULL,
    )  # fmt: skip


def one_line_error(result: subprocess.CompletedProcess[str], *words: str) -> None:
    lines = result.stderr.strip().splitlines()
    assert lines and "error:" in lines[-1] and "Traceback" not in result.stderr, result.stderr
    for word in words:
        assert word in lines[-1], lines[-1]


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    cwd = tmp_path_factory.mktemp("import")
    (cwd / "official.pkl").write_bytes(
        dumps(release_tuple(official_pickle_parts(12, **TINY_OFFICIAL)))
    )
    return cwd


def test_import_official_writes_a_checkpoint_that_generate_reads(workdir):
    result = run("import-official", "official.pkl", "imported.ckpt", cwd=workdir)
    assert result.returncode == 0, result.stderr
    assert "G, D, G_ema; 16 px" in result.stdout and "z_dim: 16" in result.stdout
    generated = run("generate", "imported.ckpt", "--seeds", "0-1", "--outdir", "out", cwd=workdir)
    assert generated.returncode == 0, generated.stderr
    assert len(list((workdir / "out").glob("*.png"))) == 2


def test_bad_pickles_exit_one_with_one_line(workdir):
    (workdir / "evil.pkl").write_bytes(pickle.dumps(print))
    result = run("import-official", "evil.pkl", "x.ckpt", cwd=workdir)
    assert result.returncode == 1
    one_line_error(result, "refusing to load global builtins.print")
    assert not (workdir / "x.ckpt").exists()
    missing = run("import-official", "nothing.pkl", "x.ckpt", cwd=workdir)
    assert missing.returncode == 1
    one_line_error(missing, "nothing.pkl")


@pytest.mark.slow
def test_fine_tuning_from_the_import_trains_logs_and_resumes(workdir):
    assert (workdir / "imported.ckpt").is_file(), "runs after the import test"
    first = run("fit", *FINETUNE, "--progressive.total_kimg=0.032", cwd=workdir)
    assert first.returncode == 0, first.stderr[-3000:]
    assert "checkpoint:   run/checkpoints/last.ckpt" in first.stderr
    written = {p.name for p in (workdir / "run").iterdir()}
    assert {"checkpoints", "samples", "metrics.jsonl", "config.yaml"} <= written
    assert "swd" in (workdir / "run/metrics.jsonl").read_text()
    resumed = run(
        "fit", *FINETUNE, "--progressive.total_kimg=0.048",
        "--ckpt_path=run/checkpoints/last.ckpt", cwd=workdir,
    )  # fmt: skip
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    meta = torch.load(workdir / "run/checkpoints/last.ckpt", weights_only=True)["stylegan_lit"]
    assert meta["images_seen"] == 48 and meta["schedule"]["start_resolution"] == 16
    refused = run("fit", *FINETUNE, "--ckpt_path=imported.ckpt", cwd=workdir)
    assert refused.returncode == 2
    one_line_error(refused, "holds imported networks", "--model.init_from imported.ckpt")
