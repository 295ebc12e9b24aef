"""Building blocks of the StyleGAN networks."""

from stylegan_lit.nn.equalized import LRELU_GAIN, EqualizedConv2d, EqualizedLinear
from stylegan_lit.nn.fused import adaptive_instance_norm, noise_bias_leaky_relu, set_fused_ops
from stylegan_lit.nn.minibatch_std import MinibatchStd
from stylegan_lit.nn.noise import NOISE_MODES, NoiseInjection, NoiseMode
from stylegan_lit.nn.normalization import AdaIN, PixelNorm, instance_norm, pixel_norm
from stylegan_lit.nn.resample import (
    Blur,
    conv2d_downsample,
    downsample_box,
    shift_summed_kernel,
    upsample_conv2d,
    upsample_nearest,
)

__all__ = [
    "LRELU_GAIN",
    "NOISE_MODES",
    "AdaIN",
    "Blur",
    "EqualizedConv2d",
    "EqualizedLinear",
    "MinibatchStd",
    "NoiseInjection",
    "NoiseMode",
    "PixelNorm",
    "adaptive_instance_norm",
    "conv2d_downsample",
    "downsample_box",
    "instance_norm",
    "noise_bias_leaky_relu",
    "pixel_norm",
    "set_fused_ops",
    "shift_summed_kernel",
    "upsample_conv2d",
    "upsample_nearest",
]
