"""Official-format StyleGAN v1 pickles built in the tests, and an independent reference of
what the official networks compute from them (no TensorFlow).

``Network`` below pickles under the official module and class name
(``dnnlib.tflib.network.Network``) with the official state dict; the variables are random
arrays laid out as the official code lays them out. The ``official_*`` functions evaluate
those variables the way the official ops do (TensorFlow's conv layouts, ``conv2d_transpose``
for the fused upsampling, its SAME padding, ``x * (style + 1)``...), written here from the
op definitions, not through our networks, so that agreement is a real check.
"""

from __future__ import annotations

import math
import pickle
import sys
import types
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

SQRT2 = math.sqrt(2.0)


class Network:
    """Stand-in for ``dnnlib.tflib.network.Network``: pickles its state dict."""

    def __init__(self, state: dict[str, Any]) -> None:
        self.state = state

    def __getstate__(self) -> dict[str, Any]:
        return self.state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.state = state


Network.__module__ = "dnnlib.tflib.network"


@contextmanager
def official_modules() -> Iterator[None]:
    """Make ``dnnlib.tflib.network.Network`` importable (pickle checks it) while writing."""
    names = ["dnnlib", "dnnlib.tflib", "dnnlib.tflib.network"]
    saved = {name: sys.modules.get(name) for name in names}
    modules = {name: types.ModuleType(name) for name in names}
    modules["dnnlib.tflib.network"].Network = Network  # type: ignore[attr-defined]
    sys.modules.update(modules)
    try:
        yield
    finally:
        for name, module in saved.items():
            if module is None:
                sys.modules.pop(name, None)
            else:
                sys.modules[name] = module


def network(name: str, func: str, kwargs: dict, variables: dict, components=None) -> Network:
    return Network(
        {
            "version": 3,
            "name": name,
            "static_kwargs": dict(kwargs),
            "components": dict(components or {}),
            "build_module_src": "# stand-in: the official build module is not stored here\n",
            "build_func_name": func,
            "variables": [(k, np.asarray(v, dtype=np.float32)) for k, v in variables.items()],
        }
    )


def dumps(obj: Any, protocol: int = 4) -> bytes:
    """Pickle as the official code did: ``pickle.HIGHEST_PROTOCOL``, 4 on the Python 3.6 of
    the releases (arrays through ``_reconstruct``; protocol 5 uses ``_frombuffer``)."""
    with official_modules():
        return pickle.dumps(obj, protocol=protocol)


# ---------------------------------------------------------------------------- variables
def nf(res: int, fmap_base: int, fmap_max: int) -> int:
    return min(int(fmap_base / 2.0 ** (int(math.log2(res)) - 1)), fmap_max)


def generator_variables(
    rng: np.random.Generator,
    *,
    resolution: int,
    fmap_base: int,
    fmap_max: int,
    latent_size: int,
    dlatent_size: int,
    mapping_layers: int,
    num_channels: int = 3,
    lrmul: float = 0.01,
) -> tuple[dict, dict, dict]:
    """Random variables of (G_style, G_mapping, G_synthesis), official names and layouts."""
    n = lambda *shape: rng.standard_normal(shape).astype(np.float32)  # noqa: E731
    g = {"lod": np.float32(0), "dlatent_avg": n(dlatent_size) * 0.5}
    mapping: dict[str, np.ndarray] = {}
    width = latent_size
    for i in range(mapping_layers):
        mapping[f"Dense{i}/weight"] = n(width, dlatent_size) / lrmul
        mapping[f"Dense{i}/bias"] = n(dlatent_size) * 0.1 / lrmul
        width = dlatent_size
    synthesis: dict[str, np.ndarray] = {"lod": np.float32(0)}
    log2 = int(math.log2(resolution))
    for i in range(2 * log2 - 2):
        r = 2 ** (i // 2 + 2)
        synthesis[f"noise{i}"] = n(1, 1, r, r)
    previous = 0
    for k in range(2, log2 + 1):
        r, c = 2**k, nf(2**k, fmap_base, fmap_max)
        scopes = ["4x4/Const", "4x4/Conv"] if r == 4 else [f"{r}x{r}/Conv0_up", f"{r}x{r}/Conv1"]
        if r == 4:
            synthesis["4x4/Const/const"] = 1.0 + 0.3 * n(1, c, 4, 4)
            synthesis["4x4/Conv/weight"] = n(3, 3, c, c)
        else:
            synthesis[f"{r}x{r}/Conv0_up/weight"] = n(3, 3, previous, c)
            synthesis[f"{r}x{r}/Conv1/weight"] = n(3, 3, c, c)
        for scope in scopes:
            synthesis[f"{scope}/Noise/weight"] = n(c) * 0.3
            synthesis[f"{scope}/bias"] = n(c) * 0.3
            synthesis[f"{scope}/StyleMod/weight"] = n(dlatent_size, 2 * c)
            synthesis[f"{scope}/StyleMod/bias"] = n(2 * c) * 0.3
        synthesis[f"ToRGB_lod{log2 - k}/weight"] = n(1, 1, c, num_channels)
        synthesis[f"ToRGB_lod{log2 - k}/bias"] = n(num_channels) * 0.3
        previous = c
    return g, mapping, synthesis


def discriminator_variables(
    rng: np.random.Generator, *, resolution: int, fmap_base: int, fmap_max: int,
    num_channels: int = 3, mbstd_num_features: int = 1,
) -> dict:  # fmt: skip
    n = lambda *shape: rng.standard_normal(shape).astype(np.float32)  # noqa: E731
    log2 = int(math.log2(resolution))
    d: dict[str, np.ndarray] = {"lod": np.float32(0)}
    for k in range(log2, 1, -1):
        r, c = 2**k, nf(2**k, fmap_base, fmap_max)
        d[f"FromRGB_lod{log2 - k}/weight"] = n(1, 1, num_channels, c)
        d[f"FromRGB_lod{log2 - k}/bias"] = n(c) * 0.3
        if r > 4:
            lower = nf(r // 2, fmap_base, fmap_max)
            d[f"{r}x{r}/Conv0/weight"] = n(3, 3, c, c)
            d[f"{r}x{r}/Conv0/bias"] = n(c) * 0.3
            d[f"{r}x{r}/Conv1_down/weight"] = n(3, 3, c, lower)
            d[f"{r}x{r}/Conv1_down/bias"] = n(lower) * 0.3
    c4, dense = nf(4, fmap_base, fmap_max), min(fmap_base, fmap_max)
    d["4x4/Conv/weight"] = n(3, 3, c4 + mbstd_num_features, c4)
    d["4x4/Conv/bias"] = n(c4) * 0.3
    d["4x4/Dense0/weight"] = n(c4 * 16, dense)
    d["4x4/Dense0/bias"] = n(dense) * 0.3
    d["4x4/Dense1/weight"] = n(dense, 1)
    d["4x4/Dense1/bias"] = n(1) * 0.3
    return d


def official_pickle_parts(
    seed: int = 0,
    *,
    resolution: int = 16,
    fmap_base: int = 64,
    fmap_max: int = 16,
    latent_size: int = 8,
    dlatent_size: int = 8,
    mapping_layers: int = 2,
    num_channels: int = 3,
    fused_scale: Any = "auto",
    g_extra: dict | None = None,
) -> dict[str, Any]:
    """Variables and static kwargs of a tiny (G, D, Gs), as the official training writes."""
    rng = np.random.default_rng(seed)
    shape = dict(resolution=resolution, fmap_base=fmap_base, fmap_max=fmap_max)
    g_kwargs = dict(
        num_channels=num_channels, label_size=0, latent_size=latent_size,
        dlatent_size=dlatent_size, mapping_layers=mapping_layers, mapping_fmaps=dlatent_size,
        fused_scale=fused_scale, **shape, **(g_extra or {}),
    )  # fmt: skip
    d_kwargs = dict(num_channels=num_channels, label_size=0, fused_scale=fused_scale, **shape)
    gen = dict(
        latent_size=latent_size, dlatent_size=dlatent_size, mapping_layers=mapping_layers,
        num_channels=num_channels, **shape,
    )  # fmt: skip
    return {
        "g_kwargs": g_kwargs,
        "d_kwargs": d_kwargs,
        "G": generator_variables(rng, **gen),
        "Gs": generator_variables(rng, **gen),
        "D": discriminator_variables(rng, num_channels=num_channels, **shape),
    }


def generator_network(name: str, kwargs: dict, variables: tuple[dict, dict, dict]) -> Network:
    g, mapping, synthesis = variables
    num_ws = 2 * int(math.log2(kwargs["resolution"])) - 2
    return network(
        name, "G_style", kwargs, g,
        components={
            "mapping": network(
                "G_mapping", "G_mapping", {**kwargs, "dlatent_broadcast": num_ws}, mapping
            ),
            "synthesis": network("G_synthesis", "G_synthesis", kwargs, synthesis),
        },
    )  # fmt: skip


def release_tuple(parts: dict[str, Any]) -> tuple[Network, Network, Network]:
    """(G, D, Gs) as in a release pickle."""
    return (
        generator_network("G", parts["g_kwargs"], parts["G"]),
        network("D", "D_basic", parts["d_kwargs"], parts["D"]),
        generator_network("Gs", parts["g_kwargs"], parts["Gs"]),
    )


# ---------------------------------------------------------------------------- reference
def _t(a: np.ndarray) -> Tensor:
    return torch.from_numpy(np.asarray(a)).double()


def _lrelu(x: Tensor) -> Tensor:
    return torch.maximum(x, x * 0.2)


def _dense(x: Tensor, w: np.ndarray, gain: float = SQRT2, lrmul: float = 1.0) -> Tensor:
    x = x.reshape(x.shape[0], -1)
    return x @ (_t(w) * (gain / math.sqrt(w.shape[0]) * lrmul))


def _scaled_kernel(w: np.ndarray, gain: float) -> Tensor:
    """[kh, kw, in, out] times the run-time coefficient (fan_in = kh * kw * in)."""
    return _t(w) * (gain / math.sqrt(w.shape[0] * w.shape[1] * w.shape[2]))


def _conv(x: Tensor, w: np.ndarray, gain: float = SQRT2) -> Tensor:
    """TensorFlow conv2d, NCHW, SAME, kernel [kh, kw, in, out] (a cross-correlation)."""
    k = _scaled_kernel(w, gain)
    return F.conv2d(x, k.permute(3, 2, 0, 1), padding=w.shape[0] // 2)


def _shift_sum(k: Tensor) -> Tensor:
    """Official: pad the [3, 3, a, b] kernel by one on each side, add its four shifts."""
    k = F.pad(k, (0, 0, 0, 0, 1, 1, 1, 1))
    return k[1:, 1:] + k[:-1, 1:] + k[1:, :-1] + k[:-1, :-1]


def _upscale(x: Tensor) -> Tensor:
    return x.repeat_interleave(2, dim=2).repeat_interleave(2, dim=3)


def _blur(x: Tensor) -> Tensor:
    f = torch.tensor([1.0, 2.0, 1.0], dtype=x.dtype)
    f = torch.outer(f, f) / 16
    c = x.shape[1]
    return F.conv2d(x, f.expand(c, 1, 3, 3), padding=1, groups=c)


def official_upscale_conv(x: Tensor, w: np.ndarray, fused: bool) -> Tensor:
    """``upscale2d_conv2d``. Fused: the kernel transposed to [kh, kw, out, in] (not flipped),
    shift-summed to 4x4, through ``conv2d_transpose`` with stride 2 and SAME padding, i.e.
    one pixel of padding on each side of the stride-2 conv it is the transpose of."""
    if not fused:
        return _conv(_upscale(x), w)
    k = _shift_sum(_scaled_kernel(w, SQRT2).permute(0, 1, 3, 2))  # [4, 4, out, in]
    # TensorFlow's transposed-conv filter is [h, w, out, in]; torch's is [in, out, h, w].
    return F.conv_transpose2d(x, k.permute(3, 2, 0, 1), stride=2, padding=1)


def official_conv_downscale(x: Tensor, w: np.ndarray, fused: bool) -> Tensor:
    """``conv2d_downscale2d``: fused, the shift-summed kernel / 4 as a stride-2 SAME conv."""
    if not fused:
        return F.avg_pool2d(_conv(x, w), 2)
    k = _shift_sum(_scaled_kernel(w, SQRT2)) * 0.25  # [4, 4, in, out]
    return F.conv2d(x, k.permute(3, 2, 0, 1), stride=2, padding=1)


def _instance_norm(x: Tensor) -> Tensor:
    x = x - x.mean(dim=(2, 3), keepdim=True)
    return x * torch.rsqrt(x.square().mean(dim=(2, 3), keepdim=True) + 1e-8)


def official_mapping(variables: dict, z: Tensor, layers: int, lrmul: float = 0.01) -> Tensor:
    x = z * torch.rsqrt(z.square().mean(dim=1, keepdim=True) + 1e-8)
    for i in range(layers):
        x = _dense(x, variables[f"Dense{i}/weight"], lrmul=lrmul)
        x = _lrelu(x + _t(variables[f"Dense{i}/bias"]) * lrmul)
    return x


def official_truncate(dlatents: Tensor, avg: np.ndarray, psi: float, cutoff: int) -> Tensor:
    coefs = torch.ones(dlatents.shape[1], dtype=dlatents.dtype)
    coefs[:cutoff] = psi
    avg_t = _t(avg)
    return avg_t + (dlatents - avg_t) * coefs[None, :, None]


def official_synthesis(v: dict, dlatents: Tensor, resolution: int, fused_up) -> Tensor:
    """G_synthesis at lod 0 with ``randomize_noise=False`` (the stored noise images)."""

    def epilogue(x: Tensor, layer: int, scope: str) -> Tensor:
        x = x + _t(v[f"noise{layer}"]) * _t(v[f"{scope}/Noise/weight"]).reshape(1, -1, 1, 1)
        x = _lrelu(x + _t(v[f"{scope}/bias"]).reshape(1, -1, 1, 1))
        x = _instance_norm(x)
        style = _dense(dlatents[:, layer], v[f"{scope}/StyleMod/weight"], gain=1.0)
        style = (style + _t(v[f"{scope}/StyleMod/bias"])).reshape(x.shape[0], 2, -1, 1, 1)
        return x * (style[:, 0] + 1) + style[:, 1]

    n = dlatents.shape[0]
    x = _t(v["4x4/Const/const"]).expand(n, -1, -1, -1)
    x = epilogue(x, 0, "4x4/Const")
    x = epilogue(_conv(x, v["4x4/Conv/weight"]), 1, "4x4/Conv")
    log2 = int(math.log2(resolution))
    for k in range(3, log2 + 1):
        r = 2**k
        up = official_upscale_conv(x, v[f"{r}x{r}/Conv0_up/weight"], fused_up(r))
        x = epilogue(_blur(up), 2 * k - 4, f"{r}x{r}/Conv0_up")
        x = epilogue(_conv(x, v[f"{r}x{r}/Conv1/weight"]), 2 * k - 3, f"{r}x{r}/Conv1")
    rgb = _conv(x, v["ToRGB_lod0/weight"], gain=1.0)
    return rgb + _t(v["ToRGB_lod0/bias"]).reshape(1, -1, 1, 1)


def _minibatch_stddev(x: Tensor, group_size: int = 4, num_new: int = 1) -> Tensor:
    g = min(group_size, x.shape[0])
    n, c, h, w = x.shape
    y = x.reshape(g, -1, num_new, c // num_new, h, w)
    y = y - y.mean(dim=0, keepdim=True)
    y = torch.sqrt(y.square().mean(dim=0) + 1e-8)  # [M, n, c, H, W]
    y = y.mean(dim=(2, 3, 4))  # [M, n]
    y = y.repeat(g, 1)[:, :, None, None].expand(n, num_new, h, w)
    return torch.cat([x, y], dim=1)


def official_discriminator(v: dict, images: Tensor, resolution: int, fused_down) -> Tensor:
    """D_basic at lod 0 -> scores [N]."""
    log2 = int(math.log2(resolution))
    x = _lrelu(_conv(images, v["FromRGB_lod0/weight"]) + _t(v["FromRGB_lod0/bias"])[:, None, None])
    for k in range(log2, 2, -1):
        r = 2**k
        x = _lrelu(
            _conv(x, v[f"{r}x{r}/Conv0/weight"]) + _t(v[f"{r}x{r}/Conv0/bias"])[:, None, None]
        )
        x = official_conv_downscale(_blur(x), v[f"{r}x{r}/Conv1_down/weight"], fused_down(r))
        x = _lrelu(x + _t(v[f"{r}x{r}/Conv1_down/bias"])[:, None, None])
    x = _minibatch_stddev(x)
    x = _lrelu(_conv(x, v["4x4/Conv/weight"]) + _t(v["4x4/Conv/bias"])[:, None, None])
    x = _lrelu(_dense(x, v["4x4/Dense0/weight"]) + _t(v["4x4/Dense0/bias"]))
    return (_dense(x, v["4x4/Dense1/weight"], gain=1.0) + _t(v["4x4/Dense1/bias"]))[:, 0]
