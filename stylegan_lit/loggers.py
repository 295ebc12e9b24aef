"""Weights & Biases logging as the configs use it: offline-ready, inside the run's root dir."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from lightning.pytorch.loggers import WandbLogger as LightningWandbLogger


class WandbLogger(LightningWandbLogger):
    """Lightning's ``WandbLogger`` with the two defaults a StyleGAN run wants.

    - ``save_dir=None`` means the trainer's ``default_root_dir`` (the ``stylegan-lit`` CLI
      fills it in), so the W&B run lands beside the run's checkpoints and sample grids and
      two runs with different root dirs never share a folder. The folder is created when
      the run starts (W&B otherwise warns that the "git root" does not exist and records no
      git state) and passed to W&B as an absolute path.
    - ``name=None`` names the run after that folder (``runs/demo`` -> ``demo``).

    Lightning 2.6 always passes ``anonymous=None`` to ``wandb.init``, which current W&B
    releases answer with a deprecation warning at every start; the key is dropped here (it
    has no effect in those releases). Everything else is Lightning's: see its docs for the
    arguments, e.g. ``offline``, ``project``, ``log_model``.

    Args:
        save_dir: Folder of the W&B run files (``<save_dir>/wandb/...``).
        name: Display name of the run.
        project: W&B project.
        offline: Write the run to disk only (``wandb sync`` uploads it later); no account.
        **kwargs: Passed to Lightning's ``WandbLogger`` (and from there to ``wandb.init``).
    """

    def __init__(
        self,
        save_dir: str | None = None,
        name: str | None = None,
        project: str = "stylegan-lit",
        offline: bool = False,
        **kwargs: Any,
    ) -> None:
        if save_dir is not None:
            # Absolute: a W&B service shared with another process resolves relative paths
            # against its own working directory.
            save_dir = os.path.abspath(save_dir)
            if name is None:
                name = Path(save_dir).name
        super().__init__(
            save_dir=save_dir,  # type: ignore[arg-type]  # Lightning accepts None (wandb's cwd)
            name=name,
            project=project,
            offline=offline,
            **kwargs,
        )
        self._wandb_init.pop("anonymous", None)

    @property
    def experiment(self) -> Any:
        """The W&B run, started on first use (in a folder created then, not at config time)."""
        if self._experiment is None and self._save_dir is not None:
            Path(self._save_dir).mkdir(parents=True, exist_ok=True)
        return super().experiment


__all__ = ["WandbLogger"]
