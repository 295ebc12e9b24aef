"""The extra EMAs of ``benchmarks/ema_sweep.py`` (the benchmark itself trains; never run here)."""

import importlib.util
import sys
from pathlib import Path
from types import SimpleNamespace

import torch
from torch import nn

from stylegan_lit.training.ema import ema_beta

PATH = Path(__file__).resolve().parents[1] / "benchmarks" / "ema_sweep.py"
spec = importlib.util.spec_from_file_location("ema_sweep_benchmark", PATH)
ema_sweep = importlib.util.module_from_spec(spec)
sys.modules[spec.name] = ema_sweep
spec.loader.exec_module(ema_sweep)


def fake_run(world_size: int = 1):
    torch.manual_seed(0)
    module = SimpleNamespace(
        generator=nn.Linear(3, 2), generator_ema=nn.Linear(3, 2), images_seen=0
    )  # the StyleGANModule attributes the callback reads
    trainer = SimpleNamespace(world_size=world_size, should_stop=False)
    return trainer, module


def test_each_copy_starts_at_the_run_ema_and_decays_by_its_half_life_per_global_batch():
    trainer, module = fake_run(world_size=2)
    extra = ema_sweep.ExtraEMAs([0.5, 4.0], seconds=None)
    extra.on_train_start(trainer, module)
    assert list(extra.copies) == ["ema_0.5kimg", "ema_4kimg"]
    start = module.generator_ema.weight.detach().clone()
    target = module.generator.weight.detach()
    extra.on_train_batch_end(trainer, module, None, [torch.zeros(8, 3, 4, 4), None], 0)
    for half_life, copy in zip([0.5, 4.0], extra.copies.values(), strict=True):
        beta = ema_beta(16, half_life)  # 8 images per rank, 2 ranks
        torch.testing.assert_close(copy.weight, beta * start + (1 - beta) * target)
    assert module.generator_ema.weight.equal(start)  # the run's own EMA is left alone
    assert not trainer.should_stop


def test_a_time_budget_stops_the_run():
    trainer, module = fake_run()
    extra = ema_sweep.ExtraEMAs([], seconds=0.0)
    extra.on_train_start(trainer, module)
    extra.on_train_batch_end(trainer, module, None, torch.zeros(4, 3, 4, 4), 0)
    assert trainer.should_stop
