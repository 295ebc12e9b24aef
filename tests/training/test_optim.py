"""Optimizer groups: the noise strengths' and the coarse blocks' learning-rate multipliers hold
through training."""

import pytest
import torch

from stylegan_lit.checkpoint_format import CheckpointError
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
    with pytest.raises(ValueError, match="coarse_lr_multiplier must be positive"):
        tiny_module(coarse_lr_multiplier=-1.0)


def test_coarse_groups_split_g_by_block_and_slow_blocks_two_octaves_down():
    G = tiny_module().generator  # blocks at 4, 8 and 16 px
    groups = parameter_groups(G, 0.5, 0.25)
    grouped = [id(p) for group in groups for p in group["params"]]
    assert sorted(grouped) == sorted(id(p) for p in G.parameters())  # a partition
    assert {g["resolution"] for g in groups} == {None, 4, 8, 16}
    assert {id(p) for p in G.mapping.parameters()} == {
        id(p) for g in groups if g["resolution"] is None for p in g["params"]
    }
    block8 = {id(p) for g in groups if g["resolution"] == 8 for p in g["params"]}
    assert {id(p) for p in G.synthesis.to_rgb["8"].parameters()} <= block8
    optimizer = torch.optim.Adam(groups, lr=1.0)

    def rates(resolution):
        set_learning_rate([optimizer], 0.01, resolution)
        return {
            (g["resolution"], g["lr_multiplier"]): pytest.approx(g["lr"])
            for g in optimizer.param_groups
        }

    full = {(None, 1.0): 0.01, **{(r, m): 0.01 * m for r in (4, 8, 16) for m in (1.0, 0.5)}}
    assert rates(8) == full and rates(None) == full  # nothing two octaves below 8 px
    at16 = rates(16)
    assert at16 == {**full, (4, 1.0): 0.0025, (4, 0.5): 0.00125}
    with pytest.raises(ValueError, match="generator with a synthesis network"):
        parameter_groups(tiny_module().discriminator, coarse_lr_multiplier=0.5)


def test_training_applies_the_coarse_rate_once_two_levels_sit_on_a_block(tmp_path):
    module = tiny_module(coarse_lr_multiplier=0.25)
    trainer = tiny_trainer(tmp_path, [tiny_growth(total_kimg=0.072)])  # ends fading in 16 px
    trainer.fit(module, datamodule=tiny_data())
    lr = module.schedule.phase(0).learning_rate
    g_optimizer = trainer.optimizers[0]
    rates = {g["resolution"]: g["lr"] for g in g_optimizer.param_groups}
    assert rates == {None: lr, 4: pytest.approx(0.25 * lr), 8: lr, 16: lr}
    assert {g["lr"] for g in trainer.optimizers[1].param_groups} == {lr}  # D: full rate


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


def test_resuming_under_other_multipliers_is_refused_naming_them(tmp_path):
    trainer = tiny_trainer(tmp_path, [tiny_growth()], max_steps=1)
    trainer.fit(tiny_module(coarse_lr_multiplier=0.25), datamodule=tiny_data())
    ckpt = tmp_path / "coarse.ckpt"
    trainer.save_checkpoint(ckpt)
    with pytest.raises(CheckpointError, match=r"G optimizer .*coarse_lr_multiplier differs"):
        tiny_trainer(tmp_path, [tiny_growth()]).fit(
            tiny_module(), datamodule=tiny_data(), ckpt_path=ckpt
        )
    # The same groups at another rate: Adam's loader would keep the saved 0.25 silently.
    with pytest.raises(CheckpointError, match=r"G optimizer .*coarse_lr_multiplier differs"):
        tiny_trainer(tmp_path, [tiny_growth()]).fit(
            tiny_module(coarse_lr_multiplier=0.5), datamodule=tiny_data(), ckpt_path=ckpt
        )
    same = tiny_module(coarse_lr_multiplier=0.25)
    tiny_trainer(tmp_path, [tiny_growth(total_kimg=0.016)]).fit(
        same, datamodule=tiny_data(), ckpt_path=ckpt
    )
    assert same.images_seen == 16  # the run's own settings resume
