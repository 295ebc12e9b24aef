"""The two halves of a GAN step: D's and G's gradients, accumulated over micro-batches.

As NVlabs' ``StyleGAN2Loss.accumulate_gradients`` does per phase, each pass switches on the
gradients of the network it trains only (the other's weights are constants in it), runs the
objective on each micro-batch and back-propagates its share of the batch loss. The optimizer
steps stay with the caller, which checks and averages gradients first.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import Tensor

from stylegan_lit.models import Discriminator, Generator
from stylegan_lit.training.latents import LatentDraw
from stylegan_lit.training.objectives import Objective


@dataclass
class GANPasses:
    """The networks and functions a step's passes run.

    Attributes:
        generator: G (its mapping draws the w's).
        discriminator: D, run eagerly where a double backward is needed (R1, the penalty).
        objective: The losses and regulariser.
        synthesize: G's synthesis network (possibly compiled).
        discriminate: D's forward (possibly compiled).
        backward: Lightning's ``manual_backward`` (precision-aware).
        resolution: Resolution of this step.
    """

    generator: Generator
    discriminator: Discriminator
    objective: Objective
    synthesize: Callable[..., Tensor]
    discriminate: Callable[..., Tensor]
    backward: Callable[[Tensor], None]
    resolution: int

    def discriminator_pass(
        self,
        chunks: tuple[Tensor, ...],
        draw: LatentDraw,
        alpha: float | Tensor,
        *,
        keep_fakes: bool,
        regularize: bool,
    ) -> tuple[tuple[Tensor, Tensor] | None, dict[str, Tensor]]:
        """D's gradients on reals and fakes, accumulated over micro-batches; with
        ``keep_fakes`` also the (w, fake) graph of G for the G step."""
        total = sum(len(chunk) for chunk in chunks)
        kept: tuple[Tensor, Tensor] | None = None
        logs: dict[str, Tensor] = {}
        for real, part in zip(chunks, _slices(total, len(chunks[0])), strict=True):
            _requires_grad(self.generator, keep_fakes)
            _requires_grad(self.discriminator, False)
            with torch.set_grad_enabled(keep_fakes):
                ws = draw.map(self.generator.mapping, part)
                fake = self.synthesize(ws, resolution=self.resolution, alpha=alpha)
            if keep_fakes:
                kept = (ws, fake)
            _requires_grad(self.discriminator, True)
            loss, values = self.objective.discriminator_loss(
                lambda x: self.discriminate(x, alpha=alpha),
                lambda x: self.discriminator(x, alpha=alpha),
                real,
                fake.detach(),
                regularize,
            )
            self.backward(loss * (len(real) / total))
            _accumulate_logs(logs, values, len(real) / total)
        return kept, logs

    def generator_pass(
        self,
        chunks: tuple[Tensor, ...],
        draw: LatentDraw,
        alpha: float | Tensor,
        kept: tuple[Tensor, Tensor] | None,
    ) -> tuple[list[Tensor], dict[str, Tensor]]:
        """G's gradients through D (whose weights are constants here); returns each chunk's
        first-layer w (for ``w_avg``) and the loss."""
        total = sum(len(chunk) for chunk in chunks)
        _requires_grad(self.generator, True)
        _requires_grad(self.discriminator, False)
        logs: dict[str, Tensor] = {}
        ws_first: list[Tensor] = []
        for real, part in zip(chunks, _slices(total, len(chunks[0])), strict=True):
            if kept is not None:
                ws, fake = kept
            else:
                ws = draw.map(self.generator.mapping, part)
                fake = self.synthesize(ws, resolution=self.resolution, alpha=alpha)
            loss = self.objective.generator_loss(self.discriminate(fake, alpha=alpha))
            self.backward(loss * (len(real) / total))
            _accumulate_logs(logs, {"loss/g": loss.detach()}, len(real) / total)
            ws_first.append(ws[:, 0].detach())
        _requires_grad(self.discriminator, True)
        return ws_first, logs


def _slices(total: int, size: int) -> list[slice]:
    return [slice(start, min(start + size, total)) for start in range(0, total, size)]


def _requires_grad(network: torch.nn.Module, flag: bool) -> None:
    for p in network.parameters():
        p.requires_grad_(flag)


def _accumulate_logs(total: dict[str, Tensor], new: dict[str, Tensor], weight: float) -> None:
    for key, value in new.items():
        total[key] = total.get(key, 0) + value * weight


__all__ = ["GANPasses"]
