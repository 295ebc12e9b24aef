"""The multi-resolution cache: a dataset prepared once, served by memory-mapping.

* :mod:`~stylegan_lit.data.cache.store`: the directory format (one ``.npy`` per resolution
  and a manifest), its streaming writer and :class:`CachedImages`, its reader;
* :mod:`~stylegan_lit.data.cache.prepare`: :func:`prepare_cache` and the ``stylegan-lit
  prepare`` command, which fill a cache from image files or the synthetic faces.

Nothing is imported here (``prepare``'s worker processes should not load torch).
"""
