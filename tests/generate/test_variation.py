import pytest
import torch

from stylegan_lit.generate import RenderOptions, sample_images, stochastic_variation


@pytest.mark.parametrize("mode", ["none", "const"])
def test_without_fresh_noise_every_draw_is_the_same_image(G, mode):
    options = RenderOptions(noise_mode=mode)
    result = stochastic_variation(G, [0, 5], num_draws=4, options=options)
    assert result.draws.shape == (2, 4, 3, 16, 16) and result.std.shape == (2, 16, 16)
    single = sample_images(G, [0, 5], options=options)
    for k in range(4):
        torch.testing.assert_close(result.draws[:, k], single, rtol=0, atol=1e-5)
    assert result.std.max() < 1e-5
    assert torch.equal(result.std_images(), -torch.ones(2, 3, 16, 16))  # black


def test_random_noise_varies_detail_reproducibly(G):
    result = stochastic_variation(G, [0], num_draws=6, noise_seed=3)
    assert result.std.max() > 1e-3
    assert (result.draws[0, 0] - result.draws[0, 1]).abs().max() > 1e-3
    again = stochastic_variation(G, [0], num_draws=6, noise_seed=3)
    torch.testing.assert_close(again.draws, result.draws, rtol=0, atol=0)
    expected_std = result.draws[0].std(dim=0, unbiased=False).mean(dim=0)
    torch.testing.assert_close(result.std[0], expected_std)
    grey = result.std_images()
    assert grey.min() >= -1 and grey.max() == 1  # scaled so the largest std is white
    assert result.grid().shape == (1, 7, 3, 16, 16)


def test_variation_needs_two_draws(G):
    with pytest.raises(ValueError, match="at least 2"):
        stochastic_variation(G, [0], num_draws=1)
