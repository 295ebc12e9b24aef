"""The torch Dataset of the stream: whole batches, as the batch sampler describes them.

The stream's batch sampler (:mod:`stylegan_lit.data.stream.sampler`) yields
:class:`~stylegan_lit.data.stream.sampler.BatchRequest` objects; :class:`ImageBatchDataset` turns
each into a float batch in [-1, 1] read from any
:class:`~stylegan_lit.data.images.MultiResolutionImages`.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor
from torch.utils.data import Dataset

from stylegan_lit.data.images import MultiResolutionImages
from stylegan_lit.data.stream.sampler import BatchRequest


def to_float(images: np.ndarray) -> Tensor:
    """uint8 [..., H, W] -> float32 in [-1, 1] (``x / 127.5 - 1``, as the official code).

    Done in numpy, single-threaded: torch's intra-op thread pool costs more than it saves on
    arrays this small, and much more when the training step keeps every core busy.
    """
    out = images.astype(np.float32)
    out /= np.float32(127.5)
    out -= np.float32(1.0)
    return torch.from_numpy(out)


class ImageBatchDataset(Dataset):
    """Float batches from a :class:`MultiResolutionImages` for a DataLoader.

    The DataLoader's batch sampler yields :class:`~stylegan_lit.data.stream.sampler.BatchRequest`
    objects, which torch passes whole to :meth:`__getitems__`.

    Args:
        images: The collection to serve.
    """

    def __init__(self, images: MultiResolutionImages) -> None:
        self.images = images

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, index: int) -> Tensor:
        """One image at the highest resolution, float32 [C, R, R] in [-1, 1]."""
        return to_float(self.images.read(np.array([index]), self.images.max_resolution))[0]

    def __getitems__(self, request: BatchRequest) -> Tensor:
        """The batch a request describes: float32 [B, C, R, R] in [-1, 1], flips applied."""
        images = self.images.read(request.indices, request.resolution)  # [BCHW] uint8
        if request.flips.any():
            images[request.flips] = images[request.flips][..., ::-1]
        return to_float(images)
