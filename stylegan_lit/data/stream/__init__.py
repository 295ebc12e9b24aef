"""The stream: which images, in which order, reach each rank, batch by batch.

The stream is a pure function of the global image count, identical for any number of ranks
and workers and resumable at any image. Its parts:

* ``stylegan_lit/data/sampler.py``: :class:`Stream` (the order: a seeded permutation per
  pass and a seeded flip per position) and the batch sampler that shards it over ranks;
* ``stylegan_lit/data/loader.py``: :class:`StreamLoader`, the stateful DataLoader that
  remembers how far it got;
* :mod:`~stylegan_lit.data.stream.dataset`: :class:`ImageBatchDataset`, which reads each
  batch the sampler describes from any
  :class:`~stylegan_lit.data.images.MultiResolutionImages`.

``sampler.py`` and ``loader.py`` still sit one level up (``stylegan_lit.data.sampler``,
``stylegan_lit.data.loader``) and move into this package next. Nothing is imported here.
"""
