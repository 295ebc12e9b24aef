"""The final checkpoint of a run as a W&B ``model`` artifact (online, or offline until synced)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Literal

import lightning.pytorch as pl
from lightning.pytorch.loggers import WandbLogger
from lightning.pytorch.utilities import rank_zero_only


class CheckpointArtifact(pl.Callback):
    """When training ends, save ``final.ckpt`` and log it to every ``WandbLogger`` as an artifact.

    Lightning's ``WandbLogger(log_model=...)`` does not fit these runs: it refuses
    ``offline=True`` (yet W&B records artifacts in an offline run and uploads them with
    ``wandb sync``), and with ``log_model=True`` a ``ModelCheckpoint`` that keeps every
    checkpoint (``save_top_k: -1``, as the official configs do) has each one uploaded during
    training, hundreds of them at 1024 px. This callback logs one file, once, with the kimg,
    resolution and alpha it reached as metadata.

    It writes that file itself rather than reusing ``last.ckpt``: a ``ModelCheckpoint``
    saving every ``every_n_train_steps`` does not refresh ``last.ckpt`` when training ends
    (Lightning 2.6 writes it at the end only if it never wrote it before), so ``last.ckpt``
    can miss the last steps. ``final.ckpt`` holds the state after the last step, in the
    ``ModelCheckpoint``'s folder (or ``<default_root_dir>/checkpoints``); every rank takes
    part in writing it, as for any checkpoint. Without a ``WandbLogger`` the callback does
    nothing; a run that stops with an error logs nothing.

    With ``policy="mutable"`` W&B first copies the file to its staging folder
    (``$WANDB_DATA_DIR/artifacts/staging``, default ``~/.local/share/wandb``), where an
    offline run keeps it until ``wandb sync`` uploads it: budget the disk space for large
    models, or use ``"immutable"``, which references the file in place (it must then stay
    unchanged until uploaded; a later run in the same folder would overwrite it).

    Args:
        name: Artifact name (default ``model-<run id>``, the name Lightning's ``log_model``
            uses, so both add versions to one artifact).
        aliases: Aliases of this version.
        policy: W&B's ``add_file`` policy, ``"mutable"`` (copy) or ``"immutable"``.
        filename: Name of the checkpoint file written.
    """

    def __init__(
        self,
        name: str | None = None,
        aliases: Sequence[str] = ("latest", "final"),
        policy: Literal["mutable", "immutable"] = "mutable",
        filename: str = "final.ckpt",
    ) -> None:
        super().__init__()
        if policy not in ("mutable", "immutable"):
            raise ValueError(f"policy must be 'mutable' or 'immutable', got {policy!r}")
        if not filename or Path(filename).name != filename:
            raise ValueError(f"filename must be a plain file name, got {filename!r}")
        self.name = name
        self.aliases = list(aliases)
        self.policy = policy
        self.filename = filename
        self.logged: Path | None = None

    def on_train_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if not any(isinstance(logger, WandbLogger) for logger in trainer.loggers):
            return
        directory = getattr(trainer.checkpoint_callback, "dirpath", None)
        path = Path(directory or Path(trainer.default_root_dir) / "checkpoints") / self.filename
        trainer.save_checkpoint(
            path, weights_only=False
        )  # collective: every rank calls it, rank 0 writes
        self._log(trainer, pl_module, path)

    @rank_zero_only
    def _log(self, trainer: pl.Trainer, pl_module: pl.LightningModule, path: Path) -> None:
        import wandb

        metadata = {
            "original_filename": path.name,
            "global_step": trainer.global_step,
            "kimg": float(getattr(pl_module, "kimg", 0.0)),
            "resolution": int(getattr(pl_module, "resolution", 0)),
            "alpha": float(getattr(pl_module, "alpha", 1.0)),
        }
        for logger in trainer.loggers:
            if not isinstance(logger, WandbLogger):
                continue
            run = logger.experiment
            artifact = wandb.Artifact(
                name=self.name or f"model-{run.id}", type="model", metadata=metadata
            )
            artifact.add_file(str(path), name="model.ckpt", policy=self.policy)
            run.log_artifact(artifact, aliases=self.aliases)
        self.logged = path


__all__ = ["CheckpointArtifact"]
