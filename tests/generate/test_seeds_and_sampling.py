from dataclasses import replace

import pytest
import torch

from stylegan_lit.generate import (
    RenderOptions,
    SeedError,
    map_seeds,
    parse_seeds,
    sample_images,
    synthesize,
    truncation_sweep,
    z_from_seeds,
)
from stylegan_lit.models import broadcast_ws


def test_parse_seeds_keeps_order_and_ranges():
    assert parse_seeds("0-7,12") == [0, 1, 2, 3, 4, 5, 6, 7, 12]
    assert parse_seeds(" 5 , 2-3 ") == [5, 2, 3]
    assert parse_seeds("4294967295") == [2**32 - 1]


@pytest.mark.parametrize(
    ("spec", "problem"),
    [
        ("", "empty"),
        ("1,,2", "empty"),
        ("3-1", "end is before the start"),
        ("a", "bad seed 'a'"),
        ("1-x", "bad seed '1-x'"),
        ("-1", "bad seed"),
        ("4294967296", "not an integer in"),
    ],
)
def test_bad_seeds_are_named(spec, problem):
    with pytest.raises(SeedError, match=problem):
        parse_seeds(spec)


def test_a_seed_is_the_same_latent_in_any_batch():
    torch.testing.assert_close(z_from_seeds([5], 32)[0], z_from_seeds([1, 5, 9], 32)[1])
    assert not torch.equal(z_from_seeds([1], 32), z_from_seeds([2], 32))


def test_count_means_seeds_from_zero(G):
    by_count = sample_images(G, count=3)
    by_seeds = sample_images(G, [0, 1, 2])
    assert by_count.shape == (3, 3, 16, 16) and by_count.dtype == torch.float32
    torch.testing.assert_close(by_count, by_seeds, rtol=0, atol=0)


def test_a_seed_gives_the_same_image_alone_or_in_a_batch(G):
    truncated = RenderOptions(truncation_psi=0.7, truncation_cutoff=2)
    together = sample_images(G, [3, 8, 11], options=truncated)
    alone = sample_images(G, [8], options=replace(truncated, batch_size=1))
    torch.testing.assert_close(alone[0], together[1], rtol=0, atol=1e-5)


def test_random_noise_is_reproducible_and_leaves_the_global_rng_alone(G):
    torch.manual_seed(123)
    expected_next = torch.rand(1)
    torch.manual_seed(123)
    noisy = RenderOptions(noise_mode="random")
    first = sample_images(G, [0, 1], options=noisy, noise_seed=5)
    assert torch.equal(torch.rand(1), expected_next)
    again = sample_images(G, [0, 1], options=noisy, noise_seed=5)
    other = sample_images(G, [0, 1], options=noisy, noise_seed=6)
    torch.testing.assert_close(first, again, rtol=0, atol=0)
    assert (first - other).abs().max() > 1e-3


def test_lower_resolution_and_argument_errors(G):
    assert sample_images(G, [0], options=RenderOptions(resolution=8)).shape == (1, 3, 8, 8)
    with pytest.raises(ValueError, match="either seeds or count"):
        sample_images(G)
    with pytest.raises(ValueError, match="either seeds or count"):
        sample_images(G, [0], count=2)
    with pytest.raises(ValueError, match="power of two from 4 to the generator's 16"):
        sample_images(G, [0], options=RenderOptions(resolution=32))
    with pytest.raises(ValueError, match="noise_mode"):
        sample_images(G, [0], options=RenderOptions(noise_mode="loud"))
    with pytest.raises(SeedError):
        sample_images(G, [-3])


def test_truncation_psi_zero_collapses_every_seed_to_the_mean_image(G):
    images = sample_images(G, count=6, options=RenderOptions(truncation_psi=0.0))
    mean_ws = broadcast_ws(G.mapping.w_avg[None], G.num_ws)
    mean_image = synthesize(G, mean_ws)[0]
    for image in images:
        torch.testing.assert_close(image, mean_image, rtol=0, atol=1e-5)
    untruncated = sample_images(G, count=6)
    assert (untruncated - mean_image).abs().amax(dim=(1, 2, 3)).min() > 1e-2


def test_truncation_sweep_columns(G):
    psis = (1.0, 0.5, 0.0, -1.0)
    sweep = truncation_sweep(G, [0, 1, 2], psis)
    assert sweep.shape == (3, 4, 3, 16, 16)
    torch.testing.assert_close(sweep[:, 0], sample_images(G, [0, 1, 2]), rtol=0, atol=1e-5)
    torch.testing.assert_close(sweep[0, 2], sweep[2, 2], rtol=0, atol=1e-5)  # psi 0
    assert (sweep[0, 3] - sweep[0, 0]).abs().max() > 1e-2  # the anti-face differs


def test_truncation_cutoff_only_touches_early_layers(G):
    ws = map_seeds(G, [0, 1], RenderOptions(truncation_psi=0.0, truncation_cutoff=2))
    raw = map_seeds(G, [0, 1])
    torch.testing.assert_close(ws[:, :2], G.mapping.w_avg.expand(2, 2, -1), rtol=0, atol=0)
    torch.testing.assert_close(ws[:, 2:], raw[:, 2:], rtol=0, atol=0)
