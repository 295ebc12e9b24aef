import io

import pytest
import torch
import torch.nn.functional as F

from stylegan_lit.models import (
    Discriminator,
    Generator,
    MappingNetwork,
    feature_maps,
    mix_styles,
    num_ws_for,
)
from tests.conftest import randomize_parameters

TINY = dict(z_dim=16, w_dim=16, resolution=32, mapping_layers=2, fmap_base=64, fmap_max=16)
TINY_D = dict(resolution=32, fmap_base=64, fmap_max=16)


def count(module: torch.nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


@pytest.fixture
def G() -> Generator:
    return randomize_parameters(Generator(**TINY), scale=0.3).eval()


@pytest.fixture
def D() -> Discriminator:
    return randomize_parameters(Discriminator(**TINY_D), scale=0.3).eval()


def test_official_parameter_counts():
    G = Generator()
    D = Discriminator()
    assert count(G.mapping) == 2_101_248
    assert count(G.synthesis.blocks) == 24_110_720
    assert count(G.synthesis.to_rgb) == 7_659
    assert count(G) == 26_219_627
    assert count(D) == 23_087_249
    assert G.num_ws == 18


def test_feature_map_table():
    table = {4: 512, 8: 512, 16: 512, 32: 512, 64: 256, 128: 128, 256: 64, 512: 32, 1024: 16}
    assert {r: feature_maps(r) for r in table} == table
    assert [num_ws_for(r) for r in (4, 8, 64, 1024)] == [2, 4, 10, 18]


@pytest.mark.parametrize("bad", [0, 3, 6, 100, 2, -8])
def test_bad_resolution_rejected(bad):
    with pytest.raises(ValueError, match="resolution"):
        Generator(**{**TINY, "resolution": bad})
    with pytest.raises(ValueError, match="resolution"):
        Discriminator(**{**TINY_D, "resolution": bad})


@pytest.mark.parametrize("resolution", [4, 8, 16, 32])
@pytest.mark.parametrize("img_channels", [1, 3])
def test_shapes_at_every_resolution(resolution, img_channels):
    G = Generator(**TINY, img_channels=img_channels)
    D = Discriminator(**TINY_D, img_channels=img_channels)
    z = torch.randn(5, 16)
    img = G(z, resolution=resolution)
    assert img.shape == (5, img_channels, resolution, resolution)
    assert torch.isfinite(img).all()
    # Unit-variance AdaIN features through a gain-1 toRGB: a fresh G outputs images of
    # about unit standard deviation (not clamped, as officially); a wrong gain shows here.
    assert 0.3 < img.std().item() < 3.0
    logits = D(img, alpha=0.5)
    assert logits.shape == (5,)


def test_resolution_above_maximum_rejected(G, D):
    with pytest.raises(ValueError, match="exceeds"):
        G(torch.randn(1, 16), resolution=64)
    with pytest.raises(ValueError, match="exceeds"):
        D(torch.randn(1, 3, 64, 64))
    with pytest.raises(ValueError, match="square"):
        D(torch.randn(1, 3, 32, 16))


@pytest.mark.parametrize("resolution", [8, 16, 32])
def test_generator_fade_in_continuity(G, resolution):
    ws = G.mapping(torch.randn(4, 16))
    low = G.synthesis(ws, resolution=resolution // 2, noise_mode="const")
    faded = G.synthesis(ws, resolution=resolution, alpha=0.0, noise_mode="const")
    torch.testing.assert_close(faded, F.interpolate(low, scale_factor=2, mode="nearest"))
    torch.testing.assert_close(F.avg_pool2d(faded, 2), low)


def test_generator_alpha_one_ignores_skip_path(G):
    ws = G.mapping(torch.randn(3, 16))
    before = G.synthesis(ws, resolution=16, alpha=1.0, noise_mode="const")
    with torch.no_grad():
        G.synthesis.to_rgb["8"].weight.mul_(-3.0)
    after = G.synthesis(ws, resolution=16, alpha=1.0, noise_mode="const")
    torch.testing.assert_close(before, after, rtol=0, atol=0)
    midway = G.synthesis(ws, resolution=16, alpha=0.5, noise_mode="const")
    assert not torch.allclose(before, midway)


@pytest.mark.parametrize("resolution", [8, 16, 32])
def test_discriminator_fade_in_continuity(D, resolution):
    img = torch.randn(4, 3, resolution, resolution)
    faded = D(img, alpha=0.0)
    torch.testing.assert_close(faded, D(F.avg_pool2d(img, 2)))


def test_discriminator_alpha_one_ignores_skip_path(D):
    img = torch.randn(4, 3, 16, 16)
    before = D(img, alpha=1.0)
    with torch.no_grad():
        D.from_rgb["8"].conv.weight.mul_(-3.0)
    torch.testing.assert_close(before, D(img, alpha=1.0), rtol=0, atol=0)


def test_alpha_interpolates_linearly(G):
    ws = G.mapping(torch.randn(2, 16))
    a0, a1, ah = (
        G.synthesis(ws, resolution=16, alpha=a, noise_mode="const") for a in (0.0, 1.0, 0.25)
    )
    torch.testing.assert_close(ah, 0.75 * a0 + 0.25 * a1)


def test_truncation(G):
    z = torch.randn(6, 16)
    with torch.no_grad():
        G.mapping.w_avg.normal_()
    ws = G.mapping(z)
    torch.testing.assert_close(G.mapping(z, truncation_psi=1.0), ws)
    ws0 = G.mapping(z, truncation_psi=0.0)
    torch.testing.assert_close(ws0, G.mapping.w_avg.expand_as(ws0), rtol=0, atol=0)
    collapsed = G(z, truncation_psi=0.0, noise_mode="const")
    # Batched convs may round differently per sample: float tolerance on pixels.
    torch.testing.assert_close(collapsed, collapsed[:1].expand_as(collapsed), atol=1e-4, rtol=1e-4)
    avg_image = G.synthesis(G.mapping.w_avg.expand(1, G.num_ws, -1), noise_mode="const")
    torch.testing.assert_close(collapsed[:1], avg_image, atol=1e-4, rtol=1e-4)
    cut = G.mapping(z, truncation_psi=0.5, truncation_cutoff=4)
    torch.testing.assert_close(cut[:, 4:], ws[:, 4:], rtol=0, atol=0)
    torch.testing.assert_close(cut[:, :4], G.mapping.w_avg + 0.5 * (ws[:, :4] - G.mapping.w_avg))


def test_style_mixing_extremes(G):
    ws1 = G.mapping(torch.randn(3, 16))
    ws2 = G.mapping(torch.randn(3, 16))
    image = lambda ws: G.synthesis(ws, noise_mode="const")  # noqa: E731
    torch.testing.assert_close(image(mix_styles(ws1, ws2, 0)), image(ws2))
    torch.testing.assert_close(image(mix_styles(ws1, ws2, G.num_ws)), image(ws1))
    mixed = mix_styles(ws1, ws2, torch.tensor([0, 3, G.num_ws]))
    torch.testing.assert_close(mixed[0], ws2[0])
    torch.testing.assert_close(mixed[1, :3], ws1[1, :3])
    torch.testing.assert_close(mixed[1, 3:], ws2[1, 3:])
    torch.testing.assert_close(mixed[2], ws1[2])


def test_coarse_and_fine_layers_both_matter(G):
    ws1 = G.mapping(torch.randn(2, 16))
    ws2 = G.mapping(torch.randn(2, 16))
    base = G.synthesis(ws1, noise_mode="const")
    for crossover in (2, G.num_ws - 2):
        assert not torch.allclose(
            base, G.synthesis(mix_styles(ws1, ws2, crossover), noise_mode="const")
        )


def test_noise_modes_in_generator(G):
    z = torch.randn(2, 16)
    const = G(z, noise_mode="const")
    torch.testing.assert_close(const, G(z, noise_mode="const"), rtol=0, atol=0)
    assert not torch.allclose(G(z, noise_mode="random"), G(z, noise_mode="random"))
    with torch.no_grad():
        for module in G.modules():
            if hasattr(module, "strength"):
                module.strength.zero_()
    torch.testing.assert_close(G(z, noise_mode="random"), G(z, noise_mode="none"))


def test_random_noise_varies_detail_not_identity(G):
    z = torch.randn(1, 16).expand(8, -1)
    images = G(z, noise_mode="random")
    spread = images.std(dim=0).mean()
    between_identities = G(torch.randn(8, 16), noise_mode="random").std(dim=0).mean()
    assert 0 < spread < between_identities


def test_w_avg_update():
    mapping = MappingNetwork(z_dim=8, w_dim=8, num_layers=2, w_avg_beta=0.9)
    w = torch.randn(16, 8)
    mapping.update_w_avg(w)
    torch.testing.assert_close(mapping.w_avg, 0.1 * w.mean(dim=0))
    mapping.update_w_avg(w)
    torch.testing.assert_close(mapping.w_avg, 0.19 * w.mean(dim=0))


def test_mapping_output_and_errors():
    mapping = MappingNetwork(z_dim=8, w_dim=12, num_layers=3)
    assert mapping(torch.randn(4, 8)).shape == (4, 12)
    with pytest.raises(ValueError, match="z must have shape"):
        mapping(torch.randn(4, 9))
    # z is pixel-normalised first: its scale does not matter.
    z = torch.randn(4, 8)
    torch.testing.assert_close(mapping(z), mapping(5 * z))


def test_state_dict_roundtrip(G, D):
    for net, fresh in ((G, Generator(**TINY)), (D, Discriminator(**TINY_D))):
        buffer = io.BytesIO()
        torch.save(net.state_dict(), buffer)
        buffer.seek(0)
        fresh.load_state_dict(torch.load(buffer, weights_only=True))
        fresh.eval()
        if isinstance(net, Generator):
            z = torch.randn(2, 16)
            torch.testing.assert_close(fresh(z, noise_mode="const"), net(z, noise_mode="const"))
            torch.testing.assert_close(fresh.mapping.w_avg, net.mapping.w_avg)
        else:
            img = torch.randn(2, 3, 32, 32)
            torch.testing.assert_close(fresh(img), net(img))


def test_deterministic_with_seed():
    outputs = []
    for _ in range(2):
        torch.manual_seed(42)
        G = Generator(**TINY)
        outputs.append(G(torch.randn(2, 16), noise_mode="const"))
    torch.testing.assert_close(outputs[0], outputs[1], rtol=0, atol=0)


def test_gradients_reach_only_used_layers(G, D):
    G.train()
    z = torch.randn(4, 16)
    D(G(z, resolution=16, alpha=0.5), alpha=0.5).sum().backward()
    assert G.synthesis.blocks["16"].conv1.weight.grad is not None
    assert G.synthesis.to_rgb["8"].weight.grad is not None
    assert G.synthesis.blocks["32"].conv1.weight.grad is None
    assert G.mapping.layers[0].weight.grad is not None
