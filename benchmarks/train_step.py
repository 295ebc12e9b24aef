"""Training-step speed as shipped, with the device's own peaks beside it.

Prints JSON lines:
  * ``peak``: this device's fp32/bf16 matmul (2048^2) and 3x3 conv fwd+bwd (512 ch at 32 px,
    256 ch at 64 px; NCHW and channels_last) in GFLOP/s;
  * ``network``: one D+G iteration of the bare networks in fp32 (D on reals and fakes, then G;
    no R1), its FLOPs (``torch.utils.flop_counter``) and the fraction of the channels_last
    fp32 conv peak it reaches;
  * ``peer`` (with ``--peer TREE``): rosinality/style-based-gan-pytorch's training step
    (``benchmarks/peer.py``: R1 every step, as its script runs), and ``speedup_over_peer``:
    each of our variants' images/s over the peer's;
  * ``train_step``: the training step as ``StyleGANModule`` runs it inside a Lightning
    ``Trainer`` (data module, callbacks, optimizers), per variant: images/s, sec/kimg, FLOPs
    per image, achieved GFLOP/s (plain steps), peak memory (RSS on CPU, max allocated on GPU),
    and ``fraction_of_peak``: achieved GFLOP/s over this run's channels_last conv peak of the
    same shape in the variant's own precision (fp32 or bf16).

Variants (``VARIANTS``): ``baseline`` (our code with every switch off: R1 every step, G run
twice, NCHW, unfused layers, fp32), ``shipped`` (the module's defaults), ``shipped+bf16``
(bf16-mixed autocast, R1 in fp32), ``shipped+compile`` and leave-one-out ablations
(``no_channels_last`` ...). The default run is baseline, shipped and shipped+bf16;
``--ablation`` runs them all. Each runs in its own process, so peak memory is its own.

    python benchmarks/train_step.py                         # 32 px, official channels, batch 16
    python benchmarks/train_step.py --resolution 64         # the issue's headline setting
    python benchmarks/train_step.py --ablation              # every switch on and off
    python benchmarks/train_step.py --resolution 64 --peer ~/style-based-gan-pytorch
    python benchmarks/train_step.py --channels demo         # configs/demo.yaml's network
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils.flop_counter import flop_registry

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.networks import PRESETS, module_arguments, network_arguments  # noqa: E402

EVERYTHING_OFF = dict(
    r1_interval=1, reuse_fakes=False, channels_last=False, fused_resampling=False,
    fused_epilogue=False, compile=False,
)  # fmt: skip
VARIANTS: dict[str, dict[str, object]] = {
    # Our own code with every switch off and R1 on every step (the reference's algorithm).
    "baseline": dict(EVERYTHING_OFF, precision="32-true"),
    # The module's defaults, as users get them.
    "shipped": dict(precision="32-true"),
    "shipped+bf16": dict(precision="bf16-mixed"),
    "shipped+compile": dict(compile=True, precision="32-true"),
    "shipped+compile+bf16": dict(compile=True, precision="bf16-mixed"),
    # Leave-one-out ablations of the shipped defaults.
    "no_lazy_r1": dict(r1_interval=1, precision="32-true"),
    "no_reuse_fakes": dict(reuse_fakes=False, precision="32-true"),
    "no_channels_last": dict(channels_last=False, precision="32-true"),
    "no_fused_resampling": dict(fused_resampling=False, precision="32-true"),
    "no_fused_epilogue": dict(fused_epilogue=False, precision="32-true"),
}
DEFAULT_VARIANTS = ["baseline", "shipped", "shipped+bf16"]
"""What runs without ``--variants``/``--ablation``: fits in 5 minutes at 32 px on 2 cores."""
PEER = "peer"
"""The variant name of the peer's step (``--peer``)."""


def variant_setup(variant: str, channels: str) -> tuple[str, dict[str, Any]]:
    """A variant's Trainer precision and its ``StyleGANModule`` arguments: the preset's
    training arguments with the variant's switches over them (shared with profile_step.py,
    so both benchmarks time the same step for a variant name)."""
    settings = dict(VARIANTS[variant])
    precision = str(settings.pop("precision"))
    return precision, {**module_arguments(channels), **settings}


class FlopCount(TorchDispatchMode):
    """Counts matmul/conv FLOPs with torch's own formulas (``torch.utils.flop_counter``),
    without the module tracker of ``FlopCounterMode``, which trips over the requires_grad
    toggling of a GAN step."""

    def __init__(self) -> None:
        super().__init__()
        self.total = 0

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        out = func(*args, **kwargs)
        counter = flop_registry.get(func._overloadpacket)
        if counter is not None:
            self.total += counter(*args, **kwargs, out_val=out)
        return out


def emit(record: dict) -> None:
    print(json.dumps(record), flush=True)


def timed(fn, repeats: int) -> float:
    """Mean seconds per call over ``repeats`` calls, after one warm-up call."""
    fn()
    start = time.perf_counter()
    for _ in range(repeats):
        fn()
    return (time.perf_counter() - start) / repeats


def best_time(fn, repeats: int) -> float:
    """Fastest of ``repeats`` calls (after a warm-up): a peak is what the device can do, so
    the fastest call estimates it best, and the fraction of peak is not flattered by a
    slow measurement of the peak."""
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def device_peaks(device: torch.device) -> dict[str, float]:
    """Measured GFLOP/s of the building blocks the networks are made of."""
    peaks: dict[str, float] = {}
    for dtype in (torch.float32, torch.bfloat16):
        name = "fp32" if dtype == torch.float32 else "bf16"
        a = torch.randn(2048, 2048, device=device, dtype=dtype)
        seconds = best_time(lambda a=a: a @ a, 5)
        peaks[f"matmul2048_{name}"] = 2 * 2048**3 / seconds / 1e9
        for channels, res in ((512, 32), (256, 64)):
            for fmt in ("nchw", "channels_last"):
                memory = torch.channels_last if fmt == "channels_last" else torch.contiguous_format
                x = torch.randn(16, channels, res, res, device=device, dtype=dtype)
                x = x.contiguous(memory_format=memory).requires_grad_(True)
                w = torch.randn(channels, channels, 3, 3, device=device, dtype=dtype)
                w = w.contiguous(memory_format=memory).requires_grad_(True)

                def step(x=x, w=w):
                    F.conv2d(x, w, padding=1).sum().backward()

                flops = 3 * 2 * 16 * channels * channels * 9 * res * res  # fwd + 2 bwd convs
                peaks[f"conv3x3_{channels}@{res}_{fmt}_{name}"] = flops / best_time(step, 3) / 1e9
    return peaks


def network_iteration(args: argparse.Namespace, device: torch.device) -> dict:
    from stylegan_lit.models import Discriminator, Generator
    from stylegan_lit.training import losses

    torch.manual_seed(0)
    g_args, d_args = network_arguments(args.channels, args.resolution)
    G, D = Generator(**g_args).to(device), Discriminator(**d_args).to(device)
    G, D = G.to(memory_format=torch.channels_last), D.to(memory_format=torch.channels_last)
    real = torch.randn(args.batch, 3, args.resolution, args.resolution, device=device)
    real = real.contiguous(memory_format=torch.channels_last)

    def iteration() -> None:
        z = torch.randn(args.batch, G.z_dim, device=device)
        with torch.no_grad():
            fake = G(z)
        losses.d_logistic_loss(D(real), D(fake)).backward()
        losses.g_nonsaturating_loss(D(G(z))).backward()

    with FlopCount() as counter:
        iteration()
    seconds = timed(iteration, args.steps)
    return {"seconds": seconds, "flops": counter.total}


def train_step_variant(args: argparse.Namespace, variant: str) -> None:
    """One variant in a Lightning ``Trainer``: batch 0 warms up, batch 1 is FLOP-counted,
    batch 2 is forced to be an R1 step, the rest are plain D+G steps. The images/s reported
    amortise the R1 step over the variant's R1 interval, as training pays it."""
    import lightning.pytorch as pl

    from stylegan_lit.callbacks import ProgressiveGrowing
    from stylegan_lit.cli.train import TRAINER_DEFAULTS
    from stylegan_lit.data.datamodule import FaceDataModule
    from stylegan_lit.models import Discriminator, Generator
    from stylegan_lit.training import StyleGANModule

    precision, settings = variant_setup(variant, args.channels)
    res = args.resolution
    g_args, d_args = network_arguments(args.channels, res)
    torch.manual_seed(0)
    module = StyleGANModule(Generator(**g_args), Discriminator(**d_args), **settings)
    steps = args.steps + 3
    growth = ProgressiveGrowing(
        start_resolution=res, stable_kimg=1e6, fade_kimg=0,
        total_kimg=steps * args.batch / 1000, batch_sizes={res: args.batch},
    )  # fmt: skip

    class Clock(pl.Callback):
        def __init__(self) -> None:
            self.ends: list[float] = []
            self.flops = 0

        def on_train_batch_start(self, trainer, pl_module, batch, batch_idx) -> None:
            if batch_idx == 1:  # count the FLOPs of one (non-R1, if lazy) step
                self.counter = FlopCount()
                self.counter.__enter__()
            if batch_idx == 2:
                pl_module._d_steps = 0  # this step regularises, whatever the interval

        def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
            if batch_idx == 1:
                self.counter.__exit__(None, None, None)
                self.flops = self.counter.total
            if torch.cuda.is_available():
                torch.cuda.synchronize()
            self.ends.append(time.perf_counter())

    clock = Clock()
    trainer = pl.Trainer(
        **{**TRAINER_DEFAULTS, "logger": False, "enable_checkpointing": False},
        accelerator=args.accelerator, devices=1, precision=precision,
        callbacks=[growth, clock], enable_progress_bar=False, enable_model_summary=False,
        default_root_dir="/tmp/train_step_bench",
    )  # fmt: skip
    data = FaceDataModule(resolution=res, num_images=max(256, steps * args.batch))
    trainer.fit(module, datamodule=data)
    r1_step = clock.ends[2] - clock.ends[1]
    plain = [b - a for a, b in zip(clock.ends[2:], clock.ends[3:], strict=False)]
    plain_step = sum(plain) / len(plain)
    interval = module.hparams.r1_interval
    per_step = (r1_step + (interval - 1) * plain_step) / interval
    if torch.cuda.is_available():
        peak_mem = torch.cuda.max_memory_allocated() / 2**20
    else:
        peak_mem = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    emit({
        "kind": "train_step", "variant": variant, "resolution": res, "channels": args.channels,
        "batch": args.batch, "sec_per_step": round(per_step, 3),
        "sec_r1_step": round(r1_step, 3), "sec_plain_step": round(plain_step, 3),
        "images_per_s": round(args.batch / per_step, 3),
        "sec_per_kimg": round(1000 / args.batch * per_step, 1),
        "flops_per_image_g": round(clock.flops / args.batch / 1e9, 2),
        "achieved_gflops": round(clock.flops / plain_step / 1e9, 1),
        "peak_memory_mib": round(peak_mem), **{k: v for k, v in module.hparams.items()
        if k in EVERYTHING_OFF}, "precision": precision,
    })  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--resolution", type=int, default=32)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--channels", choices=PRESETS, default="official")
    parser.add_argument("--steps", type=int, default=2, help="timed plain steps per variant")
    parser.add_argument("--accelerator", default="cpu")
    parser.add_argument("--variants", nargs="*", choices=sorted(VARIANTS), default=None)
    parser.add_argument(
        "--ablation", action="store_true", help="every variant (about 4x the default time)"
    )
    parser.add_argument("--skip-peaks", action="store_true")
    parser.add_argument(
        "--peer",
        type=Path,
        help="source tree of rosinality/style-based-gan-pytorch: time its training step too "
        "(see benchmarks/peer.py) and print our speed-up over it",
    )
    parser.add_argument("--variant", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.variant == PEER:
        from benchmarks.peer import time_peer

        row = time_peer(args.peer, args.resolution, args.batch, args.steps)
        peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        emit({**row, "peak_memory_mib": round(peak_mib)})
        return
    if args.variant:
        train_step_variant(args, args.variant)
        return
    device = torch.device("cuda" if args.accelerator == "gpu" else "cpu")
    variant_peaks: dict[str, float] = {}  # precision -> the conv peak in that precision
    if not args.skip_peaks:
        peaks = device_peaks(device)
        for key, value in peaks.items():
            emit({"kind": "peak", "op": key, "gflops": round(value, 1)})
        conv_key = (
            f"conv3x3_{512 if args.resolution <= 32 else 256}@{min(max(args.resolution, 32), 64)}"
        )
        variant_peaks = {
            "32-true": peaks[f"{conv_key}_channels_last_fp32"],
            "bf16-mixed": peaks[f"{conv_key}_channels_last_bf16"],
        }
    conv_peak = variant_peaks.get("32-true")
    result = network_iteration(args, device)
    achieved = result["flops"] / result["seconds"] / 1e9
    emit({
        "kind": "network", "what": "D(real)+D(fake) then G step, fp32, channels_last, no R1",
        "resolution": args.resolution, "channels": args.channels, "batch": args.batch,
        "sec_per_iteration": round(result["seconds"], 3),
        "tflop_per_iteration": round(result["flops"] / 1e12, 3),
        "achieved_gflops": round(achieved, 1),
        "fraction_of_conv_peak": None if conv_peak is None else round(achieved / conv_peak, 3),
    })  # fmt: skip
    variants = args.variants if args.variants is not None else DEFAULT_VARIANTS
    rows = {}
    for variant in [*(VARIANTS if args.ablation else variants), *([PEER] if args.peer else [])]:
        command = [sys.executable, __file__, *sys.argv[1:], "--variant", variant]
        out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
        for line in out.splitlines():
            if line.startswith("{"):
                row = json.loads(line)
                peak = variant_peaks.get(row.get("precision", ""))
                if peak is not None and "achieved_gflops" in row:
                    # Against the same-shape conv peak in the variant's own precision: a bf16
                    # step measured against the fp32 peak would look better than it is.
                    row["fraction_of_peak"] = round(row["achieved_gflops"] / peak, 3)
                emit(row)
                rows[variant] = row
    if PEER in rows:
        peer_rate = rows[PEER]["images_per_s"]
        emit({
            "kind": "speedup_over_peer", "resolution": args.resolution, "batch": args.batch,
            **{name: round(row["images_per_s"] / peer_rate, 2)
               for name, row in rows.items() if name != PEER},
        })  # fmt: skip


if __name__ == "__main__":
    main()
