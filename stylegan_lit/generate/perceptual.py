"""How far a rendered image is from a target: the distances a projection minimises.

Two distances, one interface (``distance.set_target(target)``, then ``distance(images)``
gives one value per image):

* :class:`VGGDistance`, LPIPS on VGG16 features: the official projector's loss. Both images
  are shrunk to at most 256 px, passed through torchvision's VGG16 convolutions and compared
  at five depths (``relu1_2`` ... ``relu5_3``), each feature vector scaled to unit length,
  their squared difference weighted per channel by LPIPS's learned heads and averaged over
  the image. The heads are small and ship inside the torchmetrics wheel; the backbone is
  ImageNet-trained VGG16 (528 MB), which is a download. Without network, it is read from a
  path given explicitly or from the torch hub cache (:func:`resolve_vgg16_weights`), and a
  missing file is reported at start-up, naming it, as the FID weights are.
* :class:`PixelDistance`, the fallback when there are no VGG weights: mean squared error at
  the full resolution and at every halving down to 4 px. The coarse levels weigh layout and
  colour, which plain MSE underrates against pixel-exact detail; without pretrained
  features this is the most a projection can lean on. It reconstructs well what the
  generator can render exactly (its own images) and is blurrier than LPIPS on real photos.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

import torch
import torch.nn.functional as F
from torch import Tensor, nn

VGG16_FILENAME = "vgg16-397923af.pth"
"""torchvision's ImageNet VGG16 weights, as named in the torch hub cache."""
VGG16_URL = f"https://download.pytorch.org/models/{VGG16_FILENAME}"
LPIPS_SIZE = 256
"""Images larger than this are shrunk (area filter) before VGG, as officially."""
VGG_TAPS = (4, 9, 16, 23, 30)
"""Ends of the five slices of ``vgg16().features`` (after relu1_2, 2_2, 3_3, 4_3, 5_3)."""
TAP_CHANNELS = (64, 128, 256, 512, 512)
_LPIPS_SHIFT = (-0.030, -0.088, -0.188)
_LPIPS_SCALE = (0.458, 0.448, 0.450)
"""LPIPS's input scaling: from [-1, 1] to roughly ImageNet-normalised values."""

LossName = Literal["auto", "vgg", "pixel"]
LOSSES: tuple[str, ...] = ("auto", "vgg", "pixel")


class VGGWeightsError(FileNotFoundError):
    """The VGG16 weights for the perceptual loss are missing or unusable (names the file)."""


def default_vgg16_file() -> Path:
    """``<torch hub dir>/checkpoints/vgg16-397923af.pth`` (the hub dir honours ``TORCH_HOME``)."""
    return Path(torch.hub.get_dir()) / "checkpoints" / VGG16_FILENAME


def _missing(path: Path, problem: str) -> VGGWeightsError:
    return VGGWeightsError(
        f"VGG16 weights for the perceptual loss: {path} {problem}; download {VGG16_URL} "
        f"elsewhere and put it at {default_vgg16_file()} (set TORCH_HOME to move it) or pass "
        "its path (--vgg-weights), or use the pixel loss (--loss pixel)"
    )


def resolve_vgg16_weights(weights_path: str | os.PathLike[str] | None = None) -> Path:
    """The VGG16 weights file to use: ``weights_path``, else the hub cache; never downloads.

    Only that the file exists is checked here (cheap, at start-up); its contents are
    checked when :func:`load_vgg16_features` reads it.

    Raises:
        VGGWeightsError: The file does not exist (the message names it and says how to
            provide it).
    """
    path = Path(weights_path).expanduser() if weights_path is not None else default_vgg16_file()
    if not path.is_file():
        raise _missing(path, "does not exist")
    return path


def vgg16_features() -> nn.Sequential:
    """VGG16's convolutional part, random weights, up to ``relu5_3`` (no last pooling)."""
    # Only the convolutions: building all of vgg16() would initialise 120M unused weights.
    from torchvision.models.vgg import cfgs, make_layers

    return make_layers(cfgs["D"], batch_norm=False)[: VGG_TAPS[-1]]


def load_vgg16_features(path: str | os.PathLike[str]) -> nn.Sequential:
    """VGG16's convolutions with the weights of a torchvision state dict file.

    The file may hold the whole network (torchvision's download) or only ``features.*``;
    it is read with ``weights_only=True``, so it cannot run code.

    Raises:
        VGGWeightsError: Unreadable, or not VGG16's layout.
    """
    path = Path(path)
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # not a torch file, truncated, pickled objects
        raise _missing(path, f"could not be read as a weights file ({error})") from error
    if not isinstance(state, dict):
        raise _missing(path, "is not a state dict")
    features = vgg16_features()
    own = {k.removeprefix("features."): v for k, v in state.items() if k.startswith("features.")}
    try:
        features.load_state_dict(own, strict=True)
    except RuntimeError as error:
        first = str(error).strip().splitlines()[0]
        raise _missing(path, f"does not hold VGG16's convolutions ({first})") from error
    return features


def lpips_heads() -> list[Tensor] | None:
    """LPIPS's per-channel weights for VGG ([C] per tap), from the torchmetrics wheel.

    ``None`` when torchmetrics or its file is not there; every channel then weighs the same
    (the "LPIPS without learned heads" variant).
    """
    try:
        import torchmetrics
    except ImportError:
        return None
    path = Path(torchmetrics.__file__).parent / "functional" / "image" / "lpips_models" / "vgg.pth"
    if not path.is_file():
        return None
    state = torch.load(path, map_location="cpu", weights_only=True)
    return [state[f"lin{i}.model.1.weight"].flatten().float() for i in range(len(VGG_TAPS))]


def _resize_for_vgg(images: Tensor, size: int) -> Tensor:
    if images.shape[1] == 1:  # a grayscale model: VGG reads RGB
        images = images.expand(-1, 3, -1, -1)
    if images.shape[-1] > size:
        images = F.interpolate(images, size=(size, size), mode="area")
    return images


class VGGDistance(nn.Module):
    """LPIPS-style distance on VGG16 features (see the module docstring).

    Args:
        features: VGG16's convolutions (:func:`load_vgg16_features`), or any stack with the
            same layer indices and :data:`TAP_CHANNELS` (tests use random narrow ones).
        heads: Per-channel weights per tap (:func:`lpips_heads`); ``None``: uniform.
        size: Largest side fed to VGG.
    """

    def __init__(
        self, features: nn.Sequential, heads: list[Tensor] | None = None, size: int = LPIPS_SIZE
    ) -> None:
        super().__init__()
        self.slices = nn.ModuleList(
            features[start:end] for start, end in zip((0, *VGG_TAPS[:-1]), VGG_TAPS, strict=True)
        )
        self.heads = None if heads is None else [h.clone() for h in heads]
        self.size = size
        self.shift: Tensor
        self.scale: Tensor
        self.register_buffer("shift", torch.tensor(_LPIPS_SHIFT)[None, :, None, None])
        self.register_buffer("scale", torch.tensor(_LPIPS_SCALE)[None, :, None, None])
        self.requires_grad_(False).eval()
        self._target: list[Tensor] | None = None

    def features(self, images: Tensor) -> list[Tensor]:
        """Unit-length feature vectors at each tap, for images [N, C, R, R] in [-1, 1]."""
        x = (_resize_for_vgg(images, self.size) - self.shift) / self.scale
        taps = []
        for block in self.slices:
            x = block(x)
            taps.append(x / (x.square().sum(dim=1, keepdim=True).sqrt() + 1e-10))
        return taps

    def set_target(self, target: Tensor) -> None:
        """Compute the target's features once: target [1, C, R, R] in [-1, 1]."""
        with torch.no_grad():
            self._target = [t.detach() for t in self.features(target)]

    def forward(self, images: Tensor) -> Tensor:
        """Distance of each image [N, C, R, R] to the target: [N]."""
        if self._target is None:
            raise RuntimeError("call set_target first")
        total = images.new_zeros(images.shape[0])
        for i, (mine, theirs) in enumerate(zip(self.features(images), self._target, strict=True)):
            diff = (mine - theirs).square()
            if self.heads is None:
                per_pixel = diff.mean(dim=1)
            else:
                weight = self.heads[i].to(diff)[None, :, None, None]
                per_pixel = (diff * weight).sum(dim=1)
            total = total + per_pixel.mean(dim=(1, 2))
        return total


class PixelDistance(nn.Module):
    """Mean squared error at every resolution from the image's down to 4 px, averaged.

    Images are in [-1, 1]; each halving is a 2x2 box mean, so level k compares the means of
    2^k x 2^k blocks.
    """

    def __init__(self) -> None:
        super().__init__()
        self._target: list[Tensor] | None = None

    @staticmethod
    def pyramid(images: Tensor) -> list[Tensor]:
        levels = [images]
        while levels[-1].shape[-1] > 4:
            levels.append(F.avg_pool2d(levels[-1], 2))
        return levels

    def set_target(self, target: Tensor) -> None:
        self._target = [t.detach() for t in self.pyramid(target)]

    def forward(self, images: Tensor) -> Tensor:
        if self._target is None:
            raise RuntimeError("call set_target first")
        levels = self.pyramid(images)
        per_level = [
            (mine - theirs).square().mean(dim=(1, 2, 3))
            for mine, theirs in zip(levels, self._target, strict=True)
        ]
        return torch.stack(per_level).mean(dim=0)


Distance = VGGDistance | PixelDistance


def make_distance(
    loss: LossName = "auto", weights_path: str | os.PathLike[str] | None = None
) -> tuple[Distance, str]:
    """The distance a projection minimises, and a line saying which one and why.

    ``"vgg"`` needs the weights (raises :class:`VGGWeightsError` naming the missing file);
    ``"pixel"`` is the fallback; ``"auto"`` is VGG when the weights are found, else pixel.
    A ``weights_path`` that does not exist is an error even with ``"auto"`` (it was asked
    for by name).
    """
    if loss not in LOSSES:
        raise ValueError(f"loss must be one of {LOSSES}, got {loss!r}")
    if loss == "pixel":
        return PixelDistance(), "pixel loss (multi-scale MSE), as asked"
    try:
        path = resolve_vgg16_weights(weights_path)
    except VGGWeightsError:
        if loss == "vgg" or weights_path is not None:
            raise
        return PixelDistance(), (
            f"pixel loss (multi-scale MSE): no VGG16 weights at {default_vgg16_file()} "
            "(give --vgg-weights for the perceptual loss)"
        )
    heads = lpips_heads()
    kind = "LPIPS heads" if heads is not None else "uniform channel weights"
    return VGGDistance(load_vgg16_features(path), heads), f"VGG16 perceptual loss ({path}, {kind})"


__all__ = [
    "LOSSES",
    "LPIPS_SIZE",
    "TAP_CHANNELS",
    "VGG16_FILENAME",
    "VGG_TAPS",
    "Distance",
    "LossName",
    "PixelDistance",
    "VGGDistance",
    "VGGWeightsError",
    "default_vgg16_file",
    "load_vgg16_features",
    "lpips_heads",
    "make_distance",
    "resolve_vgg16_weights",
    "vgg16_features",
]
