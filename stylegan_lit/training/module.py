"""The LightningModule: G and D trained adversarially with manual optimization."""

from __future__ import annotations

import copy
from typing import Any

import lightning.pytorch as pl
import torch
from torch import Tensor

from stylegan_lit.checkpoint_format import (
    CheckpointError,
    check_networks_match,
    read_meta,
    write_meta,
)
from stylegan_lit.checkpoints import load_network_state, read_checkpoint
from stylegan_lit.models import Discriminator, Generator
from stylegan_lit.nn import set_fused_ops
from stylegan_lit.training.compile import CompiledOrEager
from stylegan_lit.training.ema import ema_beta, ramped_half_life, update_ema
from stylegan_lit.training.guard import FiniteStepGuard, NonFiniteLossError
from stylegan_lit.training.latents import LatentDraw, draw_latents
from stylegan_lit.training.objectives import LossKind, make_objective
from stylegan_lit.training.optim import check_saved_groups, parameter_groups, set_learning_rate
from stylegan_lit.training.passes import GANPasses
from stylegan_lit.training.schedule import BASE_LEARNING_RATE, Phase, ProgressiveSchedule


class StyleGANModule(pl.LightningModule):
    """StyleGAN training: per batch one D step (reals and fakes), then one G step.

    The module receives its networks (LightningCLI builds them from the config). Its one
    progress state is ``images_seen``, the images shown to D on all ranks together, as the
    official loop's ``cur_nimg``: the resolution, fade-in alpha, batch size and learning rate
    are functions of it through the :class:`~stylegan_lit.training.schedule.ProgressiveSchedule`
    that :class:`stylegan_lit.callbacks.ProgressiveGrowing` attaches as ``schedule`` (a
    schedule whose start and final resolutions are equal trains one resolution). Checkpoints
    carry the count and the schedule's arguments (:mod:`stylegan_lit.checkpoint_format`).
    Without a schedule the module trains at G's full resolution at the official base learning
    rate (as some tests and benchmarks do).

    Randomness of a step (latents, style mixing, noise) is drawn after seeding torch from
    ``(seed, images_seen, rank)``: the run is a pure function of the image count, so a resumed
    run repeats an uninterrupted one exactly, whatever happened to the RNG in between.

    Args:
        generator: The generator G (its EMA copy is made here).
        discriminator: The discriminator D.
        loss: ``"logistic"`` (non-saturating, with R1) or ``"wgan-gp"``.
        r1_gamma: R1 weight (10 for FFHQ); 0 disables it.
        r1_interval: Lazy regularisation: R1 every this many D steps, scaled by the interval.
        gp_lambda: WGAN-GP gradient-penalty weight.
        wgan_drift: WGAN-GP epsilon drift weight.
        style_mixing_prob: Probability that a minibatch uses two latents (0.9).
        ema_half_life_kimg: Half-life of the G EMA in thousands of images (10).
        ema_rampup: If set, the half-life is ``min(ema_half_life_kimg, ema_rampup * kimg)``
            (the official StyleGAN2-ADA ``ema_rampup``; StyleGAN's own code has none): the EMA
            averages over a fixed fraction of the training so far.
        noise_lr_multiplier: Learning-rate multiplier of G's noise strengths (1 officially;
            see :mod:`stylegan_lit.training.optim` for when a smaller one helps).
        coarse_lr_multiplier: Learning-rate multiplier of G's synthesis blocks two or more
            octaves below the resolution being trained (1 officially; a deviation, see
            :mod:`stylegan_lit.training.optim`).
        betas: Adam betas (0, 0.99 officially).
        eps: Adam epsilon.
        max_nonfinite_steps: Consecutive skipped steps after which training stops.
        seed: Seed of the per-step randomness.
        reuse_fakes: Use the D step's latents, generated images and G graph for the G step
            instead of drawing new latents and running G again: one G forward cheaper, at the
            memory of G's activations during the D step. It changes the algorithm, not the
            networks: the official losses draw fresh latents for each step (a deviation,
            measured by ``benchmarks/quality_guard.py``).
        max_microbatch: Largest number of images per forward pass; a larger per-GPU batch is
            split and its gradients accumulated (for levels whose batch does not fit memory).
        channels_last: Keep G, D and images in the NHWC memory format, which oneDNN and
            cuDNN convolutions run faster (measure with ``benchmarks/train_step.py``).
        fused_resampling: Run each up/downsampling conv as one stride-2 conv (the official
            ``fused_scale``): the same function with 4/9 of the multiply-adds.
        fused_epilogue: Noise + bias + leaky ReLU as one autograd node, and AdaIN as one
            statistics pass and one output pass: the same function in fewer memory passes.
        compile: ``torch.compile`` G's synthesis network and D (falls back to eager with a
            warning where compilation fails). The R1/gradient-penalty pass runs D eagerly,
            since compiled graphs do not support double backward. Compilation costs minutes
            at every new resolution, so it pays off on long runs.
        init_from: Fine-tuning: a stylegan_lit checkpoint (one written by ``fit`` or by
            ``stylegan-lit import-official``) whose G, G_ema (with its ``w_avg``) and D weights
            the run starts from; its networks' configuration must equal this one's. Only the
            weights are taken: the run starts at image 0 with fresh optimizers, its own
            schedule (which must start at the full resolution) and its own data. Loaded when
            fitting starts, before a resumed run (``--ckpt_path``) restores its own state, so
            resuming a fine-tuning run continues it exactly.
    """

    def __init__(
        self,
        generator: Generator,
        discriminator: Discriminator,
        loss: LossKind = "logistic",
        r1_gamma: float = 10.0,
        r1_interval: int = 16,
        gp_lambda: float = 10.0,
        wgan_drift: float = 0.001,
        style_mixing_prob: float = 0.9,
        ema_half_life_kimg: float = 10.0,
        ema_rampup: float | None = None,
        noise_lr_multiplier: float = 1.0,
        coarse_lr_multiplier: float = 1.0,
        betas: tuple[float, float] = (0.0, 0.99),
        eps: float = 1e-8,
        max_nonfinite_steps: int = 10,
        seed: int = 0,
        reuse_fakes: bool = True,
        max_microbatch: int | None = None,
        channels_last: bool = True,
        fused_resampling: bool = True,
        fused_epilogue: bool = True,
        compile: bool = False,
        init_from: str | None = None,
    ) -> None:
        super().__init__()
        self.objective = make_objective(
            loss, r1_gamma=r1_gamma, r1_interval=r1_interval, gp_lambda=gp_lambda,
            wgan_drift=wgan_drift,
        )  # fmt: skip
        if not 0.0 <= style_mixing_prob <= 1.0:
            raise ValueError(f"style_mixing_prob must be in [0, 1], got {style_mixing_prob}")
        if ema_rampup is not None and ema_rampup <= 0:
            raise ValueError(f"ema_rampup must be positive or null, got {ema_rampup}")
        if noise_lr_multiplier <= 0:
            raise ValueError(f"noise_lr_multiplier must be positive, got {noise_lr_multiplier}")
        if coarse_lr_multiplier <= 0:
            raise ValueError(f"coarse_lr_multiplier must be positive, got {coarse_lr_multiplier}")
        if max_microbatch is not None and max_microbatch < 1:
            raise ValueError(f"max_microbatch must be positive, got {max_microbatch}")
        if generator.img_channels != discriminator.img_channels:
            raise ValueError("generator and discriminator disagree on img_channels")
        if generator.resolution != discriminator.resolution:
            raise ValueError(
                f"generator resolution {generator.resolution} != "
                f"discriminator resolution {discriminator.resolution}"
            )
        self.save_hyperparameters(ignore=["generator", "discriminator"])
        self.automatic_optimization = False
        self.generator = generator
        self.discriminator = discriminator
        # No layer of G behaves differently in eval mode, so the EMA copy stays in the
        # module's mode (Lightning warns about modules left in eval mode at the start of
        # training); what makes it a copy that is not trained is requires_grad_(False).
        self.generator_ema = copy.deepcopy(generator).requires_grad_(False)
        # Plain Python numbers: reading them (every step and in the callbacks) never waits for
        # a GPU, and checkpoints carry them in the stylegan_lit entry, not the state_dict.
        self.images_seen = 0
        self.guard = FiniteStepGuard(max_nonfinite_steps)
        self.schedule: ProgressiveSchedule | None = None
        self._last_batch_size = 0
        self._d_steps = 0
        self._synthesize = CompiledOrEager(generator.synthesis.forward, "G", enabled=False)
        self._discriminate = CompiledOrEager(discriminator.forward, "D", enabled=False)

    @property
    def hp(self) -> Any:
        """The constructor's arguments (``hparams``), typed for attribute access."""
        return self.hparams

    # ------------------------------------------------------------------ configuration
    def setup(self, stage: str) -> None:
        hp = self.hp
        if hp.init_from is not None and stage == "fit":
            self.load_weights_from(hp.init_from)
        for network in (self.generator, self.generator_ema, self.discriminator):
            set_fused_ops(network, resampling=hp.fused_resampling, epilogue=hp.fused_epilogue)
        if hp.channels_last:
            self.to(memory_format=torch.channels_last)
        if hp.compile and not self._synthesize.is_compiled:
            self._synthesize = CompiledOrEager(self.generator.synthesis.forward, "G synthesis")
            self._discriminate = CompiledOrEager(self.discriminator.forward, "D")

    @torch.no_grad()
    def load_weights_from(self, path: str) -> None:
        """Copy G, G_ema and D from the checkpoint at ``path`` (see ``init_from``).

        Raises:
            CheckpointError: The file is not a stylegan_lit checkpoint, or its networks were
                built with other arguments (naming the differing fields).
        """
        checkpoint = read_checkpoint(path)
        try:
            check_networks_match(read_meta(checkpoint), self.generator, self.discriminator)
        except CheckpointError as error:
            raise CheckpointError(f"init_from {path}: {error}") from None
        for prefix, network in (
            ("generator.", self.generator),
            ("generator_ema.", self.generator_ema),
            ("discriminator.", self.discriminator),
        ):
            load_network_state(network, checkpoint, prefix, f"init_from {path}")

    def parameter_groups(self) -> list[list[dict[str, Any]]]:
        """G's and D's optimizer groups under this module's learning-rate multipliers."""
        hp = self.hp
        return [
            parameter_groups(self.generator, hp.noise_lr_multiplier, hp.coarse_lr_multiplier),
            parameter_groups(self.discriminator),
        ]

    def configure_optimizers(self) -> list[torch.optim.Optimizer]:
        hp = self.hp
        phase = self.phase
        lr = BASE_LEARNING_RATE if phase is None else phase.learning_rate
        optimizers: list[torch.optim.Optimizer] = [
            torch.optim.Adam(groups, lr=lr, betas=tuple(hp.betas), eps=hp.eps)
            for groups in self.parameter_groups()
        ]
        set_learning_rate(optimizers, lr, self.resolution)
        return optimizers

    # ------------------------------------------------------------------ progress
    @property
    def phase(self) -> Phase | None:
        """The schedule at ``images_seen``: what the next batch trains with (the last trained
        phase once the schedule is done); ``None`` without a schedule."""
        return None if self.schedule is None else self.schedule.phase(self.images_seen)

    @property
    def resolution(self) -> int:
        """Resolution G and D run at now (G's full resolution without a schedule)."""
        phase = self.phase
        return self.generator.resolution if phase is None else phase.resolution

    @property
    def alpha(self) -> float:
        """Fade-in alpha of the newest block now (1 without a schedule)."""
        phase = self.phase
        return 1.0 if phase is None else phase.alpha

    @property
    def kimg(self) -> float:
        return self.images_seen / 1000.0

    def last_batch_start(self) -> int:
        """The image count before the most recent batch: callbacks that act every so many
        images act when a multiple lies between it and ``images_seen``. Without a schedule it
        is known only once this process has trained a batch."""
        if self.schedule is None:
            return self.images_seen - self._last_batch_size
        return self.schedule.batch_start_before(self.images_seen)

    # ------------------------------------------------------------------ generation
    def draw_latents(self, batch: int, resolution: int) -> LatentDraw:
        """A minibatch's z and style-mixing decision (see :mod:`.latents`)."""
        return draw_latents(
            batch, self.generator.z_dim, resolution, self.hp.style_mixing_prob, self.device
        )

    @torch.no_grad()
    def sample(
        self,
        z: Tensor,
        *,
        truncation_psi: float = 1.0,
        truncation_cutoff: int | None = None,
        noise_mode: str = "const",
    ) -> Tensor:
        """Images from the EMA generator at the current resolution and alpha."""
        return self.generator_ema(
            z.to(self.device),
            truncation_psi=truncation_psi,
            truncation_cutoff=truncation_cutoff,
            resolution=self.resolution,
            alpha=self.alpha,
            noise_mode=noise_mode,
        )

    # ------------------------------------------------------------------ training
    def _seed_step(self) -> None:
        rank = self.trainer.global_rank if self._trainer is not None else 0
        step_seed = hash((self.hp.seed, self.images_seen, rank)) % (2**63)
        torch.manual_seed(step_seed)

    def _world_size(self) -> int:
        return self.trainer.world_size if self._trainer is not None else 1

    def training_step(self, batch: Tensor | list | tuple, batch_idx: int) -> None:
        """One D step on reals and fakes, then one G step, then w_avg, EMA and the count."""
        real = self._checked_batch(batch)
        resolution, alpha = self.resolution, self.alpha
        # During a fade-in alpha goes to the networks as a device tensor: a compiled graph
        # then serves every alpha instead of recompiling for each new float, and filling it
        # from the host is a kernel argument, not a wait for the GPU.
        alpha_arg = 1.0 if alpha >= 1.0 else torch.full((), alpha, device=self.device)
        self._seed_step()
        opt_g, opt_d = self.optimizers()  # type: ignore[attr-defined]  # a list of two here
        chunks = real.split(self.hp.max_microbatch or real.shape[0])
        # Reusing the D step's G forward for the G step saves a G forward (G does not change
        # in between); with micro-batches its graphs would defeat the memory saving. Latents
        # of both steps are drawn for the whole batch up front: the same step for any
        # chunking.
        reuse = self.hp.reuse_fakes and len(chunks) == 1
        draw = self.draw_latents(real.shape[0], resolution)
        g_draw = draw if reuse else self.draw_latents(real.shape[0], resolution)

        passes = GANPasses(
            self.generator, self.discriminator, self.objective, self._synthesize,
            self._discriminate, self.manual_backward, resolution,
        )  # fmt: skip
        regularize = self.objective.regularizes_at(self._d_steps)
        kept, d_logs = passes.discriminator_pass(
            chunks, draw, alpha_arg, keep_fakes=reuse, regularize=regularize
        )
        _, d_norm = self._step(opt_d, self.discriminator, "D")
        ws_first, g_logs = passes.generator_pass(chunks, g_draw, alpha_arg, kept)
        g_stepped, g_norm = self._step(opt_g, self.generator, "G")

        global_batch = real.shape[0] * self._world_size()
        if g_stepped:
            self._follow_generator(torch.cat(ws_first), global_batch)
        self.images_seen += global_batch
        self._last_batch_size = global_batch
        self._d_steps += 1
        logs = {**d_logs, **g_logs, "grad_norm/d": d_norm, "grad_norm/g": g_norm}
        self._log_step(resolution, alpha, logs)

    def _checked_batch(self, batch: Tensor | list | tuple) -> Tensor:
        real = batch[0] if isinstance(batch, list | tuple) else batch
        if real.shape[-1] != self.resolution:
            raise ValueError(
                f"batch resolution {real.shape[-1]} != training resolution {self.resolution}; "
                "the data module must serve the resolution set by the schedule"
            )
        if self.hp.channels_last:
            real = real.contiguous(memory_format=torch.channels_last)
        return real

    def _follow_generator(self, ws_first: Tensor, global_batch: int) -> None:
        """Move ``w_avg`` and the EMA copy after a G step that was taken."""
        # Every rank moves w_avg by the same (global) batch mean, so replicas stay equal.
        w_mean = ws_first.float().mean(dim=0, keepdim=True)
        if self._world_size() > 1:
            w_mean = self.trainer.strategy.reduce(w_mean, reduce_op="mean")
        self.generator.mapping.update_w_avg(w_mean)
        half_life = ramped_half_life(
            self.hp.ema_half_life_kimg, self.hp.ema_rampup, self.images_seen + global_batch
        )
        beta = ema_beta(global_batch, half_life)
        update_ema(self.generator_ema, self.generator, beta)

    def _log_step(self, resolution: int, alpha: float, values: dict[str, Tensor]) -> None:
        # Losses are averaged over ranks (one small all-reduce); progress is the same on all.
        self.log_dict(values, on_step=True, sync_dist=self._world_size() > 1)
        self.log("progress/kimg", self.kimg, prog_bar=True, on_step=True)
        self.log("progress/resolution", float(resolution), prog_bar=True, on_step=True)
        self.log("progress/alpha", alpha, prog_bar=True, on_step=True)
        self.log("progress/nonfinite_skips", float(self.nonfinite_skips), on_step=True)

    def _step(self, optimizer: Any, network: torch.nn.Module, name: str) -> tuple[bool, Tensor]:
        trainer = self._trainer
        scaler = None if trainer is None else getattr(trainer.precision_plugin, "scaler", None)
        return self.guard.step(
            optimizer,
            network,
            strategy=None if trainer is None else trainer.strategy,
            scaled=scaler is not None,
            where=f"{name} at kimg {self.kimg:.3f}, {self.resolution} px",
        )

    @property
    def nonfinite_skips(self) -> int:
        """Steps skipped for non-finite gradients so far in the run."""
        return self.guard.skipped

    # ------------------------------------------------------------------ checkpoints
    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        write_meta(
            checkpoint,
            self.generator,
            self.discriminator,
            images_seen=self.images_seen,
            schedule=None if self.schedule is None else self.schedule.config,
            d_steps=self._d_steps,
            nonfinite_skips=self.nonfinite_skips,
        )

    def on_load_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        # Lightning calls this before loading the state_dict: read_meta moves a format-1
        # checkpoint's counters out of it first.
        meta = read_meta(checkpoint)
        check_networks_match(meta, self.generator, self.discriminator)
        saved_states = checkpoint.get("optimizer_states") or []
        if saved_states:  # absent from a weights-only save
            expected = self.parameter_groups()
            for saved, groups, network in zip(saved_states, expected, ("G", "D"), strict=True):
                check_saved_groups(saved, groups, network)
        self.images_seen = int(meta["images_seen"])
        self.guard.skipped = int(meta.get("nonfinite_skips", 0))
        self._d_steps = int(meta.get("d_steps", 0))


__all__ = ["NonFiniteLossError", "StyleGANModule"]
