"""The GAN objectives of the paper, each with its D loss, G loss and regulariser schedule.

Chosen once from the config (:func:`make_objective`), as the official code picks its loss
functions (``training/loss.py``: ``G_logistic_nonsaturating`` with ``D_logistic_simplegp``
for FFHQ, ``G_wgan`` with ``D_wgan_gp`` for CelebA-HQ). The module only calls
:meth:`Objective.discriminator_loss` and :meth:`Objective.generator_loss`; the formulas are
the pure functions of :mod:`stylegan_lit.training.losses`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Literal

import torch
from torch import Tensor

from stylegan_lit.training import losses

LossKind = Literal["logistic", "wgan-gp"]

Critic = Callable[[Tensor], Tensor]
"""D at the current resolution and alpha: images [N, C, R, R] -> logits [N, 1]."""


def full_precision(device: torch.device) -> torch.autocast:
    """Autocast switched off: penalties on D's input gradient are computed in fp32."""
    return torch.autocast(device.type, enabled=False)


class Objective(ABC):
    """A D loss with its regulariser, and the matching G loss.

    Attributes:
        interval: The regulariser runs on every ``interval``-th D step (lazy
            regularisation), weighted by the interval so its average effect is unchanged.
    """

    interval: int = 1

    def regularizes_at(self, d_step: int) -> bool:
        """Whether D step number ``d_step`` (from 0) carries the regulariser."""
        return d_step % self.interval == 0

    @abstractmethod
    def discriminator_loss(
        self, D: Critic, D_eager: Critic, real: Tensor, fake: Tensor, regularize: bool
    ) -> tuple[Tensor, dict[str, Tensor]]:
        """D's loss on reals and (detached) fakes, and its log values.

        Args:
            D: D as trained (compiled when ``compile`` is on).
            D_eager: D without compilation, for the penalties' double backward.
            real: Real images.
            fake: Generated images, detached from G.
            regularize: Whether this step carries the regulariser.
        """

    @abstractmethod
    def generator_loss(self, fake_logits: Tensor) -> Tensor:
        """G's loss from D's logits on generated images."""


class LogisticR1(Objective):
    """Non-saturating logistic loss, R1 on the reals (the paper's FFHQ objective).

    Args:
        gamma: R1 weight (10 for FFHQ); 0 turns R1 off.
        interval: R1 every this many D steps, scaled by it (16: StyleGAN2's lazy R1, a
            speed-up over the official every-step R1 with the same average penalty).
    """

    def __init__(self, gamma: float = 10.0, interval: int = 16) -> None:
        if gamma < 0 or interval < 1:
            raise ValueError("r1_gamma must be >= 0 and r1_interval >= 1")
        self.gamma = gamma
        self.interval = interval

    def regularizes_at(self, d_step: int) -> bool:
        return self.gamma > 0 and super().regularizes_at(d_step)

    def discriminator_loss(
        self, D: Critic, D_eager: Critic, real: Tensor, fake: Tensor, regularize: bool
    ) -> tuple[Tensor, dict[str, Tensor]]:
        real = real.detach().requires_grad_(regularize)
        if regularize:  # R1 differentiates D's input gradient: eager D, in fp32
            with full_precision(real.device):
                real_logits = D_eager(real.float())
        else:
            real_logits = D(real)
        fake_logits = D(fake)
        loss = losses.d_logistic_loss(real_logits.float(), fake_logits.float())
        logs: dict[str, Tensor] = {}
        if regularize:
            with full_precision(real.device):
                r1 = losses.r1_penalty(real_logits, real)
            loss = loss + r1 * (self.gamma / 2 * self.interval)
            logs["loss/r1"] = r1.detach()
        return loss, {**logs, **_score_logs(loss, real_logits, fake_logits)}

    def generator_loss(self, fake_logits: Tensor) -> Tensor:
        return losses.g_nonsaturating_loss(fake_logits)


class WassersteinGP(Objective):
    """WGAN-GP with Progressive GAN's drift term (the paper's CelebA-HQ objective).

    Args:
        gp_lambda: Gradient-penalty weight (10).
        drift: Epsilon drift weight (0.001).
    """

    def __init__(self, gp_lambda: float = 10.0, drift: float = 0.001) -> None:
        self.gp_lambda = gp_lambda
        self.drift = drift

    def discriminator_loss(
        self, D: Critic, D_eager: Critic, real: Tensor, fake: Tensor, regularize: bool
    ) -> tuple[Tensor, dict[str, Tensor]]:
        real_logits = D(real).float()
        fake_logits = D(fake).float()
        loss = losses.d_wgan_loss(real_logits, fake_logits, self.drift)
        with full_precision(real.device):
            gp = losses.gradient_penalty(D_eager, real.float(), fake.float())
        loss = loss + self.gp_lambda * gp
        return loss, {"loss/gp": gp.detach(), **_score_logs(loss, real_logits, fake_logits)}

    def generator_loss(self, fake_logits: Tensor) -> Tensor:
        return losses.g_wgan_loss(fake_logits)


def make_objective(
    loss: LossKind,
    *,
    r1_gamma: float = 10.0,
    r1_interval: int = 16,
    gp_lambda: float = 10.0,
    wgan_drift: float = 0.001,
) -> Objective:
    """The objective a config names (``model.loss``), with its settings."""
    if loss == "logistic":
        return LogisticR1(r1_gamma, r1_interval)
    if loss == "wgan-gp":
        return WassersteinGP(gp_lambda, wgan_drift)
    raise ValueError(f"loss must be 'logistic' or 'wgan-gp', got {loss!r}")


def _score_logs(loss: Tensor, real_logits: Tensor, fake_logits: Tensor) -> dict[str, Tensor]:
    return {
        "loss/d": loss.detach(),
        "scores/real": real_logits.detach().mean(),
        "scores/fake": fake_logits.detach().mean(),
    }


__all__ = ["LogisticR1", "LossKind", "Objective", "WassersteinGP", "make_objective"]
