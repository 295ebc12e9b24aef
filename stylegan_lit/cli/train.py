"""``stylegan-lit fit|validate|test|predict``: LightningCLI with StyleGAN's training setup.

Lightning 2.6 ships no ``lightning fit`` command; ``stylegan-lit fit --config X.yaml`` is its
LightningCLI equivalent, with ``--print_config`` and command-line overrides. A bad command
line or configuration exits 2 and a failure while running exits 1, each with one line on
stderr naming the problem (``STYLEGAN_LIT_TRACEBACK=1`` shows the traceback instead).

What every training run has, so that configs only say what differs (see ``configs/``):

- sections for the callbacks every StyleGAN run uses: ``progressive`` (the schedule),
  ``samples`` (grids), ``metrics`` (SWD/FID/KID) and ``checkpoints`` (``last.ckpt`` every
  so many kimg), plus images/s logging, the final checkpoint as a W&B artifact and a
  progress bar in kimg;
- an offline W&B logger whose files, like the checkpoints, sample grids and metric lines,
  go under ``trainer.default_root_dir`` unless a path is given explicitly;
- D's architecture arguments linked from G's (``resolution``, ``fmap_base``, ``fmap_max``,
  ``img_channels``), as the data module's resolution and channels are.
"""

from __future__ import annotations

import logging
import os
import sys
import time
import warnings
from pathlib import Path
from typing import Any, NoReturn

import torch
import yaml
from lightning.pytorch import Callback, Trainer
from lightning.pytorch.callbacks import ModelCheckpoint, ProgressBar
from lightning.pytorch.cli import LightningArgumentParser, LightningCLI
from lightning.pytorch.loggers import WandbLogger
from lightning.pytorch.utilities import rank_zero_info, rank_zero_only

from stylegan_lit.callbacks.artifacts import CheckpointArtifact
from stylegan_lit.callbacks.checkpoint import KimgCheckpoint
from stylegan_lit.callbacks.metrics import MetricsCallback
from stylegan_lit.callbacks.progress_bar import KimgProgressBar
from stylegan_lit.callbacks.progressive import ProgressiveGrowing
from stylegan_lit.callbacks.samples import SampleGrids
from stylegan_lit.callbacks.throughput import Throughput
from stylegan_lit.checkpoint_format import META_KEY
from stylegan_lit.checkpoints import CheckpointError
from stylegan_lit.data.datamodule import FaceDataModule
from stylegan_lit.data.errors import DatasetError
from stylegan_lit.training.guard import NonFiniteLossError
from stylegan_lit.training.module import StyleGANModule
from stylegan_lit.training.precision import PrecisionChoice, choose_precision

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
"""Trainer settings that StyleGAN's training loop needs (also used by tests and benchmarks)."""

LOGGER_DEFAULT: dict[str, Any] = {
    "class_path": "stylegan_lit.loggers.WandbLogger",
    "init_args": {"offline": True},  # no account needed; `wandb sync` uploads the run later
}

SHARED_ARCHITECTURE = ("resolution", "fmap_base", "fmap_max", "img_channels")
"""G's constructor arguments that D takes too (the official D mirrors G)."""

FORCED_SECTIONS: dict[str, type[Callback]] = {
    "progressive": ProgressiveGrowing,
    "samples": SampleGrids,
    "metrics": MetricsCallback,
    "checkpoints": KimgCheckpoint,
}
"""Config sections for the callbacks every run has (``--samples.every_kimg 5`` etc.)."""

USER_ERRORS: tuple[type[BaseException], ...] = (
    CheckpointError,
    DatasetError,
    NonFiniteLossError,
    FileNotFoundError,
    ValueError,
)
"""Failures that mean a bad input or setting, not a bug: reported as one line."""


class _DropTips(logging.Filter):
    """Lightning advertises a cloud logger at every start (``💡 Tip: ... litlogger``)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.getMessage()).startswith("💡 Tip")


def quiet_third_party_tips() -> None:
    """Turn off third-party tips and advertisements (not warnings) on the console."""
    for name in ("lightning.pytorch.utilities.rank_zero", "lightning.pytorch"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, _DropTips) for f in logger.filters):
            logger.addFilter(_DropTips())
    os.environ.setdefault("WANDB_SILENT", "true")  # W&B's banner; its warnings still show
    # Lightning 2.6's CombinedLoader calls a torch.utils._pytree API that torch 2.10+
    # deprecates, for every data loader; nothing a user (or this package) can change.
    warnings.filterwarnings(
        "ignore",
        message=r"`isinstance\(treespec, LeafSpec\)` is deprecated",
        module=r"lightning\.pytorch\.utilities\._pytree",
    )


def with_config_bases(args: list[str]) -> list[str]:
    """``args`` with each ``--config FILE``'s base config read first.

    A config names its base with a top-level ``config: base.yaml`` (a path relative to the
    file). jsonargparse reads such a nested config, but a section that the file sets again
    (``trainer:``, ``data:``) then replaces the base's section whole. Reading the base as an
    earlier ``--config`` instead merges key by key, so a config holds only what differs
    from its base (``configs/ffhq-256.yaml`` on ``configs/base/official.yaml``).
    """
    expanded: list[str] = []
    words = iter(args)
    for word in words:
        if word in ("--config", "-c"):
            path = next(words, None)
            if path is None:
                expanded.append(word)
                continue
        elif word.startswith("--config="):
            path = word.removeprefix("--config=")
        else:
            expanded.append(word)
            continue
        for file in _config_chain(Path(path)):
            expanded += ["--config", str(file)]
    return expanded


def _config_chain(path: Path) -> list[Path]:
    """``path``'s bases, the farthest first, then ``path`` itself."""
    chain = [path]
    while chain[0].is_file():
        try:
            content = yaml.safe_load(chain[0].read_text())
        except yaml.YAMLError:
            break  # jsonargparse reports the syntax error, naming the file
        base = content.get("config") if isinstance(content, dict) else None
        if not isinstance(base, str):
            break
        base_path = (chain[0].parent / base).resolve()
        if base_path in [p.resolve() for p in chain]:
            raise ValueError(f"config {chain[0]} includes itself through {base}")
        chain.insert(0, base_path)
    return chain


def discriminator_overrides(args: list[str]) -> dict[str, tuple[Any, str]]:
    """D's shared architecture arguments set explicitly in ``args`` or its config files.

    They are linked from G's, and jsonargparse lets a link overwrite an explicit value
    silently; :class:`StyleGANCLI` compares what this finds with G's values instead.

    Returns:
        ``{name: (value, where it was set)}``, the last setting of each name.
    """
    prefix = "--model.discriminator.init_args."
    found: dict[str, tuple[Any, str]] = {}
    words = list(args)
    for i, word in enumerate(words):
        if word == "--config" and i + 1 < len(words) and Path(words[i + 1]).is_file():
            try:
                content = yaml.safe_load(Path(words[i + 1]).read_text())
            except yaml.YAMLError:
                continue
            init_args = _nested(content, "model", "discriminator", "init_args")
            for name in SHARED_ARCHITECTURE:
                if isinstance(init_args, dict) and name in init_args:
                    found[name] = (init_args[name], words[i + 1])
        elif word.startswith(prefix):
            name, _, value = word.removeprefix(prefix).partition("=")
            if name in SHARED_ARCHITECTURE:
                if not value and i + 1 < len(words):
                    value = words[i + 1]
                found[name] = (yaml.safe_load(value), "the command line")
    return found


def _nested(content: Any, *keys: str) -> Any:
    for key in keys:
        if not isinstance(content, dict):
            return None
        content = content.get(key)
    return content


def _refuse_unresumable(parser: Any, ckpt_path: Any) -> None:
    """Checkpoints that sample and evaluate but cannot be resumed, said before LightningCLI
    fails on them: a format-1 checkpoint (before the single image counter), whose model
    options include ones that no longer exist, and an imported official network, which has
    no optimizer or loop state (it is a starting point for ``model.init_from``)."""
    if not isinstance(ckpt_path, str) or not Path(ckpt_path).is_file():
        return
    try:
        checkpoint = torch.load(ckpt_path, map_location="cpu", weights_only=True, mmap=True)
    except Exception:  # not a torch file: Lightning's restore reports it
        return
    entry = checkpoint.get(META_KEY) if isinstance(checkpoint, dict) else None
    if isinstance(entry, dict) and int(entry.get("format", 1)) < 2:
        parser.error(
            f"{ckpt_path} was written by an older stylegan_lit (checkpoint format 1), which "
            "training cannot resume; `stylegan-lit generate` and `eval` still read it"
        )
    if isinstance(entry, dict) and "imported" in entry:
        parser.error(
            f"{ckpt_path} holds imported networks, not a run to resume; fine-tune from it "
            f"with --model.init_from {ckpt_path} (e.g. with configs/finetune.yaml)"
        )


class OneLineErrorParser(LightningArgumentParser):
    """Reports a bad command line or config in one line (argparse prints its whole usage)."""

    def error(self, message: str, ex: Exception | None = None) -> NoReturn:
        if not self.exit_on_error:
            super().error(message, ex)
        parser = getattr(ex, "subcommand_parser", None) or self
        prog = parser.prog.replace(" [options]", "")
        sys.stderr.write(f"{prog}: error: {_one_line(message)} (see {prog} --help)\n")
        raise SystemExit(2)


class StyleGANCLI(LightningCLI):
    """LightningCLI with StyleGAN's callbacks as config sections and its defaults."""

    def parse_arguments(self, parser: Any, args: Any) -> None:
        if args is not None and not isinstance(args, list):
            super().parse_arguments(parser, args)
            return
        words = with_config_bases(sys.argv[1:] if args is None else args)
        self.config = parser.parse_args(words)
        config = self.config.get(str(self.config.get("subcommand")), self.config)
        generator = _nested(config.as_dict(), "model", "generator", "init_args") or {}
        for name, (value, where) in discriminator_overrides(words).items():
            if name in generator and value != generator[name]:
                parser.error(
                    f"invalid configuration: model.discriminator.init_args.{name} = {value} "
                    f"(in {where}) differs from model.generator.init_args.{name} = "
                    f"{generator[name]}; D's {', '.join(SHARED_ARCHITECTURE)} follow G's, "
                    "so leave them out"
                )
        _refuse_unresumable(parser, config.get("ckpt_path"))

    def add_arguments_to_parser(self, parser: Any) -> None:
        for section, callback in FORCED_SECTIONS.items():
            parser.add_lightning_class_args(callback, section)
        parser.set_defaults(
            {
                "trainer.logger": LOGGER_DEFAULT,
                "model.discriminator": {"class_path": "stylegan_lit.models.Discriminator"},
            }
        )
        for name in SHARED_ARCHITECTURE:
            parser.link_arguments(
                f"model.generator.init_args.{name}", f"model.discriminator.init_args.{name}"
            )
        parser.link_arguments("model.generator.init_args.resolution", "data.resolution")
        parser.link_arguments("model.generator.init_args.img_channels", "data.img_channels")

    def before_instantiate_classes(self) -> None:
        """A logger without a ``save_dir`` writes into ``trainer.default_root_dir``; a run
        without a ``trainer.precision`` gets the hardware's (:func:`choose_precision`)."""
        config = self.config.get(str(self.subcommand), self.config)
        trainer = config.get("trainer")
        if trainer is None:
            return
        if trainer.get("precision") is None:
            self.precision_choice = choose_precision(trainer.get("accelerator"))
            trainer.precision = self.precision_choice.precision
        else:
            self.precision_choice = PrecisionChoice(str(trainer.precision), "set in the config")
        root = trainer.get("default_root_dir") or os.getcwd()
        loggers = trainer.get("logger")
        for logger in loggers if isinstance(loggers, list) else [loggers]:
            init_args = getattr(logger, "init_args", None)
            if init_args is not None and "save_dir" in init_args and init_args.save_dir is None:
                init_args.save_dir = str(root)

    def instantiate_classes(self) -> None:
        """Build the objects; a bad config value becomes a one-line error naming the field,
        before anything trains (constructors validate their arguments)."""
        try:
            super().instantiate_classes()
            for callback in self.trainer.callbacks:  # type: ignore[attr-defined]
                if isinstance(callback, ProgressiveGrowing):
                    callback.build_schedule(self.model.generator.resolution)
        except ValueError as error:
            parser = self._parser(self.subcommand)
            parser.error(f"invalid configuration: {error}")

    def _instantiate_trainer(self, config: dict[str, Any], callbacks: list[Callback]) -> Trainer:
        if config.get("enable_checkpointing") is False:  # also turns off `checkpoints:`
            callbacks = [c for c in callbacks if not isinstance(c, ModelCheckpoint)]
        given = [*(config.get("callbacks") or []), *callbacks]
        if config.get("enable_progress_bar") is not False and not any(
            isinstance(c, ProgressBar) for c in given
        ):
            callbacks = [*callbacks, KimgProgressBar()]
        return super()._instantiate_trainer(config, callbacks)

    def before_fit(self) -> None:
        self._fit_started = time.perf_counter()
        choice = getattr(self, "precision_choice", None)
        if choice is not None:
            rank_zero_info(
                f"Precision: {choice.precision} ({choice.reason}; trainer.precision overrides)"
            )

    @rank_zero_only
    def after_fit(self) -> None:
        seconds = time.perf_counter() - getattr(self, "_fit_started", time.perf_counter())
        print(run_summary(self.trainer, seconds), file=sys.stderr)


def run_summary(trainer: Trainer, seconds: float | None = None) -> str:
    """What a finished run wrote and what to try next, for the console."""
    module = trainer.lightning_module
    assert isinstance(module, StyleGANModule)
    took = "" if seconds is None else f" in {seconds / 60:.1f} min"
    lines = [
        f"Trained to {int(module.images_seen) / 1000:.1f} kimg at {int(module.resolution)} px "
        f"(alpha {float(module.alpha):.2f}){took}."
    ]
    checkpoint = None
    for callback in trainer.callbacks:  # type: ignore[attr-defined]
        if isinstance(callback, KimgCheckpoint) and callback.last_model_path:
            checkpoint = _relative(callback.last_model_path)
            lines.append(f"  checkpoint:   {checkpoint}  (resume: --ckpt_path {checkpoint})")
        elif isinstance(callback, SampleGrids) and callback.written:
            lines.append(f"  sample grids: {_relative(callback.written[-1].parent)}/")
        elif isinstance(callback, MetricsCallback) and callback.history:
            last = callback.history[-1]
            values = ", ".join(
                f"{key} {value:.4g}"
                for key, value in last.items()
                if key in ("swd_avg", "fid", "kid")
            )
            lines.append(f"  metrics:      {values} at kimg {last['kimg']:.1f}")
    for logger in trainer.loggers:
        if isinstance(logger, WandbLogger):
            run_dir = Path(logger.experiment.dir).parent  # .../wandb/<run>/files
            offline = logger.experiment.settings.mode == "offline"
            upload = f" (upload: wandb sync {_relative(run_dir)})" if offline else ""
            lines.append(f"  W&B run:      {_relative(run_dir)}{upload}")
        elif logger.log_dir is not None:
            lines.append(f"  logs:         {_relative(logger.log_dir)}")
    if checkpoint is not None:
        outdir = _relative(Path(trainer.default_root_dir) / "generated")
        lines.append(
            f"Next: stylegan-lit generate {checkpoint} --seeds 0-15 --grid --outdir {outdir}"
        )
    return "\n".join(lines)


def _relative(path: str | os.PathLike[str]) -> str:
    """``path`` relative to the working directory where it is inside it."""
    absolute = Path(path).resolve()
    try:
        return str(absolute.relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(absolute)


def build_cli(args: list[str] | None, *, run: bool = True) -> StyleGANCLI:
    """The LightningCLI for ``args`` (``run=False`` only builds the objects, for tests)."""
    quiet_third_party_tips()
    return StyleGANCLI(
        StyleGANModule,
        FaceDataModule,
        args=args,
        run=run,
        parser_class=OneLineErrorParser,
        # New instances per build: these callbacks keep state during a run.
        trainer_defaults={
            **TRAINER_DEFAULTS,
            "callbacks": [Throughput(), CheckpointArtifact(policy="immutable")],
        },
        save_config_kwargs={"overwrite": True},
    )


def _one_line(error: BaseException | str) -> str:
    text = " ".join(str(error).split()) or type(error).__name__
    return text if len(text) < 400 else text[:400] + " ..."


def main(argv: list[str] | None = None) -> int:
    """LightningCLI's subcommands (fit, validate, test, predict); the exit status."""
    words = sys.argv[1:] if argv is None else list(argv)
    try:
        build_cli(argv)
    except USER_ERRORS as error:
        if os.environ.get("STYLEGAN_LIT_TRACEBACK"):
            raise
        command = words[0] if words and not words[0].startswith("-") else ""
        print(
            f"stylegan-lit {command}: error: {_one_line(error)}".replace("  ", " "), file=sys.stderr
        )
        return 1
    return 0
