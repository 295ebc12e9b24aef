"""The step's latents (style mixing) and the objectives, each on its own."""

import math

import pytest
import torch

from stylegan_lit.checkpoint_format import (
    CheckpointError,
    check_networks_match,
    read_meta,
    write_meta,
)
from stylegan_lit.models import Discriminator, Generator, mix_styles
from stylegan_lit.training import losses
from stylegan_lit.training.latents import LatentDraw, draw_latents
from stylegan_lit.training.objectives import LogisticR1, WassersteinGP, make_objective
from tests.training.helpers import TINY_NET, tiny_module

CPU = torch.device("cpu")


def test_style_mixing_probability_and_crossovers():
    torch.manual_seed(0)
    trials = 2000
    draws = [draw_latents(1, 16, 16, 0.9, CPU) for _ in range(trials)]
    mixed = [d for d in draws if d.z_mix is not None]
    rate = len(mixed) / trials
    assert abs(rate - 0.9) < 3 * math.sqrt(0.9 * 0.1 / trials)
    # Crossover uniform over the layers in use at 16 px (num_ws 6): 1..5.
    assert {d.crossover for d in mixed} == {1, 2, 3, 4, 5}
    assert all(d.z_mix is None for d in (draw_latents(1, 16, 16, 0.0, CPU) for _ in range(100)))


def test_a_draw_maps_its_slices_with_one_crossover():
    G = tiny_module().generator
    torch.manual_seed(1)
    z, z_mix = torch.randn(6, 16), torch.randn(6, 16)
    draw = LatentDraw(z, z_mix, 3)
    whole = draw.map(G.mapping)
    torch.testing.assert_close(whole, mix_styles(G.mapping(z), G.mapping(z_mix), 3))
    parts = torch.cat([draw.map(G.mapping, slice(0, 4)), draw.map(G.mapping, slice(4, 6))])
    torch.testing.assert_close(parts, whole)
    torch.testing.assert_close(LatentDraw(z).map(G.mapping), G.mapping(z))


def test_the_module_draws_at_its_own_mixing_probability():
    module = tiny_module(style_mixing_prob=0.0)
    assert module.draw_latents(4, 16).z_mix is None
    assert module.draw_latents(4, 16).z.shape == (4, 16)


def critic(weight):
    """A linear 'D' on images, whose input gradient is known: ``weight`` everywhere."""
    return lambda x: (x * weight).flatten(1).sum(dim=1, keepdim=True)


def test_logistic_r1_matches_the_formulas_and_its_interval():
    objective = make_objective("logistic", r1_gamma=10.0, r1_interval=4)
    assert isinstance(objective, LogisticR1)
    assert [objective.regularizes_at(step) for step in range(5)] == [1, 0, 0, 0, 1]
    real, fake = torch.randn(3, 1, 2, 2), torch.randn(3, 1, 2, 2)
    D = critic(0.5)
    loss, logs = objective.discriminator_loss(D, D, real, fake, regularize=False)
    torch.testing.assert_close(loss, losses.d_logistic_loss(D(real), D(fake)))
    assert "loss/r1" not in logs
    loss_r1, logs = objective.discriminator_loss(D, D, real, fake, regularize=True)
    r1 = torch.tensor(0.25 * 4)  # |grad|^2 = 4 pixels * 0.5^2
    torch.testing.assert_close(logs["loss/r1"], r1)
    torch.testing.assert_close(loss_r1, loss + r1 * (10.0 / 2 * 4))
    torch.testing.assert_close(logs["scores/fake"], D(fake).mean())
    logits = torch.randn(5, 1)
    torch.testing.assert_close(
        objective.generator_loss(logits), losses.g_nonsaturating_loss(logits)
    )
    assert not LogisticR1(gamma=0.0).regularizes_at(0)


def test_wgan_gp_matches_the_formulas():
    objective = make_objective("wgan-gp", gp_lambda=10.0, wgan_drift=0.001)
    assert isinstance(objective, WassersteinGP) and objective.regularizes_at(7)
    real, fake = torch.randn(3, 1, 2, 2), torch.randn(3, 1, 2, 2)
    D = critic(0.5)  # gradient norm 1 everywhere: no penalty
    loss, logs = objective.discriminator_loss(D, D, real, fake, regularize=True)
    torch.testing.assert_close(logs["loss/gp"], torch.tensor(0.0))
    torch.testing.assert_close(loss, losses.d_wgan_loss(D(real), D(fake), 0.001))
    logits = torch.randn(5, 1)
    torch.testing.assert_close(objective.generator_loss(logits), losses.g_wgan_loss(logits))


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [(dict(loss="hinge"), "loss must be"), (dict(loss="logistic", r1_gamma=-1), "r1_gamma")],
)
def test_bad_objectives_are_refused(kwargs, match):
    with pytest.raises(ValueError, match=match):
        make_objective(**kwargs)


def test_checkpoint_meta_round_trip_and_mismatch():
    G = Generator(z_dim=16, w_dim=16, mapping_layers=2, **TINY_NET)
    D = Discriminator(**TINY_NET)
    checkpoint: dict = {}
    write_meta(checkpoint, G, D, images_seen=40, d_steps=7)
    meta = read_meta(checkpoint)
    assert meta["d_steps"] == 7 and meta["generator_config"] == G.config
    assert meta["images_seen"] == 40 and meta["schedule"] is None
    check_networks_match(meta, G, D)
    wider = Discriminator(**{**TINY_NET, "fmap_max": 32})
    with pytest.raises(
        CheckpointError, match=r"discriminator does not match.*'fmap_max': \(16, 32\)"
    ):
        check_networks_match(meta, G, wider)
    with pytest.raises(CheckpointError, match="not a stylegan_lit checkpoint"):
        read_meta({"state_dict": {}}, "x.ckpt")
    with pytest.raises(CheckpointError, match="newer than"):
        read_meta({"stylegan_lit": {**meta, "format": 99}})


def test_a_format_1_checkpoint_is_upgraded_in_memory():
    # Format 1 kept the counters as tensors in the state_dict, which strict loading of the
    # networks would now refuse: reading the entry moves them out of it.
    G = Generator(z_dim=16, w_dim=16, mapping_layers=2, **TINY_NET)
    D = Discriminator(**TINY_NET)
    checkpoint: dict = {}
    write_meta(checkpoint, G, D)
    old_entry = {k: checkpoint["stylegan_lit"][k] for k in ("generator_config", "d_steps")}
    old = {
        "stylegan_lit": {"format": 1, **old_entry, "discriminator_config": D.config},
        "state_dict": {
            "generator.x": torch.zeros(1),
            "images_seen": torch.tensor(4200),
            "resolution": torch.tensor(16),
            "alpha": torch.tensor(0.25),
            "nonfinite_skips": torch.tensor(2),
        },
    }
    meta = read_meta(old)
    assert list(old["state_dict"]) == ["generator.x"]
    assert meta["format"] == 2 and meta["images_seen"] == 4200 and meta["nonfinite_skips"] == 2
    assert meta["reached"] == {"resolution": 16, "alpha": 0.25} and meta["schedule"] is None


def test_the_guard_skips_non_finite_steps_and_stops_when_they_persist():
    from stylegan_lit.training.guard import FiniteStepGuard, NonFiniteLossError

    layer = torch.nn.Linear(2, 1)
    optimizer = torch.optim.SGD(layer.parameters(), lr=1.0)
    guard = FiniteStepGuard(max_consecutive=2)
    before = layer.weight.detach().clone()
    layer(torch.full((1, 2), float("nan"))).sum().backward()
    stepped, norm = guard.step(optimizer, layer, strategy=None, scaled=False, where="D")
    assert not stepped and not torch.isfinite(norm) and guard.skipped == 1
    assert torch.equal(layer.weight, before) and layer.weight.grad is None  # cleared
    layer(torch.ones(1, 2)).sum().backward()
    assert guard.step(optimizer, layer, strategy=None, scaled=False, where="D")[0]
    assert not torch.equal(layer.weight, before)  # a finite step goes through, resets the run
    for _ in range(2):
        layer(torch.full((1, 2), float("nan"))).sum().backward()
        if guard.skipped < 2:
            guard.step(optimizer, layer, strategy=None, scaled=False, where="D at kimg 1")
    with pytest.raises(NonFiniteLossError, match="D at kimg 1: non-finite gradients for 2"):
        guard.step(optimizer, layer, strategy=None, scaled=False, where="D at kimg 1")
    with pytest.raises(ValueError, match="max_nonfinite_steps"):
        FiniteStepGuard(0)
