from pathlib import Path

import pytest
import torch
import yaml

from stylegan_lit.cli.train import SHARED_ARCHITECTURE, build_cli, main, with_config_bases

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
    assert printed["model"]["generator"]["init_args"]["resolution"] in (32, 64, 256, 1024)
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
        ("--checkpoints.every_kimg=-1", "every_kimg"),
    ],
)
def test_bad_config_fails_before_training_naming_the_field(override, field, tmp_path, capsys):
    """In-process (the exit status of the console script is tested in test_console_script)."""
    args = ["fit", "--config", str(ROOT / "configs/demo.yaml"), override]
    with pytest.raises(SystemExit) as exit_info:
        main([*args, f"--trainer.default_root_dir={tmp_path}"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert field in err[-1] and "invalid configuration" in err[-1]
    assert not list(tmp_path.rglob("*.ckpt")) and not list(tmp_path.rglob("*.png"))


CPU = ["--trainer.accelerator=cpu", "--trainer.devices=1", "--trainer.strategy=auto"]


def test_the_discriminator_follows_the_generator():
    cli = build_cli(["--config", str(ROOT / "configs/demo.yaml"), *CPU], run=False)
    G, D = cli.model.generator.config, cli.model.discriminator.config
    assert all(D[name] == G[name] for name in SHARED_ARCHITECTURE)
    assert D["fmap_max"] == 64 and D["resolution"] == 32


@pytest.mark.parametrize(
    "setting",
    [
        ["--model.discriminator.init_args.fmap_max=32"],
        ["--config", "CONFLICT"],
    ],
)
def test_a_discriminator_set_apart_from_the_generator_fails_naming_both(setting, tmp_path, capsys):
    conflict = tmp_path / "d.yaml"
    conflict.write_text(
        "model:\n  discriminator:\n    class_path: stylegan_lit.models.Discriminator\n"
        "    init_args: {fmap_max: 32}\n"
    )
    setting = [str(conflict) if word == "CONFLICT" else word for word in setting]
    with pytest.raises(SystemExit) as exit_info:
        build_cli(["--config", str(ROOT / "configs/demo.yaml"), *setting, *CPU], run=False)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert "model.discriminator.init_args.fmap_max = 32" in err
    assert "model.generator.init_args.fmap_max = 64" in err


def test_an_equal_discriminator_setting_is_accepted():
    args = [
        "--config",
        str(ROOT / "configs/demo.yaml"),
        "--model.discriminator.init_args.fmap_max=64",
    ]
    assert build_cli([*args, *CPU], run=False).model.discriminator.config["fmap_max"] == 64


def test_setups_hold_only_what_differs_from_their_base(capsys):
    base = print_config("--config", str(ROOT / "configs/base/official.yaml"), capsys=capsys)
    ffhq256 = print_config("--config", str(ROOT / "configs/ffhq-256.yaml"), capsys=capsys)
    assert ffhq256["trainer"]["devices"] == 8 and ffhq256["progressive"]["stable_kimg"] == 600
    assert ffhq256["model"]["generator"]["init_args"]["resolution"] == 256
    assert ffhq256["trainer"]["default_root_dir"] == "runs/ffhq-256"
    differing = {
        section
        for section in base
        if base[section] != ffhq256[section] and section not in ("config",)
    }
    assert differing == {"trainer", "model", "data"}
    for setup in CONFIGS:
        text = setup.read_text()
        settings = [line for line in text.splitlines() if not line.lstrip().startswith("#")]
        assert len(settings) <= 70, setup  # comments (a recipe's reasons) do not count
        # Paths follow trainer.default_root_dir: nothing else names a run folder.
        assert all(
            "default_root_dir" in line
            for line in text.splitlines()
            if "runs/" in line and not line.lstrip().startswith("#")
        ), setup


def test_config_bases_are_read_first_and_cycles_refused(tmp_path):
    (tmp_path / "a.yaml").write_text("config: b.yaml\n")
    (tmp_path / "b.yaml").write_text("trainer: {}\n")
    assert with_config_bases(["fit", "--config", str(tmp_path / "a.yaml"), "--x=1"]) == [
        "fit", "--config", str((tmp_path / "b.yaml").resolve()), "--config",
        str(tmp_path / "a.yaml"), "--x=1",
    ]  # fmt: skip
    (tmp_path / "b.yaml").write_text("config: a.yaml\n")
    with pytest.raises(ValueError, match="includes itself"):
        with_config_bases(["--config=" + str(tmp_path / "a.yaml")])


def test_resuming_a_format_1_checkpoint_is_refused_in_one_line(tmp_path, capsys):
    # Format 1 (before the single image counter) kept model options that no longer exist.
    old = tmp_path / "old.ckpt"
    torch.save(
        {"stylegan_lit": {"format": 1, "generator_config": {}},
         "hyper_parameters": {"learning_rate": 0.001}},
        old,
    )  # fmt: skip
    args = ["fit", "--config", str(ROOT / "configs/demo.yaml"), f"--ckpt_path={old}"]
    with pytest.raises(SystemExit) as exit_info:
        main([*args, f"--trainer.default_root_dir={tmp_path}"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert "checkpoint format 1" in err[-1] and "generate" in err[-1]
