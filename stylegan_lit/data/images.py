"""What every source of faces is: a collection of square images at every power of two.

The synthetic faces (:class:`~stylegan_lit.data.synthetic.faces.SyntheticFaces`), folders
and archives (:class:`~stylegan_lit.data.files.raw.RawImages`) and a prepared cache
(:class:`~stylegan_lit.data.cache.store.CachedImages`) all implement
:class:`MultiResolutionImages`: a length, the channel count, the highest resolution, and
``read(indices, resolution) -> uint8 [B, C, R, R]``. The stream
(:mod:`~stylegan_lit.data.stream`) depends only on this protocol, never on a source.
Reading whole batches at once lets the synthetic renderer vectorise over faces and lets the
cache gather rows with one numpy call. :class:`MemoryImages` is the one implementation that
belongs to no source: any pyramid held in RAM (the synthetic faces rendered once).
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np
import torch
from torch import Tensor

from stylegan_lit.data.errors import DatasetError


@runtime_checkable
class MultiResolutionImages(Protocol):
    """A fixed collection of square images available at every power of two up to a maximum."""

    img_channels: int
    max_resolution: int

    def __len__(self) -> int: ...

    def read(self, indices: np.ndarray, resolution: int) -> np.ndarray:
        """uint8 [B, C, R, R] for the given dataset indices (a new, writable array)."""
        ...


class MemoryImages:
    """A pyramid held in RAM, e.g. the synthetic faces rendered once.

    The arrays live in shared-memory torch storage, so DataLoader workers receive them
    without a copy under both ``fork`` and ``spawn``.

    Args:
        levels: ``{resolution: uint8 [N, C, R, R]}`` for each power of two served (copied into
            shared memory unless already there).
    """

    def __init__(self, levels: dict[int, np.ndarray | Tensor]) -> None:
        shapes = {r: tuple(a.shape) for r, a in levels.items()}
        counts = {s[0] for s in shapes.values()}
        channels = {s[1] for s in shapes.values()}
        if (
            len(counts) != 1
            or len(channels) != 1
            or any(s[2:] != (r, r) for r, s in shapes.items())
        ):
            raise ValueError(f"inconsistent pyramid shapes {shapes}")
        self._tensors = {r: _shared(a) for r, a in levels.items()}
        self.img_channels = channels.pop()
        self.max_resolution = max(levels)
        self.resolutions = sorted(levels)
        self._count = counts.pop()

    @classmethod
    def empty(cls, count: int, channels: int, resolutions: list[int]) -> MemoryImages:
        """A zeroed pyramid to fill in place through :meth:`level` (no second copy)."""
        shape = {r: (count, channels, r, r) for r in resolutions}
        return cls({r: torch.zeros(shape[r], dtype=torch.uint8) for r in resolutions})

    def level(self, resolution: int) -> np.ndarray:
        """The uint8 [N, C, R, R] array of one resolution (a writable view)."""
        if resolution not in self._tensors:
            raise DatasetError(
                f"no {resolution} px level in memory (has {self.resolutions})",
                reason="missing resolution",
            )
        return self._tensors[resolution].numpy()

    def __len__(self) -> int:
        return self._count

    @property
    def nbytes(self) -> int:
        return sum(t.numel() for t in self._tensors.values())

    def read(self, indices: np.ndarray, resolution: int) -> np.ndarray:
        return self.level(resolution)[np.asarray(indices, dtype=np.int64)]


def _shared(array: np.ndarray | Tensor) -> Tensor:
    tensor = array if isinstance(array, Tensor) else torch.from_numpy(np.ascontiguousarray(array))
    return tensor if tensor.is_shared() else tensor.share_memory_()
