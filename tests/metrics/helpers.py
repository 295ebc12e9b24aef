"""Tiny stand-ins for the metric tests: random Inception weights, images, a StyleGAN module."""

from __future__ import annotations

from pathlib import Path
from unittest import mock

import lightning.pytorch as pl
import torch
import torch.nn.functional as F
from torch import Tensor
from torch.utils.data import DataLoader, TensorDataset

from stylegan_lit.models import Discriminator, Generator
from stylegan_lit.training import StyleGANModule

TINY_NET = dict(resolution=16, fmap_base=64, fmap_max=16)


def make_random_inception_weights(path: Path, seed: int = 0) -> Path:
    """Save a randomly initialised torch-fidelity InceptionV3 state dict (the exact keys).

    torch-fidelity's constructor always loads weights (downloading them when no path is
    given), so loading is stubbed out while the network is built; convolutions get He
    initialisation so that 2048-d features neither vanish nor explode through 90 layers.
    """
    import torch_fidelity.feature_extractor_inceptionv3 as tf_inception

    cls = tf_inception.FeatureExtractorInceptionV3
    torch.manual_seed(seed)
    with (
        mock.patch.object(tf_inception, "load_state_dict_from_url", return_value={}),
        mock.patch.object(cls, "load_state_dict", lambda self, *args, **kwargs: None),
    ):
        network = cls("inception-v3-compat", ["2048"])
    for module in network.modules():
        if isinstance(module, torch.nn.Conv2d):
            torch.nn.init.kaiming_normal_(module.weight, nonlinearity="relu")
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(network.state_dict(), path)
    return path


def smooth_images(count: int, resolution: int = 32, seed: int = 0, channels: int = 3) -> Tensor:
    """Images in [-1, 1] with structure at several scales (upsampled noise octaves)."""
    generator = torch.Generator().manual_seed(seed)
    image = torch.zeros(count, channels, resolution, resolution)
    size = 4
    while size <= resolution:
        octave = torch.randn(count, channels, size, size, generator=generator)
        image += F.interpolate(octave, size=resolution, mode="bilinear", align_corners=False)
        size *= 2
    return (image / image.abs().amax(dim=(1, 2, 3), keepdim=True)).clamp(-1, 1)


def gaussian_blur(images: Tensor, sigma: float) -> Tensor:
    """Separable Gaussian blur with reflected borders."""
    if sigma <= 0:
        return images
    radius = max(1, int(3 * sigma))
    x = torch.arange(-radius, radius + 1, dtype=torch.float32)
    k = torch.exp(-(x**2) / (2 * sigma**2))
    k = k / k.sum()
    c = images.shape[1]
    padded = F.pad(images, (radius,) * 4, mode="reflect")
    out = F.conv2d(padded, k.view(1, 1, 1, -1).expand(c, 1, 1, -1), groups=c)
    return F.conv2d(out, k.view(1, 1, -1, 1).expand(c, 1, -1, 1), groups=c)


def tiny_module(seed: int = 0) -> StyleGANModule:
    """A 16 px StyleGAN with a few channels (no progressive growing: trains at 16 px)."""
    torch.manual_seed(seed)
    G = Generator(z_dim=16, w_dim=16, mapping_layers=2, **TINY_NET)
    D = Discriminator(**TINY_NET)
    return StyleGANModule(G, D, r1_interval=4, ema_half_life_kimg=0.1)


class FakeDataModule(pl.LightningDataModule):
    """Just enough of a data module: a train loader and ``real_images(res, count, seed)``."""

    def __init__(self, num_images: int = 32, resolution: int = 16, batch_size: int = 8) -> None:
        super().__init__()
        self.images = smooth_images(num_images, resolution, seed=7)
        self.batch_size = batch_size
        self.calls: list[tuple[int, int, int]] = []

    def train_dataloader(self) -> DataLoader:
        return DataLoader(TensorDataset(self.images), batch_size=self.batch_size)

    def real_images(self, resolution: int, count: int, seed: int) -> Tensor:
        self.calls.append((resolution, count, seed))
        return self.images[:count]
