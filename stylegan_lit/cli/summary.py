"""``stylegan-lit summary``: parameter counts of the StyleGAN networks of a configuration.

With no arguments it builds the official FFHQ 1024 configuration, whose counts must equal the
official code's (G 26,219,627 = mapping 2,101,248 + synthesis 24,110,720 + toRGBs 7,659;
D 23,087,249).
"""

from __future__ import annotations

import argparse

from torch import nn

from stylegan_lit.models.discriminator import Discriminator
from stylegan_lit.models.generator import Generator


def parameter_count(module: nn.Module) -> int:
    """Number of trainable parameters (buffers such as ``w_avg`` are not counted)."""
    return sum(p.numel() for p in module.parameters())


def main(argv: list[str] | None = None) -> int:
    """Print the parameter counts; exit status 0."""
    parser = argparse.ArgumentParser(
        prog="stylegan-lit summary", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--resolution", type=int, default=1024)
    parser.add_argument("--fmap-base", type=int, default=8192)
    parser.add_argument("--fmap-max", type=int, default=512)
    args = parser.parse_args(argv)
    G = Generator(resolution=args.resolution, fmap_base=args.fmap_base, fmap_max=args.fmap_max)
    D = Discriminator(resolution=args.resolution, fmap_base=args.fmap_base, fmap_max=args.fmap_max)
    rows = {
        "G.mapping": parameter_count(G.mapping),
        "G.synthesis (blocks)": parameter_count(G.synthesis.blocks),
        "G.synthesis (toRGBs)": parameter_count(G.synthesis.to_rgb),
        "G total": parameter_count(G),
        "D total": parameter_count(D),
    }
    print(f"StyleGAN at {args.resolution} px, num_ws={G.num_ws}")
    for name, value in rows.items():
        print(f"  {name:<22}{value:>14,}")
    return 0
