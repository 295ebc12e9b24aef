"""The projection figure of docs/figures: each photo, its projection, and edits of it.

One row per ``stylegan-lit project`` output folder: the target (``target.png``, the photo as
the projector saw it: cropped and resized), then the projected w rendered with an attribute
direction applied at each strength (strength 0 is the projection itself). The direction is
a ``direction-<attribute>.pt`` written by ``stylegan-lit generate --figure edit``. Rendering
follows ``generate --w``: psi 1, the model's const noise.

    python scripts/projection_figure.py CKPT DIRECTION OUT.png proj0 proj1 ... [--zoom 2]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from stylegan_lit.checkpoints import load_generator
from stylegan_lit.generate import RenderOptions, edit_images, save_grid
from stylegan_lit.generate.editing import AttributeDirection
from stylegan_lit.generate.projection import load_projected_ws


def read_target(path: Path, resolution: int) -> torch.Tensor:
    """``target.png`` as [C, R, R] in [-1, 1]."""
    with Image.open(path) as image:
        pixels = np.asarray(image.convert("RGB").resize((resolution, resolution)))
    return torch.from_numpy(pixels.copy()).permute(2, 0, 1).float().div(127.5).sub(1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkpoint", type=Path)
    parser.add_argument("direction", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("projections", type=Path, nargs="+", help="`stylegan-lit project` dirs")
    parser.add_argument("--strengths", type=float, nargs="+", default=[-3.0, 0.0, 3.0])
    parser.add_argument("--zoom", type=int, default=2)
    args = parser.parse_args()

    loaded = load_generator(args.checkpoint)
    G = loaded.generator.eval()
    options = RenderOptions.from_checkpoint(loaded, RenderOptions(noise_mode="const"))
    resolution = options.resolution_for(G)
    direction = AttributeDirection.load(args.direction)
    ws = torch.stack([load_projected_ws(d / "projected_w.npz", G) for d in args.projections])
    edits = edit_images(G, ws, direction, args.strengths, options)  # [N, S, C, H, W]
    targets = torch.stack([read_target(d / "target.png", resolution) for d in args.projections])
    rows = torch.cat([targets[:, None], edits.cpu()], dim=1)
    print(save_grid(rows, args.out, zoom=args.zoom))


if __name__ == "__main__":
    main()
