"""The data stream as a pure function of the global image count, sharded over ranks.

Global image position ``p`` (counted across all ranks since training began) shows dataset
index ``perm_k[p % N]`` with ``k = p // N``, where ``perm_k`` is a permutation seeded by
(seed, k), horizontally flipped when a hash of (seed, p) says so. Batch ``j`` of a stream
covers the global positions ``start + j * B ... + B - 1`` (``B = batch_size * world_size``)
and rank ``r`` takes the slice ``[r * batch_size, (r + 1) * batch_size)`` of it. Hence the
images shown are the same for any number of ranks and workers, and a run resumes exactly at
any batch by index arithmetic alone.

The sampler also carries the resolution in each :class:`BatchRequest`, so one set of
persistent workers serves every level of progressive growing.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
from torch.utils.data import Sampler

from stylegan_lit.data.hashing import hash64, salt, uniform

_PERMUTATION = salt("permutation")
_FLIP = salt("flip")


@dataclass(frozen=True)
class BatchRequest:
    """What one batch should contain: sent from the sampler to the dataset (in a worker).

    Attributes:
        resolution: Side of the images, in pixels.
        indices: Dataset indices, int64 [B].
        flips: Whether to mirror each image horizontally, bool [B].
    """

    resolution: int
    indices: np.ndarray
    flips: np.ndarray

    def __len__(self) -> int:
        return len(self.indices)


@dataclass(frozen=True)
class Stream:
    """A span of the global image stream at one resolution, as one rank sees it.

    Attributes:
        resolution: Side of the served images.
        batch_size: Images per rank per batch.
        start_image: First global image position.
        stop_image: Global position the stream must reach; the last batch is full and may run
            past it.
        world_size: Number of ranks sharing each global batch.
        rank: This rank.
    """

    resolution: int
    batch_size: int
    start_image: int
    stop_image: int
    world_size: int = 1
    rank: int = 0

    def __post_init__(self) -> None:
        if self.batch_size < 1 or self.world_size < 1:
            raise ValueError(f"batch_size and world_size must be >= 1: {self}")
        if not 0 <= self.rank < self.world_size:
            raise ValueError(f"rank must be in [0, world_size): {self}")
        if not 0 <= self.start_image <= self.stop_image:
            raise ValueError(f"need 0 <= start_image <= stop_image: {self}")

    @property
    def global_batch(self) -> int:
        """Images per batch across all ranks."""
        return self.batch_size * self.world_size

    @property
    def num_batches(self) -> int:
        """Batches needed to reach ``stop_image``, every one full."""
        return math.ceil((self.stop_image - self.start_image) / self.global_batch)

    def batch_at(self, position: int) -> int:
        """The index of the batch that starts at global ``position`` (``num_batches`` when the
        stream is used up there).

        Raises:
            ValueError: ``position`` is not where one of this stream's batches starts, e.g. a
                checkpoint written under another batch size.
        """
        offset = position - self.start_image
        if (
            offset < 0
            or offset % self.global_batch
            or offset // self.global_batch > (self.num_batches)
        ):
            raise ValueError(
                f"cannot resume at global image {position}: it is not a batch boundary of the "
                f"stream {self} (was the checkpoint written with other batch sizes?)"
            )
        return offset // self.global_batch

    def positions(self, batch: int) -> np.ndarray:
        """Global positions of this rank's images in batch ``batch``: int64 [batch_size]."""
        first = self.start_image + batch * self.global_batch + self.rank * self.batch_size
        return np.arange(first, first + self.batch_size, dtype=np.int64)


class StreamOrder:
    """Maps global image positions to dataset indices and flips (see the module docstring).

    Args:
        num_items: Dataset size N.
        seed: Seed of the permutations and flips.
        mirror: Whether to flip images at all.
    """

    _CACHED_PERMUTATIONS = 4

    def __init__(self, num_items: int, seed: int = 0, mirror: bool = True) -> None:
        if num_items < 1:
            raise ValueError("the dataset is empty")
        self.num_items = num_items
        self.seed = seed
        self.mirror = mirror
        self._permutations: OrderedDict[int, np.ndarray] = OrderedDict()

    def permutation(self, k: int) -> np.ndarray:
        """``perm_k``: the order of pass ``k`` over the dataset (argsort of hashed keys, so it
        is the same on every platform and numpy version)."""
        if k not in self._permutations:
            keys = hash64(np.arange(self.num_items), self.seed, _PERMUTATION, k)
            self._permutations[k] = np.argsort(keys, kind="stable")
            while len(self._permutations) > self._CACHED_PERMUTATIONS:
                self._permutations.popitem(last=False)
        self._permutations.move_to_end(k)
        return self._permutations[k]

    def indices(self, positions: np.ndarray) -> np.ndarray:
        """Dataset index shown at each global position: int64, shaped like ``positions``."""
        positions = np.asarray(positions, dtype=np.int64)
        passes = positions // self.num_items
        out = np.empty_like(positions)
        for k in np.unique(passes):
            where = passes == k
            out[where] = self.permutation(int(k))[positions[where] % self.num_items]
        return out

    def flips(self, positions: np.ndarray) -> np.ndarray:
        """Whether the image at each global position is mirrored: bool, like ``positions``."""
        positions = np.asarray(positions, dtype=np.int64)
        if not self.mirror:
            return np.zeros(positions.shape, dtype=bool)
        return uniform(positions, self.seed, _FLIP) < 0.5

    def request(self, positions: np.ndarray, resolution: int) -> BatchRequest:
        """The :class:`BatchRequest` for these global positions."""
        return BatchRequest(resolution, self.indices(positions), self.flips(positions))


class StreamBatchSampler(Sampler[BatchRequest]):
    """Yields this rank's :class:`BatchRequest` for each batch of a :class:`Stream`.

    ``len()`` is always the whole stream; iteration starts at :attr:`first_batch`, which the
    loader sets to skip batches on resume without loading them.

    Args:
        order: Position -> (index, flip) mapping.
        stream: The span to serve; replace it with :meth:`set_stream`.
    """

    def __init__(self, order: StreamOrder, stream: Stream) -> None:
        self.order = order
        self.stream = stream
        self.first_batch = 0

    def set_stream(self, stream: Stream) -> None:
        self.stream = stream
        self.first_batch = 0

    def __len__(self) -> int:
        return self.stream.num_batches

    def __iter__(self) -> Iterator[BatchRequest]:
        stream = self.stream
        for batch in range(self.first_batch, stream.num_batches):
            yield self.order.request(stream.positions(batch), stream.resolution)
