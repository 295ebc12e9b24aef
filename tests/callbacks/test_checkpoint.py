"""KimgCheckpoint: last.ckpt on the image clock and at the end, under the run's root dir."""

import pytest
import torch

from stylegan_lit.callbacks import KimgCheckpoint
from tests.training.helpers import tiny_data, tiny_growth, tiny_module, tiny_trainer


def fit(root, callback, total_kimg=0.128):
    trainer = tiny_trainer(root, [tiny_growth(total_kimg=total_kimg), callback],
                           enable_checkpointing=True)  # fmt: skip
    module = tiny_module()
    trainer.fit(module, datamodule=tiny_data())
    return trainer, module


def images_seen(path):
    checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    return int(checkpoint["state_dict"]["images_seen"])


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
    assert images_seen(folder / "last.ckpt") == int(module.images_seen) == 128
    assert callback.next_at == 144


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


def test_the_schedule_resumes_and_bad_intervals_are_refused():
    callback = KimgCheckpoint(every_kimg=1)
    state = callback.state_dict()
    assert state["next_at"] == 1000
    again = KimgCheckpoint(every_kimg=1)
    again.load_state_dict({**state, "next_at": 3000})
    assert again.next_at == 3000
    with pytest.raises(ValueError, match="every_kimg"):
        KimgCheckpoint(every_kimg=-1)
