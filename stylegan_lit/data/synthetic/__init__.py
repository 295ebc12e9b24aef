"""The synthetic renderer: seeded procedural faces with known attributes, nothing to download.

* :mod:`~stylegan_lit.data.synthetic.attributes`: what each face looks like, as numbers
  (:class:`FaceAttributes`, drawn per face from counter-based streams);
* :mod:`~stylegan_lit.data.synthetic.render`: attributes to pixels, vectorised over a batch;
* :mod:`~stylegan_lit.data.synthetic.faces`: :class:`SyntheticFaces`, the dataset that ties
  the two together, and the command that writes the faces as an image folder
  (``python -m stylegan_lit.data.synthetic DST``).

Nothing is imported here: import the names from :mod:`stylegan_lit.data` (or the modules).
"""
