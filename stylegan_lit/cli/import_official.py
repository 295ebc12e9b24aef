"""``stylegan-lit import-official PKL OUT.ckpt``: NVIDIA's StyleGAN v1 pickle as our checkpoint.

Reads the pickle without TensorFlow and without running anything stored in it
(:mod:`stylegan_lit.interop`), and writes a checkpoint that ``generate`` and ``eval`` read
and that ``fit --model.init_from OUT.ckpt`` fine-tunes from. Prints what was imported and the
generator settings a fine-tuning config needs.

    stylegan-lit import-official karras2019stylegan-ffhq-1024x1024.pkl ffhq-1024.ckpt
    stylegan-lit generate ffhq-1024.ckpt --count 16 --outdir samples
"""

from __future__ import annotations

import argparse
import sys

PROG = "stylegan-lit import-official"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description=__doc__.splitlines()[0].split(": ", 1)[1],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("pickle", help="official network pickle ((G, D, Gs) or one network)")
    parser.add_argument("output", help="checkpoint to write (.ckpt)")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point; 0 on success, 1 for a file that cannot be imported, 2 for bad usage."""
    parser = build_parser()
    try:
        args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    except SystemExit as exit_:
        return int(exit_.code or 0)
    from stylegan_lit.interop import OfficialPickleError, load_official_pickle
    from stylegan_lit.interop.checkpoint import save_official_checkpoint

    try:
        nets = load_official_pickle(args.pickle)
        notes = save_official_checkpoint(nets, args.output)
    except (OfficialPickleError, FileNotFoundError, OSError) as error:
        print(f"{PROG}: error: {str(error).splitlines()[0]}", file=sys.stderr)
        return 1
    print(nets.describe())
    for note in notes:
        print(f"note: {note}")
    print(f"wrote {args.output}")
    print("fine-tune with these generator settings (model.generator.init_args):")
    for key, value in nets.generator_config.items():
        print(f"  {key}: {value}")
    return 0


__all__ = ["main"]
