"""``stylegan-lit eval``: FID50k / KID / SWD of a checkpoint against a dataset, as JSON.

The defaults are the reference protocol of the StyleGAN paper: 50,000 images from G_ema
without truncation (random noise inputs), against up to 50,000 real images at the
checkpoint's resolution, Inception features as described in :mod:`stylegan_lit.metrics.fid`.
SWD follows Progressive GAN (16,384 images by default; see :mod:`stylegan_lit.metrics.swd`).

Example::

    stylegan-lit eval runs/ffhq/last.ckpt --data data/ffhq256 --out fid50k.json
    stylegan-lit eval last.ckpt --data reals.pt --metrics swd --swd-num-images 2000
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import torch

from stylegan_lit.checkpoints import CheckpointError, load_generator
from stylegan_lit.generate.options import RenderOptions
from stylegan_lit.generate.sampling import latent_sampler
from stylegan_lit.metrics.fid import (
    InceptionFeatureExtractor,
    InceptionWeightsError,
    StatisticsCache,
    ensure_inception_available,
)
from stylegan_lit.metrics.real_images import ImageSource, as_image_source
from stylegan_lit.metrics.suite import INCEPTION_METRICS, METRICS, MetricSuite

REFERENCE_NUM_IMAGES = 50_000
REFERENCE_SWD_IMAGES = 16_384


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="stylegan-lit eval",
        description="FID/KID/SWD of a checkpoint's G_ema against real images (reference "
        "protocol by default: 50k images, no truncation).",
    )
    parser.add_argument("checkpoint", type=Path, help="Lightning .ckpt written by stylegan_lit")
    parser.add_argument(
        "--data",
        required=True,
        help="real images: a folder, .zip or prepared cache (read by the data module, as in "
        "training), 'synthetic', or a .pt tensor file",
    )
    parser.add_argument(
        "--data-num-images", type=int, default=10_000, help="synthetic faces: dataset size"
    )
    parser.add_argument("--data-seed", type=int, default=0, help="synthetic faces / real order")
    parser.add_argument("--data-cache-dir", default=None, help="data module's prepared cache")
    parser.add_argument("--metrics", default="fid,kid,swd", help="comma list of fid,kid,swd")
    parser.add_argument("--num-images", type=int, default=REFERENCE_NUM_IMAGES)
    parser.add_argument("--num-real", type=int, default=None, help="default: --num-images")
    parser.add_argument("--swd-num-images", type=int, default=REFERENCE_SWD_IMAGES)
    parser.add_argument("--resolution", type=int, default=None, help="default: checkpoint's")
    parser.add_argument("--truncation-psi", type=float, default=1.0)
    parser.add_argument("--noise-mode", choices=("random", "const"), default="random")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--feature-extractor-weights-path", default=None)
    parser.add_argument("--on-missing-weights", choices=("error", "disable"), default="error")
    parser.add_argument("--no-download", action="store_true", help="never download weights")
    parser.add_argument("--cache-dir", default=None, help="real-statistics cache folder")
    parser.add_argument(
        "--inception-features",
        type=int,
        choices=(64, 192, 768, 2048),
        default=2048,
        help="Inception tap; only 2048 (pool_3) gives FIDs comparable with papers",
    )
    parser.add_argument("--kid-subsets", type=int, default=100)
    parser.add_argument("--kid-subset-size", type=int, default=1000)
    parser.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:1 ...")
    parser.add_argument("--out", type=Path, default=None, help="write the result as JSON here")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    return parser


def _real_source(args: argparse.Namespace, resolution: int, channels: int) -> ImageSource:
    """A ``.pt`` tensor file as is; anything else through the data module, so the reals get
    the crop and resize that training used."""
    path = Path(args.data)
    if path.suffix in (".pt", ".pth") and path.is_file():
        return as_image_source(path)
    try:
        from stylegan_lit.data import FaceDataModule
    except ImportError:  # the data package is optional for metrics
        return as_image_source(path, channels=channels)
    datamodule = FaceDataModule(
        source=args.data,
        resolution=resolution,
        img_channels=channels,
        num_images=args.data_num_images,
        seed=args.data_seed,
        mirror=False,
        cache_dir=args.data_cache_dir,
    )
    return as_image_source(datamodule, seed=args.data_seed)


def _summary(metrics: dict[str, float]) -> str:
    parts = []
    if "fid" in metrics:
        parts.append(f"FID {metrics['fid']:.3f}")
    if "kid" in metrics:
        parts.append(f"KID {metrics['kid']:.5f} ± {metrics['kid_std']:.5f}")
    if "swd" in metrics:
        levels = ", ".join(f"{k[4:]}px {v:.2f}" for k, v in metrics.items() if k[4:].isdigit())
        parts.append(f"SWDx1e3 {metrics['swd']:.2f} ({levels})")
    return "  ".join(parts)


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Evaluate as the parsed arguments say; returns the JSON-ready result."""
    metrics = [m.strip() for m in args.metrics.split(",") if m.strip()]
    if not metrics or set(metrics) - set(METRICS):
        raise ValueError(f"--metrics must be a comma list of {', '.join(METRICS)}: {args.metrics}")
    inception = None
    if set(metrics) & set(INCEPTION_METRICS):
        # Check the weights before loading anything big: fail in a second, not an hour.
        download = not args.no_download
        weights = args.feature_extractor_weights_path
        if ensure_inception_available(weights, args.on_missing_weights, download=download):
            inception = InceptionFeatureExtractor(
                weights, download=download, num_features=args.inception_features
            )
        else:
            metrics = [m for m in metrics if m not in INCEPTION_METRICS]
    if not metrics:
        raise ValueError("no metric left to compute (FID/KID disabled, SWD not asked for)")
    loaded = load_generator(args.checkpoint)
    G = loaded.generator
    settings = RenderOptions(
        truncation_psi=args.truncation_psi,
        noise_mode=args.noise_mode,
        resolution=args.resolution or None,
        batch_size=args.batch_size,
        device=args.device,
    )
    options = RenderOptions.from_checkpoint(loaded, settings)
    resolution, device = options.resolution_for(G), options.device_for(G)
    sample = latent_sampler(G, options)  # the suite chooses the noise mode per call
    source = _real_source(args, resolution, G.img_channels)

    def measure(metric_names: list[str], count: int, **options: Any) -> MetricSuite:
        suite = MetricSuite(
            metric_names,
            num_fake=count,
            batch_size=args.batch_size,
            seed=args.seed,
            noise_mode=args.noise_mode,
            progress=not args.quiet,
            **options,
        )
        suite.prepare_reals(source, resolution, device=device)
        values.update(suite.evaluate(sample, G.z_dim, resolution, device=device))
        return suite

    started = time.perf_counter()
    values: dict[str, float] = {}
    real_info: dict[str, Any] = {}
    inception_metrics = [m for m in metrics if m in INCEPTION_METRICS]
    if inception_metrics:
        suite = measure(
            inception_metrics,
            args.num_images,
            num_real=args.num_real,
            inception=inception,
            cache=StatisticsCache(args.cache_dir),
            kid_subsets=args.kid_subsets,
            kid_subset_size=args.kid_subset_size,
        )
        real_info = suite.real_info()
    if "swd" in metrics:  # its own count (16,384 in ProGAN's tables): descriptors are large
        suite = measure(["swd"], args.swd_num_images)
        if "swd_avg" in values:
            values["swd"] = values.pop("swd_avg")
        real_info.setdefault("num_real", suite.real_info()["num_real"])
        real_info["swd_num_real"] = suite.real_info()["num_real"]
    reference = (
        "fid" in values and args.num_images == REFERENCE_NUM_IMAGES and args.truncation_psi == 1.0
        and args.noise_mode == "random" and (args.num_real or args.num_images) >= args.num_images
        and args.inception_features == 2048
    )  # fmt: skip
    return {
        "checkpoint": str(args.checkpoint),
        "kimg": loaded.kimg,
        "resolution": resolution,
        "alpha": options.alpha,
        "metrics": values,
        "protocol": {
            "num_fake": args.num_images if inception_metrics else None,
            "swd_num_fake": args.swd_num_images if "swd" in metrics else None,
            "truncation_psi": args.truncation_psi,
            "noise_mode": args.noise_mode,
            "seed": args.seed,
            "pixels": "uint8, floor(x * 127.5 + 128) clamped (official conversion)",
            "inception_resize": "299 px, TF1 bilinear without antialias (torch-fidelity)",
            "inception_weights": str(inception.weights_path) if inception else None,
            "inception_features": args.inception_features if inception else None,
            "inception_sha256_16": inception.fingerprint.split("-")[0] if inception else None,
            "kid_subsets": args.kid_subsets,
            "kid_subset_size": args.kid_subset_size,
            "reference_protocol": reference,
        },
        "real": {"data": args.data, **real_info},
        "seconds": round(time.perf_counter() - started, 2),
        "versions": _versions(),
    }


def _versions() -> dict[str, str]:
    import torch_fidelity
    import torchmetrics

    return {
        "torch": torch.__version__,
        "torchmetrics": torchmetrics.__version__,
        "torch_fidelity": torch_fidelity.__version__,
    }


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``stylegan-lit eval``; returns the process exit code."""
    args = _parser().parse_args(argv)
    try:
        result = run(args)
    except (InceptionWeightsError, CheckpointError, FileNotFoundError, ValueError) as error:
        print(f"stylegan-lit eval: error: {error}", file=sys.stderr)
        return 1
    print(_summary(result["metrics"]))
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, indent=2) + "\n")
        print(f"wrote {args.out}")
    return 0
