"""Where each variable of an official StyleGAN v1 network goes in ours, and how it is laid out.

The official code stores every weight unscaled (the equalised-learning-rate factor is applied
at run time), exactly as our layers do, so values are copied; only layouts differ:

- dense weights are ``[in, out]`` (ours ``[out, in]``);
- conv kernels are TensorFlow's ``[kh, kw, in, out]`` (ours ``[out, in, kh, kw]``);
- the AdaIN scale: the official ``StyleMod`` computes ``x * (style + 1)``, its bias starting
  at 0; ours folds the ``+ 1`` into the bias (which starts at 1), so 1 is added to the scale
  half of the stored bias;
- the fused upsampling conv (``upscale2d_conv2d`` with ``fused_scale``) hands its 3x3 kernel
  to ``conv2d_transpose`` transposed in its channel axes but not flipped in space. A
  transposed conv applies its kernel mirrored, so with the same stored weights that layer
  computes nearest-upsampling followed by the *spatially flipped* 3x3 kernel, not the stored
  one. Layers that took that path are imported with their kernel flipped, which makes our
  upsample-then-conv (fused or not) compute what the official layer computed. The fused
  downsampling conv has no such twist (a strided conv does not mirror its kernel): its
  kernels are copied as they are.

Names are relative to each network's scope, as the official pickles store them. Layer ``i``
of the synthesis network (two per resolution, from 4x4) uses ``w[i]`` and ``noise{i}``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import torch
from torch import Tensor

from stylegan_lit.models.resolution import resolutions_up_to

Layout = Literal["copy", "dense", "conv", "conv_flipped", "style_bias"]
"""How an official array becomes one of our tensors (see the module docstring)."""


@dataclass(frozen=True)
class Slot:
    """One official variable: the key of our state_dict it fills, and its layout."""

    key: str
    layout: Layout = "copy"


def official_shape(ours: tuple[int, ...], layout: Layout) -> tuple[int, ...]:
    """The shape the official variable has when ours is ``ours``."""
    if layout == "dense":
        return (ours[1], ours[0])
    if layout in ("conv", "conv_flipped"):
        return (ours[2], ours[3], ours[1], ours[0])
    return ours


def convert(value: Tensor, layout: Layout) -> Tensor:
    """An official array (as a tensor) in our layout."""
    if layout == "dense":
        return value.T
    if layout == "conv":
        return value.permute(3, 2, 0, 1)
    if layout == "conv_flipped":
        return value.permute(3, 2, 0, 1).flip(-2, -1)
    if layout == "style_bias":
        channels = value.shape[0] // 2
        return value + torch.cat([value.new_ones(channels), value.new_zeros(channels)])
    return value


def mapping_slots(num_layers: int) -> dict[str, Slot]:
    """Variables of ``G_mapping`` -> keys of our ``Generator`` (under ``mapping.``)."""
    slots: dict[str, Slot] = {}
    for i in range(num_layers):
        slots[f"Dense{i}/weight"] = Slot(f"mapping.layers.{i}.weight", "dense")
        slots[f"Dense{i}/bias"] = Slot(f"mapping.layers.{i}.bias")
    return slots


def synthesis_layer_scope(layer: int) -> str:
    """The official scope of synthesis layer ``layer`` (0, 1 at 4x4; 2, 3 at 8x8; ...)."""
    resolution = 2 ** (layer // 2 + 2)
    if resolution == 4:
        return "4x4/Const" if layer == 0 else "4x4/Conv"
    return f"{resolution}x{resolution}/" + ("Conv0_up" if layer % 2 == 0 else "Conv1")


def synthesis_slots(resolution: int, fused_up: Callable[[int], bool]) -> dict[str, Slot]:
    """Variables of ``G_synthesis`` (all but ``lod``) -> keys of our ``Generator``.

    Args:
        resolution: The network's output resolution.
        fused_up: Whether the upsampling conv producing a given resolution took the official
            fused path (its kernel is then flipped, see the module docstring).
    """
    log2 = int(math.log2(resolution))
    slots: dict[str, Slot] = {}
    for res in resolutions_up_to(resolution):
        block = f"synthesis.blocks.{res}"
        first = 2 * (int(math.log2(res)) - 2)
        for j in range(2):
            scope, epilogue = synthesis_layer_scope(first + j), f"{block}.epilogue{j}"
            slots[f"noise{first + j}"] = Slot(f"{epilogue}.noise.noise_const")
            slots[f"{scope}/Noise/weight"] = Slot(f"{epilogue}.noise.strength")
            slots[f"{scope}/bias"] = Slot(f"{epilogue}.bias")
            slots[f"{scope}/StyleMod/weight"] = Slot(f"{epilogue}.adain.affine.weight", "dense")
            slots[f"{scope}/StyleMod/bias"] = Slot(f"{epilogue}.adain.affine.bias", "style_bias")
        if res == 4:
            slots["4x4/Const/const"] = Slot(f"{block}.const")
            slots["4x4/Conv/weight"] = Slot(f"{block}.conv1.weight", "conv")
        else:
            up: Layout = "conv_flipped" if fused_up(res) else "conv"
            slots[f"{res}x{res}/Conv0_up/weight"] = Slot(f"{block}.conv0.conv.weight", up)
            slots[f"{res}x{res}/Conv1/weight"] = Slot(f"{block}.conv1.weight", "conv")
        lod = log2 - int(math.log2(res))
        slots[f"ToRGB_lod{lod}/weight"] = Slot(f"synthesis.to_rgb.{res}.weight", "conv")
        slots[f"ToRGB_lod{lod}/bias"] = Slot(f"synthesis.to_rgb.{res}.bias")
    return slots


def discriminator_slots(resolution: int) -> dict[str, Slot]:
    """Variables of ``D_basic`` (all but ``lod``) -> keys of our ``Discriminator``."""
    log2 = int(math.log2(resolution))
    slots: dict[str, Slot] = {}
    for res in resolutions_up_to(resolution):
        lod = log2 - int(math.log2(res))
        slots[f"FromRGB_lod{lod}/weight"] = Slot(f"from_rgb.{res}.conv.weight", "conv")
        slots[f"FromRGB_lod{lod}/bias"] = Slot(f"from_rgb.{res}.conv.bias")
        if res > 4:
            for scope, ours in (("Conv0", "conv0"), ("Conv1_down", "conv1")):
                slots[f"{res}x{res}/{scope}/weight"] = Slot(f"blocks.{res}.{ours}.weight", "conv")
                slots[f"{res}x{res}/{scope}/bias"] = Slot(f"blocks.{res}.{ours}.bias")
    head: tuple[tuple[str, str, Layout], ...] = (
        ("Conv", "conv", "conv"),
        ("Dense0", "dense", "dense"),
        ("Dense1", "out", "dense"),
    )
    for scope, ours, layout in head:
        slots[f"4x4/{scope}/weight"] = Slot(f"epilogue.{ours}.weight", layout)
        slots[f"4x4/{scope}/bias"] = Slot(f"epilogue.{ours}.bias")
    return slots


__all__ = [
    "Layout",
    "Slot",
    "convert",
    "discriminator_slots",
    "mapping_slots",
    "official_shape",
    "synthesis_layer_scope",
    "synthesis_slots",
]
