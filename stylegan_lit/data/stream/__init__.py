"""The stream: which images, in which order, reach each rank, batch by batch.

The stream is a pure function of the global image count, identical for any number of ranks
and workers and resumable at any image. Its parts:

* :mod:`~stylegan_lit.data.stream.sampler`: :class:`Stream` (a span of global image
  positions at one resolution), :class:`StreamOrder` (a seeded permutation per pass and a
  seeded flip per position) and the batch sampler that shards a stream over ranks;
* :mod:`~stylegan_lit.data.stream.loader`: :class:`StreamLoader`, the DataLoader that serves
  a stream from any batch (where a run resumes follows from its image count);
* :mod:`~stylegan_lit.data.stream.dataset`: :class:`ImageBatchDataset`, which reads each
  batch the sampler describes from any
  :class:`~stylegan_lit.data.images.MultiResolutionImages`.

Nothing is imported here.
"""
