"""MetricsCallback in real (tiny, CPU) training runs: schedule, logging, resume, weights check."""

import csv
import json
from pathlib import Path

import lightning.pytorch as pl
import pytest
from lightning.pytorch.loggers import CSVLogger

from stylegan_lit.callbacks.metrics import MetricsCallback
from stylegan_lit.metrics.fid import InceptionWeightsError
from tests.metrics.helpers import FakeDataModule, smooth_images, tiny_module


def trainer_for(root: Path, callback: MetricsCallback, batches: int, **kwargs) -> pl.Trainer:
    options = dict(
        accelerator="cpu",
        devices=1,
        max_steps=2 * batches,  # manual optimization: a D and a G step per batch
        logger=CSVLogger(root, name="", version=""),
        default_root_dir=str(root),
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
    )
    return pl.Trainer(callbacks=[callback], **{**options, **kwargs})


def logged_rows(root: Path) -> list[dict[str, str]]:
    with open(root / "metrics.csv") as handle:
        return [row for row in csv.DictReader(handle) if row.get("metrics/kimg")]


def test_swd_every_kimg_from_the_data_module_logged_against_kimg(tmp_path):
    data = FakeDataModule(num_images=32, resolution=16, batch_size=8)
    callback = MetricsCallback(every_kimg=0.016, num_fake=8, batch_size=4, metrics=("swd",))
    trainer = trainer_for(tmp_path, callback, batches=4)
    trainer.fit(tiny_module(), datamodule=data)

    # Before the first step, then every 16 images (8 per batch); none extra at the end.
    assert [h["kimg"] for h in callback.history] == [0.0, 0.016, 0.032]
    # The same rows, one JSON line each, under the trainer's root dir.
    lines = (tmp_path / "metrics.jsonl").read_text().splitlines()
    assert [json.loads(line) for line in lines] == callback.history
    assert all(h["swd_avg"] > 0 and "swd_16" in h for h in callback.history)
    assert data.calls == [(16, 8, 0)]  # reals fetched once per resolution
    rows = logged_rows(tmp_path)
    assert [float(r["metrics/kimg"]) for r in rows] == [0.0, 0.016, 0.032]
    assert [float(r["metrics/swd"]) for r in rows] == pytest.approx(
        [h["swd_avg"] for h in callback.history]
    )
    assert float(trainer.callback_metrics["metrics/swd"]) == pytest.approx(
        callback.history[-1]["swd_avg"]
    )
    assert callback.state_dict() == {}  # when it is due follows from the image count


def test_resume_continues_the_schedule(tmp_path):
    data = FakeDataModule(num_images=32, resolution=16, batch_size=8)
    make = lambda: MetricsCallback(every_kimg=0.016, num_fake=8, batch_size=4, at_end=False)  # noqa: E731
    first = make()
    trainer = trainer_for(tmp_path / "a", first, batches=2)
    trainer.fit(tiny_module(), datamodule=data)
    assert [h["kimg"] for h in first.history] == [0.0, 0.016]
    trainer.save_checkpoint(tmp_path / "mid.ckpt")

    second = make()
    trainer = trainer_for(tmp_path / "b", second, batches=4)
    trainer.fit(tiny_module(), datamodule=data, ckpt_path=tmp_path / "mid.ckpt")
    assert [h["kimg"] for h in second.history] == [0.032]  # not again at 0.016 on restart


def test_fid_kid_swd_with_offline_weights_and_cache(tmp_path, inception_weights):
    reals = smooth_images(8, 16, seed=3)
    callback = MetricsCallback(
        every_kimg=1000,
        num_fake=8,
        batch_size=4,
        metrics=("fid", "kid", "swd"),
        feature_extractor_weights_path=str(inception_weights),
        cache_dir=str(tmp_path / "stats"),
        kid_subset_size=4,
        real_images=reals,
        at_end=False,
        download_weights=False,
        inception_features=64,
    )
    trainer = trainer_for(tmp_path, callback, batches=1)
    trainer.fit(tiny_module(), datamodule=FakeDataModule(num_images=8))
    (result,) = callback.history
    assert {"fid", "kid", "kid_std", "swd_avg", "swd_16"} <= set(result)
    assert result["fid"] > 0
    assert len(list((tmp_path / "stats").glob("inception-16px-8-*.pt"))) == 1
    (row,) = logged_rows(tmp_path)
    assert float(row["metrics/fid"]) == pytest.approx(result["fid"])


def test_missing_weights_stop_the_run_before_the_first_step(tmp_path):
    callback = MetricsCallback(
        metrics=("fid", "swd"),
        feature_extractor_weights_path=str(tmp_path / "absent.pth"),
        download_weights=False,
    )
    module = tiny_module()
    trainer = trainer_for(tmp_path, callback, batches=2)
    with pytest.raises(InceptionWeightsError, match=r"absent\.pth does not exist"):
        trainer.fit(module, datamodule=FakeDataModule())
    assert int(module.images_seen) == 0


def test_missing_weights_can_disable_fid_and_keep_swd(tmp_path):
    callback = MetricsCallback(
        every_kimg=1000,
        num_fake=8,
        batch_size=4,
        metrics=("fid", "swd"),
        feature_extractor_weights_path=str(tmp_path / "absent.pth"),
        on_missing_weights="disable",
        at_end=False,
    )
    trainer = trainer_for(tmp_path, callback, batches=1)
    with pytest.warns(UserWarning, match="FID/KID are disabled"):
        trainer.fit(tiny_module(), datamodule=FakeDataModule())
    assert callback.active_metrics == ("swd",)
    assert "fid" not in callback.history[0] and "swd_avg" in callback.history[0]


def test_without_a_real_image_source_setup_fails_clearly(tmp_path):
    from torch.utils.data import DataLoader

    callback = MetricsCallback()
    trainer = trainer_for(tmp_path, callback, batches=1)
    with pytest.raises(ValueError, match="needs real images"):
        trainer.fit(tiny_module(), train_dataloaders=DataLoader(smooth_images(8, 16), batch_size=8))


def test_argument_validation():
    with pytest.raises(ValueError, match="subset"):
        MetricsCallback(metrics=("is",))
    with pytest.raises(ValueError, match="on_missing_weights"):
        MetricsCallback(on_missing_weights="ignore")  # type: ignore[arg-type]
