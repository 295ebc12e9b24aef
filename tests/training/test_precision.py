"""The default precision follows the hardware; an explicit trainer.precision wins."""

from pathlib import Path

import pytest

from stylegan_lit.cli.train import build_cli
from stylegan_lit.training.precision import choose_precision, cpu_bf16_flags

ROOT = Path(__file__).resolve().parents[2]
CPU = ["--trainer.accelerator=cpu", "--trainer.devices=1", "--trainer.strategy=auto"]


def cpuinfo(tmp_path: Path, flags: str) -> Path:
    path = tmp_path / "cpuinfo"
    path.write_text(f"processor\t: 0\nflags\t\t: fpu sse2 avx2 {flags}\n\nprocessor\t: 1\n")
    return path


@pytest.mark.parametrize(
    ("flags", "expected"),
    [
        ("avx512f avx512_bf16", "32-true"),  # AMD EPYC (Zen 4): the gain depends on CPU and size
        ("amx_tile amx_bf16 avx512_bf16", "bf16-mixed"),  # Intel Sapphire Rapids and later
        ("avx512f", "32-true"),  # AVX-512 without bf16: emulated, slower than fp32
        ("", "32-true"),
    ],
)
def test_cpu_choice_follows_its_flags(tmp_path, flags, expected):
    choice = choose_precision("cpu", cpuinfo(tmp_path, flags))
    assert choice.precision == expected
    assert all(flag in choice.reason for flag in cpu_bf16_flags(cpuinfo(tmp_path, flags)))


def test_an_unreadable_cpuinfo_means_no_native_bf16(tmp_path):
    assert cpu_bf16_flags(tmp_path / "missing") == []
    assert choose_precision("cpu", tmp_path / "missing").precision == "32-true"


def test_the_cli_fills_in_the_choice_and_keeps_an_explicit_one():
    # The shipped configs pin a precision (the official ones fp32), so the choice is left
    # open here with null, as a config that says nothing about precision does.
    config = str(ROOT / "configs/ffhq-256.yaml")
    chosen = build_cli(["--config", config, *CPU, "--trainer.precision=null"], run=False)
    assert chosen.trainer.precision == choose_precision("cpu").precision
    assert chosen.precision_choice == choose_precision("cpu")
    explicit = build_cli(["--config", config, *CPU, "--trainer.precision=32-true"], run=False)
    assert explicit.trainer.precision == "32-true"
    assert explicit.precision_choice.reason == "set in the config"
