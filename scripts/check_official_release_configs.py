"""Check the official-pickle import at the release networks' full sizes (no TensorFlow).

The five StyleGAN v1 release pickles (FFHQ and CelebA-HQ 1024, cars 512 (x384, padded),
bedrooms and cats 256) were built with the official defaults except ``num_channels``,
``resolution`` and ``label_size``. For each size this script writes an official-format
(G, D, Gs) pickle of random variables with the release's names and shapes, imports it, and
compares our G_ema and D with the independent reference of the official ops used by the tests
(``tests/interop/official_format.py``), including the fused 'auto' layers from 128 px up.

    PYTHONPATH=. python scripts/check_official_release_configs.py [1024 512 256]
"""

from __future__ import annotations

import sys
import time

import torch

from stylegan_lit.interop import load_official_pickle
from tests.interop.official_format import (
    dumps,
    official_discriminator,
    official_mapping,
    official_pickle_parts,
    official_synthesis,
    release_tuple,
)

RELEASE = dict(fmap_base=8192, fmap_max=512, latent_size=512, dlatent_size=512, mapping_layers=8)


def check(resolution: int) -> None:
    start = time.time()
    parts = official_pickle_parts(0, resolution=resolution, **RELEASE)
    nets = load_official_pickle(dumps(release_tuple(parts)))
    assert nets.G_ema is not None and nets.D is not None
    z = torch.randn(1, 512, dtype=torch.float64)
    _, mapping, synthesis = parts["Gs"]
    num_ws = nets.G_ema.num_ws
    dlatents = official_mapping(mapping, z, 8)[:, None].expand(-1, num_ws, -1)
    fused = lambda r: r >= 128  # noqa: E731  (fused_scale='auto')
    expected = official_synthesis(synthesis, dlatents, resolution, fused)
    with torch.no_grad():
        got = nets.G_ema.float()(z.float(), noise_mode="const").double()
        images = torch.randn(2, 3, resolution, resolution, dtype=torch.float64)
        d_got = nets.D.float()(images.float()).double()
    d_expected = official_discriminator(parts["D"], images, resolution, fused)
    g_params = sum(p.numel() for p in nets.G_ema.parameters())
    d_params = sum(p.numel() for p in nets.D.parameters())
    print(
        f"{resolution} px: G {g_params:,} params, D {d_params:,}; fused up at "
        f"{nets.fused_up_resolutions}; G max |diff| {(got - expected).abs().max():.2e} "
        f"(|image| max {expected.abs().max():.1f}), D max |diff| "
        f"{(d_got - d_expected).abs().max():.2e} (|score| {d_expected.abs().max():.1f}); "
        f"{time.time() - start:.0f} s"
    )


if __name__ == "__main__":
    for arg in sys.argv[1:] or ["256", "512", "1024"]:
        check(int(arg))
