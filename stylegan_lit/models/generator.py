"""The style-based generator: mapping network + synthesis network."""

from __future__ import annotations

from torch import Tensor, nn

from stylegan_lit.models.mapping import MappingNetwork
from stylegan_lit.models.synthesis import SynthesisNetwork
from stylegan_lit.nn import NoiseMode


class Generator(nn.Module):
    """StyleGAN generator. Defaults are the official FFHQ 1024 configuration.

    The synthesis network owns ``num_ws`` and the mapping network broadcasts w to it.
    Images come out in the data range [-1, 1] (not clamped, as officially, so gradients
    are never cut); clamp when converting to pixels.

    Args:
        z_dim: Width of z.
        w_dim: Width of w.
        resolution: Maximum output resolution (power of two, >= 4).
        mapping_layers: Depth of the mapping network.
        mapping_lr_multiplier: Learning-rate multiplier of the mapping network.
        w_avg_beta: Decay of the tracked mean of w.
        fmap_base: Channel budget of the synthesis network.
        fmap_max: Maximum channels per layer.
        img_channels: 3 for RGB, 1 for grayscale.
    """

    def __init__(
        self,
        z_dim: int = 512,
        w_dim: int = 512,
        resolution: int = 1024,
        mapping_layers: int = 8,
        mapping_lr_multiplier: float = 0.01,
        w_avg_beta: float = 0.995,
        fmap_base: int = 8192,
        fmap_max: int = 512,
        img_channels: int = 3,
    ) -> None:
        super().__init__()
        self.config = dict(
            z_dim=z_dim,
            w_dim=w_dim,
            resolution=resolution,
            mapping_layers=mapping_layers,
            mapping_lr_multiplier=mapping_lr_multiplier,
            w_avg_beta=w_avg_beta,
            fmap_base=fmap_base,
            fmap_max=fmap_max,
            img_channels=img_channels,
        )
        """Constructor arguments: saved in checkpoints so the network can be rebuilt."""
        self.z_dim = z_dim
        self.w_dim = w_dim
        self.resolution = resolution
        self.img_channels = img_channels
        self.synthesis = SynthesisNetwork(
            w_dim=w_dim,
            resolution=resolution,
            img_channels=img_channels,
            fmap_base=fmap_base,
            fmap_max=fmap_max,
        )
        self.mapping = MappingNetwork(
            z_dim=z_dim,
            w_dim=w_dim,
            num_layers=mapping_layers,
            lr_multiplier=mapping_lr_multiplier,
            w_avg_beta=w_avg_beta,
            num_ws=self.synthesis.num_ws,
        )

    @property
    def num_ws(self) -> int:
        """Style inputs of the full-resolution network."""
        return self.synthesis.num_ws

    def forward(
        self,
        z: Tensor,
        *,
        truncation_psi: float = 1.0,
        truncation_cutoff: int | None = None,
        resolution: int | None = None,
        alpha: float | Tensor = 1.0,
        noise_mode: NoiseMode = "random",
    ) -> Tensor:
        """z [N, z_dim] -> images [N, img_channels, R, R].

        For style mixing, call ``mapping`` twice, combine with
        :func:`stylegan_lit.models.latents.mix_styles`, and pass the result to ``synthesis``.
        """
        ws = self.mapping(z, truncation_psi=truncation_psi, truncation_cutoff=truncation_cutoff)
        return self.synthesis(ws, resolution=resolution, alpha=alpha, noise_mode=noise_mode)
