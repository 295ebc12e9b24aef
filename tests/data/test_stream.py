"""The image stream: a pure function of the global image count, sharded and resumable."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
import torch

from stylegan_lit.data.datamodule import FaceDataModule
from stylegan_lit.data.images import MemoryImages
from stylegan_lit.data.stream.sampler import Stream, StreamOrder


def fake_trainer(world_size: int, rank: int) -> SimpleNamespace:
    connector = SimpleNamespace(use_distributed_sampler=False)
    return SimpleNamespace(
        world_size=world_size, global_rank=rank, _accelerator_connector=connector
    )


def module(world_size: int = 1, rank: int = 0, **kwargs: object) -> FaceDataModule:
    options = {"num_images": 37, "resolution": 16, "seed": 5} | kwargs
    dm = FaceDataModule(**options)  # type: ignore[arg-type]
    if world_size > 1:
        dm.trainer = fake_trainer(world_size, rank)  # type: ignore[assignment]
    return dm


def batches(dm: FaceDataModule, *stream: int) -> list[torch.Tensor]:
    dm.set_stream(*stream)
    return list(dm.train_dataloader())


def test_stream_arithmetic() -> None:
    stream = Stream(resolution=8, batch_size=4, start_image=10, stop_image=35, world_size=2, rank=1)
    assert stream.global_batch == 8 and stream.num_batches == 4  # ceil(25 / 8)
    assert stream.positions(0).tolist() == [14, 15, 16, 17]
    assert stream.positions(3).tolist() == [38, 39, 40, 41]  # past stop_image: full batches
    with pytest.raises(ValueError):
        Stream(8, 4, 10, 5)


def test_every_pass_is_a_permutation() -> None:
    order = StreamOrder(37, seed=5)
    passes = [order.indices(np.arange(k * 37, (k + 1) * 37)) for k in range(3)]
    for shown in passes:
        assert sorted(shown.tolist()) == list(range(37))
    assert not np.array_equal(passes[0], passes[1])
    straddling = order.indices(np.arange(30, 80))
    assert np.array_equal(straddling, np.concatenate([passes[0][30:], passes[1], passes[2][:6]]))
    assert np.array_equal(StreamOrder(37, seed=5).indices(np.arange(37)), passes[0])
    assert not np.array_equal(StreamOrder(37, seed=6).indices(np.arange(37)), passes[0])


def test_flips_are_a_pure_function_of_the_position() -> None:
    order = StreamOrder(37, seed=5)
    flips = order.flips(np.arange(4000))
    assert 0.45 < flips.mean() < 0.55
    assert np.array_equal(order.flips(np.arange(1000, 1100)), flips[1000:1100])
    assert not StreamOrder(37, seed=5, mirror=False).flips(np.arange(100)).any()


def test_batches_show_the_mapped_images_flipped_as_said() -> None:
    dm = module()
    served = batches(dm, 8, 6, 0, 24)
    assert len(served) == 4 and served[0].shape == (6, 3, 8, 8) and served[0].dtype == torch.float32
    order = StreamOrder(37, seed=5)
    images = dm.images
    assert isinstance(images, MemoryImages)
    positions = np.arange(24)
    expected = images.read(order.indices(positions), 8).astype(np.float32) / 127.5 - 1
    flips = order.flips(positions)
    assert flips.any() and not flips.all()
    expected[flips] = expected[flips][..., ::-1]
    assert torch.allclose(torch.cat(served), torch.from_numpy(expected), atol=1e-6)
    assert torch.cat(served).min() >= -1 and torch.cat(served).max() <= 1


def test_two_ranks_together_serve_the_single_rank_stream() -> None:
    single = batches(module(), 16, 8, 5, 70)  # global batch 8
    ranks = [batches(module(2, r), 16, 4, 5, 70) for r in range(2)]  # 4 per rank
    assert len(single) == len(ranks[0]) == len(ranks[1]) == 9  # ceil(65 / 8)
    for j, whole in enumerate(single):
        assert torch.equal(torch.cat([ranks[0][j], ranks[1][j]]), whole)


def test_resolution_switching_reuses_the_loader() -> None:
    dm = module()
    dm.set_stream(4, 8, 0, 16)
    first = dm.train_dataloader()
    assert [b.shape[-1] for b in first] == [4, 4]
    dm.set_stream(16, 3, 16, 25)
    second = dm.train_dataloader()
    assert second is first and len(second) == 3
    assert [tuple(b.shape) for b in second] == [(3, 3, 16, 16)] * 3
    with pytest.raises(ValueError, match="power of two in"):
        dm.set_stream(32, 3, 0, 10)


def test_resume_skips_without_loading() -> None:
    uninterrupted = batches(module(), 8, 4, 3, 43)  # 10 batches
    resumed = module()
    resumed.set_stream(8, 4, 3, 43, resume_image=19)  # 4 batches of 4 were shown
    loader = resumed.train_dataloader()
    reads = []
    original_read = resumed.images.read  # type: ignore[union-attr]
    resumed.images.read = lambda i, r: reads.append(len(i)) or original_read(i, r)  # type: ignore[union-attr,method-assign]
    assert len(loader) == 10
    rest = list(loader)
    assert len(rest) == 6 and len(reads) == 6  # the skipped batches were never read
    assert all(torch.equal(a, b) for a, b in zip(rest, uninterrupted[4:], strict=True))
    assert len(list(loader)) == 10  # the next pass starts from the beginning
    assert loader.state_dict() == {}  # nothing to save: the image count says where it was


def test_resume_on_another_number_of_ranks_uses_the_image_position() -> None:
    # 2 batches = 8 images were shown by one rank; two ranks resume at image 8.
    two_ranks = module(2, 1)
    two_ranks.set_stream(8, 2, 0, 40, resume_image=8)
    loader = two_ranks.train_dataloader()
    rest = list(loader)
    assert len(rest) == 8  # 10 batches of 4 images, the first 2 skipped
    expected = batches(module(), 8, 4, 8, 40)
    assert all(torch.equal(a, b[2:]) for a, b in zip(rest, expected, strict=True))

    misaligned = module()  # e.g. a checkpoint written under another batch size
    misaligned.set_stream(8, 3, 0, 40, resume_image=8)
    with pytest.raises(ValueError, match="not a batch boundary"):
        misaligned.train_dataloader()
    used_up = module()  # resuming where the stream ends serves nothing
    used_up.set_stream(8, 4, 0, 40, resume_image=40)
    assert list(used_up.train_dataloader()) == []


def test_workers_serve_the_same_stream() -> None:
    reference = batches(module(), 8, 4, 0, 20) + batches(module(), 16, 5, 20, 30)
    dm = module(num_workers=2, persistent_workers=True)
    served = batches(dm, 8, 4, 0, 20)
    loader = dm.train_dataloader()
    workers = loader._iterator._workers  # type: ignore[attr-defined]
    served += batches(dm, 16, 5, 20, 30)
    assert all(torch.equal(a, b) for a, b in zip(served, reference, strict=True))
    assert loader._iterator._workers is workers  # type: ignore[attr-defined]  # same processes
    dm.teardown("fit")
    assert not any(worker.is_alive() for worker in workers)


def test_distributed_sampler_must_be_off() -> None:
    dm = module(2, 0)
    dm.trainer._accelerator_connector.use_distributed_sampler = True  # type: ignore[union-attr]
    with pytest.raises(ValueError, match="use_distributed_sampler=False"):
        dm.train_dataloader()
