"""Attribute editing in w (InterFaceGAN, Shen et al. 2020): find a direction, walk along it.

If an attribute is linearly separable in W (StyleGAN's claim of disentanglement), a linear
classifier on w sees it, and the unit normal of its decision boundary is the direction that
changes the attribute while moving as little as possible in W. Adding a multiple of it to
any w adds (or, with a negative strength, removes) the attribute.

Labels for generated samples come from an image classifier: on the synthetic faces the one
of :mod:`.attribute_classifier`, trained on renders whose attributes are known. Strengths
are in units of :attr:`AttributeDirection.scale`, the spread of the fitting samples along
the normal, so ``strength=2`` means "two standard deviations" for any model.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Literal

import torch
import torch.nn.functional as F
from torch import Tensor

from stylegan_lit.generate.images import PathLike
from stylegan_lit.generate.options import RenderOptions
from stylegan_lit.generate.sampling import (
    DEFAULT_OPTIONS,
    Sources,
    map_latents,
    source_ws,
    synthesize,
)
from stylegan_lit.models import Generator

Method = Literal["logistic", "svm"]
ImageScorer = Callable[[Tensor], Tensor]
"""Images [N, C, H, W] in [-1, 1] -> P(attribute) [N], e.g. a classifier's ``predict_proba``."""

SCORING_OPTIONS = RenderOptions(batch_size=64)
"""The default of the functions that render only to score: larger batches (nothing is kept)."""


def _scored(options: RenderOptions) -> RenderOptions:
    """Scores are rendered with const noise, so a score belongs to the latent and not to a
    noise draw, whatever noise the figures use."""
    return replace(options, noise_mode="const")


@dataclass
class AttributeDirection:
    """A linear boundary in W and its unit normal.

    Attributes:
        normal: Unit vector [w_dim] pointing towards the attribute.
        offset: ``normal . w + offset`` is the signed distance of w from the boundary.
        scale: Standard deviation of ``normal . w`` over the fitting samples: one unit of
            edit strength.
        accuracy: Balanced accuracy of the boundary on the fitting samples (how linearly
            separable the attribute is in W).
        attribute: Name of the attribute, if known.
    """

    normal: Tensor
    offset: float
    scale: float
    accuracy: float
    attribute: str | None = None

    def distance(self, w: Tensor) -> Tensor:
        """Signed distances [N] of w [N, w_dim] (or of layer 0 of ws [N, L, w_dim])."""
        w = w[:, 0] if w.ndim == 3 else w
        return w.float() @ self.normal.to(w.device) + self.offset

    def random_like(self, seed: int = 0) -> AttributeDirection:
        """A direction of the same scale pointing somewhere random: the control for edits."""
        generator = torch.Generator().manual_seed(seed)
        normal = torch.randn(self.normal.shape, generator=generator)
        return AttributeDirection(
            normal=normal / normal.norm(),
            offset=0.0,
            scale=self.scale,
            accuracy=float("nan"),
            attribute=f"random{seed}",
        )

    def conditioned_on(self, others: Sequence[AttributeDirection]) -> AttributeDirection:
        """This direction with its components along ``others`` removed (InterFaceGAN's
        conditional manipulation, Shen et al. 2020, section 2.2).

        Correlated attributes (in the synthetic faces beards and glasses are both commoner on
        some faces) have boundaries that are not orthogonal, so walking along one normal
        also moves w across the others' boundaries. The conditioned normal is the part of
        this one orthogonal to the span of the others' (projected out with an orthonormal
        basis of that span, so any number of others works), renormalised: moving along it
        leaves every other boundary's signed distance unchanged.

        ``scale`` stays this direction's, so a strength moves w as far as before; ``offset``
        places the new boundary through the old one's point nearest the origin. A direction
        that lies (almost) in the span of the others has nothing left and is refused.
        """
        if not others:
            return self
        basis, _ = torch.linalg.qr(torch.stack([o.normal.float() for o in others], dim=1))
        normal = self.normal.float()
        residual = normal - basis @ (basis.T @ normal)
        if float(residual.norm()) < 1e-3:
            raise ValueError(
                f"the {self.attribute or 'attribute'} direction lies in the span of the "
                "directions it is conditioned on: nothing is left to edit"
            )
        residual = residual / residual.norm()
        names = ", ".join(o.attribute or "?" for o in others)
        return replace(
            self,
            normal=residual,
            offset=self.offset * float(residual @ normal),
            attribute=f"{self.attribute or 'attribute'} | {names}",
        )

    def save(self, path: PathLike) -> Path:
        """Write as a torch file of tensors and plain values (loadable with weights_only)."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        torch.save({"attribute_direction": asdict(self)}, path)
        return path

    @classmethod
    def load(cls, path: PathLike) -> AttributeDirection:
        """Read a direction written by :meth:`save` (safely: no code is unpickled)."""
        data = torch.load(path, map_location="cpu", weights_only=True)
        if not isinstance(data, dict) or "attribute_direction" not in data:
            raise ValueError(f"{path} is not an attribute direction file")
        return cls(**data["attribute_direction"])


def _balanced_weights(labels: Tensor) -> Tensor:
    positives = labels.sum()
    negatives = len(labels) - positives
    if positives == 0 or negatives == 0:
        raise ValueError(
            "every sample has the same label; sample more, or the generator cannot show "
            "this attribute yet"
        )
    return torch.where(labels > 0, len(labels) / (2 * positives), len(labels) / (2 * negatives))


def fit_direction(
    w: Tensor,
    labels: Tensor,
    *,
    method: Method = "logistic",
    l2: float = 1e-3,
    max_iter: int = 200,
    attribute: str | None = None,
) -> AttributeDirection:
    """Fit a linear classifier on w and return its boundary's unit normal.

    Both classes weigh the same (attributes are often rare). The fit runs on w centred
    and divided by one global scale, which conditions L-BFGS without rotating the normal.

    Args:
        w: Latents [N, w_dim] (or ws [N, L, w_dim]; layer 0 is used).
        labels: bool or {0, 1} [N]: does sample i have the attribute.
        method: ``"logistic"`` (logistic regression) or ``"svm"`` (linear SVM with the
            squared hinge loss, as liblinear's default; InterFaceGAN uses a linear SVM).
        l2: Weight of the L2 penalty on the normal.
        max_iter: L-BFGS iterations.
        attribute: Name kept with the direction.
    """
    if method not in ("logistic", "svm"):
        raise ValueError(f"method must be 'logistic' or 'svm', got {method!r}")
    w = (w[:, 0] if w.ndim == 3 else w).detach().float().cpu()
    y = torch.as_tensor(labels).float().cpu().reshape(-1)
    if len(y) != len(w):
        raise ValueError(f"{len(w)} latents but {len(y)} labels")
    weights = _balanced_weights(y)
    mean, spread = w.mean(dim=0), w.std().clamp_min(1e-8)
    x = (w - mean) / spread
    a = torch.zeros(w.shape[1], requires_grad=True)
    b = torch.zeros((), requires_grad=True)
    optimizer = torch.optim.LBFGS(
        [a, b], max_iter=max_iter, line_search_fn="strong_wolfe", tolerance_grad=1e-9
    )
    signs = 2 * y - 1

    def loss_fn() -> Tensor:
        optimizer.zero_grad()
        logits = x @ a + b
        if method == "logistic":
            data = F.binary_cross_entropy_with_logits(logits, y, weight=weights)
        else:
            data = (weights * F.relu(1 - signs * logits).square()).mean()
        loss = data + 0.5 * l2 * a.square().sum()
        loss.backward()
        return loss

    optimizer.step(loss_fn)
    with torch.no_grad():
        norm = a.norm()
        if not torch.isfinite(norm) or norm == 0:
            raise ValueError("the linear classifier did not converge; try a larger l2")
        normal = a / norm
        offset = float(b * spread / norm - normal @ mean)
        projection = w @ normal
        predicted = (projection + offset) > 0
        rates = [(predicted[y == c] == c).float().mean() for c in (1, 0)]
        return AttributeDirection(
            normal=normal.detach().clone(),
            offset=offset,
            scale=float(projection.std()),
            accuracy=float(sum(rates) / 2),
            attribute=attribute,
        )


def edit_ws(
    ws: Tensor,
    direction: AttributeDirection,
    strength: float | Tensor,
    layers: range | Sequence[int] | None = None,
) -> Tensor:
    """Move ws [N, L, w_dim] by ``strength`` scales along the direction.

    Args:
        ws: Latents to edit.
        direction: From :func:`fit_direction`.
        strength: In units of ``direction.scale``; positive adds the attribute. A tensor
            [N] gives each latent its own strength.
        layers: Only these style layers move (e.g. the coarse ones, to keep colours);
            ``None`` moves all, as InterFaceGAN does.
    """
    step = direction.normal.to(ws) * direction.scale  # [w_dim]
    strength = torch.as_tensor(strength, dtype=ws.dtype, device=ws.device).reshape(-1, 1, 1)
    mask = torch.ones(ws.shape[1], dtype=ws.dtype, device=ws.device)
    if layers is not None:
        mask.zero_()
        mask[list(layers)] = 1
    return ws + strength * mask[None, :, None] * step


@dataclass
class LabelledSamples:
    """Generated samples scored by an image classifier.

    Attributes:
        ws: The latents rendered [N, num_ws, w_dim].
        scores: P(attribute) [N] for each image.
    """

    ws: Tensor
    scores: Tensor


def label_samples(
    G: Generator,
    scorer: ImageScorer,
    num_samples: int = 2000,
    options: RenderOptions = SCORING_OPTIONS,
    *,
    seed: int = 0,
) -> LabelledSamples:
    """Draw random latents (from ``seed``, independent of image seeds), render, score.

    Rendering uses const noise whatever ``options.noise_mode`` says, so a score belongs to
    the latent and not to a noise draw.
    """
    options = _scored(options)
    z = torch.randn(num_samples, G.z_dim, generator=torch.Generator().manual_seed(seed))
    ws = map_latents(G, z, options)
    scores = []
    for chunk in ws.split(options.batch_size):
        scores.append(scorer(synthesize(G, chunk, options)).float().cpu())
    return LabelledSamples(ws=ws, scores=torch.cat(scores))


DEFAULT_EXTREMES: float | None = None
"""Which samples :func:`find_direction` fits by default: all, labelled at P > 0.5.

InterFaceGAN fits the most and least confident ends of the ranking instead. That mislabels
an attribute rarer than the fraction kept: with a quarter at each end, and glasses on 16% of
a model's faces (hats on 8.5%), most of the top quarter has none. On the longer recipe's
model ``benchmarks/editing.py`` (README.md, attribute editing) measured the share of faces
that gained a hat at 6 / 9 scales at 0.34 / 0.52 with the quarters and 0.78 / 0.87 with
every sample labelled; glasses 0.27 / 0.22 against 0.39 / 0.56."""


FALLBACK_EXTREMES = 0.25
"""The ranking's share :func:`find_direction` fits when thresholding gives one class."""


def labels_from_scores(scores: Tensor, extremes: float | None = None) -> tuple[Tensor, Tensor]:
    """Labels for :func:`fit_direction`: (indices kept, labels).

    ``extremes=None`` keeps every sample, labelled ``score > 0.5``. A fraction such as 0.2
    keeps only the most confident fifth at each end of the score ranking, labelled by end
    (InterFaceGAN's choice): robust when the classifier is unsure on generated images or
    when the attribute is rare among them.
    """
    if extremes is None:
        return torch.arange(len(scores)), scores > 0.5
    if not 0 < extremes <= 0.5:
        raise ValueError(f"extremes must be in (0, 0.5], got {extremes}")
    if len(scores) < 2 or float(scores.max() - scores.min()) < 1e-6:
        raise ValueError("the scorer gives every sample the same score: nothing to rank")
    count = max(1, math.floor(len(scores) * extremes))
    order = scores.argsort()
    kept = torch.cat([order[:count], order[-count:]])
    labels = torch.cat([torch.zeros(count, dtype=torch.bool), torch.ones(count, dtype=torch.bool)])
    return kept, labels


def direction_from_samples(
    samples: LabelledSamples,
    *,
    extremes: float | None = DEFAULT_EXTREMES,
    method: Method = "logistic",
    l2: float = 1e-3,
    attribute: str | None = None,
) -> AttributeDirection:
    """Fit the attribute's direction in W to scored samples (:func:`label_samples`).

    By default every sample is fitted, labelled by its score at P > 0.5 (``extremes=None``,
    :data:`DEFAULT_EXTREMES`); a fraction fits only that share of samples at each end of the
    score ranking (InterFaceGAN's choice). See :func:`labels_from_scores` and
    :func:`fit_direction`.
    """
    kept, labels = labels_from_scores(samples.scores, extremes)
    if extremes is None and bool(labels.all()) == bool(labels.any()):
        # A weak generator may show the attribute on no sample (or on all): the threshold
        # then gives one class, and only the ranking can still say where it grows.
        warnings.warn(
            f"{attribute or 'the attribute'}: the scorer puts every sample on one side of "
            f"0.5; fitting the {FALLBACK_EXTREMES:g} of samples at each end of its ranking",
            stacklevel=3,
        )
        kept, labels = labels_from_scores(samples.scores, FALLBACK_EXTREMES)
    return fit_direction(samples.ws[kept], labels, method=method, l2=l2, attribute=attribute)


def find_direction(
    G: Generator,
    scorer: ImageScorer,
    num_samples: int = 2000,
    options: RenderOptions = SCORING_OPTIONS,
    *,
    extremes: float | None = DEFAULT_EXTREMES,
    method: Method = "logistic",
    l2: float = 1e-3,
    attribute: str | None = None,
    seed: int = 0,
) -> AttributeDirection:
    """Sample, score with ``scorer``, and fit the attribute's direction in W
    (:func:`label_samples`, then :func:`direction_from_samples`)."""
    samples = label_samples(G, scorer, num_samples, options, seed=seed)
    return direction_from_samples(
        samples, extremes=extremes, method=method, l2=l2, attribute=attribute
    )


def edit_images(
    G: Generator,
    seeds: Sources,
    direction: AttributeDirection,
    strengths: Sequence[float] = (-3.0, -1.5, 0.0, 1.5, 3.0),
    options: RenderOptions = DEFAULT_OPTIONS,
    *,
    layers: range | Sequence[int] | None = None,
) -> Tensor:
    """Each seed edited at each strength: [len(seeds), len(strengths), C, H, W].

    ``seeds`` may be ws [N, num_ws, w_dim] instead (a projected photo, to edit it).

    The edit is applied after truncation, so the same strength moves every face by the
    same amount whatever psi is.
    """
    ws = source_ws(G, seeds, options)
    edited = torch.stack([edit_ws(ws, direction, s, layers) for s in strengths], dim=1)
    return synthesize(G, edited, options)


@dataclass
class EditOutcome:
    """How often edits changed the classifier's decision.

    Attributes:
        before: P(attribute) [N] of the unedited images.
        after: P(attribute) [N] after moving each towards the opposite decision.
        flipped: bool [N]: the decision (P > 0.5) changed.
    """

    before: Tensor
    after: Tensor
    flipped: Tensor

    @property
    def flip_rate(self) -> float:
        return float(self.flipped.float().mean())


def edit_outcome(
    G: Generator,
    scorer: ImageScorer,
    ws: Tensor,
    direction: AttributeDirection,
    strength: float = 3.0,
    options: RenderOptions = SCORING_OPTIONS,
    *,
    layers: range | Sequence[int] | None = None,
) -> EditOutcome:
    """Push each w [N, L, w_dim] ``strength`` scales towards the other decision and rescore.

    Faces without the attribute (P <= 0.5) move along the direction, faces with it
    against it; an edit works when the decision flips. Run the same with
    :meth:`AttributeDirection.random_like` as the control. The ws are rendered as given
    (``options``' truncation is not applied again), with const noise (see
    :func:`label_samples`). ``layers`` restricts the edit to those style layers, as in
    :func:`edit_ws`.
    """
    options = _scored(options)
    before = scorer(synthesize(G, ws, options)).float().cpu()
    signs = torch.where(before > 0.5, -1.0, 1.0)
    after = scorer(synthesize(G, edit_ws(ws, direction, signs * strength, layers), options))
    after = after.float().cpu()
    return EditOutcome(before=before, after=after, flipped=(before > 0.5) != (after > 0.5))
