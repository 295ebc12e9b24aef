"""A DataLoader that Lightning checkpoints and resumes mid-stream, by index arithmetic.

Lightning (>= 2.3) saves ``state_dict()`` of every train loader that has one and, on resume,
calls ``load_state_dict()`` on the freshly built loader before iterating it. The state here
is the number of batches already yielded in the current stream; the next iteration then
starts at that batch without loading the skipped ones, while ``len()`` stays the whole
stream (Lightning's own batch counter continues from the checkpoint).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any

from torch import Tensor
from torch.utils.data import DataLoader, Dataset

from stylegan_lit.data.sampler import Stream, StreamBatchSampler


def _pass_through(batch: Any) -> Any:
    """The dataset's ``__getitems__`` already returns the batch tensor."""
    return batch


class StreamLoader(DataLoader):
    """Serves a :class:`~stylegan_lit.data.sampler.Stream` and remembers how far it got.

    One loader (and, with ``persistent_workers``, one set of workers) serves every stream of a
    run: :meth:`set_stream` only replaces the sampler's span, because each batch request
    carries its resolution.

    Args:
        dataset: Map-style dataset with ``__getitems__(BatchRequest) -> Tensor``.
        batch_sampler: The stream sampler.
        num_workers: Worker processes (0 loads in the main process).
        pin_memory: Pin batches for faster host-to-GPU copies.
        persistent_workers: Keep workers alive between iterations (only with workers).
        prefetch_factor: Batches loaded ahead per worker (only with workers).
    """

    def __init__(
        self,
        dataset: Dataset,
        batch_sampler: StreamBatchSampler,
        *,
        num_workers: int = 0,
        pin_memory: bool = False,
        persistent_workers: bool = False,
        prefetch_factor: int | None = None,
    ) -> None:
        super().__init__(
            dataset,
            # It yields one BatchRequest per batch, which the dataset reads whole.
            batch_sampler=batch_sampler,  # type: ignore[arg-type]
            collate_fn=_pass_through,
            num_workers=num_workers,
            pin_memory=pin_memory,
            persistent_workers=persistent_workers and num_workers > 0,
            prefetch_factor=prefetch_factor if num_workers > 0 else None,
        )
        self.stream_sampler = batch_sampler
        self.batches_yielded = 0
        self._resume_at = 0

    @property
    def stream(self) -> Stream:
        return self.stream_sampler.stream

    def set_stream(self, stream: Stream) -> None:
        """Serve ``stream`` from its first batch on the next iteration."""
        self.stream_sampler.set_stream(stream)
        self.batches_yielded = 0
        self._resume_at = 0

    def __iter__(self) -> Iterator[Tensor]:  # type: ignore[override]  # counts batches
        first = min(self._resume_at, len(self))
        self._resume_at = 0
        self.stream_sampler.first_batch = first
        self.batches_yielded = first
        return _CountingIterator(self, super().__iter__())

    def shutdown_workers(self) -> None:
        """Stop persistent workers now (otherwise they stop when the loader is collected)."""
        iterator = getattr(self, "_iterator", None)
        if iterator is not None and hasattr(iterator, "_shutdown_workers"):
            iterator._shutdown_workers()
        self._iterator = None

    def state_dict(self) -> dict[str, Any]:
        """Batches yielded so far in this stream, with the stream they belong to."""
        stream = self.stream
        return {
            "batches_yielded": self.batches_yielded,
            "next_image": stream.start_image + self.batches_yielded * stream.global_batch,
            "stream": dataclasses.asdict(stream),
        }

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Skip what the saved loader had already yielded, on the next iteration.

        When the saved stream is the current one, its batch count is skipped. When the stream
        differs (the training code rebuilt it, e.g. starting at the resumed image count, or
        with another number of ranks), the skip is derived from the saved global image
        position instead, so that no image is shown twice or missed; a stream that had been
        used up says nothing about the new one.
        """
        saved = state_dict["stream"]
        done = int(state_dict["batches_yielded"])
        stream = self.stream
        same = {k: v for k, v in saved.items() if k != "rank"} == {
            k: v for k, v in dataclasses.asdict(stream).items() if k != "rank"
        }
        if same:
            skip = done
        elif done >= Stream(**saved).num_batches:
            skip = 0
        else:
            offset = int(state_dict["next_image"]) - stream.start_image
            if offset < 0 or offset % stream.global_batch:
                raise ValueError(
                    f"cannot resume: the checkpoint stopped at global image "
                    f"{state_dict['next_image']}, which is not a batch boundary of the current "
                    f"stream {stream}"
                )
            skip = offset // stream.global_batch
        self._resume_at = min(skip, len(self))
        self.batches_yielded = self._resume_at


class _CountingIterator(Iterator[Tensor]):
    """Counts the batches handed to the caller (not those prefetched by workers)."""

    def __init__(self, loader: StreamLoader, inner: Iterator[Tensor]) -> None:
        self._loader = loader
        self._inner = inner

    def __iter__(self) -> _CountingIterator:
        return self

    def __next__(self) -> Tensor:
        batch = next(self._inner)
        self._loader.batches_yielded += 1
        return batch

    def __len__(self) -> int:
        return len(self._loader)
