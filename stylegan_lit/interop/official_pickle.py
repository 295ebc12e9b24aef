"""Reading NVIDIA's StyleGAN v1 network pickles without TensorFlow, and without running them.

A release pickle (``karras2019stylegan-ffhq-1024x1024.pkl`` and its siblings) holds a tuple
``(G, D, Gs)`` of ``dnnlib.tflib.network.Network`` objects. Unpickled by the official code,
each one ``exec``-s the Python source stored in it (``build_module_src``) and builds a
TensorFlow graph. Here nothing stored in the file is executed: :class:`SafeUnpickler` resolves
exactly two kinds of globals, the ``Network`` class (to :class:`NetworkState`, a stub that
keeps the pickled dict as data) and NumPy's array reconstructors, and refuses every other
global, naming it, before anything it refers to could be called. The stored source is kept
as a string and never run.

Only pickle protocols 2 and up are read (the official code writes the highest protocol):
older protocols rebuild objects through ``copyreg._reconstructor``, which is refused.
"""

from __future__ import annotations

import io
import pickle
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

NETWORK_GLOBAL = ("dnnlib.tflib.network", "Network")
"""Module and class name under which the official code pickles its networks."""

_NUMPY_GLOBALS = {
    ("numpy.core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "_reconstruct"),
    ("numpy.core.multiarray", "scalar"),
    ("numpy._core.multiarray", "scalar"),
    ("numpy.core.numeric", "_frombuffer"),
    ("numpy._core.numeric", "_frombuffer"),
    ("numpy", "ndarray"),
    ("numpy", "dtype"),
}
"""NumPy's array, scalar and dtype reconstructors (``_frombuffer`` is what pickle protocol 5
uses; ``numpy.core`` is NumPy 1's name of ``numpy._core``); nothing else of NumPy is needed
to rebuild arrays, and none of these can run anything but an array's construction."""

_STATE_KEYS = {
    "version",
    "name",
    "static_kwargs",
    "components",
    "build_module_src",
    "build_func_name",
    "variables",
}


class OfficialPickleError(ValueError):
    """A file that is not a StyleGAN v1 network pickle this package can read."""


@dataclass
class NetworkState:
    """What one pickled official ``Network`` holds, as plain data.

    Attributes:
        name: The network's name (``G``, ``D``, ``Gs``, ``G_mapping``, ``G_synthesis``).
        build_func_name: Name of the function that built it (``G_style``, ``D_basic``, ...).
        static_kwargs: The build function's keyword arguments.
        components: Sub-networks (``mapping`` and ``synthesis`` of a generator).
        variables: Variable name (relative to the network's scope) -> value.
        build_module_src: The stored source of the build module (kept, never executed).
        version: Format version of the pickled state (2 or 3).
    """

    name: str = ""
    build_func_name: str = ""
    static_kwargs: dict[str, Any] = field(default_factory=dict)
    components: dict[str, NetworkState] = field(default_factory=dict)
    variables: dict[str, np.ndarray] = field(default_factory=dict)
    build_module_src: str = ""
    version: int = 0

    def __setstate__(self, state: Any) -> None:
        """Called by the unpickler with the dict the official ``__getstate__`` wrote."""
        if not isinstance(state, dict):
            raise OfficialPickleError(f"a pickled Network holds {type(state).__name__}, not dict")
        unknown = sorted(set(state) - _STATE_KEYS)
        if unknown:
            raise OfficialPickleError(f"a pickled Network has unknown fields {unknown}")
        missing = sorted({"version", "name", "static_kwargs", "variables"} - set(state))
        if missing:
            raise OfficialPickleError(f"a pickled Network lacks fields {missing}")
        if state["version"] not in (2, 3):
            raise OfficialPickleError(
                f"network {state['name']!r} has state version {state['version']!r}; "
                "StyleGAN v1 pickles have 2 or 3"
            )
        self.version = int(state["version"])
        self.name = str(state["name"])
        self.build_func_name = str(state.get("build_func_name", ""))
        self.build_module_src = str(state.get("build_module_src", ""))
        self.static_kwargs = dict(state["static_kwargs"])
        components = dict(state.get("components") or {})
        for key, value in components.items():
            if not isinstance(value, NetworkState):
                raise OfficialPickleError(
                    f"component {key!r} of network {self.name!r} is not a Network"
                )
        self.components = components
        self.variables = {}
        for entry in state["variables"]:
            name, value = entry
            if not isinstance(name, str) or not isinstance(value, np.ndarray | np.generic):
                raise OfficialPickleError(
                    f"network {self.name!r} holds a variable that is not (name, array): "
                    f"{type(name).__name__}, {type(value).__name__}"
                )
            if name in self.variables:
                raise OfficialPickleError(f"network {self.name!r} stores {name!r} twice")
            self.variables[name] = np.asarray(value)


def _numpy_module(module: str) -> Any:
    """``numpy``, or its ``multiarray``/``numeric`` module under NumPy's current name."""
    if module == "numpy":
        return np
    core = getattr(np, "_core", None) or np.core  # NumPy 2's name first
    return getattr(core, module.rsplit(".", 1)[1])


class SafeUnpickler(pickle.Unpickler):
    """An unpickler that can build only official Networks (as :class:`NetworkState`) and
    NumPy arrays; any other global is refused before it could be called."""

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) == NETWORK_GLOBAL:
            return NetworkState
        if (module, name) in _NUMPY_GLOBALS:
            # Resolve under NumPy's current name (numpy.core warns in NumPy 2).
            return getattr(_numpy_module(module), name)
        raise OfficialPickleError(
            f"refusing to load global {module}.{name}: a StyleGAN v1 pickle refers only to "
            f"{'.'.join(NETWORK_GLOBAL)} and NumPy's array reconstructors"
        )


def read_official_pickle(source: str | Path | bytes) -> Any:
    """Unpickle ``source`` (a path or the file's bytes) with :class:`SafeUnpickler`.

    Returns whatever the pickle holds, with every official Network as a :class:`NetworkState`.

    Raises:
        FileNotFoundError: The path does not exist.
        OfficialPickleError: The file refers to another global, or is not a pickle.
    """
    if isinstance(source, bytes):
        data, where = source, "pickle"
    else:
        path = Path(source)
        if not path.is_file():
            raise FileNotFoundError(f"network pickle {path} does not exist")
        data, where = path.read_bytes(), str(path)
    try:
        return SafeUnpickler(io.BytesIO(data)).load()
    except OfficialPickleError as error:
        raise OfficialPickleError(f"{where}: {error}") from None
    except Exception as error:  # truncated, not a pickle, a bad opcode...
        raise OfficialPickleError(
            f"{where} could not be read as a network pickle: {type(error).__name__}: {error}"
        ) from None


__all__ = [
    "NETWORK_GLOBAL",
    "NetworkState",
    "OfficialPickleError",
    "SafeUnpickler",
    "read_official_pickle",
]
