"""The StyleGAN networks."""

from stylegan_lit.models.discriminator import Discriminator
from stylegan_lit.models.generator import Generator
from stylegan_lit.models.latents import broadcast_ws, mix_styles, truncate
from stylegan_lit.models.mapping import MappingNetwork
from stylegan_lit.models.resolution import check_resolution, feature_maps, num_ws_for
from stylegan_lit.models.synthesis import SynthesisNetwork

__all__ = [
    "Discriminator",
    "Generator",
    "MappingNetwork",
    "SynthesisNetwork",
    "broadcast_ws",
    "check_resolution",
    "feature_maps",
    "mix_styles",
    "num_ws_for",
    "truncate",
]
