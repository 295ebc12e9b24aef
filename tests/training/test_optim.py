"""Optimizer groups: the noise strengths' learning-rate multiplier holds through training."""

import pytest
import torch

from stylegan_lit.training.optim import noise_strengths, parameter_groups, set_learning_rate
from tests.training.helpers import tiny_data, tiny_growth, tiny_module, tiny_trainer


def test_one_group_by_default_and_the_strengths_apart_otherwise():
    G = tiny_module().generator
    (only,) = parameter_groups(G)
    assert len(only["params"]) == len(list(G.parameters()))  # as earlier checkpoints hold it
    rest, noise = parameter_groups(G, 0.1)
    assert {id(p) for p in noise["params"]} == {id(p) for p in noise_strengths(G)}
    assert len(rest["params"]) + len(noise["params"]) == len(list(G.parameters()))
    optimizer = torch.optim.Adam([rest, noise], lr=1.0)
    set_learning_rate([optimizer], 0.004)
    assert [g["lr"] for g in optimizer.param_groups] == [0.004, pytest.approx(0.0004)]


def test_a_non_positive_multiplier_is_refused():
    with pytest.raises(ValueError, match="noise_lr_multiplier must be positive"):
        tiny_module(noise_lr_multiplier=0.0)


def test_the_first_adam_step_moves_strengths_by_the_multiplied_rate(tmp_path):
    # Adam with beta1 = 0 moves every parameter with a gradient by almost exactly the rate on
    # its first step (g / sqrt(g^2)), so the step sizes show each group's rate.
    module = tiny_module(noise_lr_multiplier=0.1)
    before = {name: p.detach().clone() for name, p in module.generator.named_parameters()}
    trainer = tiny_trainer(tmp_path, [tiny_growth(total_kimg=0.008)])
    trainer.fit(module, datamodule=tiny_data())
    lr = module.schedule.phase(0).learning_rate
    moved = {
        name: (p.detach() - before[name]).abs().max().item()
        for name, p in module.generator.named_parameters()
    }
    strengths = {name: step for name, step in moved.items() if name.endswith("noise.strength")}
    others = {name: step for name, step in moved.items() if name not in strengths}
    # (1% slack: the difference of two float32 weights near 1 is rounded to ~1e-7)
    assert 0.09 * lr < max(strengths.values()) <= 0.1 * lr * 1.01
    assert 0.9 * lr < max(others.values()) <= lr * 1.01
