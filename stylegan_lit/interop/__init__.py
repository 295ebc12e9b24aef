"""Weights in and out: NVIDIA's StyleGAN v1 pickles (read without TensorFlow, nothing in them
run) and ONNX export of the generator.

- :mod:`.official_pickle`: the restricted unpickler and the ``Network`` stub;
- :mod:`.official_names`: where each official variable goes in our networks;
- :mod:`.official`: :func:`load_official_pickle`, settings and weights into our networks.
"""

from stylegan_lit.interop.official import OfficialNetworks, crop_rows, load_official_pickle
from stylegan_lit.interop.official_pickle import OfficialPickleError, read_official_pickle

__all__ = [
    "OfficialNetworks",
    "OfficialPickleError",
    "crop_rows",
    "load_official_pickle",
    "read_official_pickle",
]
