"""Projection: find the w (or one w per layer, W+) whose render looks like a given image.

The procedure is the official StyleGAN2 projector's, run on this generator: start at the
mean w (over 10,000 mapped z, whose spread ``w_std`` sets the scale of everything else),
then for ``num_steps`` Adam steps minimise the distance of the render to the target
(:mod:`.perceptual`: LPIPS on VGG16 features, or the pixel fallback). What makes it work:

* the noise maps of every layer are optimised too (they absorb detail w cannot express),
  but after each step renormalised to zero mean and unit variance, and penalised for
  correlation between neighbouring pixels at every scale of a 2x2 pooling pyramid
  (weight 1e5), so that they stay noise and do not paint the image themselves;
* Gaussian noise of ``w_std * 0.05 * max(0, 1 - t / 0.75)^2`` is added to w in the first
  75% of the run (``t`` the fraction done): early on, the search looks at a neighbourhood
  of w, which keeps it from settling in the first local minimum;
* the learning rate ramps up linearly over the first 5% and down on a half cosine over the
  last 25% (:func:`learning_rate`), so the result is settled rather than mid-jump.

In W (default) one w is shared by every layer: the result stays where the mapping network
puts faces, so edits and style mixing act on it as on a sample. In W+ every layer has its
own w: closer reconstructions, further from the learned distribution.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from stylegan_lit.generate.images import PathLike
from stylegan_lit.generate.options import RenderOptions
from stylegan_lit.generate.perceptual import Distance, make_distance
from stylegan_lit.models import Generator
from stylegan_lit.models.resolution import num_ws_for

DEFAULT_OPTIONS = RenderOptions()


@dataclass(frozen=True)
class ProjectionSettings:
    """The optimisation's constants (defaults: the official projector's).

    Attributes:
        num_steps: Adam steps.
        w_plus: One w per layer (W+) instead of one shared w (W).
        initial_lr: Peak learning rate.
        lr_rampup: Fraction of the run over which the learning rate ramps up.
        lr_rampdown: Fraction at the end over which it ramps down (half cosine).
        w_noise_factor: Noise added to w at the start, in units of ``w_std``.
        w_noise_ramp: Fraction of the run after which no noise is added to w.
        noise_weight: Weight of the noise maps' autocorrelation penalty.
        optimize_noise: Optimise the per-layer noise maps (else they are fixed random draws).
        w_avg_samples: Mapped z from which the start (their mean) and ``w_std`` come.
        seed: Seeds the start noise maps, the w samples and the noise added to w.
    """

    num_steps: int = 1000
    w_plus: bool = False
    initial_lr: float = 0.1
    lr_rampup: float = 0.05
    lr_rampdown: float = 0.25
    w_noise_factor: float = 0.05
    w_noise_ramp: float = 0.75
    noise_weight: float = 1e5
    optimize_noise: bool = True
    w_avg_samples: int = 10_000
    seed: int = 0

    def __post_init__(self) -> None:
        if self.num_steps < 1:
            raise ValueError(f"num_steps must be at least 1, got {self.num_steps}")
        if self.initial_lr <= 0:
            raise ValueError(f"initial_lr must be positive, got {self.initial_lr}")
        if self.w_avg_samples < 2:
            raise ValueError(f"w_avg_samples must be at least 2, got {self.w_avg_samples}")
        for name in ("lr_rampup", "lr_rampdown", "w_noise_ramp"):
            if not 0 < getattr(self, name) <= 1:
                raise ValueError(f"{name} must be in (0, 1], got {getattr(self, name)}")


def learning_rate(
    t: float, initial_lr: float, rampup: float = 0.05, rampdown: float = 0.25
) -> float:
    """The learning rate at fraction ``t`` of the run: linear ramp-up, cosine ramp-down."""
    down = min(1.0, (1.0 - t) / rampdown)
    down = 0.5 - 0.5 * math.cos(down * math.pi)
    return initial_lr * down * min(1.0, t / rampup)


def w_noise_scale(t: float, w_std: float, factor: float = 0.05, ramp: float = 0.75) -> float:
    """Standard deviation of the noise added to w at fraction ``t`` of the run."""
    return w_std * factor * max(0.0, 1.0 - t / ramp) ** 2


def noise_regularizer(noises: list[Tensor]) -> Tensor:
    """Squared autocorrelation of each noise map with itself shifted by one pixel (down and
    right, wrapping), summed over the maps and over a 2x2 average-pooling pyramid of each
    down to 8 px. Zero for white noise in expectation; large for maps that carry structure.
    """
    total = noises[0].new_zeros(())
    for noise in noises:
        x = noise[None, None] if noise.ndim == 2 else noise
        while True:
            total = total + (x * torch.roll(x, shifts=1, dims=3)).mean().square()
            total = total + (x * torch.roll(x, shifts=1, dims=2)).mean().square()
            if x.shape[2] <= 8:
                break
            x = F.avg_pool2d(x, kernel_size=2)
    return total


@torch.no_grad()
def normalize_noise_(noises: list[Tensor]) -> None:
    """Shift and scale each noise map in place to zero mean and unit variance."""
    for noise in noises:
        mean = noise.mean()
        std = (noise - mean).square().mean().sqrt()
        noise.sub_(mean).div_(std.clamp_min(1e-8))


@torch.no_grad()
def w_statistics(
    G: Generator, num_samples: int = 10_000, seed: int = 0, batch: int = 1000
) -> tuple[Tensor, float]:
    """Mean w [w_dim] and its spread (root mean squared distance to the mean) over
    ``num_samples`` mapped z, on G's device. The mean of this run's samples, not the
    tracked ``w_avg`` buffer, as officially: both are estimates of the same point."""
    device = next(G.parameters()).device
    gen = torch.Generator().manual_seed(seed)
    z = torch.randn(num_samples, G.z_dim, generator=gen)
    ws = torch.cat([G.mapping(chunk.to(device))[:, 0] for chunk in z.split(batch)]).float()
    mean = ws.mean(dim=0)
    std = float((ws - mean).square().sum(dim=1).mean().sqrt())
    return mean, std


@dataclass
class Projection:
    """A projection's result.

    Attributes:
        ws: The latents [num_ws, w_dim] (in W every row is the same w), float32 CPU.
        w_plus: Whether the rows were optimised separately (W+).
        noises: The optimised noise maps, one [1, 1, R, R] per style layer rendered.
        image: The render of ``ws`` with ``noises`` [C, R, R] in [-1, 1].
        distance: Its distance to the target.
        losses: Distance to the target at each step (at the noisy w of that step).
        step: Steps done.
        frames: Renders every ``frame_every`` steps [T, C, R, R], when asked for.
    """

    ws: Tensor
    w_plus: bool
    noises: list[Tensor]
    image: Tensor
    distance: float
    losses: list[float] = field(default_factory=list)
    step: int = 0
    frames: Tensor | None = None

    def save(self, path: PathLike, **extra: object) -> Path:
        """``.npz`` with ``w`` [1, num_ws, w_dim] (the official projector's key and shape),
        ``w_plus``, ``noise_00`` ..., ``losses`` and any ``extra`` values."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        arrays: dict[str, object] = {
            "w": self.ws[None].numpy(),
            "w_plus": np.array(self.w_plus),
            "losses": np.asarray(self.losses, dtype=np.float32),
            **{f"noise_{i:02d}": n.numpy() for i, n in enumerate(self.noises)},
            **{k: np.asarray(v) for k, v in extra.items()},
        }
        np.savez(path, **arrays)  # type: ignore[arg-type]
        return path


class ProjectionError(RuntimeError):
    """The optimisation failed (a non-finite loss); ``best`` is the best result before it."""

    def __init__(self, message: str, best: Projection | None) -> None:
        super().__init__(message)
        self.best = best


def check_target(G: Generator, target: Tensor, resolution: int) -> Tensor:
    """The target as [1, C, R, R] float, checked against what G renders at ``resolution``."""
    if target.ndim == 3:
        target = target[None]
    expected = (1, G.img_channels, resolution, resolution)
    if tuple(target.shape) != expected:
        raise ValueError(f"target must have shape {expected[1:]}, got {tuple(target.shape)}")
    if not bool(torch.isfinite(target).all()):
        raise ValueError("target contains NaN or infinite values")
    return target.float()


def project(
    G: Generator,
    target: Tensor,
    distance: Distance | None = None,
    settings: ProjectionSettings = ProjectionSettings(),
    options: RenderOptions = DEFAULT_OPTIONS,
    *,
    progress: Callable[[int, float], None] | None = None,
    frame_every: int = 0,
) -> Projection:
    """Project ``target`` [C, R, R] in [-1, 1] into G's W (or W+) space.

    Args:
        G: The generator (its weights are not changed; it is moved to ``options.device``).
        target: The image, at the resolution G renders with ``options``.
        distance: What to minimise (:func:`~.perceptual.make_distance`; ``None``: its
            ``"auto"`` choice, VGG16 LPIPS when the weights are found, else the pixel loss);
            moved to G's device.
        settings: Steps, W or W+, schedule constants.
        options: Resolution, fade-in alpha and device (the rest is not used).
        progress: Called after each step with (steps done, distance).
        frame_every: Keep a render every this many steps (for a video); 0: none.

    Raises:
        ValueError: A target of the wrong shape, or non-finite.
        ProjectionError: The loss became NaN or infinite; the error holds the best result.
    """
    resolution = options.resolution_for(G)
    device = options.device_for(G)
    G.to(device)
    if distance is None:
        distance, _ = make_distance("auto")
    distance.to(device)
    target = check_target(G, target, resolution).to(device)
    distance.set_target(target)

    gen = torch.Generator(device=device).manual_seed(settings.seed)
    w_avg, w_std = w_statistics(G, settings.w_avg_samples, settings.seed)
    rows = num_ws_for(resolution) if settings.w_plus else 1
    w_opt = w_avg.detach().clone()[None].repeat(rows, 1).requires_grad_(True)
    noises = [
        torch.randn(shape, generator=gen, device=device)
        for shape in G.synthesis.noise_shapes(resolution)
    ]
    params = [w_opt]
    if settings.optimize_noise:
        params += [n.requires_grad_(True) for n in noises]
    optimizer = torch.optim.Adam(params, lr=settings.initial_lr, betas=(0.9, 0.999))

    def render(w: Tensor) -> Tensor:
        ws = w.expand(G.num_ws, -1) if rows == 1 else _pad_layers(w, G.num_ws)
        return G.synthesis(ws[None], resolution=resolution, alpha=options.alpha, noise=noises)

    best: Projection | None = None
    losses: list[float] = []
    frames: list[Tensor] = []
    for step in range(settings.num_steps):
        t = step / settings.num_steps
        lr = learning_rate(t, settings.initial_lr, settings.lr_rampup, settings.lr_rampdown)
        for group in optimizer.param_groups:
            group["lr"] = lr
        sigma = w_noise_scale(t, w_std, settings.w_noise_factor, settings.w_noise_ramp)
        w_noisy = w_opt + torch.randn(w_opt.shape, generator=gen, device=device) * sigma
        image = render(w_noisy)
        dist = distance(image).sum()
        loss = dist
        if settings.optimize_noise:
            loss = loss + settings.noise_weight * noise_regularizer(noises)
        value, total = float(dist.detach()), float(loss.detach())
        if not math.isfinite(total):
            where = f"step {step + 1} of {settings.num_steps}"
            raise ProjectionError(f"the projection's loss became {total} at {where}", best)
        if best is None or value < best.distance:
            best = _result(w_opt, rows, G, noises, image, value, losses, step)
        losses.append(value)
        if frame_every and step % frame_every == 0:
            frames.append(image.detach()[0].float().cpu())
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        if settings.optimize_noise:
            normalize_noise_(noises)
        if progress is not None:
            progress(step + 1, value)

    with torch.no_grad():
        image = render(w_opt)
        final = float(distance(image).sum())
    if not math.isfinite(final):
        raise ProjectionError(f"the projection's final loss is {final}", best)
    result = _result(w_opt, rows, G, noises, image, final, losses, settings.num_steps)
    if frame_every:
        frames.append(result.image)
        result.frames = torch.stack(frames)
    return result


def _pad_layers(w: Tensor, num_ws: int) -> Tensor:
    """W+ rows for the layers rendered, and the last one repeated for any unused above."""
    if w.shape[0] == num_ws:
        return w
    return torch.cat([w, w[-1:].expand(num_ws - w.shape[0], -1)])


def _result(
    w: Tensor,
    rows: int,
    G: Generator,
    noises: list[Tensor],
    image: Tensor,
    value: float,
    losses: list[float],
    step: int,
) -> Projection:
    w = w.detach().float().cpu()
    ws = w.expand(G.num_ws, -1).clone() if rows == 1 else _pad_layers(w, G.num_ws).clone()
    return Projection(
        ws=ws,
        w_plus=rows > 1,
        noises=[n.detach().float().cpu().clone() for n in noises],
        image=image.detach()[0].float().cpu(),
        distance=value,
        losses=list(losses),
        step=step,
    )


def load_projected_ws(path: PathLike, G: Generator) -> Tensor:
    """The ws [num_ws, w_dim] stored in a ``projected_w.npz`` (ours or the official
    projector's ``w`` [1, L, w_dim]; one w [w_dim] or [1, w_dim] is broadcast), checked
    against G.

    Raises:
        FileNotFoundError: No such file.
        ValueError: Not an ``.npz`` with a ``w``, or a shape that does not fit G.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path} does not exist")
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {name: data[name] for name in data.files}
    except (OSError, EOFError, ValueError, AttributeError) as error:  # not an .npz archive
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise ValueError(f"{path} is not an .npz file of latents ({first})") from None
    if "w" not in arrays:
        raise ValueError(f"{path} holds no 'w' array (keys: {', '.join(arrays) or 'none'})")
    w = torch.from_numpy(np.asarray(arrays["w"], dtype=np.float32))
    if w.ndim == 3 and w.shape[0] == 1:
        w = w[0]
    if w.ndim == 1:
        w = w[None]
    if w.ndim != 2 or w.shape[-1] != G.w_dim or w.shape[0] not in (1, G.num_ws):
        raise ValueError(
            f"{path}: w has shape {tuple(w.shape)}; this generator needs [{G.num_ws}, {G.w_dim}] "
            f"(or one w of {G.w_dim})"
        )
    if not bool(torch.isfinite(w).all()):
        raise ValueError(f"{path}: w contains NaN or infinite values")
    return w.expand(G.num_ws, -1).clone()


__all__ = [
    "Projection",
    "ProjectionError",
    "ProjectionSettings",
    "check_target",
    "learning_rate",
    "load_projected_ws",
    "noise_regularizer",
    "normalize_noise_",
    "project",
    "w_noise_scale",
    "w_statistics",
]
