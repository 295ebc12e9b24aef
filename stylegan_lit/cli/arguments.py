"""Command-line pieces the argparse subcommands share: one-line usage errors and value types.

argparse prints its whole usage and exits on a bad argument; the subcommands instead report
one ``error:`` line and return exit status 2, so :class:`OneLineParser` raises
:class:`UsageError` for the command's ``main`` to report.
"""

from __future__ import annotations

import argparse
from typing import NoReturn

from stylegan_lit.generate.seeds import SeedError, parse_seeds


class UsageError(Exception):
    """A bad command line (reported in one line, exit status 2)."""


class OneLineParser(argparse.ArgumentParser):
    """An ``ArgumentParser`` whose errors raise :class:`UsageError` instead of exiting."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(message)


def positive_int(text: str) -> int:
    """An integer of at least 1."""
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def seed_list(text: str) -> list[int]:
    """Seeds as ``0-7,12`` (see :func:`~stylegan_lit.generate.seeds.parse_seeds`)."""
    try:
        return parse_seeds(text)
    except SeedError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def float_list(text: str) -> list[float]:
    """Numbers separated by commas."""
    try:
        return [float(part) for part in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected numbers separated by commas, got {text!r}"
        ) from None


def name_list(text: str) -> list[str]:
    """Names separated by commas (``beard,glasses``); empty parts are refused."""
    names = [part.strip() for part in text.split(",")]
    if not all(names):
        raise argparse.ArgumentTypeError(f"expected names separated by commas, got {text!r}")
    return names


__all__ = ["OneLineParser", "UsageError", "float_list", "name_list", "positive_int", "seed_list"]
