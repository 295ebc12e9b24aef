"""The fused forms compute the same function as the plain compositions they replace."""

import pytest
import torch
import torch.nn.functional as F

from stylegan_lit.models import Discriminator, Generator
from stylegan_lit.nn import (
    AdaIN,
    adaptive_instance_norm,
    conv2d_downsample,
    noise_bias_leaky_relu,
    set_fused_ops,
    upsample_conv2d,
)
from tests.conftest import randomize_parameters

FORMATS = [torch.contiguous_format, torch.channels_last]


def _double(*shape: int, memory_format=torch.contiguous_format) -> torch.Tensor:
    x = torch.randn(*shape, dtype=torch.float64).contiguous(memory_format=memory_format)
    return x.requires_grad_(True)


@pytest.mark.parametrize("memory_format", FORMATS)
def test_fused_upsample_conv_equals_upsample_then_conv(memory_format):
    x, w = _double(2, 5, 6, 6, memory_format=memory_format), _double(7, 5, 3, 3)
    fused = upsample_conv2d(x, w, fused=True)
    plain = F.conv2d(F.interpolate(x, scale_factor=2, mode="nearest"), w, padding=1)
    assert fused.shape == (2, 7, 12, 12)
    torch.testing.assert_close(fused, plain)
    g = torch.randn_like(plain)
    grads = torch.autograd.grad(fused, (x, w), g)
    torch.testing.assert_close(grads, torch.autograd.grad(plain, (x, w), g))


@pytest.mark.parametrize("memory_format", FORMATS)
def test_fused_conv_downsample_equals_conv_then_box(memory_format):
    x, w, b = _double(2, 5, 8, 8, memory_format=memory_format), _double(7, 5, 3, 3), _double(7)
    fused = conv2d_downsample(x, w, b, fused=True)
    plain = F.avg_pool2d(F.conv2d(x, w, b, padding=1), 2)
    assert fused.shape == (2, 7, 4, 4)
    torch.testing.assert_close(fused, plain)
    g = torch.randn_like(plain)
    grads = torch.autograd.grad(fused, (x, w, b), g)
    torch.testing.assert_close(grads, torch.autograd.grad(plain, (x, w, b), g))


def test_fused_resampling_needs_a_3x3_kernel():
    with pytest.raises(ValueError, match="3x3"):
        upsample_conv2d(torch.zeros(1, 2, 4, 4), torch.zeros(2, 2, 5, 5))


@pytest.mark.parametrize("memory_format", FORMATS)
@pytest.mark.parametrize("noise_kind", ["per_sample", "shared", "none"])
def test_noise_bias_leaky_relu_equals_composition(memory_format, noise_kind):
    x = _double(3, 4, 5, 5, memory_format=memory_format)
    strength, bias = _double(4), _double(4)
    noise = {
        "per_sample": torch.randn(3, 1, 5, 5, dtype=torch.float64),
        "shared": torch.randn(1, 1, 5, 5, dtype=torch.float64),
        "none": None,
    }[noise_kind]
    fused = noise_bias_leaky_relu(x, noise, strength, bias, 0.2)
    pre = x + bias[None, :, None, None]
    if noise is not None:
        pre = pre + noise * strength[None, :, None, None]
    plain = F.leaky_relu(pre, 0.2)
    torch.testing.assert_close(fused, plain)
    g = torch.randn_like(plain)
    inputs = (x, strength, bias)
    fused_grads = torch.autograd.grad(fused, inputs, g, allow_unused=True)
    plain_grads = torch.autograd.grad(plain, inputs, g, allow_unused=True)
    if noise is None:  # strength is unused: no gradient either way
        assert fused_grads[1] is None and plain_grads[1] is None
        fused_grads, plain_grads = fused_grads[::2], plain_grads[::2]
    torch.testing.assert_close(fused_grads, plain_grads)


def test_noise_bias_leaky_relu_passes_gradcheck():
    x = _double(2, 3, 4, 4)
    noise = torch.randn(2, 1, 4, 4, dtype=torch.float64)
    strength, bias = _double(3), _double(3)
    assert torch.autograd.gradcheck(
        lambda x, s, b: noise_bias_leaky_relu(x, noise, s, b, 0.2), (x, strength, bias)
    )


def test_noise_bias_leaky_relu_under_bf16_autocast_keeps_fp32_parameter_grads():
    x = torch.randn(2, 3, 4, 4, dtype=torch.bfloat16, requires_grad=True)
    strength = torch.randn(3, requires_grad=True)
    bias = torch.randn(3, requires_grad=True)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        y = noise_bias_leaky_relu(x, torch.randn(2, 1, 4, 4), strength, bias)
    assert y.dtype == torch.bfloat16
    y.float().sum().backward()
    assert strength.grad.dtype == torch.float32 and bias.grad.dtype == torch.float32
    assert x.grad.dtype == torch.bfloat16


def test_adaptive_instance_norm_passes_gradcheck():
    x = _double(3, 4, 5, 5, memory_format=torch.channels_last)
    scale, bias = _double(3, 4, 1, 1), _double(3, 4, 1, 1)
    assert torch.autograd.gradcheck(adaptive_instance_norm, (x, scale, bias))


def test_fused_adain_equals_instance_norm_then_style():
    adain = randomize_parameters(AdaIN(6, 8), scale=0.5).double()
    x, w = _double(3, 6, 5, 5, memory_format=torch.channels_last), _double(3, 8)
    adain.fused_epilogue = True
    fused = adain(x, w)
    fused_grads = torch.autograd.grad(fused.square().sum(), (x, w, adain.affine.weight))
    adain.fused_epilogue = False
    plain = adain(x, w)
    plain_grads = torch.autograd.grad(plain.square().sum(), (x, w, adain.affine.weight))
    torch.testing.assert_close(fused, plain)
    torch.testing.assert_close(fused_grads, plain_grads)


def _networks() -> tuple[Generator, Discriminator]:
    G = Generator(z_dim=8, w_dim=8, resolution=16, mapping_layers=2, fmap_base=32, fmap_max=8)
    D = Discriminator(resolution=16, fmap_base=32, fmap_max=8)
    return randomize_parameters(G, scale=0.3).double(), randomize_parameters(D, scale=0.3).double()


@pytest.mark.parametrize("alpha", [1.0, 0.4])
def test_fused_networks_equal_plain_networks_with_gradients(alpha):
    """Whole G and D, forward and all parameter gradients, fused vs plain (float64)."""
    torch.manual_seed(0)
    G, D = _networks()
    z = torch.randn(4, 8, dtype=torch.float64)

    def run(fused: bool) -> tuple[torch.Tensor, list[torch.Tensor]]:
        set_fused_ops(G, resampling=fused, epilogue=fused)
        set_fused_ops(D, resampling=fused, epilogue=fused)
        logits = D(G(z, alpha=alpha, noise_mode="const"), alpha=alpha)
        params = [*G.parameters(), *D.parameters()]
        grads = torch.autograd.grad(logits.square().sum(), params, allow_unused=True)
        return logits, [g for g in grads if g is not None]

    fused_logits, fused_grads = run(True)
    plain_logits, plain_grads = run(False)
    torch.testing.assert_close(fused_logits, plain_logits)
    assert len(fused_grads) == len(plain_grads) > 0
    torch.testing.assert_close(fused_grads, plain_grads)


def test_r1_double_backward_through_fused_discriminator():
    """R1 differentiates D's input gradient: the fused forms must support create_graph."""
    torch.manual_seed(0)
    _, D = _networks()
    real = torch.randn(4, 3, 16, 16, dtype=torch.float64, requires_grad=True)

    def r1_grads(fused: bool) -> list[torch.Tensor]:
        set_fused_ops(D, resampling=fused)
        (grad,) = torch.autograd.grad(D(real).sum(), real, create_graph=True)
        grads = torch.autograd.grad(grad.square().sum(), list(D.parameters()), allow_unused=True)
        return [g for g in grads if g is not None]

    fused, plain = r1_grads(True), r1_grads(False)
    assert len(fused) == len(plain) > 0
    torch.testing.assert_close(fused, plain)
