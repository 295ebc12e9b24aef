"""Data parallelism made for GANs: average only the gradients of the network being stepped.

PyTorch's ``DistributedDataParallel`` expects every registered parameter to receive a
gradient in every backward. A GAN step never does: the D step leaves G without gradients,
the G step leaves D without (its weights are constants there), and progressive growing
leaves every not-yet-grown block unused. The usual way out, ``find_unused_parameters=True``,
walks the autograd graph after each backward and still all-reduces the unused parameters'
buckets (zeros), so each of the two backward passes of a step moves G's and D's gradients.

:class:`GANDDPStrategy` launches processes like Lightning's DDP but does not wrap the module.
The module calls :func:`sync_gradients` on the network it is about to step: one coalesced
all-reduce of exactly the gradients that exist (the same set on every rank, since every rank
runs the same resolution), then the optimizer steps. Parameters and buffers are broadcast
from rank 0 once at start-up, as DDP does.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.distributed as dist
from lightning.pytorch.strategies import DDPStrategy
from torch import nn
from torch.nn.parallel import DistributedDataParallel

BUCKET_BYTES = 32 * 1024 * 1024
"""All-reduce gradients in flat buckets of about this size (few, large messages)."""


def sync_gradients(network: nn.Module, strategy: Any | None) -> None:
    """Average the gradients of ``network`` over ranks, unless nothing needs doing.

    Nothing is done in a single process, or when the module is wrapped in PyTorch DDP (which
    already averaged them during backward).
    """
    if strategy is None or not isinstance(strategy, GANDDPStrategy):
        return
    if not dist.is_available() or not dist.is_initialized() or dist.get_world_size() == 1:
        return
    grads = [p.grad for p in network.parameters() if p.grad is not None]
    world = dist.get_world_size()
    for bucket in _buckets(grads):
        flat = torch.cat([g.reshape(-1) for g in bucket])
        dist.all_reduce(flat)
        flat.div_(world)
        offset = 0
        for g in bucket:
            g.copy_(flat[offset : offset + g.numel()].view_as(g))
            offset += g.numel()


def _buckets(tensors: list[torch.Tensor]) -> list[list[torch.Tensor]]:
    buckets: list[list[torch.Tensor]] = []
    size = BUCKET_BYTES
    for t in tensors:
        nbytes = t.numel() * t.element_size()
        if size + nbytes > BUCKET_BYTES or buckets[-1][0].dtype != t.dtype:
            buckets.append([])
            size = 0
        buckets[-1].append(t)
        size += nbytes
    return buckets


class GANDDPStrategy(DDPStrategy):
    """Lightning DDP (same launch, process groups, samplers, logging) without the DDP wrapper.

    Use with :class:`~stylegan_lit.training.StyleGANModule`, which syncs its gradients itself
    before each optimizer step. Registered with Lightning as ``gan_ddp``: in a config,
    ``trainer.strategy: gan_ddp`` (NCCL on GPUs, gloo on CPUs).
    """

    strategy_name = "gan_ddp"

    def configure_ddp(self) -> None:
        assert self.model is not None
        for tensor in self.model.state_dict().values():
            if isinstance(tensor, torch.Tensor):
                dist.broadcast(tensor, src=0)

    def _setup_model(self, model: nn.Module) -> DistributedDataParallel:  # pragma: no cover
        raise RuntimeError("GANDDPStrategy never wraps the module in DistributedDataParallel")


def register_strategy() -> None:
    """Make ``strategy: gan_ddp`` (config) and ``--trainer.strategy gan_ddp`` (CLI) work."""
    from lightning.pytorch.strategies import StrategyRegistry

    if GANDDPStrategy.strategy_name not in StrategyRegistry:
        StrategyRegistry.register(
            GANDDPStrategy.strategy_name,
            GANDDPStrategy,
            description="DDP that all-reduces only the gradients of the network being stepped",
        )


register_strategy()
