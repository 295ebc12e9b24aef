"""The generator as an ONNX graph: mapping + truncation + synthesis at one resolution.

StyleGAN's synthesis draws its noise images inside ``forward`` (``torch.randn``), which is
what blocks exporting it (pytorch/pytorch#51010: a traced graph either bakes one draw in as a
constant or has no portable random op). Here noise is never drawn inside the graph; it is,
by ``noise``:

- ``"input"`` (default): one graph input per style layer, ``noise0`` ... ``noise{L-1}``, each
  [N, 1, R_i, R_i] (two per resolution from 4x4): feed N(0, 1) draws for the stochastic
  detail, or the same arrays for repeatable images;
- ``"const"``: the network's stored noise images as constants (deterministic, the
  ``noise_mode="const"`` images);
- ``"none"``: no noise.

Inputs: ``z`` [N, z_dim] (float32; N is dynamic) and ``truncation_psi`` (a float32 scalar:
1 disables truncation, 0.7 is the official default). The truncation cutoff (layers below it
are pulled towards ``w_avg``) is fixed at export time, 8 by default as officially; ``None``
truncates all layers. Output: ``images`` [N, C, R, R] in [-1, 1] (not clamped), at the
chosen resolution with the fade-in complete (alpha 1).

The exported copy runs the plain (unfused) layers: the fused epilogue forms are autograd
Functions, which the exporter does not see into, and plain nearest-upsample + conv keeps the
graph to the most widely supported ops (Resize, Conv). The function is the same. Export goes
through ``torch.export`` (the dynamo exporter, which needs ``onnxscript``), opset 18.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

import torch
from torch import Tensor, nn

from stylegan_lit.models import Generator
from stylegan_lit.models.resolution import check_resolution, num_ws_for
from stylegan_lit.nn import set_fused_ops

NoiseInput = Literal["input", "const", "none"]
NOISE_INPUTS: tuple[str, ...] = ("input", "const", "none")
PARITY_TOLERANCE = 1e-4
"""Largest difference between onnxruntime and PyTorch outputs accepted by :func:`check_onnx`."""


class ExportableGenerator(nn.Module):
    """A generator whose ``forward`` draws nothing: see the module docstring.

    Args:
        generator: The generator (copied; the original is left as it is).
        resolution: Output resolution (default: the generator's).
        truncation_cutoff: Layers ``< cutoff`` are truncated; ``None``: all.
        noise: ``"input"``, ``"const"`` or ``"none"``.
    """

    def __init__(
        self,
        generator: Generator,
        *,
        resolution: int | None = None,
        truncation_cutoff: int | None = 8,
        noise: NoiseInput = "input",
    ) -> None:
        super().__init__()
        if noise not in NOISE_INPUTS:
            raise ValueError(f"noise must be one of {NOISE_INPUTS}, got {noise!r}")
        self.resolution = generator.resolution if resolution is None else resolution
        check_resolution(self.resolution)
        if self.resolution > generator.resolution:
            raise ValueError(
                f"resolution {self.resolution} exceeds the generator's {generator.resolution}"
            )
        self.generator = copy.deepcopy(generator).float().eval().requires_grad_(False)
        set_fused_ops(self.generator, epilogue=False, resampling=False)
        self.noise = noise
        self.num_layers = num_ws_for(self.resolution)
        num_ws = self.generator.num_ws
        cutoff = num_ws if truncation_cutoff is None else min(max(truncation_cutoff, 0), num_ws)
        self.truncation_cutoff = cutoff

    def noise_shapes(self, batch: int) -> list[tuple[int, int, int, int]]:
        """Shapes of the ``noise{i}`` inputs (``noise="input"``)."""
        return [(batch, 1, 2 ** (i // 2 + 2), 2 ** (i // 2 + 2)) for i in range(self.num_layers)]

    def input_names(self) -> list[str]:
        names = ["z", "truncation_psi"]
        if self.noise == "input":
            names += [f"noise{i}" for i in range(self.num_layers)]
        return names

    def example_inputs(self, batch: int = 2, seed: int = 0) -> tuple[Tensor, ...]:
        """Random inputs of the graph's signature (truncation_psi 0.7)."""
        generator = torch.Generator().manual_seed(seed)
        inputs: list[Tensor] = [
            torch.randn(batch, self.generator.z_dim, generator=generator),
            torch.tensor(0.7),
        ]
        if self.noise == "input":
            inputs += [
                torch.randn(shape, generator=generator) for shape in self.noise_shapes(batch)
            ]
        return tuple(inputs)

    def forward(self, z: Tensor, truncation_psi: Tensor, *noise: Tensor) -> Tensor:
        ws = self.generator.mapping(z)  # [N, num_ws, w_dim], untruncated
        cut = self.truncation_cutoff
        w_avg = self.generator.mapping.w_avg
        # The official truncation, w_avg + psi * (w - w_avg), with psi a graph input.
        head = w_avg + truncation_psi * (ws[:, :cut] - w_avg)
        ws = torch.cat([head, ws[:, cut:]], dim=1)
        explicit: Sequence[Tensor] | None = None
        if self.noise == "input":
            if len(noise) != self.num_layers:
                raise ValueError(f"expected {self.num_layers} noise inputs, got {len(noise)}")
            explicit = noise
        return self.generator.synthesis(
            ws,
            resolution=self.resolution,
            noise_mode="none" if self.noise == "none" else "const",
            noise=explicit,
        )


def export_onnx(module: ExportableGenerator, path: str | Path, *, opset: int = 18) -> Path:
    """Write ``module`` as an ONNX graph with a dynamic batch dimension.

    Raises:
        ImportError: ``onnx`` is not installed (``pip install stylegan-lit[onnx]``).
    """
    try:
        import onnx  # noqa: F401  (the exporter needs it)
        import onnxscript  # noqa: F401
    except ImportError as error:
        raise ImportError(
            "ONNX export needs the onnx package: pip install 'stylegan-lit[onnx]'"
        ) from error
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    names = module.input_names()
    batch = torch.export.Dim("batch", min=1)
    # Structured as forward's arguments: z, truncation_psi, then the *noise tuple.
    noise_shapes = tuple({0: batch} for name in names[2:])
    dynamic_shapes: tuple[object, ...] = ({0: batch}, None)
    if noise_shapes:
        dynamic_shapes += (noise_shapes,)
    torch.onnx.export(
        module,
        module.example_inputs(),
        str(path),
        input_names=names,
        output_names=["images"],
        dynamic_shapes=dynamic_shapes,
        opset_version=opset,
        dynamo=True,
        external_data=False,
        verbose=False,
    )
    return path


def check_onnx(
    path: str | Path, module: ExportableGenerator, *, batch: int = 3, seed: int = 1
) -> float:
    """Run the graph in onnxruntime (CPU) and PyTorch on the same random inputs; the largest
    absolute difference of the images.

    Raises:
        ImportError: ``onnxruntime`` is not installed.
    """
    try:
        import onnxruntime
    except ImportError as error:
        raise ImportError(
            "checking the export needs onnxruntime: pip install 'stylegan-lit[onnx]'"
        ) from error
    inputs = module.example_inputs(batch, seed)
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    feed = {name: value.numpy() for name, value in zip(module.input_names(), inputs, strict=True)}
    (images,) = session.run(["images"], feed)
    with torch.no_grad():
        expected = module(*inputs)
    return float((torch.from_numpy(images) - expected).abs().max())


__all__ = [
    "NOISE_INPUTS",
    "PARITY_TOLERANCE",
    "ExportableGenerator",
    "NoiseInput",
    "check_onnx",
    "export_onnx",
]
