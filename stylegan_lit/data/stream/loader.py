"""The training DataLoader: serves a stream from any batch, with one set of workers.

Where a stream starts after a restart follows from the module's image count (the one
progress state a checkpoint keeps): the training code passes the first batch to serve, and the
loader starts there without loading the batches before it, while ``len()`` stays the whole
stream (Lightning's own batch counter continues from the checkpoint).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from torch import Tensor
from torch.utils.data import DataLoader, Dataset

from stylegan_lit.data.stream.sampler import Stream, StreamBatchSampler


def _pass_through(batch: Any) -> Any:
    """The dataset's ``__getitems__`` already returns the batch tensor."""
    return batch


class StreamLoader(DataLoader):
    """Serves a :class:`~stylegan_lit.data.stream.sampler.Stream` from a given batch on.

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
        self._resume_at = 0

    @property
    def stream(self) -> Stream:
        return self.stream_sampler.stream

    def set_stream(self, stream: Stream, first_batch: int = 0) -> None:
        """Serve ``stream`` from batch ``first_batch`` on the next iteration (later
        iterations serve it whole)."""
        if not 0 <= first_batch <= stream.num_batches:
            raise ValueError(f"first_batch {first_batch} is outside the stream {stream}")
        self.stream_sampler.set_stream(stream)
        self._resume_at = first_batch

    def __iter__(self) -> Iterator[Tensor]:  # type: ignore[override]  # batches are tensors
        self.stream_sampler.first_batch = self._resume_at
        self._resume_at = 0
        return super().__iter__()

    def shutdown_workers(self) -> None:
        """Stop persistent workers now (otherwise they stop when the loader is collected)."""
        iterator = getattr(self, "_iterator", None)
        if iterator is not None and hasattr(iterator, "_shutdown_workers"):
            iterator._shutdown_workers()
        self._iterator = None

    # Lightning treats a loader with these two methods as resumable mid-epoch (and warns
    # about any other). Its position needs no saving: it follows from the image count.
    def state_dict(self) -> dict[str, Any]:
        """Nothing to save: where the stream resumes follows from the images seen."""
        return {}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Nothing to restore (older checkpoints' loader positions are ignored)."""
