"""``stylegan-lit synthetic DST``: write the built-in synthetic faces as an image folder.

Each face is a PNG beside one line of ``attributes.jsonl`` naming what was drawn (glasses,
hat, hair, pose, ...), for use by other tools or as a folder dataset. Also reachable as
``python -m stylegan_lit.data.synthetic DST``.
"""

from __future__ import annotations

import argparse

from stylegan_lit.data.synthetic.faces import SyntheticFaces


def main(argv: list[str] | None = None) -> int:
    """Write synthetic faces as an image folder with their attributes."""
    parser = argparse.ArgumentParser(prog="stylegan-lit synthetic", description=main.__doc__)
    parser.add_argument("destination", help="folder to write PNG files and attributes.jsonl into")
    parser.add_argument("--num-images", type=int, default=10_000)
    parser.add_argument("--resolution", type=int, default=64)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--channels", type=int, choices=(1, 3), default=3)
    args = parser.parse_args(argv)
    faces = SyntheticFaces(
        args.num_images, seed=args.seed, resolution=args.resolution, img_channels=args.channels
    )
    faces.write_folder(args.destination)
    return 0
