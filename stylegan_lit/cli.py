"""The ``stylegan-lit`` command: LightningCLI's fit/validate/test/predict, plus ``prepare``,
``eval`` and ``generate``.

Lightning 2.6 ships no ``lightning fit`` command; ``stylegan-lit fit --config X.yaml`` is its
LightningCLI equivalent, with ``--print_config`` and command-line overrides.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any

from lightning.pytorch.cli import LightningCLI

from stylegan_lit.callbacks.progressive import ProgressiveGrowing
from stylegan_lit.data.datamodule import FaceDataModule
from stylegan_lit.training.module import StyleGANModule

TRAINER_DEFAULTS: dict[str, Any] = {
    # Each progressive level is one epoch; its loader is rebuilt at the next resolution.
    "reload_dataloaders_every_n_epochs": 1,
    # The data module shards the global image stream by rank itself (exact resume on any
    # number of GPUs), so Lightning must not wrap its sampler.
    "use_distributed_sampler": False,
    # Training ends at the schedule's total_kimg, not after a number of epochs.
    "max_epochs": -1,
    "num_sanity_val_steps": 0,
}


EXTRA_COMMANDS: dict[str, str] = {
    "prepare": "stylegan_lit.data.prepare:main",  # dataset -> multi-resolution cache
    "eval": "stylegan_lit.metrics.evaluate:main",  # FID50k/KID/SWD of a checkpoint
    "generate": "stylegan_lit.generate.cli:main",  # images, figures, editing from a checkpoint
}
"""Subcommands beside LightningCLI's fit/validate/test/predict."""


class StyleGANCLI(LightningCLI):
    """LightningCLI with the progressive-growing callback as a first-class config section."""

    def add_arguments_to_parser(self, parser: Any) -> None:
        parser.add_lightning_class_args(ProgressiveGrowing, "progressive")
        parser.link_arguments("model.generator.init_args.resolution", "data.resolution")
        parser.link_arguments("model.generator.init_args.img_channels", "data.img_channels")

    def instantiate_classes(self) -> None:
        """Build the objects; a bad config value becomes a one-line error naming the field,
        before anything trains (constructors validate their arguments)."""
        try:
            super().instantiate_classes()
            for callback in self.trainer.callbacks:
                if isinstance(callback, ProgressiveGrowing):
                    callback.build_schedule(self.model.generator.resolution)
        except ValueError as error:
            parser = self._parser(self.subcommand)
            parser.error(f"invalid configuration: {error}")


def build_cli(args: list[str] | None, *, run: bool = True) -> StyleGANCLI:
    """The LightningCLI for ``args`` (``run=False`` only builds the objects, for tests)."""
    return StyleGANCLI(
        StyleGANModule,
        FaceDataModule,
        args=args,
        run=run,
        trainer_defaults=TRAINER_DEFAULTS,
        save_config_kwargs={"overwrite": True},
    )


def main(argv: list[str] | None = None) -> Any:
    """Entry point of ``stylegan-lit`` and ``python -m stylegan_lit``."""
    words = sys.argv[1:] if argv is None else list(argv)
    if words and words[0] in EXTRA_COMMANDS:
        module_name, function = EXTRA_COMMANDS[words[0]].split(":")
        return getattr(importlib.import_module(module_name), function)(words[1:])
    return build_cli(argv)


if __name__ == "__main__":
    main()
