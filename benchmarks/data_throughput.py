"""How fast FaceDataModule delivers images, against what a training step consumes.

Makes a temporary folder of synthetic faces (PNG, at the largest resolution asked), prepares
its multi-resolution cache, then measures the images/s the data module delivers at each
resolution from the cache, from the raw folder (on-the-fly decoding and resizing) and from
the in-memory synthetic faces, with the peak resident memory of each measurement (each runs
in a forked child, so peaks do not accumulate). Prints one JSON object per line.

    python benchmarks/data_throughput.py --consumed 40     # a training step eats 40 img/s

``headroom`` is delivered / consumed; the data pipeline keeps up with 10x to spare when it
is >= 10. The default run takes about a minute.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from stylegan_lit.data import FaceDataModule, SyntheticFaces, prepare_cache

# Official single-GPU batch sizes per resolution (DESIGN.md); others fall back to 32.
_BATCH = {4: 128, 8: 128, 16: 128, 32: 64, 64: 32, 128: 16, 256: 8, 512: 4, 1024: 4}


def _peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def _measure(options: dict[str, Any], resolution: int, seconds: float, results: Any) -> None:
    """Runs in a forked child: build the module, time its loader, report one result."""
    started = time.perf_counter()
    dm = FaceDataModule(**options)
    dm.setup("fit")
    setup_s = time.perf_counter() - started
    batch = _BATCH.get(resolution, 32)
    dm.set_stream(resolution, batch, 0, 10**9)
    loader = dm.train_dataloader()
    iterator = iter(loader)
    next(iterator)  # warm-up: workers started, first pages mapped
    images, started = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - started) < seconds:
        images += len(next(iterator))
    dm.teardown("fit")
    results.put(
        {
            "images": images,
            "seconds": round(elapsed, 3),
            "images_per_s": round(images / elapsed, 1),
            "batch_size": batch,
            "setup_s": round(setup_s, 2),
            "peak_rss_mib": round(_peak_rss_mib(), 1),
        }
    )


def _run(options: dict[str, Any], resolution: int, seconds: float) -> dict[str, Any]:
    context = multiprocessing.get_context("fork")
    results = context.Queue()
    child = context.Process(target=_measure, args=(options, resolution, seconds, results))
    child.start()
    result = results.get()
    child.join()
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--consumed",
        type=float,
        default=1.0,
        help="images/s one training step consumes (measured elsewhere)",
    )
    parser.add_argument("--resolutions", type=int, nargs="+", default=[32, 64, 256])
    parser.add_argument(
        "--sources",
        nargs="+",
        default=["cache", "folder", "synthetic"],
        choices=["cache", "folder", "synthetic"],
    )
    parser.add_argument(
        "--num-images", type=int, default=512, help="images in the temporary folder"
    )
    parser.add_argument("--seconds", type=float, default=3.0, help="measuring time per point")
    parser.add_argument("--workers", type=int, default=0, help="DataLoader workers")
    args = parser.parse_args(argv)

    top = max(args.resolutions)
    with tempfile.TemporaryDirectory(prefix="data_throughput_") as tmp:
        folder, cache = Path(tmp) / "folder", Path(tmp) / "cache"
        started = time.perf_counter()
        SyntheticFaces(args.num_images, seed=0, resolution=top).write_folder(folder, progress=False)
        written = time.perf_counter() - started
        started = time.perf_counter()
        prepare_cache(folder, cache, resolution=top, progress=False)
        prepared = time.perf_counter() - started
        print(
            json.dumps(
                {
                    "step": "setup",
                    "num_images": args.num_images,
                    "resolution": top,
                    "write_folder_s": round(written, 2),
                    "prepare_s": round(prepared, 2),
                    "prepare_images_per_s": round(args.num_images / prepared, 1),
                }
            ),
            flush=True,
        )
        common = {"resolution": top, "num_workers": args.workers, "seed": 0}
        sources = {
            "cache": {"source": str(cache)},
            "folder": {"source": str(folder)},
            "synthetic": {"source": "synthetic", "num_images": args.num_images},
        }
        for resolution in args.resolutions:
            for name in args.sources:
                result = _run(sources[name] | common, resolution, args.seconds)
                headroom = result["images_per_s"] / args.consumed
                record = {
                    "step": "serve",
                    "source": name,
                    "resolution": resolution,
                    "workers": args.workers,
                }
                record |= result | {
                    "consumed_per_s": args.consumed,
                    "headroom": round(headroom, 1),
                    "ok": headroom >= 10,
                }
                print(json.dumps(record), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
