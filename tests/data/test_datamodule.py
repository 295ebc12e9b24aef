"""FaceDataModule: every source kind, metrics images, and exact resume through Lightning."""

from __future__ import annotations

import inspect
import zipfile
from pathlib import Path

import lightning.pytorch as pl
import numpy as np
import pytest
import torch
from lightning.pytorch.callbacks import ModelCheckpoint

from stylegan_lit.data.cache.prepare import prepare_cache
from stylegan_lit.data.cache.store import CachedImages
from stylegan_lit.data.datamodule import FaceDataModule
from stylegan_lit.data.errors import DatasetError
from stylegan_lit.data.files.raw import RawImages


def first_batch(dm: FaceDataModule, resolution: int, batch_size: int = 4) -> torch.Tensor:
    dm.set_stream(resolution, batch_size, 0, batch_size)
    return next(iter(dm.train_dataloader()))


def test_constructor_is_fully_typed_for_the_cli() -> None:
    for name, parameter in inspect.signature(FaceDataModule.__init__).parameters.items():
        if name != "self":
            assert parameter.annotation is not inspect.Parameter.empty, name
    dm = FaceDataModule()
    assert dm.max_resolution == 32 and dm.img_channels == 3 and dm.hparams["source"] == "synthetic"


def test_synthetic_in_memory_and_on_disk(tmp_path: Path) -> None:
    memory = FaceDataModule(num_images=30, resolution=16, seed=2)
    disk = FaceDataModule(num_images=30, resolution=16, seed=2, cache_dir=str(tmp_path))
    disk.prepare_data()
    path = disk.cache_path()
    assert path is not None and (path / "manifest.json").is_file()
    assert torch.equal(first_batch(memory, 8), first_batch(disk, 8))
    assert isinstance(disk.images, CachedImages) and memory.dataset_size == 30


def test_folder_zip_and_prepared_cache_serve_the_same_batches(
    tmp_path: Path, image_folder: Path
) -> None:
    archive = tmp_path / "faces.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(image_folder.rglob("*.*")):
            zf.write(path, path.relative_to(image_folder).as_posix())
    prepare_cache(image_folder, tmp_path / "prepared", progress=False)
    sources = {
        "raw folder": FaceDataModule(str(image_folder), resolution=32),
        "raw zip": FaceDataModule(str(archive), resolution=32),
        "folder via cache_dir": FaceDataModule(
            str(image_folder), resolution=32, cache_dir=str(tmp_path / "c")
        ),
        "prepared": FaceDataModule(str(tmp_path / "prepared"), resolution=32),
    }
    served = {name: first_batch(dm, 16, 6) for name, dm in sources.items()}
    assert isinstance(sources["raw folder"].images, RawImages)
    assert isinstance(sources["prepared"].images, CachedImages)
    reference = served.pop("prepared")
    for name, batch in served.items():
        assert torch.equal(batch, reference), name


def test_cache_that_cannot_serve_the_request(tmp_path: Path, image_folder: Path) -> None:
    prepare_cache(image_folder, tmp_path / "prepared", resolution=16, progress=False)
    with pytest.raises(DatasetError, match=r"prepared up to 16 px.*resolution 32 is not available"):
        FaceDataModule(str(tmp_path / "prepared"), resolution=32).setup()
    with pytest.raises(DatasetError, match=r"prepared with 3 channels, img_channels=1"):
        FaceDataModule(str(tmp_path / "prepared"), resolution=16, img_channels=1).setup()


def test_grayscale_module() -> None:
    dm = FaceDataModule(num_images=8, resolution=8, img_channels=1)
    assert first_batch(dm, 8).shape == (4, 1, 8, 8)


def test_real_images_for_metrics() -> None:
    dm = FaceDataModule(num_images=20, resolution=16, seed=1)
    real = dm.real_images(8, 20, seed=3)
    assert real.dtype == torch.uint8 and real.shape == (20, 3, 8, 8)
    assert torch.equal(real, dm.real_images(8, 20, seed=3))
    as_rows = {tuple(image.flatten().tolist()) for image in real}
    assert len(as_rows) == 20  # a permutation: every image once
    assert not torch.equal(real, dm.real_images(8, 20, seed=4))
    streamed = torch.cat(list(dm.iter_real_images(8, 20, seed=3, batch_size=7)))
    assert torch.equal(streamed, real)
    assert dm.real_images(4, 45).shape == (45, 3, 4, 4)  # more than N: repeats in new orders


class _Recorder(pl.LightningModule):
    """Remembers a fingerprint of every batch it trains on."""

    def __init__(self) -> None:
        super().__init__()
        self.weight = torch.nn.Parameter(torch.zeros(1))
        self.seen: list[float] = []

    def training_step(self, batch: torch.Tensor, batch_idx: int) -> torch.Tensor:
        weights = torch.arange(batch.numel(), dtype=torch.float64).reshape(batch.shape)
        self.seen.append(float((batch.double() * weights).sum()))
        return (self.weight * batch.mean()).sum()

    def configure_optimizers(self) -> torch.optim.Optimizer:
        return torch.optim.SGD(self.parameters(), lr=0.0)


class _ImageCount(pl.Callback):
    """Plays StyleGANModule and the fade-in callback: an image count saved in checkpoints,
    and the stream resumed at it."""

    def __init__(self) -> None:
        self.images_seen = 0

    def on_fit_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        trainer.datamodule.set_stream(8, 4, 0, 40, resume_image=self.images_seen)

    def on_train_batch_end(
        self,
        trainer: pl.Trainer,
        pl_module: pl.LightningModule,
        outputs: object,
        batch: torch.Tensor,
        batch_idx: int,
    ) -> None:
        self.images_seen += len(batch)

    def state_dict(self) -> dict[str, int]:
        return {"images_seen": self.images_seen}

    def load_state_dict(self, state_dict: dict[str, int]) -> None:
        self.images_seen = state_dict["images_seen"]


def _fit(tmp_path: Path, max_steps: int, ckpt_path: str | None = None) -> _Recorder:
    dm = FaceDataModule(num_images=50, resolution=8, seed=9)  # 10 batches of 4 in one epoch
    model = _Recorder()
    trainer = pl.Trainer(
        max_steps=max_steps,
        accelerator="cpu",
        logger=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        use_distributed_sampler=False,
        callbacks=[
            _ImageCount(),
            ModelCheckpoint(dirpath=tmp_path, every_n_train_steps=3, save_top_k=-1),
        ],
        default_root_dir=tmp_path,
    )
    trainer.fit(model, datamodule=dm, ckpt_path=ckpt_path)
    return model


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_lightning_resumes_mid_stream_exactly(tmp_path: Path) -> None:
    full = _fit(tmp_path / "full", max_steps=7)
    assert len(full.seen) == 7
    checkpoint = tmp_path / "full" / "epoch=0-step=3.ckpt"
    # Lightning goes on counting from batch 3 and the stream starts there from the image
    # count alone (the loader saves nothing).
    resumed = _fit(tmp_path / "resumed", max_steps=7, ckpt_path=str(checkpoint))
    assert resumed.seen == full.seen[3:]
    assert np.isfinite(resumed.seen).all()


class _NextLevel(pl.Callback):
    """Plays the fade-in callback: each epoch is a level, set before the loader is rebuilt."""

    levels = ((4, 8), (8, 4), (16, 2))

    def on_train_epoch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        epoch = trainer.current_epoch + 1
        if epoch < len(self.levels):
            resolution, batch = self.levels[epoch]
            trainer.datamodule.set_stream(resolution, batch, 16 * epoch, 16 * (epoch + 1))


class _Shapes(_Recorder):
    def training_step(self, batch: torch.Tensor, batch_idx: int) -> torch.Tensor:
        self.seen.append(tuple(batch.shape))  # type: ignore[arg-type]
        return (self.weight * batch.mean()).sum()


@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize("num_workers", [0, 1])
def test_levels_as_epochs_with_reloaded_loaders(tmp_path: Path, num_workers: int) -> None:
    dm = FaceDataModule(num_images=20, resolution=16, num_workers=num_workers)
    dm.set_stream(4, 8, 0, 16)
    model = _Shapes()
    trainer = pl.Trainer(
        max_epochs=3,
        accelerator="cpu",
        logger=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        enable_checkpointing=False,
        use_distributed_sampler=False,
        reload_dataloaders_every_n_epochs=1,
        callbacks=[_NextLevel()],
        default_root_dir=tmp_path,
    )
    trainer.fit(model, datamodule=dm)
    assert model.seen == [(8, 3, 4, 4)] * 2 + [(4, 3, 8, 8)] * 4 + [(2, 3, 16, 16)] * 8
