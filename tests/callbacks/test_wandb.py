"""An offline W&B run of a short fit holds the metric history, the grids and the checkpoint.

No account and no network: ``WANDB_MODE=offline``, and W&B's own folders under tmp_path.
"""

import json
from pathlib import Path

import pytest
import torch
from lightning.pytorch.callbacks import ModelCheckpoint
from lightning.pytorch.loggers import WandbLogger

from stylegan_lit.callbacks import CheckpointArtifact, MetricsCallback, SampleGrids, Throughput
from tests.callbacks.wandb_files import read_offline_run
from tests.training.helpers import tiny_data, tiny_growth, tiny_module, tiny_trainer

wandb = pytest.importorskip("wandb")


@pytest.fixture
def offline_wandb(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Offline W&B confined to tmp_path; the run is finished (files flushed) by the test or
    at teardown, so no run leaks into later tests."""
    monkeypatch.setenv("WANDB_MODE", "offline")  # WandbLogger(offline=True) rewrites it
    monkeypatch.setenv("WANDB_SILENT", "true")
    for variable, folder in [
        ("WANDB_DATA_DIR", "wandb-data"),  # artifact staging
        ("WANDB_CACHE_DIR", "wandb-cache"),
        ("WANDB_CONFIG_DIR", "wandb-config"),
    ]:
        monkeypatch.setenv(variable, str(tmp_path / folder))
    yield
    wandb.finish()


def test_offline_run_records_history_images_and_final_checkpoint(tmp_path, offline_wandb):
    save_dir = tmp_path / "run"
    logger = WandbLogger(project="stylegan-lit-test", save_dir=str(save_dir), offline=True)
    saver = ModelCheckpoint(
        dirpath=tmp_path / "ckpt", save_last=True, save_top_k=0, every_n_train_steps=6
    )
    callbacks = [
        tiny_growth(total_kimg=0.064),  # 8 px, fade to 16 px: 8 batches of 8
        SampleGrids(every_kimg=0.032, num_samples=4, directory=str(tmp_path / "samples")),
        MetricsCallback(every_kimg=0.032, num_fake=8, batch_size=8, metrics=["swd"]),
        Throughput(),
        CheckpointArtifact(),
        saver,
    ]
    trainer = tiny_trainer(
        tmp_path, callbacks, logger=logger, log_every_n_steps=2, enable_checkpointing=True
    )
    module = tiny_module()
    trainer.fit(module, datamodule=tiny_data())
    wandb.finish()

    run = read_offline_run(save_dir)
    keys = run.keys()
    # Hyperparameters as the run config; losses, R1, gradient norms, progress, throughput and
    # SWD as history.
    assert run.config["r1_gamma"] == 10.0 and run.config["num_images"] == 64
    for key in ["loss/d", "loss/g", "loss/r1", "grad_norm/g", "progress/kimg",
                "progress/resolution", "progress/alpha", "progress/images_per_s",
                "progress/sec_per_kimg", "metrics/swd", "metrics/kimg"]:  # fmt: skip
        assert key in keys, key
    assert [row["metrics/kimg"] for row in run.rows_with("metrics/swd")] == pytest.approx(
        [0.0, 0.032, 0.064]
    )
    assert all(row["progress/images_per_s"] > 0 for row in run.rows_with("progress/images_per_s"))

    # Every callback's points share the x-axis with the losses (batches, not optimizer steps).
    loss_steps = {row["trainer/global_step"] for row in run.rows_with("loss/d")}
    assert {row["trainer/global_step"] for row in run.rows_with("progress/images_per_s")} <= (
        loss_steps
    )
    swd_steps = [row["trainer/global_step"] for row in run.rows_with("metrics/swd")]
    assert swd_steps == [0, 3, 7]  # before training, then with the losses of batches 4 and 8

    # Images: the fixed-z grids and the style-mixing grid, as media files of the run.
    for key in ["samples/psi1", "samples/psi0.7", "samples/style_mixing"]:
        rows = run.rows_with(f"{key}/filenames")
        assert rows, key
        for row in rows:
            (name,) = row[f"{key}/filenames"]
            assert (run.directory / "files" / name).is_file(), name
    captions = [row["samples/style_mixing/captions"][0] for row in run.history
                if "samples/style_mixing/captions" in row]  # fmt: skip
    assert captions[0].startswith("kimg 0.0, 8 px; rows: 3 x coarse")
    assert "16 px" in captions[-1] and "middle" in captions[-1]
    assert {p.name for p in (tmp_path / "samples").glob("*-mixing.png")} == {
        "kimg000000.0-mixing.png",
        "kimg000000.1-mixing.png",
    }

    # The final checkpoint, recorded as a model artifact for `wandb sync` to upload.
    (artifact,) = run.artifacts
    assert artifact.type == "model" and artifact.name.startswith("model-")
    assert set(artifact.aliases) == {"latest", "final"}
    metadata = json.loads(artifact.metadata)
    assert metadata["global_step"] == 16 and metadata["kimg"] == pytest.approx(0.064)
    assert metadata["resolution"] == 16 and metadata["original_filename"] == "final.ckpt"
    (entry,) = artifact.manifest.contents
    assert entry.path == "model.ckpt"
    # final.ckpt, beside the ModelCheckpoint's files, holds the last step (last.ckpt need not:
    # Lightning refreshes it only on its every_n_train_steps saves).
    final = tmp_path / "ckpt" / "final.ckpt"
    checkpoint = torch.load(final, weights_only=False, map_location="cpu")
    assert checkpoint["global_step"] == trainer.global_step == 16
    assert checkpoint["stylegan_lit"]["images_seen"] == 64
    # mutable (the default): W&B staged a copy, here under WANDB_DATA_DIR.
    staged = Path(entry.local_path)
    assert staged.is_relative_to(tmp_path / "wandb-data")
    assert staged.stat().st_size == final.stat().st_size


def test_without_model_checkpoint_the_artifact_callback_writes_final_ckpt(tmp_path, offline_wandb):
    logger = WandbLogger(save_dir=str(tmp_path / "run"), offline=True)
    callback = CheckpointArtifact(policy="immutable")
    trainer = tiny_trainer(tmp_path, [tiny_growth(total_kimg=0.016), callback], logger=logger)
    trainer.fit(tiny_module(), datamodule=tiny_data())
    wandb.finish()
    assert callback.logged == tmp_path / "checkpoints" / "final.ckpt"
    (artifact,) = read_offline_run(tmp_path / "run").artifacts
    (entry,) = artifact.manifest.contents
    assert Path(entry.local_path) == callback.logged  # immutable: referenced, not copied
    assert not list((tmp_path / "wandb-data").rglob("tmp*"))


def test_artifact_callback_without_wandb_does_nothing(tmp_path):
    callback = CheckpointArtifact()
    trainer = tiny_trainer(tmp_path, [tiny_growth(total_kimg=0.016), callback])
    trainer.fit(tiny_module(), datamodule=tiny_data())
    assert callback.logged is None
    assert not (tmp_path / "checkpoints").exists()


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [({"policy": "copy"}, "policy"), ({"filename": "sub/final.ckpt"}, "filename"),
     ({"filename": ""}, "filename")],
)  # fmt: skip
def test_artifact_callback_rejects_bad_arguments_naming_them(kwargs, field):
    with pytest.raises(ValueError, match=field):
        CheckpointArtifact(**kwargs)
