"""Quality guard: do the switches that change numerics leave training quality alone?

Trains the demo networks (``configs/demo.yaml``) on the synthetic faces for the same number
of images under each variant and measures SWD (``MetricsCallback``, G_ema, no truncation)
at the end. The reference is the fp32 eager run with every switch off (R1 on every step,
unfused layers, NCHW), repeated with several seeds: their spread is the run-to-run noise. A
variant passes when its SWD lies inside the reference's range widened by half its width
(with three seeds the observed range understates the true spread), and it does not hurt
training when its SWD is no higher than that range's top. Prints JSON lines per run and a
verdict per variant.

    python benchmarks/quality_guard.py                              # about 4-5 min, 2 cores
    python benchmarks/quality_guard.py --kimg 12 --seeds 0 1 2 3 4  # a firmer answer
    python benchmarks/quality_guard.py --variants shipped shipped+compile
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

REFERENCE = "fp32-eager"
VARIANTS: dict[str, list[str]] = {
    REFERENCE: [
        "--model.r1_interval=1", "--model.reuse_fakes=false", "--model.channels_last=false",
        "--model.fused_resampling=false", "--model.fused_epilogue=false",
    ],
    "shipped": [],  # lazy R1, G forward reused, fused layers, channels_last
    "shipped+bf16": ["--trainer.precision=bf16-mixed"],
    "shipped+compile": ["--model.compile=true"],
}  # fmt: skip


def run_one(args: argparse.Namespace, variant: str, seed: int) -> dict:
    """Train one variant in a child process (its own threads and memory); returns its JSON."""
    command = [
        sys.executable, __file__, "--child", variant, "--seed", str(seed),
        "--kimg", str(args.kimg), "--level-kimg", str(args.level_kimg),
        "--num-fake", str(args.num_fake), "--threads", str(args.threads),
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True)
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0 or not lines:
        raise RuntimeError(f"{variant} seed {seed} failed:\n{done.stderr[-3000:]}")
    return json.loads(lines[-1])


def child(args: argparse.Namespace) -> None:
    import torch

    from stylegan_lit.callbacks import MetricsCallback, SampleGrids
    from stylegan_lit.cli.train import build_cli

    torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory() as root:
        cli = build_cli(
            [
                f"--config={ROOT / 'configs' / 'demo.yaml'}",
                f"--seed_everything={args.seed}", f"--model.seed={args.seed}",
                f"--progressive.stable_kimg={args.level_kimg}",
                f"--progressive.fade_kimg={args.level_kimg}",
                f"--progressive.total_kimg={args.kimg}",
                "--trainer.logger=false", "--trainer.callbacks=[]",
                "--trainer.enable_checkpointing=false", "--trainer.enable_progress_bar=false",
                "--trainer.enable_model_summary=false", f"--trainer.default_root_dir={root}",
                # SWD at the start and the end only.
                "--metrics.every_kimg=1e9", f"--metrics.num_fake={args.num_fake}",
                "--metrics.metrics=[swd]", "--metrics.batch_size=64", "--metrics.seed=0",
                *VARIANTS[args.child],
            ],
            run=False,
        )  # fmt: skip
        callbacks = cli.trainer.callbacks
        cli.trainer.callbacks = [c for c in callbacks if not isinstance(c, SampleGrids)]
        metrics = next(c for c in callbacks if isinstance(c, MetricsCallback))
        start = time.perf_counter()
        cli.trainer.fit(cli.model, datamodule=cli.datamodule)
        final = metrics.history[-1]
    print(json.dumps({
        "kind": "run", "variant": args.child, "seed": args.seed, "kimg": final["kimg"],
        "resolution": final["resolution"], "swd": round(final["swd_avg"], 3),
        "seconds": round(time.perf_counter() - start, 1),
    }), flush=True)  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kimg", type=float, default=4.0, help="images trained per run")
    parser.add_argument("--level-kimg", type=float, default=1.0, help="stable and fade length")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--variants", nargs="+", default=["shipped", "shipped+bf16"])
    parser.add_argument("--num-fake", type=int, default=1024, help="images per SWD")
    parser.add_argument("--jobs", type=int, default=2, help="runs in parallel")
    parser.add_argument("--threads", type=int, default=1, help="torch threads per run")
    parser.add_argument("--child", choices=sorted(VARIANTS), help=argparse.SUPPRESS)
    parser.add_argument("--seed", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args)
        return
    unknown = set(args.variants) - set(VARIANTS)
    if unknown:
        parser.error(f"unknown variants {sorted(unknown)}; choose from {sorted(VARIANTS)}")
    jobs = [(REFERENCE, seed) for seed in args.seeds]
    jobs += [(variant, args.seeds[0]) for variant in args.variants if variant != REFERENCE]
    with ThreadPoolExecutor(args.jobs) as pool:
        results = list(pool.map(lambda job: run_one(args, *job), jobs))
    for result in results:
        print(json.dumps(result), flush=True)
    reference = [r["swd"] for r in results if r["variant"] == REFERENCE]
    low, high = min(reference), max(reference)
    margin = (high - low) / 2
    for result in results:
        if result["variant"] == REFERENCE:
            continue
        print(json.dumps({
            "kind": "verdict", "variant": result["variant"], "swd": result["swd"],
            "reference_swd": reference,
            "reference_range_widened": [round(low - margin, 3), round(high + margin, 3)],
            "within_spread": low - margin <= result["swd"] <= high + margin,
            "not_worse": result["swd"] <= high + margin,
        }), flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
