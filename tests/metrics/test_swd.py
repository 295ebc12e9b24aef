"""Sliced Wasserstein distance: pyramid, descriptors, hand-checked distances, behaviour."""

import itertools

import numpy as np
import pytest
import torch

from stylegan_lit.metrics.swd import (
    SlicedWassersteinDistance,
    collapse_pyramid,
    laplacian_pyramid,
    neighbourhood_positions,
    normalize_descriptors,
    pyr_down,
    pyr_up,
    sliced_wasserstein,
    swd_resolutions,
    wasserstein_1d,
)
from tests.metrics.helpers import gaussian_blur, smooth_images

BINOMIAL = np.outer([1, 4, 6, 4, 1], [1, 4, 6, 4, 1]) / 256.0


def mirror_convolve(x: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """Reference 5x5 convolution with scipy's 'mirror' borders (numpy's 'reflect' pad)."""
    padded = np.pad(x, ((0, 0), (0, 0), (2, 2), (2, 2)), mode="reflect")
    out = np.zeros_like(x)
    h, w = x.shape[-2:]
    for dy in range(5):
        for dx in range(5):
            out += kernel[dy, dx] * padded[:, :, dy : dy + h, dx : dx + w]
    return out


def swd(reals, fakes, **kwargs) -> dict[str, float]:
    metric = SlicedWassersteinDistance(**kwargs)
    metric.update(reals, real=True)
    metric.update(fakes, real=False)
    return metric.compute()


def test_pyramid_filters_match_opencv_style_reference():
    x = np.random.default_rng(0).random((2, 3, 16, 16)).astype(np.float32)
    down = mirror_convolve(x, BINOMIAL)[:, :, ::2, ::2]
    np.testing.assert_allclose(pyr_down(torch.from_numpy(x)).numpy(), down, atol=1e-6)
    zeros = np.zeros((2, 3, 16, 16), np.float32)
    zeros[:, :, ::2, ::2] = down
    up = mirror_convolve(zeros, 4 * BINOMIAL)
    np.testing.assert_allclose(pyr_up(torch.from_numpy(down)).numpy(), up, atol=1e-6)


def test_laplacian_pyramid_shapes_and_exact_inverse():
    images = torch.rand(3, 3, 64, 64) * 255
    levels = laplacian_pyramid(images, 3)
    assert [tuple(level.shape[-2:]) for level in levels] == [(64, 64), (32, 32), (16, 16)]
    torch.testing.assert_close(collapse_pyramid(levels), images, atol=1e-3, rtol=0)
    flat = laplacian_pyramid(torch.full((1, 3, 32, 32), 100.0), 2)
    torch.testing.assert_close(flat[0], torch.zeros(1, 3, 32, 32), atol=1e-4, rtol=0)


@pytest.mark.parametrize(
    ("resolution", "levels"), [(8, [8]), (16, [16]), (32, [32, 16]), (64, [64, 32, 16])]
)
def test_levels_and_descriptor_shapes(resolution, levels):
    assert swd_resolutions(resolution) == levels
    metric = SlicedWassersteinDistance(nhoods_per_image=16)
    descriptors = metric.descriptors(smooth_images(4, resolution), first_index=0)
    assert [tuple(d.shape) for d in descriptors] == [(4 * 16, 3, 7, 7)] * len(levels)
    result = swd(smooth_images(4, resolution), smooth_images(4, resolution, seed=1))
    assert set(result) == {f"swd_{r}" for r in levels} | {"swd_avg"}
    assert result["swd_avg"] == pytest.approx(np.mean([result[f"swd_{r}"] for r in levels]))


def test_too_small_images_are_refused():
    with pytest.raises(ValueError, match="at least 7 px"):
        swd_resolutions(4)


def test_neighbourhoods_stay_inside_and_depend_only_on_the_image_index():
    corners = neighbourhood_positions(5, 3, [32, 16], nhoods_per_image=64)
    assert corners.shape == (3, 2, 2, 64)
    assert corners.min() >= 0 and corners[:, 0].max() <= 32 - 7 and corners[:, 1].max() <= 16 - 7
    again = neighbourhood_positions(6, 1, [32, 16], nhoods_per_image=64)
    torch.testing.assert_close(again[0], corners[1])


def test_identical_sets_give_exactly_zero():
    images = smooth_images(8, 32)
    assert swd(images, images) == {"swd_32": 0.0, "swd_16": 0.0, "swd_avg": 0.0}


def test_hand_checked_shift_along_axis_directions():
    # Descriptors B = A + shift; with the coordinate axes as directions each direction's
    # sorted difference is |shift_k|, so SWD = mean |shift|.
    a = torch.randn(500, 6)
    shift = torch.tensor([0.5, -1.0, 0.0, 2.0, 0.25, -0.25])
    directions = torch.eye(6)[None]  # [repeats=1, D, K]
    assert sliced_wasserstein(a, a + shift, directions) == pytest.approx(4.0 / 6.0, abs=1e-5)
    assert sliced_wasserstein(a, a, directions) == 0.0


def test_wasserstein_1d_of_unequal_sets_by_hand():
    # Quantile functions of {0, 1} and {0, 0.5, 1} differ by 0.5 on t in [1/3, 2/3): W1 = 1/6.
    a = torch.tensor([[0.0, 1.0]])
    b = torch.tensor([[0.0, 0.5, 1.0]])
    assert float(wasserstein_1d(a, b)) == pytest.approx(1 / 6)
    assert float(wasserstein_1d(b, a)) == pytest.approx(1 / 6)
    # Equal sizes: mean absolute difference of sorted values.
    assert float(wasserstein_1d(torch.tensor([[0.0, 2.0]]), torch.tensor([[1.0, 1.0]]))) == 1


def test_normalisation_is_per_channel_over_the_set():
    d = torch.randn(300, 3, 7, 7) * torch.tensor([1.0, 5.0, 0.1]).view(1, 3, 1, 1) + 7
    flat = normalize_descriptors(d).view(300, 3, 49)
    torch.testing.assert_close(flat.mean(dim=(0, 2)), torch.zeros(3), atol=1e-5, rtol=0)
    torch.testing.assert_close(flat.std(dim=(0, 2), correction=0), torch.ones(3), atol=1e-5, rtol=0)


@pytest.mark.parametrize("corruption", ["blur", "noise"])
def test_grows_monotonically_with_the_amount_of_corruption(corruption):
    reals = smooth_images(16, 32)
    amounts = [0.0, 0.5, 1.0, 2.0] if corruption == "blur" else [0.0, 0.05, 0.15, 0.4]
    values = []
    for amount in amounts:
        if corruption == "blur":
            fakes = gaussian_blur(reals, amount)
        else:
            noise = torch.randn(reals.shape, generator=torch.Generator().manual_seed(3))
            fakes = (reals + amount * noise).clamp(-1, 1)
        values.append(swd(reals, fakes)["swd_avg"])
    assert values[0] == 0.0
    assert all(b > a for a, b in itertools.pairwise(values)), values


def test_insensitive_to_per_channel_affine_changes_as_documented():
    reals = smooth_images(16, 32)
    recoloured = reals * torch.tensor([0.8, 0.6, 0.9]).view(1, 3, 1, 1) + 0.05
    blurred = gaussian_blur(reals, 1.0)
    assert swd(reals, recoloured)["swd_avg"] < 0.25 * swd(reals, blurred)["swd_avg"]


def test_deterministic_and_independent_of_batching():
    reals, fakes = smooth_images(12, 32), smooth_images(12, 32, seed=5)
    whole = swd(reals, fakes, seed=3)
    metric = SlicedWassersteinDistance(seed=3)
    for start in range(0, 12, 5):
        metric.update(reals[start : start + 5], real=True)
    for start in range(0, 12, 4):
        metric.update(fakes[start : start + 4], real=False)
    assert metric.compute() == whole
    assert swd(reals, fakes, seed=4) != whole  # the seed matters (random positions/directions)


def test_uint8_and_float_inputs_agree_and_reals_survive_reset():
    reals, fakes = smooth_images(6, 16), smooth_images(6, 16, seed=2)
    from stylegan_lit.generate.images import to_uint8

    metric = SlicedWassersteinDistance()
    metric.update(to_uint8(reals), real=True)
    metric.update(fakes, real=False)
    first = metric.compute()
    metric.reset(keep_reals=True)
    assert metric.num_images(real=True) == 6 and metric.num_images(real=False) == 0
    metric.update(to_uint8(fakes), real=False)
    assert metric.compute() == first


def test_sets_of_different_sizes_and_resolution_mismatch():
    metric = SlicedWassersteinDistance()
    metric.update(smooth_images(6, 32), real=True)
    metric.update(smooth_images(4, 32, seed=1), real=False)
    assert metric.compute()["swd_avg"] > 0
    with pytest.raises(ValueError, match=r"16 px added to an SWD of 32 px"):
        metric.update(smooth_images(2, 16), real=False)
