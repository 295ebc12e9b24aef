"""RenderOptions: the settings every renderer shares, and the checkpoint rules applied once."""

from dataclasses import replace

import pytest
import torch

from stylegan_lit.checkpoints import LoadedGenerator
from stylegan_lit.generate import (
    OptionError,
    RenderOptions,
    latent_sampler,
    render_latents,
    sample_images,
    z_from_seeds,
)


def at(G, resolution, alpha):
    return LoadedGenerator(generator=G, resolution=resolution, alpha=alpha, kimg=1.0)


def test_a_checkpoint_renders_where_training_stood(G):
    mid_fade = at(G, 8, 0.5)  # a 16 px network still fading in its 8 px level
    options = RenderOptions.from_checkpoint(mid_fade)
    assert (options.resolution, options.alpha, options.device) == (8, 0.5, None)
    lower = RenderOptions.from_checkpoint(mid_fade, RenderOptions(resolution=4))
    assert (lower.resolution, lower.alpha) == (4, 1.0)  # lower levels are fully faded in
    kept = RenderOptions(truncation_psi=0.7, truncation_cutoff=8, noise_mode="none")
    assert (
        replace(RenderOptions.from_checkpoint(mid_fade, kept), resolution=None, alpha=1.0) == kept
    )


def test_checkpoint_rules_refuse_what_was_not_trained_and_name_the_setting(G):
    with pytest.raises(OptionError, match=r"^resolution 16 is above the 8 px this checkpoint"):
        RenderOptions.from_checkpoint(at(G, 8, 1.0), RenderOptions(resolution=16))
    with pytest.raises(OptionError, match=r"^resolution must be a power of two >= 4, got 12"):
        RenderOptions(resolution=12)
    with pytest.raises(OptionError, match=r"^device 'nowhere'"):
        RenderOptions.from_checkpoint(at(G, 16, 1.0), RenderOptions(device="nowhere"))
    with pytest.raises(OptionError, match=r"^batch_size must be at least 1"):
        RenderOptions(batch_size=0)


def test_auto_device_is_cuda_only_when_there_is_one(G):
    options = RenderOptions.from_checkpoint(at(G, 16, 1.0), RenderOptions(device="auto"))
    assert options.device == torch.device("cuda" if torch.cuda.is_available() else "cpu")


def test_the_metrics_sampler_renders_what_the_figures_render(G):
    """One batch on the device, as ``eval`` measures it, is the figures' image of the same z."""
    options = RenderOptions(truncation_psi=0.7, truncation_cutoff=2, resolution=8, alpha=0.5)
    z = z_from_seeds([0, 1, 2], G.z_dim)
    sample = latent_sampler(G, options)
    torch.testing.assert_close(sample(z), render_latents(G, z, options), rtol=0, atol=1e-6)
    torch.testing.assert_close(sample(z), sample_images(G, [0, 1, 2], options=options))
    expected = G(z, truncation_psi=0.7, truncation_cutoff=2, resolution=8, alpha=0.5,
                 noise_mode="none")  # fmt: skip
    torch.testing.assert_close(sample(z, noise_mode="none"), expected, rtol=0, atol=1e-6)
