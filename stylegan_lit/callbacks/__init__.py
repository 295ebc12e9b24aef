"""Lightning callbacks: progressive growing, sample grids and metrics."""

from stylegan_lit.callbacks.metrics import MetricsCallback
from stylegan_lit.callbacks.progressive import ProgressiveGrowing
from stylegan_lit.callbacks.samples import SampleGrids, images_to_grid

__all__ = ["MetricsCallback", "ProgressiveGrowing", "SampleGrids", "images_to_grid"]
