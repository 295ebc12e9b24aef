"""File input: image folders and ZIP archives, decoded into square pyramids.

From bytes to pixels, in the order a file goes through them:

* :mod:`~stylegan_lit.data.files.sources`: which files there are (a folder, searched
  recursively, or a ZIP archive) and their bytes;
* :mod:`~stylegan_lit.data.files.image_io`: header probing and decoding to ``uint8 [H, W, C]``
  whatever the mode (grayscale, palette, alpha, 16-bit, EXIF rotation);
* :mod:`~stylegan_lit.data.files.scan`: header checks over all files before any decoding;
* :mod:`~stylegan_lit.data.files.resize`: centre crop and the Lanczos or box pyramid;
* :mod:`~stylegan_lit.data.files.raw`: :class:`RawImages`, the files served on the fly;
* :mod:`~stylegan_lit.data.files.decode_pool`: many files decoded in worker processes (for
  :mod:`~stylegan_lit.data.cache.prepare`).

None of these imports torch or Lightning, so the ``prepare`` worker processes start fast;
for the same reason nothing is imported here.
"""
