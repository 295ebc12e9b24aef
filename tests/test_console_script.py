"""The installed ``stylegan-lit`` console script, run as a user runs it: in a subprocess, its
exit status and console output asserted (in-process calls of ``main()`` cannot see what the
console script hands to ``sys.exit``)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "configs" / "demo.yaml"
SCRIPT = Path(sys.executable).with_name("stylegan-lit")

# The demo's recipe, cut to a few seconds: 80 images at 8 px, 80 fading to 16 px, metrics
# and grids at start and end; the networks are the demo's but narrower.
TINY_FIT = [
    "--config",
    str(DEMO),
    "--model.generator.init_args.fmap_max=16",
    "--model.generator.init_args.resolution=16",
    "--model.generator.init_args.z_dim=16",
    "--model.generator.init_args.w_dim=16",
    "--model.generator.init_args.mapping_layers=2",
    "--progressive.stable_kimg=0.08",
    "--progressive.fade_kimg=0.08",
    "--progressive.total_kimg=0.16",
    "--progressive.batch_sizes={8: 16, 16: 16}",
    "--data.num_images=64",
    "--data.num_workers=0",
    "--metrics.num_fake=32",
    "--metrics.every_kimg=1",
    "--samples.every_kimg=1",
    "--samples.num_samples=4",
]


def run(*args: str | Path, cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    # A fresh process as a user starts it: no W&B service of this test process to attach to
    # (a shared service finishes writing a run after the run's process exits).
    env = {k: v for k, v in os.environ.items() if not k.startswith("WANDB_")}
    env["WANDB_MODE"] = "offline"
    env.pop("STYLEGAN_LIT_TRACEBACK", None)
    return subprocess.run(
        [str(SCRIPT), *map(str, args)],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
    )


def assert_one_line_error(result: subprocess.CompletedProcess[str], *words: str) -> None:
    lines = result.stderr.strip().splitlines()
    assert lines and "error:" in lines[-1], result.stderr
    assert "Traceback" not in result.stderr
    for word in words:
        assert word in lines[-1], lines[-1]


def test_the_console_script_is_installed():
    assert SCRIPT.is_file(), f"{SCRIPT} missing: install the package (make install)"


@pytest.fixture(scope="module")
def fitted(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, subprocess.CompletedProcess]:
    """A tiny ``stylegan-lit fit`` run in a fresh folder, its root dir given by the user."""
    cwd = tmp_path_factory.mktemp("fit")
    result = run("fit", *TINY_FIT, "--trainer.default_root_dir=first", cwd=cwd)
    return cwd, result


@pytest.mark.slow
def test_a_short_fit_exits_zero_and_says_where_everything_is(fitted):
    cwd, result = fitted
    assert result.returncode == 0, result.stderr[-3000:]
    summary = result.stderr[result.stderr.index("Trained to") :]
    assert "checkpoint:   first/checkpoints/last.ckpt" in summary
    assert "sample grids: first/samples/" in summary
    assert "metrics:      swd" in summary
    assert "W&B run:      first/wandb/offline-run-" in summary
    assert "Next: stylegan-lit generate first/checkpoints/last.ckpt" in summary
    # Everything the run wrote is under its root dir.
    assert {p.name for p in cwd.iterdir()} == {"first"}
    written = {p.relative_to(cwd / "first").parts[0] for p in (cwd / "first").iterdir()}
    assert written == {"checkpoints", "samples", "wandb", "metrics.jsonl", "config.yaml"}
    assert (cwd / "first/checkpoints/last.ckpt").is_file()
    assert list((cwd / "first/samples").glob("kimg*-psi1.png"))


@pytest.mark.slow
def test_the_console_before_the_progress_bar_is_quiet(fitted):
    _, result = fitted
    assert result.returncode == 0, result.stderr[-3000:]
    head = result.stderr[: result.stderr.index("Trained to")]
    for noise in ("Warning", "warn(", "WARNING", "Tip:", "litlogger", "weights_only"):
        assert noise not in head, head
    assert "Progressive schedule" in head


@pytest.mark.slow
def test_two_root_dirs_never_share_files(fitted):
    cwd, first = fitted
    assert first.returncode == 0
    before = {p: p.stat().st_mtime_ns for p in (cwd / "first").rglob("*") if p.is_file()}
    second = run("fit", *TINY_FIT, "--trainer.default_root_dir=second", cwd=cwd)
    assert second.returncode == 0, second.stderr[-3000:]
    after = {p: p.stat().st_mtime_ns for p in (cwd / "first").rglob("*") if p.is_file()}
    assert after == before
    assert (cwd / "second/checkpoints/last.ckpt").is_file()
    assert list((cwd / "second/wandb").glob("offline-run-*"))


@pytest.mark.slow
def test_generate_and_eval_on_the_checkpoint_exit_zero(fitted):
    cwd, result = fitted
    assert result.returncode == 0
    checkpoint = cwd / "first/checkpoints/last.ckpt"
    generated = run("generate", checkpoint, "--seeds", "0-3", "--grid", "--outdir", "out", cwd=cwd)
    assert generated.returncode == 0, generated.stderr
    assert (cwd / "out/grid.png").is_file()
    evaluated = run(
        "eval", checkpoint, "--data", "synthetic", "--data-num-images", "64", "--metrics",
        "swd", "--swd-num-images", "64", "--out", "eval.json", cwd=cwd,
    )  # fmt: skip
    assert evaluated.returncode == 0, evaluated.stderr
    assert (cwd / "eval.json").is_file()


@pytest.mark.parametrize(
    ("option", "named"), [("--model.r1_gamma=-1", "r1_gamma"), ("--model.r1_gama=1", "r1_gama")]
)
def test_a_bad_config_exits_two_with_one_line(tmp_path, option, named):
    result = run("fit", "--config", DEMO, option, cwd=tmp_path)
    assert result.returncode == 2
    assert_one_line_error(result, named)
    assert not list(tmp_path.rglob("*.ckpt"))


def test_a_missing_checkpoint_exits_one_naming_it(tmp_path):
    result = run("fit", *TINY_FIT, "--ckpt_path", tmp_path / "nope.ckpt", cwd=tmp_path)
    assert result.returncode == 1
    assert_one_line_error(result, "nope.ckpt")


def test_a_missing_config_file_exits_two(tmp_path):
    result = run("fit", "--config", tmp_path / "nope.yaml", cwd=tmp_path)
    assert result.returncode == 2
    assert_one_line_error(result, "nope.yaml")


def test_generate_and_eval_on_a_missing_checkpoint_exit_one(tmp_path):
    eval_swd = ("eval", "nope.ckpt", "--data", "synthetic", "--metrics", "swd")
    for command in (("generate", "nope.ckpt"), eval_swd):
        result = run(*command, cwd=tmp_path)
        assert result.returncode == 1, (command, result.stderr)
        assert_one_line_error(result, "nope.ckpt")
