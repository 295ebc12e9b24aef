"""``stylegan-lit export CKPT --format onnx OUT.onnx``: the generator as an ONNX graph.

Mapping, truncation and synthesis at one resolution, with noise as graph inputs (default),
as the stored constants, or off; checked against PyTorch in onnxruntime when it is installed
(see :mod:`stylegan_lit.interop.onnx_export` for the graph's inputs and outputs). Needs the
``onnx`` extra: ``pip install 'stylegan-lit[onnx]'``.

    stylegan-lit export ffhq-1024.ckpt --format onnx ffhq-1024.onnx
    stylegan-lit export last.ckpt --format onnx g.onnx --noise const --truncation-cutoff 0
"""

from __future__ import annotations

import argparse
import sys

PROG = "stylegan-lit export"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description=__doc__.splitlines()[0].split(": ", 1)[1],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("checkpoint", help="a stylegan_lit checkpoint (fit or import-official)")
    parser.add_argument("output", help="file to write")
    parser.add_argument("--format", choices=["onnx"], required=True, help="only onnx")
    parser.add_argument(
        "--noise",
        choices=["input", "const", "none"],
        default="input",
        help="noise images as graph inputs noise0.. (default), the stored constants, or none",
    )
    parser.add_argument(
        "--resolution", type=int, default=None, help="output resolution (default: the model's)"
    )
    parser.add_argument(
        "--truncation-cutoff",
        type=int,
        default=8,
        help="layers below it follow the truncation_psi input (default 8, as officially; "
        "0 or less: all layers)",
    )
    parser.add_argument("--raw", action="store_true", help="export G instead of G_ema")
    parser.add_argument("--opset", type=int, default=18)
    parser.add_argument(
        "--no-check", action="store_true", help="skip the onnxruntime comparison with PyTorch"
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point; 0 on success, 1 for a failure, 2 for bad usage."""
    parser = build_parser()
    try:
        args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    except SystemExit as exit_:
        return int(exit_.code or 0)
    from stylegan_lit.checkpoint_format import CheckpointError
    from stylegan_lit.checkpoints import load_generator
    from stylegan_lit.interop.onnx_export import (
        PARITY_TOLERANCE,
        ExportableGenerator,
        check_onnx,
        export_onnx,
    )

    try:
        loaded = load_generator(args.checkpoint, ema=not args.raw)
        cutoff = args.truncation_cutoff if args.truncation_cutoff > 0 else None
        module = ExportableGenerator(
            loaded.generator,
            resolution=args.resolution,
            truncation_cutoff=cutoff,
            noise=args.noise,
        )
        path = export_onnx(module, args.output, opset=args.opset)
        print(f"wrote {path}: inputs {', '.join(module.input_names())}; output images")
        if not args.no_check:
            difference = check_onnx(path, module)
            print(f"onnxruntime vs PyTorch: max abs difference {difference:.2e}")
            if not difference <= PARITY_TOLERANCE:
                raise ValueError(
                    f"the exported graph differs from PyTorch by {difference:.2e} "
                    f"(> {PARITY_TOLERANCE:g})"
                )
    except (CheckpointError, FileNotFoundError, ImportError, ValueError, OSError) as error:
        print(f"{PROG}: error: {str(error).splitlines()[0]}", file=sys.stderr)
        return 1
    return 0


__all__ = ["main"]
