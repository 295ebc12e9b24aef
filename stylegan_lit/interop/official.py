"""NVIDIA's StyleGAN v1 networks as our ``Generator`` and ``Discriminator``.

:func:`load_official_pickle` reads a release pickle (:mod:`.official_pickle`, nothing in it
runs), derives our configuration from the build functions' keyword arguments, and fills every
parameter and buffer from the stored variables (:mod:`.official_names`): the stored noise
images become the ``noise_mode="const"`` noise and ``dlatent_avg`` becomes ``w_avg``. Every
stored variable must be consumed and every one of ours filled; an unknown keyword argument
or variable, a missing variable, a wrong shape, or a setting our networks do not implement
(e.g. ``use_pixel_norm``, labels, another nonlinearity) is an error naming it.

Differences from the official networks that remain after import (none changes an output):

- truncation: the official ``Gs`` truncates by default (psi 0.7, cutoff 8); ours does not.
  The official defaults are returned (``truncation_psi``/``truncation_cutoff``, in our
  convention) and ``stylegan-lit import-official`` stores them in the checkpoint;
- noise: the official ``randomize_noise`` default is True (fresh noise), as is our
  ``noise_mode="random"``; the stored images are ``noise_mode="const"``;
- a snapshot taken mid-fade (``lod`` not 0) is refused: release networks are fully grown.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from stylegan_lit.interop.official_names import (
    Slot,
    convert,
    discriminator_slots,
    mapping_slots,
    official_shape,
    synthesis_slots,
)
from stylegan_lit.interop.official_pickle import (
    NetworkState,
    OfficialPickleError,
    read_official_pickle,
)
from stylegan_lit.models import Discriminator, Generator
from stylegan_lit.models.resolution import num_ws_for

_G_STYLE_KEYS = {
    "truncation_psi", "truncation_cutoff", "truncation_psi_val", "truncation_cutoff_val",
    "dlatent_avg_beta", "style_mixing_prob", "is_training", "is_validation",
    "is_template_graph",
}  # fmt: skip
_MAPPING_KEYS = {
    "latent_size", "label_size", "dlatent_size", "dlatent_broadcast", "mapping_layers",
    "mapping_fmaps", "mapping_lrmul", "mapping_nonlinearity", "use_wscale",
    "normalize_latents", "dtype",
}  # fmt: skip
_SYNTHESIS_KEYS = {
    "dlatent_size", "num_channels", "resolution", "fmap_base", "fmap_decay", "fmap_max",
    "use_styles", "const_input_layer", "use_noise", "randomize_noise", "nonlinearity",
    "use_wscale", "use_pixel_norm", "use_instance_norm", "dtype", "fused_scale",
    "blur_filter", "structure", "is_template_graph", "force_clean_graph",
}  # fmt: skip
_GENERATOR_KEYS = _G_STYLE_KEYS | _MAPPING_KEYS | _SYNTHESIS_KEYS
"""A generator's keyword arguments reach both sub-networks, so each of the three networks'
``static_kwargs`` may hold any of them (each build function ignores the others')."""
_DISCRIMINATOR_KEYS = {
    "num_channels", "resolution", "label_size", "fmap_base", "fmap_decay", "fmap_max",
    "nonlinearity", "use_wscale", "mbstd_group_size", "mbstd_num_features", "dtype",
    "fused_scale", "blur_filter", "structure", "is_template_graph",
}  # fmt: skip

_SYNTHESIS_FIXED: dict[str, Any] = {
    "fmap_decay": 1.0, "use_styles": True, "const_input_layer": True, "use_noise": True,
    "nonlinearity": "lrelu", "use_wscale": True, "use_pixel_norm": False,
    "use_instance_norm": True, "blur_filter": [1, 2, 1], "label_size": 0,
}  # fmt: skip
"""Settings our synthesis network implements only at their official default."""
_MAPPING_FIXED: dict[str, Any] = {
    "label_size": 0, "mapping_nonlinearity": "lrelu", "use_wscale": True,
    "normalize_latents": True,
}  # fmt: skip
_DISCRIMINATOR_FIXED: dict[str, Any] = {
    "label_size": 0, "fmap_decay": 1.0, "nonlinearity": "lrelu", "use_wscale": True,
    "blur_filter": [1, 2, 1],
}  # fmt: skip

GENERATOR_FUNCS = {"G_style": "G", "G_mapping": "mapping", "G_synthesis": "synthesis"}
DISCRIMINATOR_FUNC = "D_basic"


@dataclass
class OfficialNetworks:
    """What an official pickle held, as our networks (eval mode, float32, on the CPU).

    Attributes:
        G: The trained generator (``None`` if the file has none).
        D: The discriminator (``None`` if the file has none).
        G_ema: ``Gs``, the moving average of G: the one to sample (``None`` if absent).
        generator_config: Our ``Generator`` arguments for it.
        discriminator_config: Our ``Discriminator`` arguments (``None`` without a D).
        truncation_psi: The official default truncation of ``Gs``, in our convention
            (psi 1 means none).
        truncation_cutoff: Its cutoff (layers below it are truncated; ``None``: all).
        fused_up_resolutions: Resolutions whose upsampling conv took the official fused
            path (kernels flipped on import).
        fused_down_resolutions: Resolutions whose D downsampling conv took the fused path
            (same function as unfused; kernels copied).
        source: Where it was read from.
    """

    G: Generator | None
    D: Discriminator | None
    G_ema: Generator | None
    generator_config: dict[str, Any]
    discriminator_config: dict[str, Any] | None
    truncation_psi: float = 1.0
    truncation_cutoff: int | None = None
    fused_up_resolutions: list[int] = field(default_factory=list)
    fused_down_resolutions: list[int] = field(default_factory=list)
    source: str = ""

    @property
    def resolution(self) -> int:
        return int(self.generator_config["resolution"])

    def describe(self) -> str:
        """One paragraph for the console."""
        held = ", ".join(n for n in ("G", "D", "G_ema") if getattr(self, n) is not None)
        cfg = self.generator_config
        return (
            f"{self.source}: {held}; {cfg['resolution']} px, {cfg['img_channels']} channel(s), "
            f"z {cfg['z_dim']}, w {cfg['w_dim']}, fmap_base {cfg['fmap_base']}, "
            f"fmap_max {cfg['fmap_max']}; fused upsampling at "
            f"{self.fused_up_resolutions or 'none'}; "
            f"official default truncation psi {self.truncation_psi}, cutoff "
            f"{self.truncation_cutoff}"
        )


def crop_rows(images: torch.Tensor, height: int) -> torch.Tensor:
    """The middle ``height`` rows of square images [N, C, R, R].

    The official wide models were trained on images padded into a square: LSUN cars at
    512 x 384 padded to 512 x 512 with 64 black rows above and below. Our generator (as the
    official one) outputs the padded square; ``crop_rows(images, 384)`` gives the 512 x 384
    picture (rows 64 to 447).
    """
    full = images.shape[-2]
    if not 0 < height <= full:
        raise ValueError(f"crop height must be in 1..{full}, got {height}")
    top = (full - height) // 2
    return images[..., top : top + height, :]


# ---------------------------------------------------------------------------- settings
def _check_keys(net: NetworkState, allowed: set[str]) -> None:
    unknown = sorted(set(net.static_kwargs) - allowed)
    if unknown:
        raise OfficialPickleError(
            f"network {net.name!r} ({net.build_func_name}) has unknown setting(s) {unknown}"
        )


def _check_fixed(net: NetworkState, fixed: Mapping[str, Any]) -> None:
    for key, required in fixed.items():
        if key not in net.static_kwargs:
            continue
        value = net.static_kwargs[key]
        value = list(value) if isinstance(value, list | tuple) else value
        if value != required:
            raise OfficialPickleError(
                f"network {net.name!r} has {key}={value!r}; only {required!r} is supported"
            )


def _int(net: NetworkState, key: str, default: int) -> int:
    value = net.static_kwargs.get(key, default)
    try:
        return int(value)
    except (TypeError, ValueError):
        raise OfficialPickleError(f"network {net.name!r} has {key}={value!r}") from None


def _fused_rule(net: NetworkState, threshold_of: Callable[[int], bool]) -> Callable[[int], bool]:
    """Whether the resampling conv at a resolution took the fused path (``fused_scale``)."""
    fused_scale = net.static_kwargs.get("fused_scale", "auto")
    if fused_scale == "auto":
        return threshold_of
    if fused_scale in (True, False):
        return lambda _res: bool(fused_scale)
    raise OfficialPickleError(f"network {net.name!r} has fused_scale={fused_scale!r}")


@dataclass
class _GeneratorSettings:
    config: dict[str, Any]
    fused_up: Callable[[int], bool]
    truncation_psi: float
    truncation_cutoff: int | None


def _generator_settings(net: NetworkState) -> _GeneratorSettings:
    mapping, synthesis = _components(net)
    for part in (net, mapping, synthesis):
        _check_keys(part, _GENERATOR_KEYS)
    _check_fixed(mapping, _MAPPING_FIXED)
    _check_fixed(synthesis, _SYNTHESIS_FIXED)
    resolution = _int(synthesis, "resolution", 1024)
    if resolution < 4 or resolution & (resolution - 1):
        raise OfficialPickleError(f"network {synthesis.name!r} has resolution={resolution}")
    w_dim = _int(synthesis, "dlatent_size", 512)
    if _int(mapping, "dlatent_size", 512) != w_dim:
        raise OfficialPickleError("G_mapping and G_synthesis disagree on dlatent_size")
    if _int(mapping, "mapping_fmaps", 512) != w_dim:
        raise OfficialPickleError(
            f"network {mapping.name!r} has mapping_fmaps={mapping.static_kwargs['mapping_fmaps']}"
            f" != dlatent_size={w_dim}; only equal widths are supported"
        )
    broadcast = mapping.static_kwargs.get("dlatent_broadcast")
    if broadcast is not None and int(broadcast) != num_ws_for(resolution):
        raise OfficialPickleError(f"network {mapping.name!r} has dlatent_broadcast={broadcast}")
    beta = net.static_kwargs.get("dlatent_avg_beta", 0.995)
    config = dict(
        z_dim=_int(mapping, "latent_size", 512),
        w_dim=w_dim,
        resolution=resolution,
        mapping_layers=_int(mapping, "mapping_layers", 8),
        mapping_lr_multiplier=float(mapping.static_kwargs.get("mapping_lrmul", 0.01)),
        w_avg_beta=0.995 if beta is None else float(beta),
        fmap_base=_int(synthesis, "fmap_base", 8192),
        fmap_max=_int(synthesis, "fmap_max", 512),
        img_channels=_int(synthesis, "num_channels", 3),
    )
    psi = net.static_kwargs.get("truncation_psi", 0.7)
    cutoff = net.static_kwargs.get("truncation_cutoff", 8)
    if psi is None or cutoff is None or int(cutoff) <= 0:  # the official "no truncation"
        psi, cutoff = 1.0, None
    return _GeneratorSettings(
        config=config,
        fused_up=_fused_rule(synthesis, lambda res: res >= 128),  # official: 2 * input >= 128
        truncation_psi=float(psi),
        truncation_cutoff=None if cutoff is None else int(cutoff),
    )


def _discriminator_settings(net: NetworkState) -> tuple[dict[str, Any], Callable[[int], bool]]:
    _check_keys(net, _DISCRIMINATOR_KEYS)
    _check_fixed(net, _DISCRIMINATOR_FIXED)
    group = _int(net, "mbstd_group_size", 4)
    if group <= 1:
        raise OfficialPickleError(
            f"network {net.name!r} has mbstd_group_size={group} (no minibatch std); "
            "only group sizes of 2 and more are supported"
        )
    config = dict(
        resolution=_int(net, "resolution", 32),
        fmap_base=_int(net, "fmap_base", 8192),
        fmap_max=_int(net, "fmap_max", 512),
        mbstd_group_size=group,
        mbstd_num_features=_int(net, "mbstd_num_features", 1),
        img_channels=_int(net, "num_channels", 1),
    )
    return config, _fused_rule(net, lambda res: res >= 128)  # official: input >= 128


# ---------------------------------------------------------------------------- variables
def _components(net: NetworkState) -> tuple[NetworkState, NetworkState]:
    parts = []
    for key, func in (("mapping", "G_mapping"), ("synthesis", "G_synthesis")):
        part = net.components.get(key)
        if part is None:
            raise OfficialPickleError(f"generator {net.name!r} has no {key!r} component")
        if part.build_func_name != func:
            raise OfficialPickleError(
                f"component {key!r} of {net.name!r} was built by {part.build_func_name!r}, "
                f"not {func}"
            )
        parts.append(part)
    extra = sorted(set(net.components) - {"mapping", "synthesis"})
    if extra:
        raise OfficialPickleError(f"generator {net.name!r} has unknown components {extra}")
    return parts[0], parts[1]


def _check_lod(net: NetworkState, variables: dict[str, Any]) -> None:
    if "lod" not in variables:
        raise OfficialPickleError(f"network {net.name!r} lacks variable 'lod'")
    lod = float(variables.pop("lod"))
    if lod != 0.0:
        raise OfficialPickleError(
            f"network {net.name!r} was saved at lod {lod:g} (still growing); only fully grown "
            "networks (lod 0, as released) are supported"
        )


def _fill(
    state: dict[str, torch.Tensor],
    net: NetworkState,
    variables: dict[str, Any],
    slots: dict[str, Slot],
) -> None:
    """Move every variable named in ``slots`` from ``variables`` into ``state``."""
    missing = sorted(set(slots) - set(variables))
    if missing:
        raise OfficialPickleError(f"network {net.name!r} lacks variable(s) {missing}")
    for name, slot in slots.items():
        value = torch.from_numpy(variables.pop(name).astype("float32", copy=True))
        ours = state[slot.key]
        expected = official_shape(tuple(ours.shape), slot.layout)
        if tuple(value.shape) != expected:
            raise OfficialPickleError(
                f"network {net.name!r}: variable {name!r} has shape {tuple(value.shape)}, "
                f"expected {expected} for this configuration"
            )
        state[slot.key] = convert(value, slot.layout).contiguous()


def _no_leftovers(net: NetworkState, variables: dict[str, Any]) -> None:
    if variables:
        raise OfficialPickleError(
            f"network {net.name!r} has unknown variable(s) {sorted(variables)}"
        )


def _load(network: nn.Module, state: dict[str, torch.Tensor], filled: set[str]) -> None:
    unfilled = sorted(set(state) - filled)
    assert not unfilled, f"no official variable fills {unfilled}"  # a bug in the slot tables
    network.load_state_dict(state, strict=True)


def generator_from_official(net: NetworkState) -> tuple[Generator, _GeneratorSettings]:
    """Our generator holding the weights of an official ``G_style`` network."""
    if net.build_func_name != "G_style":
        raise OfficialPickleError(
            f"network {net.name!r} was built by {net.build_func_name!r}, not G_style "
            "(only StyleGAN v1 generators are supported)"
        )
    settings = _generator_settings(net)
    mapping, synthesis = _components(net)
    generator = Generator(**settings.config)
    state = {k: v.clone() for k, v in generator.state_dict().items()}
    filled: set[str] = set()

    own = dict(net.variables)
    _check_lod(net, own)
    if "dlatent_avg" not in own:
        raise OfficialPickleError(f"network {net.name!r} lacks variable 'dlatent_avg'")
    _fill(state, net, own, {"dlatent_avg": Slot("mapping.w_avg")})
    _no_leftovers(net, own)
    filled.add("mapping.w_avg")

    slots = mapping_slots(settings.config["mapping_layers"])
    own = dict(mapping.variables)
    _fill(state, mapping, own, slots)
    _no_leftovers(mapping, own)
    filled |= {s.key for s in slots.values()}

    slots = synthesis_slots(settings.config["resolution"], settings.fused_up)
    own = dict(synthesis.variables)
    _check_lod(synthesis, own)
    _fill(state, synthesis, own, slots)
    _no_leftovers(synthesis, own)
    filled |= {s.key for s in slots.values()}

    _load(generator, state, filled)
    return generator.eval().requires_grad_(False), settings


def discriminator_from_official(net: NetworkState) -> tuple[Discriminator, list[int]]:
    """Our discriminator holding the weights of an official ``D_basic`` network, and the
    resolutions whose downsampling conv was fused there."""
    if net.build_func_name != DISCRIMINATOR_FUNC:
        raise OfficialPickleError(
            f"network {net.name!r} was built by {net.build_func_name!r}, not {DISCRIMINATOR_FUNC}"
        )
    config, fused_down = _discriminator_settings(net)
    discriminator = Discriminator(**config)
    state = {k: v.clone() for k, v in discriminator.state_dict().items()}
    slots = discriminator_slots(config["resolution"])
    own = dict(net.variables)
    _check_lod(net, own)
    _fill(state, net, own, slots)
    _no_leftovers(net, own)
    _load(discriminator, state, {s.key for s in slots.values()})
    fused = [r for r in _upsampled(config["resolution"]) if fused_down(r)]
    return discriminator.eval().requires_grad_(False), fused


def _upsampled(resolution: int) -> list[int]:
    """Resolutions with a resampling conv: 8 up to ``resolution``."""
    return [2**k for k in range(3, int(math.log2(resolution)) + 1)]


def _assign(content: Any) -> dict[str, NetworkState | None]:
    """Which network of the file is G, D and Gs."""
    if isinstance(content, NetworkState):
        if content.build_func_name == DISCRIMINATOR_FUNC:
            return {"G": None, "D": content, "Gs": None}
        role = "Gs" if content.name == "Gs" else "G"
        return {"G": None, "D": None, "Gs": None, role: content}
    if isinstance(content, tuple | list) and len(content) == 3:
        if not all(isinstance(n, NetworkState) for n in content):
            raise OfficialPickleError("the pickle's tuple holds something other than Networks")
        return {"G": content[0], "D": content[1], "Gs": content[2]}
    raise OfficialPickleError(
        f"the pickle holds {type(content).__name__}, not a Network or a (G, D, Gs) tuple"
    )


def load_official_pickle(path: str | Path | bytes) -> OfficialNetworks:
    """Read an official StyleGAN v1 pickle into our networks (see the module docstring).

    Args:
        path: The ``.pkl`` file, or its bytes.

    Raises:
        FileNotFoundError: No such file.
        OfficialPickleError: One line naming what is refused or does not fit.
    """
    source = "pickle" if isinstance(path, bytes) else str(path)
    nets = _assign(read_official_pickle(path))
    try:
        generators: dict[str, Generator | None] = {"G": None, "Gs": None}
        settings: _GeneratorSettings | None = None
        for role in ("G", "Gs"):
            net = nets[role]
            if net is not None:
                generators[role], settings = generator_from_official(net)
        discriminator: Discriminator | None = None
        fused_down: list[int] = []
        if nets["D"] is not None:
            discriminator, fused_down = discriminator_from_official(nets["D"])
    except OfficialPickleError as error:
        raise OfficialPickleError(f"{source}: {error}") from None
    if settings is None:
        raise OfficialPickleError(f"{source} holds no generator")
    g, gs = generators["G"], generators["Gs"]
    if g is not None and gs is not None and g.config != gs.config:
        raise OfficialPickleError(f"{source}: G and Gs have different configurations")
    if discriminator is not None:
        for key in ("resolution", "img_channels"):
            if discriminator.config[key] != settings.config[key]:
                raise OfficialPickleError(f"{source}: G and D disagree on {key}")
    resolution = settings.config["resolution"]
    return OfficialNetworks(
        G=g,
        D=discriminator,
        G_ema=gs,
        generator_config=dict(settings.config),
        discriminator_config=None if discriminator is None else dict(discriminator.config),
        truncation_psi=settings.truncation_psi,
        truncation_cutoff=settings.truncation_cutoff,
        fused_up_resolutions=[r for r in _upsampled(resolution) if settings.fused_up(r)],
        fused_down_resolutions=fused_down,
        source=source,
    )


__all__ = [
    "OfficialNetworks",
    "crop_rows",
    "discriminator_from_official",
    "generator_from_official",
    "load_official_pickle",
]
