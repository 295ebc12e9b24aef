"""Decode and downsample many image files, in this process or in a pool of processes.

Kept apart from :mod:`~stylegan_lit.data.cache.prepare` and free of torch and Lightning
imports so that ``spawn``-ed workers start in a fraction of a second.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Iterator
from typing import Any

import numpy as np

from stylegan_lit.data.errors import DatasetError, Skipped
from stylegan_lit.data.files.resize import image_pyramid
from stylegan_lit.data.files.sources import ImageFiles

# Per-process state, set by _init (the pool initializer) and read by _process.
_files: ImageFiles | None = None
_options: dict[str, Any] = {}


def _init(files: ImageFiles, options: dict[str, Any]) -> None:
    global _files, _options
    _files, _options = files, options


def _process(index: int) -> dict[int, np.ndarray] | Skipped:
    assert _files is not None
    name = _files.names[index]
    try:
        return image_pyramid(_files.read(index), name, **_options)
    except DatasetError as error:
        return Skipped(name, error.reason, str(error))


def decode_all(
    files: ImageFiles, options: dict[str, Any], workers: int = 0
) -> Iterator[dict[int, np.ndarray] | Skipped]:
    """The pyramid of every file in order, or a :class:`Skipped` record for a bad one.

    Args:
        files: The files.
        options: Keyword arguments of :func:`~stylegan_lit.data.files.resize.image_pyramid`
            (``top``, ``lowest``, ``crop``, ``channels``, ``resize_filter``).
        workers: Processes to decode in (0: this process).
    """
    if workers <= 0:
        _init(files, options)
        yield from map(_process, range(len(files)))
        return
    context = multiprocessing.get_context("spawn")
    with context.Pool(workers, _init, (files, options)) as pool:
        yield from pool.imap(_process, range(len(files)), chunksize=8)
