"""Where the training step's time goes: torch.profiler over steps of the shipped module.

Runs ``StyleGANModule`` in a Lightning ``Trainer`` (as ``train_step.py`` does) and profiles
a few steps after a warm-up. Prints JSON lines:

* ``phase``: wall seconds per step in each part of the step (D pass, and inside it the D
  loss with its forwards and R1's graph, D optimizer step, G pass, G optimizer step,
  w_avg + EMA, logging, the rest: data,
  callbacks, Lightning), measured with ``record_function`` ranges put around the module's
  methods by this script (the package has no profiling hooks);
* ``family``: self CPU time per op family (convolution, matmul, elementwise, reduction and
  normalisation, copy/cast/layout, optimizer, autograd bookkeeping, other) and its share of
  the profiled ops' time; the difference between wall time and the ops' time is Python and
  framework overhead, reported as ``overhead``;
* ``cpu``: the CPU model and thread count, so numbers from different machines are not mixed.

    python benchmarks/profile_step.py                                  # the demo network
    python benchmarks/profile_step.py --variant baseline               # every switch off
    python benchmarks/profile_step.py --channels official --resolution 64 --batch 16
    python benchmarks/profile_step.py --channels official --resolution 64 --batch 16 \\
        --precision bf16-mixed
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import defaultdict
from pathlib import Path

import torch
from torch.profiler import ProfilerActivity, profile, record_function

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.machine import cpu_model  # noqa: E402
from benchmarks.networks import PRESETS, network_arguments  # noqa: E402
from benchmarks.train_step import VARIANTS, variant_setup  # noqa: E402

FAMILIES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("convolution", ("conv", "_convolution", "mkldnn_convolution", "slow_conv")),
    ("matmul", ("addmm", "mm", "bmm", "linear", "matmul")),
    ("optimizer", ("_foreach", "adam", "_fused_adam", "lerp", "optimizer.step")),
    ("copy/cast/layout", ("copy_", "to", "_to_copy", "contiguous", "clone", "empty_like",
                          "permute", "as_strided", "view", "reshape", "transpose", "cat",
                          "stack", "expand", "fill_", "zero_", "zeros", "empty", "ones")),
    ("reduction/normalisation", ("sum", "mean", "var", "std", "norm", "rsqrt", "sqrt",
                                 "linalg_vector_norm", "native_batch_norm", "group_norm")),
    ("elementwise", ("mul", "add", "sub", "div", "leaky_relu", "where", "neg", "exp",
                     "softplus", "pow", "addcmul", "addcdiv", "sigmoid", "abs", "maximum",
                     "clamp", "randn", "normal_", "uniform_", "bernoulli", "isfinite",
                     "threshold", "lt", "gt", "ge", "le", "eq", "ne", "avg_pool2d",
                     "upsample", "pad", "constant_pad_nd")),
    ("autograd bookkeeping", ("autograd::engine", "torch::autograd", "AccumulateGrad")),
)  # fmt: skip

PHASES = {
    "d_pass": "stylegan_lit.training.passes:GANPasses.discriminator_pass",
    "g_pass": "stylegan_lit.training.passes:GANPasses.generator_pass",
    "d_loss_and_r1": "stylegan_lit.training.objectives:LogisticR1.discriminator_loss",
    "optimizer_steps": "stylegan_lit.training.guard:FiniteStepGuard.step",
    "w_avg_and_ema": "stylegan_lit.training.module:StyleGANModule._follow_generator",
    "logging": "stylegan_lit.training.module:StyleGANModule._log_step",
}
"""Methods timed as phases, nested: ``d_loss_and_r1`` (D's forwards on reals and fakes, the
loss, and R1's graph on the steps that regularise) is part of ``d_pass``, whose backward it
is not."""


def family_of(name: str) -> str:
    op = name.split("::")[-1].lower()
    for family, keys in FAMILIES:
        if any(op == key or op.startswith(key) for key in keys) or any(
            name.startswith(key) for key in keys if "::" in key
        ):
            return family
    return "other"


def wrap_phases() -> None:
    """Put a ``record_function`` range around each method in :data:`PHASES`."""
    import importlib

    for label, path in PHASES.items():
        module_name, qualified = path.split(":")
        owner_name, method_name = qualified.split(".")
        owner = getattr(importlib.import_module(module_name), owner_name)
        original = getattr(owner, method_name)

        def wrapped(*args, _original=original, _label=label, **kwargs):
            with record_function(f"phase::{_label}"):
                return _original(*args, **kwargs)

        setattr(owner, method_name, wrapped)


def emit(record: dict) -> None:
    print(json.dumps(record), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--resolution", type=int, default=32)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--channels", choices=PRESETS, default="demo")
    parser.add_argument(
        "--variant", choices=sorted(VARIANTS), default="shipped",
        help="train_step.py's switch settings: 'baseline' (every switch off) is the before",
    )  # fmt: skip
    parser.add_argument("--precision", default=None, help="default: the variant's")
    parser.add_argument("--steps", type=int, default=16, help="profiled steps (after 4 warm-up)")
    args = parser.parse_args()

    import lightning.pytorch as pl

    from stylegan_lit.callbacks import ProgressiveGrowing
    from stylegan_lit.cli.train import TRAINER_DEFAULTS
    from stylegan_lit.data.datamodule import FaceDataModule
    from stylegan_lit.models import Discriminator, Generator
    from stylegan_lit.training import StyleGANModule

    wrap_phases()
    warmup, res = 4, args.resolution
    torch.manual_seed(0)
    g_args, d_args = network_arguments(args.channels, res)
    variant_precision, settings = variant_setup(args.variant, args.channels)
    precision = args.precision or variant_precision
    module = StyleGANModule(Generator(**g_args), Discriminator(**d_args), **settings)
    steps = warmup + args.steps
    growth = ProgressiveGrowing(
        start_resolution=res, stable_kimg=1e6, fade_kimg=0,
        total_kimg=steps * args.batch / 1000, batch_sizes={res: args.batch},
    )  # fmt: skip

    class Profiled(pl.Callback):
        def __init__(self) -> None:
            self.profiler = profile(activities=[ProfilerActivity.CPU])
            self.started = 0.0
            self.wall = 0.0

        def on_train_batch_start(self, trainer, pl_module, batch, batch_idx) -> None:
            if batch_idx == warmup:
                self.profiler.__enter__()
                self.started = time.perf_counter()

        def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
            if batch_idx == steps - 1:
                self.wall = time.perf_counter() - self.started
                self.profiler.__exit__(None, None, None)

    profiled = Profiled()
    trainer = pl.Trainer(
        **{**TRAINER_DEFAULTS, "logger": False, "enable_checkpointing": False},
        accelerator="cpu", devices=1, precision=precision, callbacks=[growth, profiled],
        enable_progress_bar=False, enable_model_summary=False,
        default_root_dir="/tmp/profile_step_bench",
    )  # fmt: skip
    trainer.fit(module, datamodule=FaceDataModule(resolution=res, num_images=512))

    per_step = profiled.wall / args.steps
    emit({
        "kind": "cpu", "model": cpu_model(), "threads": torch.get_num_threads(),
        "resolution": res, "channels": args.channels, "batch": args.batch,
        "variant": args.variant, "precision": precision, "sec_per_step": round(per_step, 4),
        "images_per_s": round(args.batch / per_step, 1),
        "note": "wall time includes profiler overhead (a few % for kernels, more for tiny ops)",
    })  # fmt: skip
    events = profiled.profiler.key_averages()
    phase_time = {
        e.key.removeprefix("phase::"): e.cpu_time_total / 1e6 / args.steps
        for e in events
        if e.key.startswith("phase::")
    }
    accounted = sum(v for k, v in phase_time.items() if k != "d_loss_and_r1")  # nested
    for label, seconds in sorted(phase_time.items(), key=lambda kv: -kv[1]):
        emit({"kind": "phase", "phase": label, "sec_per_step": round(seconds, 4),
              "share_of_step": round(seconds / per_step, 3)})  # fmt: skip
    emit({"kind": "phase", "phase": "rest (data, callbacks, Lightning)",
          "sec_per_step": round(per_step - accounted, 4),
          "share_of_step": round((per_step - accounted) / per_step, 3)})  # fmt: skip
    families: dict[str, float] = defaultdict(float)
    counts: dict[str, int] = defaultdict(int)
    for e in events:
        if e.key.startswith("phase::") or e.key.startswith("ProfilerStep"):
            continue
        families[family_of(e.key)] += e.self_cpu_time_total / 1e6 / args.steps
        counts[family_of(e.key)] += e.count // args.steps
    ops_total = sum(families.values())
    for family, seconds in sorted(families.items(), key=lambda kv: -kv[1]):
        emit({"kind": "family", "family": family, "sec_per_step": round(seconds, 4),
              "share_of_ops": round(seconds / ops_total, 3),
              "calls_per_step": counts[family]})  # fmt: skip
    emit({"kind": "overhead", "what": "wall - self time of all ops (Python, dispatch, Lightning)",
          "sec_per_step": round(per_step - ops_total, 4),
          "share_of_step": round((per_step - ops_total) / per_step, 3)})  # fmt: skip
    top = sorted(
        (e for e in events if not e.key.startswith("phase::")),
        key=lambda e: -e.self_cpu_time_total,
    )[:15]
    for e in top:
        emit({"kind": "op", "op": e.key, "family": family_of(e.key),
              "self_ms_per_step": round(e.self_cpu_time_total / 1e3 / args.steps, 2),
              "calls_per_step": e.count // args.steps})  # fmt: skip


if __name__ == "__main__":
    main()
