"""Projection: its schedule and regulariser, explicit noise maps, both distances, the photo
reader and that optimising moves a generated image's w back toward its own."""

from __future__ import annotations

import copy
import itertools
import math
import re

import numpy as np
import pytest
import torch
from PIL import Image
from torch import nn

from stylegan_lit.generate.perceptual import (
    TAP_CHANNELS,
    VGG16_FILENAME,
    PixelDistance,
    VGGDistance,
    VGGWeightsError,
    load_vgg16_features,
    make_distance,
    resolve_vgg16_weights,
    vgg16_features,
)
from stylegan_lit.generate.photos import PhotoError, load_photo
from stylegan_lit.generate.projection import (
    ProjectionError,
    ProjectionSettings,
    learning_rate,
    load_projected_ws,
    noise_regularizer,
    normalize_noise_,
    project,
    w_noise_scale,
    w_statistics,
)
from stylegan_lit.nn import NoiseInjection, set_fused_ops

FAST = dict(w_avg_samples=256)


def tiny_vgg() -> nn.Sequential:
    """VGG16's layer layout (same indices, so the same taps) at 1/16 of its widths."""
    layers: list[nn.Module] = []
    channels = 3
    for width in (64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M"):
        if width == "M":
            layers.append(nn.MaxPool2d(2))
            continue
        assert isinstance(width, int)
        layers += [nn.Conv2d(channels, width // 16, 3, padding=1), nn.ReLU()]
        channels = width // 16
    for _ in range(3):
        layers += [nn.Conv2d(channels, 32, 3, padding=1), nn.ReLU()]
        channels = 32
    torch.manual_seed(3)
    return nn.Sequential(*layers)


def known_target(G, seed: int = 11):
    """An image G renders from a known w (one w, every layer), with its const noise."""
    with torch.no_grad():
        w = G.mapping(torch.randn(1, G.z_dim, generator=torch.Generator().manual_seed(seed)))
        return w[0, 0], G.synthesis(w, noise_mode="const")[0]


def test_learning_rate_ramps_up_holds_and_ramps_down():
    lr = [learning_rate(step / 1000, 0.1) for step in range(1000)]
    assert lr[0] == 0.0
    assert lr[25] == pytest.approx(0.05)  # halfway up the 5% linear ramp
    assert lr[50] == pytest.approx(0.1) and lr[500] == pytest.approx(0.1)
    assert lr[875] == pytest.approx(0.05)  # halfway down the cosine over the last 25%
    assert all(a <= b for a, b in itertools.pairwise(lr[:51]))
    assert all(a >= b for a, b in itertools.pairwise(lr[750:]))
    assert 0 < lr[-1] < 1e-4


def test_w_noise_fades_out_quadratically_over_three_quarters():
    assert w_noise_scale(0.0, 2.0) == pytest.approx(0.1)
    assert w_noise_scale(0.375, 2.0) == pytest.approx(0.1 * 0.25)
    assert w_noise_scale(0.75, 2.0) == 0.0 and w_noise_scale(0.9, 2.0) == 0.0


def test_noise_renormalisation():
    noises = [torch.randn(1, 1, 8, 8) * 3 + 2, torch.rand(1, 1, 4, 4)]
    normalize_noise_(noises)
    for noise in noises:
        assert float(noise.mean()) == pytest.approx(0, abs=1e-6)
        assert float(noise.square().mean()) == pytest.approx(1, abs=1e-5)


def test_regularizer_on_known_maps():
    ones8 = torch.ones(1, 1, 8, 8)
    assert float(noise_regularizer([ones8])) == pytest.approx(2.0)  # (1)^2 per direction
    # 16 px: the 16 px level and its 8 px pooling, two directions each
    assert float(noise_regularizer([torch.ones(1, 1, 16, 16)])) == pytest.approx(4.0)
    checker = (torch.arange(8)[:, None] + torch.arange(8)[None]) % 2 * 2.0 - 1
    assert float(noise_regularizer([checker[None, None]])) == pytest.approx(2.0)  # (-1)^2
    stripes = (torch.arange(8) % 2 * 2.0 - 1)[None].expand(8, 8)  # alternate along x only
    assert float(noise_regularizer([stripes[None, None].contiguous()])) == pytest.approx(2.0)
    white = torch.randn(1, 1, 64, 64, generator=torch.Generator().manual_seed(0))
    assert float(noise_regularizer([white])) < 0.01
    assert float(noise_regularizer([ones8, ones8])) == pytest.approx(4.0)  # summed over maps


@pytest.mark.parametrize("fused", [True, False])
def test_explicit_noise_maps_render_as_const_and_get_gradients(G, fused):
    set_fused_ops(G, epilogue=fused)
    try:
        ws = G.mapping(torch.randn(2, G.z_dim))
        const = [m.noise_const for m in G.synthesis.modules() if hasattr(m, "noise_const")]
        assert [tuple(c.shape) for c in const] == G.synthesis.noise_shapes()
        expected = G.synthesis(ws, noise_mode="const")
        assert torch.allclose(G.synthesis(ws, noise=const), expected, atol=1e-6)
        noise = [c.clone().requires_grad_(True) for c in const]
        G.synthesis(ws, noise=noise).square().sum().backward()
        grads = [n.grad for n in noise]
        assert all(g is not None and g.shape == n.shape for g, n in zip(grads, noise, strict=True))
        assert all(float(g.abs().sum()) > 0 for g in grads if g is not None)
        with pytest.raises(ValueError, match="noise must hold 6 images"):
            G.synthesis(ws, noise=const[:3])
    finally:
        set_fused_ops(G, epilogue=True)


def test_fused_and_plain_noise_gradients_agree(G):
    ws = G.mapping(torch.randn(2, G.z_dim))
    grads = []
    for fused in (True, False):
        set_fused_ops(G, epilogue=fused)
        noise = [torch.ones(s).requires_grad_(True) for s in G.synthesis.noise_shapes()]
        G.synthesis(ws, noise=noise).sin().sum().backward()
        grads.append([n.grad for n in noise])
    set_fused_ops(G, epilogue=True)
    for a, b in zip(*grads, strict=True):
        assert torch.allclose(a, b, rtol=1e-4, atol=1e-4)


def test_w_statistics(G):
    mean, std = w_statistics(G, 512, seed=0)
    assert mean.shape == (G.w_dim,) and std > 0
    again, _ = w_statistics(G, 512, seed=0)
    assert torch.equal(mean, again)


@pytest.mark.parametrize("w_plus", [False, True])
def test_projection_shapes_in_w_and_w_plus(G, w_plus):
    _, target = known_target(G)
    settings = ProjectionSettings(num_steps=3, w_plus=w_plus, **FAST)
    result = project(G, target, PixelDistance(), settings, frame_every=1)
    assert result.ws.shape == (G.num_ws, G.w_dim) and result.w_plus == w_plus
    assert len(result.noises) == G.num_ws and result.image.shape == target.shape
    assert len(result.losses) == 3 and result.frames is not None
    assert result.frames.shape == (4, *target.shape)
    rows_equal = bool((result.ws == result.ws[:1]).all())
    assert rows_equal != w_plus
    for noise in result.noises:
        assert float(noise.mean()) == pytest.approx(0, abs=1e-5)


def test_projecting_a_generated_image_lowers_the_loss_and_approaches_its_w(G):
    G = copy.deepcopy(G)  # without noise, so that only w can explain the image
    for module in G.modules():
        if isinstance(module, NoiseInjection):
            module.strength.zero_()
    w_true, target = known_target(G)
    start, _ = w_statistics(G, 256, seed=0)
    settings = ProjectionSettings(num_steps=60, **FAST)
    result = project(G, target, PixelDistance(), settings)
    assert result.distance < 0.5 * result.losses[0]
    assert float((result.ws[0] - w_true).norm()) < 0.8 * float((start - w_true).norm())


def test_perceptual_path_with_random_vgg_features(G):
    distance = VGGDistance(tiny_vgg(), heads=None)
    _, target = known_target(G)
    distance.set_target(target[None])
    assert float(distance(target[None])) == pytest.approx(0, abs=1e-6)
    assert float(distance(-target[None])) > 0
    widths = [c // 16 for c in TAP_CHANNELS[:4]] + [32]  # tiny_vgg's
    weighted = VGGDistance(tiny_vgg(), heads=[torch.ones(width) for width in widths])
    weighted.set_target(target[None])
    assert float(weighted(-target[None])) > float(distance(-target[None]))  # sum vs mean
    result = project(G, target, distance, ProjectionSettings(num_steps=20, **FAST))
    assert result.distance < result.losses[0]


def test_vgg_weights_files(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    expected = re.escape(str(tmp_path / "torch" / "hub" / "checkpoints" / VGG16_FILENAME))
    with pytest.raises(VGGWeightsError, match=expected):
        resolve_vgg16_weights()
    with pytest.raises(VGGWeightsError, match=expected):
        make_distance("vgg")
    distance, why = make_distance("auto")
    assert isinstance(distance, PixelDistance) and "no VGG16 weights" in why
    with pytest.raises(VGGWeightsError, match=r"nowhere\.pth"):
        make_distance("auto", tmp_path / "nowhere.pth")
    bad = tmp_path / "bad.pth"
    torch.save({"features.0.weight": torch.zeros(2)}, bad)
    with pytest.raises(VGGWeightsError, match="does not hold VGG16"):
        load_vgg16_features(bad)
    bad.write_bytes(b"not torch")
    with pytest.raises(VGGWeightsError, match="could not be read"):
        load_vgg16_features(bad)


def test_a_nan_stops_with_the_best_w_so_far(G):
    _, target = known_target(G)
    calls = []

    class Breaks(PixelDistance):
        def forward(self, images):
            calls.append(1)
            value = super().forward(images)
            return value * math.nan if len(calls) > 4 else value

    with pytest.raises(ProjectionError, match="became nan at step 5") as error:
        project(G, target, Breaks(), ProjectionSettings(num_steps=20, **FAST))
    best = error.value.best
    assert best is not None and best.step < 4 and math.isfinite(best.distance)
    assert bool(torch.isfinite(best.ws).all())


def test_bad_targets(G):
    with pytest.raises(ValueError, match="target must have shape"):
        project(G, torch.zeros(3, 8, 8), PixelDistance(), ProjectionSettings(num_steps=1))
    with pytest.raises(ValueError, match="NaN"):
        project(G, torch.full((3, 16, 16), math.nan), PixelDistance())


def test_saved_ws_load_back(G, tmp_path):
    _, target = known_target(G)
    result = project(G, target, PixelDistance(), ProjectionSettings(num_steps=2, **FAST))
    path = result.save(tmp_path / "projected_w.npz", resolution=16)
    with np.load(path) as data:
        assert data["w"].shape == (1, G.num_ws, G.w_dim) and int(data["resolution"]) == 16
        assert data["noise_05"].shape == (1, 1, 16, 16)
    assert torch.equal(load_projected_ws(path, G), result.ws)
    one = tmp_path / "one.npz"
    np.savez(one, w=np.zeros(G.w_dim, np.float32))
    assert load_projected_ws(one, G).shape == (G.num_ws, G.w_dim)
    np.savez(one, w=np.zeros((3, 7), np.float32))
    with pytest.raises(ValueError, match=r"w has shape \(3, 7\)"):
        load_projected_ws(one, G)
    np.savez(one, z=np.zeros(3))
    with pytest.raises(ValueError, match="holds no 'w'"):
        load_projected_ws(one, G)
    (tmp_path / "text.npz").write_text("hello")
    with pytest.raises(ValueError, match=r"not an \.npz"):
        load_projected_ws(tmp_path / "text.npz", G)


def test_photos_are_cropped_converted_and_checked(tmp_path):
    gray = np.tile(np.arange(40, dtype=np.uint8)[None] * 6, (24, 1))  # 40 wide, 24 high
    Image.fromarray(gray, "L").save(tmp_path / "gray.png")
    image = load_photo(tmp_path / "gray.png", 16, channels=3)
    assert image.shape == (3, 16, 16) and torch.equal(image[0], image[2])
    assert float(image.min()) >= -1 and float(image.max()) <= 1
    assert load_photo(tmp_path / "gray.png", 16, channels=1).shape == (1, 16, 16)
    with pytest.raises(PhotoError, match=r"40x24 px; the minimum for this model is 32x32"):
        load_photo(tmp_path / "gray.png", 32)
    (tmp_path / "notes.png").write_text("not an image")
    with pytest.raises(PhotoError, match="not a readable image"):
        load_photo(tmp_path / "notes.png", 16)
    with pytest.raises(FileNotFoundError):
        load_photo(tmp_path / "missing.png", 16)


def test_a_full_size_vgg16_file_loads_with_the_lpips_heads(tmp_path, G):
    """A torchvision-layout file (random weights here: the real ones cannot be fetched)."""
    state = {f"features.{k}": v for k, v in vgg16_features().state_dict().items()}
    state["classifier.0.weight"] = torch.zeros(1)  # the rest of the network is ignored
    path = tmp_path / VGG16_FILENAME
    torch.save(state, path)
    distance, why = make_distance("auto", path)
    assert isinstance(distance, VGGDistance) and str(path) in why
    assert distance.heads is not None and "LPIPS heads" in why
    _, target = known_target(G)
    distance.set_target(target[None])
    assert float(distance(target[None])) == pytest.approx(0, abs=1e-6)
    assert float(distance(target.flip(-1)[None])) > 0
