"""Refine an attribute direction where edits are judged: on the images, by the classifiers.

InterFaceGAN's normal (:func:`~stylegan_lit.generate.editing.fit_direction`) is the best
*linear separator* of an attribute in W, which is not the same as the best *edit*. Where
attributes are correlated in W, walking along the separator drags the others along; on the
synthetic faces the rare accessories share a region of W, and the longer recipe's glasses
direction added hats and beards with the frames (README, attribute editing). Conditional
manipulation (:meth:`~stylegan_lit.generate.editing.AttributeDirection.conditioned_on`)
removes only the part of that coupling that is linear in W.

This module measures the coupling where the benchmark does and optimises the direction
against it, in the spirit of learned latent directions with a content term (Zhuang et al.,
"Enjoy Your Editing", ICLR 2021), kept to one global linear direction in W as the paper's
control claim states. Starting from the fitted normal, for latents w of a labelled pool and
the unit direction u:

    loss(u) = E_w [ BCE(f(G(w')), the other decision)
                    + keep_weight * sum_b (p_b(G(w')) - p_b(G(w)))^2
                    + content_weight * |low(G(w')) - low(G(w))|^2 ],  w' = w + s_w k sigma u

where s_w is +1 for faces without the attribute and -1 for faces with it (each is pushed
towards the other decision, as :func:`~stylegan_lit.generate.editing.edit_outcome`
measures), k the strength in scales, sigma the starting direction's scale (kept, as
:meth:`~stylegan_lit.generate.editing.AttributeDirection.conditioned_on` keeps it: a
strength moves w as far as before, so the refinement can only turn the step, not lengthen
it, and a random direction of the same scale stays the fair control), f the attribute
classifier's logit and p_b the probabilities of the attributes to keep, and low() the
image average-pooled to ``content_resolution`` (8 px by default): a content term that lets
an edit draw something small (frames, a brim) but charges it for what the classifiers do
not watch and a person would, such as the skin or hair colour of the whole face or the
head's layout. Gradients flow through G's synthesis and the classifiers, as in projection;
G and the classifiers are not changed. This step is ours, beyond the StyleGAN paper and
InterFaceGAN; off unless asked for (``--refine``).

A classifier can be fooled by patterns no person would call the attribute, and an optimised
direction finds such patterns more readily than a fitted one. The direction stays one
linear step in W, shared by every face, which limits this; still, judge a refined edit by
its images (``stylegan-lit generate --figure edit --refine``) and, where it matters, with a
classifier trained independently of the one used here (``benchmarks/editing.py --refine
--judge-seed 1``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from stylegan_lit.generate.editing import SCORING_OPTIONS, AttributeDirection, LabelledSamples
from stylegan_lit.generate.options import RenderOptions
from stylegan_lit.generate.sampling import synthesize
from stylegan_lit.models import Generator

LogitScorer = Callable[[Tensor], Tensor]
"""Images [N, C, H, W] in [-1, 1] -> logits [N], differentiable (an attribute classifier)."""


@dataclass(frozen=True)
class Refinement:
    """Settings of :func:`refine_direction`.

    Attributes:
        strength: The edit strength optimised for, in the starting direction's scales
            (its fitting samples' standard deviation along it). 6, the outer columns of
            the edit figures: on the longer recipe's model a refinement at 3 turned the hat
            direction into one that flipped fewer faces at 9 scales than at 6
            (``benchmarks/editing.py``, README's editing section).
        steps: Adam steps.
        batch_size: Latents per step (rendered with gradients: memory grows with it).
        learning_rate: Adam's step on the (unnormalised) direction vector, whose norm is 1
            at the start.
        keep_weight: Weight of the squared probability changes of the kept attributes
            against the flip term (a binary cross-entropy).
        content_weight: Weight of the mean squared change of the image average-pooled to
            ``content_resolution`` (pixels in [-1, 1]).
        content_resolution: Size of that low-pass image.
        seed: Order in which the pool's latents are drawn.
    """

    strength: float = 6.0
    steps: int = 150
    batch_size: int = 16
    learning_rate: float = 0.01
    keep_weight: float = 4.0
    content_weight: float = 10.0
    content_resolution: int = 8
    seed: int = 0

    def __post_init__(self) -> None:
        if self.strength <= 0 or self.steps < 1 or self.batch_size < 1:
            raise ValueError("strength must be > 0, steps and batch_size >= 1")
        if self.learning_rate <= 0 or min(self.keep_weight, self.content_weight) < 0:
            raise ValueError("learning_rate must be > 0, keep_weight and content_weight >= 0")
        if self.content_resolution < 1:
            raise ValueError("content_resolution must be >= 1")


@contextmanager
def _frozen(modules: Sequence[nn.Module]) -> Iterator[None]:
    """Parameters of ``modules`` without gradients for the duration (restored after)."""
    params = [p for m in modules for p in m.parameters()]
    flags = [p.requires_grad for p in params]
    for p in params:
        p.requires_grad_(False)
    try:
        yield
    finally:
        for p, flag in zip(params, flags, strict=True):
            p.requires_grad_(flag)


def _step(
    ws: Tensor, u: Tensor, scale: Tensor, signs: Tensor, strength: float, mask: Tensor
) -> Tensor:
    """ws [N, L, D] moved ``signs * strength`` scales along unit ``u`` on the masked layers."""
    return ws + (signs * strength).reshape(-1, 1, 1) * mask[None, :, None] * (scale * u)


def low_pass(images: Tensor, size: int) -> Tensor:
    """Images [N, C, H, W] average-pooled to [N, C, size, size] (the content term's view)."""
    return F.adaptive_avg_pool2d(images, min(size, images.shape[-1]))


def _boundary(projection: Tensor, labels: Tensor) -> tuple[float, float]:
    """The threshold on ``projection`` [N] with the best balanced accuracy for bool
    ``labels``: (offset such that ``projection + offset > 0`` predicts the attribute,
    that accuracy)."""
    order = projection.argsort()
    sorted_labels = labels[order].float()
    positives, negatives = sorted_labels.sum(), (1 - sorted_labels).sum()
    # Threshold after the first i samples (i = 0..N): negatives below it, positives above.
    below_neg = torch.cat([torch.zeros(1), (1 - sorted_labels).cumsum(0)])
    below_pos = torch.cat([torch.zeros(1), sorted_labels.cumsum(0)])
    accuracy = (below_neg / negatives + (positives - below_pos) / positives) / 2
    best = int(accuracy.argmax())
    values = projection[order]
    if best == 0:
        threshold = float(values[0]) - 1e-6
    elif best == len(values):
        threshold = float(values[-1]) + 1e-6
    else:
        threshold = float(values[best - 1] + values[best]) / 2
    return -threshold, float(accuracy[best])


def refine_direction(
    G: Generator,
    direction: AttributeDirection,
    attribute: LogitScorer,
    keep: Mapping[str, LogitScorer],
    pool: LabelledSamples,
    options: RenderOptions = SCORING_OPTIONS,
    settings: Refinement = Refinement(),
    *,
    layers: range | Sequence[int] | None = None,
) -> AttributeDirection:
    """Optimise ``direction`` so that edits flip ``attribute`` and leave ``keep`` alone.

    Args:
        G: The generator (not changed).
        direction: The start, e.g. from :func:`~stylegan_lit.generate.editing.find_direction`.
        attribute: Logit of the edited attribute (e.g. its classifier module).
        keep: Logits of the attributes the edit should not change, by name. Scorers that
            are modules are moved to G's device.
        pool: Latents with the attribute's scores (P > 0.5: has it), e.g. from
            :func:`~stylegan_lit.generate.editing.label_samples`; at least two, both
            decisions present.
        options: Rendering (const noise is used, as for every score).
        settings: Strength, steps and weights (:class:`Refinement`).
        layers: Style layers the edit moves (``None``: all, as the returned direction is
            used by default).

    Returns:
        The refined direction: its unit normal, the start's ``scale``, and the best
        threshold along the normal on the pool's labels as ``offset`` and ``accuracy``.
    """
    labels = pool.scores > 0.5
    if len(labels) < 2 or bool(labels.all()) or not bool(labels.any()):
        raise ValueError("the pool needs faces with and without the attribute to refine on")
    options = replace(options, noise_mode="const")
    device = options.device_for(G)
    ws = pool.ws.to(device)
    signs = torch.where(labels, -1.0, 1.0).to(device)
    mask = torch.zeros(ws.shape[1], device=device)
    mask[list(range(ws.shape[1]) if layers is None else layers)] = 1
    first_layer = ws[:, 0].float()
    scale = torch.tensor(direction.scale, device=device)
    scorers = [m for m in (attribute, *keep.values()) if isinstance(m, nn.Module)]
    for module in scorers:  # the images are rendered where G is
        module.to(device)
    with _frozen([G, *scorers]):
        with torch.no_grad():
            images = synthesize(G, pool.ws, options)
            kept_before = {
                name: torch.cat(
                    [torch.sigmoid(score(c.to(device))) for c in images.split(options.batch_size)]
                )
                for name, score in keep.items()
            }
            low_before = low_pass(images, settings.content_resolution).to(device)
        vector = direction.normal.detach().float().to(device).clone().requires_grad_(True)
        optimizer = torch.optim.Adam([vector], lr=settings.learning_rate)
        order = torch.Generator().manual_seed(settings.seed)
        for _ in range(settings.steps):
            batch = torch.randint(len(ws), (settings.batch_size,), generator=order).to(device)
            u = vector / vector.norm()
            edited = _step(ws[batch], u, scale, signs[batch], settings.strength, mask)
            rendered = options.synthesis(G, edited)
            loss = F.softplus(-signs[batch] * attribute(rendered)).mean()
            for name, score in keep.items():
                moved = torch.sigmoid(score(rendered)) - kept_before[name][batch]
                loss = loss + settings.keep_weight * moved.square().mean()
            low = low_pass(rendered, settings.content_resolution)
            loss = loss + settings.content_weight * (low - low_before[batch]).square().mean()
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
    with torch.no_grad():
        normal = (vector / vector.norm()).detach().cpu()
        projection = first_layer.cpu() @ normal
        offset, accuracy = _boundary(projection, labels.cpu())
    return replace(direction, normal=normal, offset=offset, accuracy=accuracy)


__all__ = ["LogitScorer", "Refinement", "low_pass", "refine_direction"]
