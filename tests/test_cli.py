import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from stylegan_lit.cli import build_cli, main

ROOT = Path(__file__).resolve().parents[1]
CONFIGS = sorted((ROOT / "configs").glob("*.yaml"))


def print_config(*args: str, capsys) -> dict:
    with pytest.raises(SystemExit) as exit_info:
        main(["fit", *args, "--print_config"])
    assert exit_info.value.code in (0, None)
    return yaml.safe_load(capsys.readouterr().out)


@pytest.mark.parametrize("config", CONFIGS, ids=lambda p: p.stem)
def test_every_shipped_config_parses(config, capsys):
    printed = print_config("--config", str(config), capsys=capsys)
    assert printed["model"]["generator"]["init_args"]["resolution"] in (32, 256, 1024)
    assert printed["trainer"]["reload_dataloaders_every_n_epochs"] == 1
    assert printed["trainer"]["use_distributed_sampler"] is False


@pytest.mark.parametrize("config", CONFIGS, ids=lambda p: p.stem)
def test_data_resolution_and_channels_follow_the_generator(config):
    cpu = ["--trainer.accelerator=cpu", "--trainer.devices=1", "--trainer.strategy=auto"]
    cli = build_cli(["--config", str(config), *cpu], run=False)
    assert cli.datamodule.max_resolution == cli.model.generator.resolution
    assert cli.datamodule.img_channels == cli.model.generator.img_channels
    assert any(type(c).__name__ == "ProgressiveGrowing" for c in cli.trainer.callbacks)


def test_config_round_trip_and_overrides(tmp_path, capsys):
    first = print_config(
        "--config", str(ROOT / "configs/demo.yaml"), "--progressive.total_kimg", "3", capsys=capsys
    )
    assert first["progressive"]["total_kimg"] == 3
    saved = tmp_path / "saved.yaml"
    saved.write_text(yaml.safe_dump(first))
    second = print_config("--config", str(saved), capsys=capsys)
    assert second == first


def test_official_configs_reproduce_paper_setup(capsys):
    cfg = print_config("--config", str(ROOT / "configs/ffhq-1024.yaml"), capsys=capsys)
    assert cfg["progressive"]["stable_kimg"] == 600 and cfg["progressive"]["fade_kimg"] == 600
    assert cfg["model"]["r1_gamma"] == 10.0 and cfg["model"]["loss"] == "logistic"
    celeba = print_config("--config", str(ROOT / "configs/celebahq-1024.yaml"), capsys=capsys)
    assert celeba["model"]["loss"] == "wgan-gp"


@pytest.mark.parametrize(
    ("override", "field"),
    [
        ("--model.generator.init_args.resolution=48", "resolution"),
        ("--progressive.start_resolution=64", "start_resolution"),
        ("--progressive.total_kimg=-1", "total_kimg"),
        ("--progressive.batch_sizes={8: 32, 16: 32}", "batch_sizes"),
        ("--model.style_mixing_prob=1.5", "style_mixing_prob"),
    ],
)
def test_bad_config_fails_before_training_naming_the_field(override, field, tmp_path):
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "stylegan_lit",
            "fit",
            "--config",
            str(ROOT / "configs/demo.yaml"),
            override,
            f"--trainer.default_root_dir={tmp_path}",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert result.returncode != 0
    assert field in result.stderr
    assert not list(tmp_path.rglob("*.ckpt")) and not list(tmp_path.rglob("*.png"))
    assert "invalid configuration" in result.stderr and "Traceback" not in result.stderr
