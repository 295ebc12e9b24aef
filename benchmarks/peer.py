"""A public StyleGAN v1 port's training step, timed beside ours: rosinality/style-based-gan-pytorch.

The peer's code is not part of this repository: give its source tree (a clone of
https://github.com/rosinality/style-based-gan-pytorch) and only its ``model.py`` is imported
from there. Its training iteration is reproduced here as its ``train.py`` runs it with
``--loss r1 --mixing`` (the peer's defaults for FFHQ), written for this benchmark:

* D step: reals with the non-saturating loss and R1 (gamma 10) on **every** step (a
  ``create_graph`` gradient through D), fakes from G with two latents 90% of the time, one
  Adam step;
* G step: fresh latents, G and D forward, softplus loss, one Adam step (the mapping at 0.01
  of the rate, as its ``mult`` group);
* the running average G (its ``accumulate``, decay 0.999).

Same batch, resolution and CPU threads as our rows; the peer has a fixed channel budget
(the official one: 512 up to 32 px, 256 at 64 px, ...), so compare it with our ``official``
preset. Data loading is not timed on either side (reals are a fixed random batch here).
"""

from __future__ import annotations

import importlib.util
import math
import random
import sys
import time
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F


def load_peer_model(tree: Path) -> Any:
    """The peer's ``model`` module from its source tree (refuses a tree without one)."""
    path = Path(tree) / "model.py"
    if not path.is_file():
        raise FileNotFoundError(
            f"--peer {tree}: no model.py there; clone rosinality/style-based-gan-pytorch"
        )
    spec = importlib.util.spec_from_file_location("peer_model", path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules["peer_model"] = module
    spec.loader.exec_module(module)
    return module


def _set_requires_grad(module: torch.nn.Module, flag: bool) -> None:
    for p in module.parameters():
        p.requires_grad_(flag)


def _latents(batch: int, code: int) -> tuple[Any, Any]:
    """Two inputs (D step's, G step's): pairs of codes 90% of the time, as ``--mixing``."""
    if random.random() < 0.9:
        z = torch.randn(4, batch, code).unbind(0)
        return [z[0], z[1]], [z[2], z[3]]
    z = torch.randn(2, batch, code).unbind(0)
    return z[0], z[1]


def time_peer(tree: Path, resolution: int, batch: int, steps: int) -> dict[str, Any]:
    """Seconds per iteration of the peer's training step (after one warm-up iteration)."""
    peer = load_peer_model(tree)
    torch.manual_seed(0)
    random.seed(0)
    code = 512
    G, D = peer.StyledGenerator(code), peer.Discriminator(from_rgb_activate=True)
    G_running = peer.StyledGenerator(code).train(False).requires_grad_(False)
    G_running.load_state_dict(G.state_dict())
    g_opt = torch.optim.Adam(G.generator.parameters(), lr=0.001, betas=(0.0, 0.99))
    g_opt.add_param_group({"params": G.style.parameters(), "lr": 0.001 * 0.01})
    d_opt = torch.optim.Adam(D.parameters(), lr=0.001, betas=(0.0, 0.99))
    step = int(math.log2(resolution)) - 2  # the peer's index: 4 px is step 0
    alpha = 1.0
    real = torch.randn(batch, 3, resolution, resolution)

    def iteration() -> None:
        D.zero_grad()
        _set_requires_grad(G, False)
        _set_requires_grad(D, True)
        image = real.clone().requires_grad_(True)
        scores = D(image, step=step, alpha=alpha)
        F.softplus(-scores).mean().backward(retain_graph=True)
        (grad_real,) = torch.autograd.grad(scores.sum(), image, create_graph=True)
        penalty = 10 / 2 * grad_real.flatten(1).norm(2, dim=1).square().mean()
        penalty.backward()
        z_d, z_g = _latents(batch, code)
        fake = G(z_d, step=step, alpha=alpha)
        F.softplus(D(fake.detach(), step=step, alpha=alpha)).mean().backward()
        d_opt.step()
        G.zero_grad()
        _set_requires_grad(G, True)
        _set_requires_grad(D, False)
        F.softplus(-D(G(z_g, step=step, alpha=alpha), step=step, alpha=alpha)).mean().backward()
        g_opt.step()
        with torch.no_grad():
            for ema, p in zip(G_running.parameters(), G.parameters(), strict=True):
                ema.lerp_(p, 1 - 0.999)

    iteration()  # warm-up
    began = time.perf_counter()
    for _ in range(steps):
        iteration()
    seconds = (time.perf_counter() - began) / steps
    return {
        "kind": "peer",
        "peer": "rosinality/style-based-gan-pytorch (R1 every step, mixing)",
        "resolution": resolution,
        "batch": batch,
        "sec_per_step": round(seconds, 3),
        "images_per_s": round(batch / seconds, 3),
        "sec_per_kimg": round(1000 / batch * seconds, 1),
    }
