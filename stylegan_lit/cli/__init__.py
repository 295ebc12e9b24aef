"""The ``stylegan-lit`` command: every entry point of the package, one module each.

===============  ========================================================  =======================
subcommand       what it does                                              module
===============  ========================================================  =======================
fit, ...         train (also validate/test/predict), LightningCLI configs  :mod:`.train`
prepare          a dataset into a multi-resolution cache                   :mod:`.prepare`
eval             FID50k / KID / SWD of a checkpoint, as JSON               :mod:`.evaluate`
generate         images, figures and edits from a checkpoint               :mod:`.generate`
project          a photo into W or W+ (for ``generate --w``)               :mod:`.project`
synthetic        the built-in faces written out as an image folder         :mod:`.synthetic`
summary          parameter counts of a network configuration               :mod:`.summary`
import-official  NVIDIA's StyleGAN v1 pickle as our checkpoint             :mod:`.import_official`
export           the generator as an ONNX graph                            :mod:`.export`
===============  ========================================================  =======================

Each module reads its command line and calls the library (``stylegan_lit.data``,
``generate``, ``metrics``, ``training``); none of the library imports this package. This
file stays light: only the chosen subcommand's module is imported, so ``generate``, ``eval``
and ``prepare`` start without importing Lightning. Every subcommand returns its exit
status: 0 on success, 1 for a failure while running, 2 for a bad command line.
"""

from __future__ import annotations

import importlib
import sys

COMMANDS: dict[str, str] = {
    "prepare": "stylegan_lit.cli.prepare",
    "eval": "stylegan_lit.cli.evaluate",
    "generate": "stylegan_lit.cli.generate",
    "project": "stylegan_lit.cli.project",
    "synthetic": "stylegan_lit.cli.synthetic",
    "summary": "stylegan_lit.cli.summary",
    "import-official": "stylegan_lit.cli.import_official",
    "export": "stylegan_lit.cli.export",
}
"""Subcommands beside LightningCLI's, each a module with ``main(argv) -> int``."""

TRAINING_MODULE = "stylegan_lit.cli.train"
"""Everything else (fit, validate, test, predict, ``--help``) goes to LightningCLI."""


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``stylegan-lit`` and ``python -m stylegan_lit``; the exit status."""
    words = sys.argv[1:] if argv is None else list(argv)
    if words and words[0] in COMMANDS:
        return int(importlib.import_module(COMMANDS[words[0]]).main(words[1:]) or 0)
    return int(importlib.import_module(TRAINING_MODULE).main(argv))


__all__ = ["COMMANDS", "main"]
