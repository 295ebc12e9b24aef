"""What SWD sees: how far real faces move from the data when one family of attributes is fixed.

The quality benchmark (``benchmarks/quality.py``) reports the SWD of samples against real
faces as a ratio to the real-vs-real floor. A ratio of 2 says nothing about *what* is
missing. This script answers the reverse question on the built-in synthetic faces, where
every attribute is known: it renders a second set of real faces with one family of
attributes fixed (every head upright, one hair style, no accessories, ...) and measures that
set against the reference set exactly as a generator's samples are measured (same SWD, same
number of images, per pyramid level). A family whose collapse costs little cannot explain a
generator's gap; one whose collapse costs as much as the gap can. Two more variants change
the rendered pixels instead: white noise of one 8-bit level, and colours muted by 8%. They
show how finely the levels measure: the renders are exactly flat where a generator's output
carries a trace of noise, and each set's descriptors are standardised by its own spread.

    python benchmarks/swd_sensitivity.py                  # 2,000 vs 2,000 faces at 64 px
    python benchmarks/swd_sensitivity.py --num-images 1000 --resolution 32 --out DIR

Prints a table and JSON lines (``--out DIR`` also writes ``swd_sensitivity.jsonl``), with the
CPU model and seconds.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.machine import cpu_model, write_rows
from benchmarks.quality import swd_of
from stylegan_lit.data import SyntheticFaces
from stylegan_lit.data.synthetic.faces import LUMA_WEIGHTS

VARIANTS: dict[str, dict[str, Any]] = {
    "none (the floor)": {},
    "pose: roll, yaw and pitch 0": {"roll": 0.0, "yaw": 0.0, "pitch": 0.0},
    "placement: centred, one size": {"center_x": 0.0, "center_y": -0.04, "scale": 0.55},
    "hair style: all style 1 (the commonest)": {"hair_style": 1},
    "hair length: all 0.5": {"hair_length": 0.5},
    "accessories: no hat, glasses, sunglasses or beard": {
        "hat": False,
        "glasses": False,
        "sunglasses": False,
        "beard": False,
    },
    "expression: no smile, mouth closed": {"smile": 0.0, "mouth_open": 0.0},
    "lighting: flat": {"light_strength": 0.0},
}
"""Each variant: the attributes fixed (to one value for every face) in the compared set."""

COLOUR_VARIANTS = ("skin_color", "hair_color", "background_top", "shirt_color")
"""Colours fixed to the reference set's median colour, one at a time."""


def _pixel_noise(images: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """White noise of one 8-bit level (std) on every pixel: far below what the eye sees."""
    noise = torch.randn(images.shape, generator=generator)
    return (images.float() + noise).round().clamp(0, 255).to(torch.uint8)


def _desaturated(images: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Every colour's chroma scaled by 0.92 about its luma (a generator's muted colours)."""
    pixels = images.float()
    luma = (pixels * torch.tensor(LUMA_WEIGHTS).view(1, 3, 1, 1)).sum(dim=1, keepdim=True)
    return (luma + 0.92 * (pixels - luma)).round().clamp(0, 255).to(torch.uint8)


IMAGE_VARIANTS = {
    "pixels: white noise of std 1 level": _pixel_noise,
    "colour: chroma x0.92 (muted)": _desaturated,
}
"""Changes to the rendered pixels of the compared set (RGB only), not to its attributes."""


def measure(args: argparse.Namespace) -> list[dict[str, Any]]:
    faces = SyntheticFaces(2 * args.num_images, seed=args.seed, resolution=args.resolution)
    reference_idx = np.arange(args.num_images)
    compared_idx = np.arange(args.num_images, 2 * args.num_images)

    def render(indices: np.ndarray, changes: dict[str, Any]) -> torch.Tensor:
        attrs = faces.attribute_batch(indices)
        if changes:
            attrs = attrs.replace(**changes)
        return torch.from_numpy(faces.render_attributes(attrs, args.resolution))

    reference_attrs = faces.attribute_batch(reference_idx)
    variants = dict(VARIANTS)
    for colour in COLOUR_VARIANTS:
        median = np.median(getattr(reference_attrs, colour), axis=0)
        variants[f"colour: one {colour.replace('_', ' ')}"] = {colour: median}
    reference = render(reference_idx, {})
    rows: list[dict[str, Any]] = []

    def score(name: str, compared: torch.Tensor, began: float) -> None:
        swd = swd_of(reference, compared)
        rows.append({
            "kind": "variant", "fixed": name, "swd": {k: round(v, 3) for k, v in swd.items()},
            "seconds": round(time.perf_counter() - began, 1),
        })  # fmt: skip
        print(json.dumps(rows[-1]), flush=True)

    unchanged = render(compared_idx, {})  # the floor's set, and the pixel variants' base
    for name, changes in variants.items():
        began = time.perf_counter()
        score(name, render(compared_idx, changes) if changes else unchanged, began)
    generator = torch.Generator().manual_seed(args.seed)
    for name, change in IMAGE_VARIANTS.items():
        began = time.perf_counter()
        score(name, change(unchanged, generator), began)
    rows.append({
        "kind": "summary", "num_images": args.num_images, "resolution": args.resolution,
        "seed": args.seed, "cpu": cpu_model(), "threads": torch.get_num_threads(),
    })  # fmt: skip
    return rows


def table(rows: list[dict[str, Any]]) -> str:
    variants = [row for row in rows if row["kind"] == "variant"]
    levels = [key for key in variants[0]["swd"] if key != "swd_avg"]
    floor = variants[0]["swd"]["swd_avg"]
    lines = [
        "| fixed in the compared set | " + " | ".join(levels) + " | average | ratio to floor |",
        "|---|" + "---|" * (len(levels) + 2),
    ]
    for row in variants:
        values = " | ".join(f"{row['swd'][level]:.2f}" for level in levels)
        average = row["swd"]["swd_avg"]
        lines.append(f"| {row['fixed']} | {values} | {average:.2f} | {average / floor:.2f} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--num-images", type=int, default=2000, help="faces per set")
    parser.add_argument("--resolution", type=int, default=64)
    parser.add_argument("--seed", type=int, default=0, help="the faces' seed (training's: 0)")
    parser.add_argument("--out", type=Path, help="also write DIR/swd_sensitivity.jsonl")
    args = parser.parse_args()
    rows = measure(args)
    print(table(rows))
    if args.out:
        write_rows(args.out / "swd_sensitivity.jsonl", rows)


if __name__ == "__main__":
    main()
