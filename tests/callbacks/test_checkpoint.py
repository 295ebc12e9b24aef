"""KimgCheckpoint: last.ckpt on the image clock and at the end, under the run's root dir."""

import pytest
import torch

from stylegan_lit.callbacks import KimgCheckpoint
from stylegan_lit.checkpoint_format import read_meta
from tests.training.helpers import tiny_data, tiny_growth, tiny_module, tiny_trainer


def fit(root, callback, total_kimg=0.128):
    trainer = tiny_trainer(root, [tiny_growth(total_kimg=total_kimg), callback],
                           enable_checkpointing=True)  # fmt: skip
    module = tiny_module()
    trainer.fit(module, datamodule=tiny_data())
    return trainer, module


def images_seen(path):
    checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    return read_meta(checkpoint)["images_seen"]


def test_last_is_written_on_the_image_clock_and_holds_the_end(tmp_path):
    callback = KimgCheckpoint(every_kimg=0.048, keep_snapshots=True)
    trainer, module = fit(tmp_path, callback)
    assert trainer.checkpoint_callback is callback
    folder = tmp_path / "checkpoints"  # default: under trainer.default_root_dir
    assert callback.dirpath == str(folder)
    # Batches of 8: the first batch at or past 48, 96 images leaves a snapshot.
    snapshots = sorted(p.name for p in folder.glob("kimg*.ckpt"))
    assert snapshots == ["kimg000000.0.ckpt", "kimg000000.1.ckpt"]
    assert [images_seen(folder / name) for name in snapshots] == [48, 96]
    assert images_seen(folder / "last.ckpt") == module.images_seen == 128


def test_without_snapshots_only_last_and_an_explicit_folder(tmp_path):
    callback = KimgCheckpoint(every_kimg=0.048, dirpath=str(tmp_path / "elsewhere"))
    fit(tmp_path / "root", callback)
    assert sorted(p.name for p in (tmp_path / "elsewhere").iterdir()) == ["last.ckpt"]
    assert not (tmp_path / "root" / "checkpoints").exists()


def test_interval_zero_saves_only_at_the_end(tmp_path):
    callback = KimgCheckpoint(every_kimg=0)
    fit(tmp_path, callback, total_kimg=0.064)
    assert [p.name for p in (tmp_path / "checkpoints").iterdir()] == ["last.ckpt"]
    assert images_seen(tmp_path / "checkpoints" / "last.ckpt") == 64


def test_a_resumed_run_saves_at_the_same_counts(tmp_path):
    # Stopped after 40 images (mid-fade), resumed: the saves still fall at 48 and 96.
    first = KimgCheckpoint(every_kimg=0.048, keep_snapshots=True)
    trainer = tiny_trainer(tmp_path / "a", [tiny_growth(), first], enable_checkpointing=True,
                           max_steps=10)  # fmt: skip
    trainer.fit(tiny_module(), datamodule=tiny_data())
    assert images_seen(tmp_path / "a" / "checkpoints" / "last.ckpt") == 40
    again = KimgCheckpoint(every_kimg=0.048, keep_snapshots=True)
    trainer = tiny_trainer(tmp_path / "b", [tiny_growth(), again], enable_checkpointing=True)
    trainer.fit(tiny_module(), datamodule=tiny_data(),
                ckpt_path=tmp_path / "a" / "checkpoints" / "last.ckpt")  # fmt: skip
    folder = tmp_path / "b" / "checkpoints"
    snapshots = sorted(folder.glob("kimg*.ckpt"))
    assert [images_seen(path) for path in snapshots] == [48, 96]


def test_bad_intervals_are_refused():
    with pytest.raises(ValueError, match="every_kimg"):
        KimgCheckpoint(every_kimg=-1)
