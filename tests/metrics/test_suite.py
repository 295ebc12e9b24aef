"""MetricSuite: sharding, per-index latents, and the cases where nothing is measured."""

import pytest
import torch

from stylegan_lit.metrics.real_images import TensorImages
from stylegan_lit.metrics.suite import MetricSuite, SingleProcess, latents, shard_batches
from tests.metrics.helpers import smooth_images


@pytest.mark.parametrize("world_size", [1, 2, 3, 5])
def test_shards_cover_the_one_process_batches_exactly(world_size):
    single = shard_batches(23, 4, 0, 1)
    assert single[-1] == (20, 23)
    shards = [shard_batches(23, 4, rank, world_size) for rank in range(world_size)]
    assert [b for shard in shards for b in shard] == single


def test_latents_depend_only_on_the_image_index():
    whole = latents(0, 6, 8, seed=1)
    torch.testing.assert_close(torch.cat([latents(0, 2, 8, 1), latents(2, 4, 8, 1)]), whole)
    assert not torch.equal(latents(0, 6, 8, seed=2), whole)


def test_swd_alone_below_7_px_measures_nothing():
    suite = MetricSuite(["swd"], num_fake=4, batch_size=2)
    suite.prepare_reals(TensorImages(torch.rand(4, 3, 4, 4) * 2 - 1), 4)

    def sample(z, noise_mode="random"):
        raise AssertionError("nothing to measure: G must not run")

    assert suite.evaluate(sample, 8, 4) == {}


def test_evaluate_needs_prepared_reals_of_that_resolution():
    suite = MetricSuite(["swd"], num_fake=4, batch_size=2)
    with pytest.raises(RuntimeError, match="prepare_reals for 16 px"):
        suite.evaluate(lambda z, noise_mode: z, 8, 16)


def test_every_rank_needs_a_batch():
    class EightRanks(SingleProcess):
        world_size = 8

    suite = MetricSuite(["swd"], num_fake=8, batch_size=4)
    with pytest.raises(ValueError, match="lower batch_size"):
        suite.prepare_reals(TensorImages(smooth_images(8, 16)), 16, collective=EightRanks())


def test_fake_images_are_reproducible_with_random_noise():
    images = []

    def sample(z, noise_mode="random"):
        image = smooth_images(len(z), 16) + 0.1 * torch.randn(len(z), 3, 16, 16)
        images.append(image)
        return image.clamp(-1, 1)

    suite = MetricSuite(["swd"], num_fake=4, batch_size=2)
    suite.prepare_reals(TensorImages(smooth_images(4, 16, seed=1)), 16)
    first = suite.evaluate(sample, 8, 16)
    assert suite.evaluate(sample, 8, 16) == first  # noise seeded per batch
    torch.testing.assert_close(images[0], images[2])
