"""Lightning callbacks: progressive growing, sample grids, metrics, checkpoints on the kimg
clock, throughput, the kimg progress bar, W&B artifacts."""

from stylegan_lit.callbacks.artifacts import CheckpointArtifact
from stylegan_lit.callbacks.checkpoint import KimgCheckpoint
from stylegan_lit.callbacks.metrics import MetricsCallback
from stylegan_lit.callbacks.progress_bar import KimgProgressBar
from stylegan_lit.callbacks.progressive import ProgressiveGrowing
from stylegan_lit.callbacks.samples import SampleGrids, images_to_grid, style_mixing_grid
from stylegan_lit.callbacks.steps import logging_step
from stylegan_lit.callbacks.throughput import Throughput, ThroughputMeter

__all__ = [
    "CheckpointArtifact",
    "KimgCheckpoint",
    "KimgProgressBar",
    "MetricsCallback",
    "ProgressiveGrowing",
    "SampleGrids",
    "Throughput",
    "ThroughputMeter",
    "images_to_grid",
    "logging_step",
    "style_mixing_grid",
]
