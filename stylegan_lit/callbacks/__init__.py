"""Lightning callbacks: progressive growing and sample grids."""

from stylegan_lit.callbacks.progressive import ProgressiveGrowing
from stylegan_lit.callbacks.samples import SampleGrids, images_to_grid

__all__ = ["ProgressiveGrowing", "SampleGrids", "images_to_grid"]
