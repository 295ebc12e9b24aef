"""``torch.compile`` for the training step, with a fallback to eager execution.

Compilation needs a working backend (Triton on GPUs, a C++ compiler on CPUs). Where it is
missing, or fails on an op, training should still run: the first call that fails logs a
warning and every later call runs eagerly. The wrapper holds a compiled *function*, not a
module, so the compiled copy never appears in ``state_dict`` or checkpoints.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import torch

log = logging.getLogger(__name__)

RECOMPILE_LIMIT = 64
"""Graphs kept per compiled function: one per resolution, times grad/no-grad and the
requires-grad state of the weights (the D and G steps differ), stays well below this."""


class CompiledOrEager:
    """Call ``fn`` through ``torch.compile``; on the first failure, warn and call it eagerly.

    Args:
        fn: The function (usually a module's bound ``forward``).
        name: Shown in the warning.
        enabled: ``False`` calls ``fn`` directly (no compilation attempted).
        compile_kwargs: Passed to ``torch.compile`` (e.g. ``mode``).
    """

    def __init__(
        self, fn: Callable[..., Any], name: str, enabled: bool = True, **compile_kwargs: Any
    ) -> None:
        self.eager = fn
        self.name = name
        self.compiled: Callable[..., Any] | None = None
        if enabled:
            try:
                _raise_recompile_limit(RECOMPILE_LIMIT)
                self.compiled = torch.compile(fn, **compile_kwargs)
            except Exception as error:  # any failure means: run eagerly
                self._fall_back(error)

    @property
    def is_compiled(self) -> bool:
        return self.compiled is not None

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if self.compiled is None:
            return self.eager(*args, **kwargs)
        try:
            return self.compiled(*args, **kwargs)
        except Exception as error:
            self._fall_back(error)
            return self.eager(*args, **kwargs)

    def _fall_back(self, error: Exception) -> None:
        self.compiled = None
        log.warning(
            "torch.compile of %s failed (%s: %s); running it eagerly from now on. Set "
            "compile: false to silence this.",
            self.name,
            type(error).__name__,
            str(error).splitlines()[0] if str(error) else "",
        )


def _raise_recompile_limit(limit: int) -> None:
    config = torch._dynamo.config
    for key in ("recompile_limit", "cache_size_limit"):  # newer and older names
        if hasattr(config, key) and getattr(config, key) < limit:
            setattr(config, key, limit)
