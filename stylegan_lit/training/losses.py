"""GAN losses as small pure functions of logits (and, for penalties, of D and images).

Non-saturating logistic loss with R1 (paper, FFHQ) and WGAN-GP (paper, CelebA-HQ).
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import Tensor


def d_logistic_loss(real_logits: Tensor, fake_logits: Tensor) -> Tensor:
    """``softplus(D(fake)) + softplus(-D(real))``, averaged over the batch."""
    return F.softplus(fake_logits).mean() + F.softplus(-real_logits).mean()


def g_nonsaturating_loss(fake_logits: Tensor) -> Tensor:
    """``softplus(-D(G(z)))``, averaged over the batch."""
    return F.softplus(-fake_logits).mean()


def r1_penalty(real_logits: Tensor, real_images: Tensor) -> Tensor:
    """Mean squared gradient norm of D at the reals (Mescheder et al. 2018).

    ``real_images`` must have ``requires_grad`` set before D saw them. The graph is kept so
    the penalty itself can be differentiated. Computed in float32 whatever the autocast.
    """
    (grad,) = torch.autograd.grad(real_logits.float().sum(), real_images, create_graph=True)
    return grad.float().square().sum(dim=(1, 2, 3)).mean()


def d_wgan_loss(real_logits: Tensor, fake_logits: Tensor, drift: float = 0.001) -> Tensor:
    """WGAN critic loss with the epsilon drift term of Progressive GAN."""
    return fake_logits.mean() - real_logits.mean() + drift * real_logits.square().mean()


def g_wgan_loss(fake_logits: Tensor) -> Tensor:
    """WGAN generator loss: ``-D(G(z))``."""
    return -fake_logits.mean()


def gradient_penalty(
    critic: Callable[[Tensor], Tensor], real: Tensor, fake: Tensor, target: float = 1.0
) -> Tensor:
    """WGAN-GP penalty ``((|grad D(x_hat)| - target) / target)^2`` at random interpolates.

    Args:
        critic: D at the current resolution and alpha.
        real: Real images [N, C, H, W].
        fake: Generated images, detached [N, C, H, W].
        target: Target gradient norm (1 in the paper).
    """
    mix = torch.rand(real.shape[0], 1, 1, 1, device=real.device, dtype=real.dtype)
    interpolates = torch.lerp(real.detach(), fake.detach(), mix).requires_grad_(True)
    (grad,) = torch.autograd.grad(
        critic(interpolates).float().sum(), interpolates, create_graph=True
    )
    norms = grad.float().flatten(1).norm(dim=1)
    return ((norms - target) / target).square().mean()
