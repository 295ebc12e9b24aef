import math

import pytest
import torch

from stylegan_lit.nn import (
    AdaIN,
    Blur,
    EqualizedConv2d,
    EqualizedLinear,
    MinibatchStd,
    NoiseInjection,
    PixelNorm,
    downsample_box,
    instance_norm,
    upsample_nearest,
)


def test_equalized_linear_init_and_runtime_scale():
    layer = EqualizedLinear(256, 512, lr_multiplier=0.01, gain=math.sqrt(2))
    # Stored weights are N(0, 1/lr_mul): std 100.
    assert layer.weight.std().item() == pytest.approx(100.0, rel=0.02)
    assert layer.weight_gain == pytest.approx(math.sqrt(2) / math.sqrt(256) * 0.01)
    # The effective weight is He-initialised: std sqrt(2 / fan_in).
    assert layer.effective_weight().std().item() == pytest.approx(math.sqrt(2 / 256), rel=0.02)
    x = torch.randn(4, 256)
    expected = x @ (layer.weight * layer.weight_gain).T + layer.bias * 0.01
    torch.testing.assert_close(layer(x), expected)


def test_equalized_conv_runtime_scale():
    conv = EqualizedConv2d(8, 16, 3, gain=1.0)
    assert conv.weight_gain == pytest.approx(1.0 / math.sqrt(8 * 9))
    x = torch.randn(2, 8, 5, 5)
    expected = torch.nn.functional.conv2d(x, conv.weight * conv.weight_gain, conv.bias, padding=1)
    torch.testing.assert_close(conv(x), expected)
    assert conv(x).shape == (2, 16, 5, 5)


def test_bias_init_is_effective_value():
    layer = EqualizedLinear(4, 3, lr_multiplier=0.01, bias_init=1.0)
    torch.testing.assert_close(layer.effective_bias(), torch.ones(3))


def test_lr_multiplier_slows_adam_step_100x():
    torch.manual_seed(0)
    # float64: a step of 1e-3 on a stored weight of ~100 is below float32 resolution.
    fast = EqualizedLinear(64, 64, lr_multiplier=1.0).double()
    slow = EqualizedLinear(64, 64, lr_multiplier=0.01).double()
    with torch.no_grad():  # same effective weights, so both see the same gradient direction
        slow.weight.copy_(fast.weight / 0.01)
    x = torch.randn(16, 64, dtype=torch.float64)
    moves = []
    for layer in (fast, slow):
        before = layer.effective_weight().detach().clone()
        # eps is negligible here so that only the scaling mechanism is measured.
        opt = torch.optim.Adam(layer.parameters(), lr=1e-3, betas=(0.0, 0.99), eps=1e-30)
        layer(x).square().sum().backward()
        opt.step()
        moves.append(layer.effective_weight().detach() - before)
    torch.testing.assert_close(moves[1], moves[0] * 0.01, rtol=1e-6, atol=0)


def test_bad_lr_multiplier_rejected():
    with pytest.raises(ValueError, match="lr_multiplier"):
        EqualizedLinear(2, 2, lr_multiplier=0.0)


def test_pixel_norm_unit_rms():
    z = torch.randn(8, 512) * 7
    rms = PixelNorm()(z).square().mean(dim=1).sqrt()
    torch.testing.assert_close(rms, torch.ones(8))


def test_blur_is_normalised_binomial_and_preserves_constants():
    blur = Blur()
    expected = torch.tensor([[1.0, 2, 1], [2, 4, 2], [1, 2, 1]]) / 16
    torch.testing.assert_close(blur.kernel[0, 0], expected)
    x = torch.full((1, 3, 8, 8), 2.5)
    torch.testing.assert_close(blur(x)[..., 1:-1, 1:-1], x[..., 1:-1, 1:-1])
    assert not list(blur.parameters())


def test_resample_roundtrip():
    x = torch.randn(2, 3, 4, 4)
    up = upsample_nearest(x)
    assert up.shape == (2, 3, 8, 8)
    torch.testing.assert_close(downsample_box(up), x)


def test_instance_norm_statistics():
    x = torch.randn(3, 5, 8, 8) * 4 + 2
    y = instance_norm(x)
    torch.testing.assert_close(y.mean(dim=(2, 3)), torch.zeros(3, 5), atol=1e-6, rtol=0)
    torch.testing.assert_close(y.std(dim=(2, 3), unbiased=False), torch.ones(3, 5))


def test_adain_output_statistics_equal_style():
    adain = AdaIN(channels=6, w_dim=16)
    with torch.no_grad():
        adain.affine.weight.normal_()
        adain.affine.bias.normal_()
    x = torch.randn(4, 6, 16, 16) * 3 - 1
    w = torch.randn(4, 16)
    scale, bias = adain.styles(w)
    y = adain(x, w)
    torch.testing.assert_close(y.mean(dim=(2, 3)), bias, atol=1e-5, rtol=0)
    torch.testing.assert_close(y.std(dim=(2, 3), unbiased=False), scale.abs(), atol=1e-5, rtol=1e-5)


def test_adain_starts_as_identity_scale():
    adain = AdaIN(channels=4, w_dim=8)
    scale, bias = adain.styles(torch.zeros(2, 8))
    torch.testing.assert_close(scale, torch.ones(2, 4))
    torch.testing.assert_close(bias, torch.zeros(2, 4))


def test_noise_modes():
    noise = NoiseInjection(channels=4, resolution=8)
    assert torch.count_nonzero(noise.strength) == 0  # official init
    with torch.no_grad():
        noise.strength.fill_(0.7)
    x = torch.randn(2, 4, 8, 8)
    torch.testing.assert_close(noise(x, "none"), x)
    torch.testing.assert_close(noise(x, "const"), noise(x, "const"))
    torch.testing.assert_close(noise(x, "const"), x + 0.7 * noise.noise_const)
    a, b = noise(x, "random"), noise(x, "random")
    assert not torch.allclose(a, b)
    # One noise image per sample, shared by all channels, scaled per channel.
    delta = (a - x) / 0.7
    torch.testing.assert_close(delta[:, 0], delta[:, 3])
    with pytest.raises(ValueError, match="noise_mode"):
        noise(x, "bogus")


def _reference_mbstd(x: torch.Tensor, group: int) -> torch.Tensor:
    """Straightforward loop: sample i is in group i % (N // group)."""
    n = x.shape[0]
    m = n // group
    out = torch.empty(n)
    for g in range(m):
        members = x[g::m]
        out[g::m] = (members.var(dim=0, unbiased=False) + 1e-8).sqrt().mean()
    return out


def test_minibatch_std_matches_reference():
    x = torch.randn(8, 6, 4, 4)
    y = MinibatchStd(group_size=4)(x)
    assert y.shape == (8, 7, 4, 4)
    torch.testing.assert_close(y[:, :6], x)
    torch.testing.assert_close(y[:, 6, 0, 0], _reference_mbstd(x, 4))
    assert torch.all(y[:, 6] == y[:, 6, :1, :1])


@pytest.mark.parametrize("batch", [1, 2, 3, 5, 6, 7, 9, 10])
def test_minibatch_std_any_batch(batch):
    x = torch.randn(batch, 6, 4, 4)
    y = MinibatchStd(group_size=4)(x)
    assert y.shape == (batch, 7, 4, 4)
    assert torch.isfinite(y).all()
    groups = max(batch // min(4, batch), 1)
    for g in range(groups):
        members = x[g::groups]
        expected = (members.var(dim=0, unbiased=False) + 1e-8).sqrt().mean()
        torch.testing.assert_close(y[g::groups, 6, 0, 0], expected.expand(len(members)))


def test_minibatch_std_gradient_flows():
    x = torch.randn(5, 4, 4, 4, requires_grad=True)
    MinibatchStd()(x)[:, 4].sum().backward()
    assert x.grad is not None and torch.isfinite(x.grad).all()
