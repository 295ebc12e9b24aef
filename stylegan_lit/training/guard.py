"""Skipping optimizer steps whose gradients are not finite, and stopping when it persists."""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn

from stylegan_lit.training.gradient_sync import sync_gradients


class NonFiniteLossError(RuntimeError):
    """Raised when training keeps producing non-finite gradients."""


class FiniteStepGuard:
    """Steps an optimizer only when its network's gradients are finite.

    A GAN occasionally produces one bad step (an overflow, a degenerate batch); skipping it
    keeps the run alive, while a run that produces nothing but NaN must stop before NaN
    weights reach a checkpoint. The check runs on gradients after they were averaged over
    ranks, so every rank decides alike. Under fp16 the gradient scaler already skips
    overflowing steps (and lowers its scale), so such steps are left to it.

    Args:
        max_consecutive: Skipped steps in a row after which :class:`NonFiniteLossError` is
            raised.
    """

    def __init__(self, max_consecutive: int) -> None:
        if max_consecutive < 1:
            raise ValueError(f"max_nonfinite_steps must be >= 1, got {max_consecutive}")
        self.max_consecutive = max_consecutive
        self.skipped = 0
        """Steps skipped in the whole run (checkpoints keep it)."""
        self._in_a_row = 0

    def step(
        self,
        optimizer: Any,
        network: nn.Module,
        *,
        strategy: Any | None,
        scaled: bool,
        where: str,
    ) -> tuple[bool, Tensor]:
        """Average ``network``'s gradients over ranks, step unless they are non-finite, and
        clear them. Returns whether it stepped and the gradient norm.

        Args:
            optimizer: The network's optimizer (Lightning's wrapper or a plain one).
            network: Whose gradients are checked.
            strategy: The trainer's strategy, for the gradient average (``None``: one process).
            scaled: Whether an fp16 gradient scaler handles overflow itself.
            where: The network and the training position, for the error message.
        """
        sync_gradients(network, strategy)
        grads = [p.grad for p in network.parameters() if p.grad is not None]
        norm = (
            torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(g) for g in grads]))
            if grads
            else torch.zeros(())
        )
        finite = scaled or bool(torch.isfinite(norm))
        if finite:
            optimizer.step()
            self._in_a_row = 0
        else:
            self.skipped += 1
            self._in_a_row += 1
            if self._in_a_row >= self.max_consecutive:
                raise NonFiniteLossError(
                    f"{where}: non-finite gradients for {self._in_a_row} consecutive steps; "
                    "stopping before NaN weights are written. Lower the learning rate, raise "
                    "the batch size, or resume from the last checkpoint."
                )
        optimizer.zero_grad(set_to_none=True)
        return finite, norm.detach()


__all__ = ["FiniteStepGuard", "NonFiniteLossError"]
