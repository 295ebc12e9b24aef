"""The default numeric precision: bf16 mixed where the hardware's bf16 is fast for every size.

GPUs from Ampere on have bf16 tensor cores, and CPUs with matrix units (Intel AMX) ran the
training step 2.7x faster in bf16 at 64 px with the official channels. CPUs with AVX-512 bf16
instructions but no matrix units (AMD Zen 4, Intel Cooper Lake) are not given bf16 by
default, because the gain there depends on the CPU and the network's size: on an AMD EPYC
the official-size step ran about 2x faster in bf16 and the demo's network 12-16% faster
(2026-12-07; an earlier reading of 6.5x slower was not reproduced), while on an Intel Xeon
without AMX the demo's network ran at 0.71x of fp32. They, and CPUs without native bf16 at
all, get ``32-true``; setting ``trainer.precision: bf16-mixed`` overrides the choice.

bf16 keeps fp32's exponent range, so unlike fp16 it needs no loss scaling; R1 and the
gradient penalty are computed in fp32 either way (see
:mod:`stylegan_lit.training.objectives`). This is a deviation from the official code, which
trains in fp32: the quality guard (``benchmarks/quality_guard.py``) compares the two.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch

BF16_CPU_FLAGS = ("amx_bf16", "avx512_bf16")
"""``/proc/cpuinfo`` flags of CPUs whose oneDNN kernels compute bf16 natively."""

DEFAULT_BF16_CPU_FLAG = "amx_bf16"
"""The one of them that earns bf16 by default: matrix units, fast at every network size."""


@dataclass(frozen=True)
class PrecisionChoice:
    """A Lightning ``precision`` value and why it was chosen (for the run's header)."""

    precision: str
    reason: str


def cpu_bf16_flags(cpuinfo: Path = Path("/proc/cpuinfo")) -> list[str]:
    """The native-bf16 flags this CPU reports (empty where it reports none or off Linux)."""
    try:
        text = cpuinfo.read_text()
    except OSError:
        return []
    flags = set()
    for line in text.splitlines():
        if line.startswith("flags"):
            flags.update(line.split(":", 1)[-1].split())
    return [flag for flag in BF16_CPU_FLAGS if flag in flags]


def choose_precision(
    accelerator: str | None, cpuinfo: Path = Path("/proc/cpuinfo")
) -> PrecisionChoice:
    """``bf16-mixed`` on GPUs with bf16 units and CPUs with AMX, else ``32-true``.

    Args:
        accelerator: The trainer's ``accelerator`` setting (``auto``/``None`` means a GPU if
            one is visible, as Lightning decides).
        cpuinfo: Where the CPU flags are read (a parameter for tests).
    """
    wants_gpu = accelerator in (None, "auto", "gpu", "cuda")
    if wants_gpu and torch.cuda.is_available():
        major, minor = torch.cuda.get_device_capability()
        name = torch.cuda.get_device_name()
        if major >= 8:
            return PrecisionChoice("bf16-mixed", f"{name} (compute {major}.{minor}) has bf16 units")
        return PrecisionChoice("32-true", f"{name} (compute {major}.{minor}) has no bf16 units")
    flags = cpu_bf16_flags(cpuinfo)
    if DEFAULT_BF16_CPU_FLAG in flags:
        return PrecisionChoice("bf16-mixed", f"this CPU has bf16 matrix units ({', '.join(flags)})")
    if flags:
        return PrecisionChoice(
            "32-true",
            f"this CPU has {', '.join(flags)} but no AMX: bf16 is slower than fp32 for small "
            "networks there (set trainer.precision=bf16-mixed for large ones)",
        )
    return PrecisionChoice("32-true", "this CPU has no native bf16 (no amx_bf16 or avx512_bf16)")


__all__ = [
    "BF16_CPU_FLAGS",
    "DEFAULT_BF16_CPU_FLAG",
    "PrecisionChoice",
    "choose_precision",
    "cpu_bf16_flags",
]
