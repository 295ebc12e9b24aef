"""Image-quality metrics: SWD (offline, no pretrained network), FID and KID (Inception).

Submodules: :mod:`~stylegan_lit.metrics.swd` (Progressive GAN's sliced Wasserstein
distance), :mod:`~stylegan_lit.metrics.fid` (torchmetrics FID/KID on torch-fidelity's
Inception, offline weights, cached real statistics), :mod:`~stylegan_lit.metrics.suite`
(one evaluation over one or many ranks), :mod:`~stylegan_lit.metrics.real_images` (real-image
sources), :mod:`~stylegan_lit.cli.evaluate` (the ``eval`` command).
"""

from stylegan_lit.metrics.fid import (
    FeatureStatistics,
    InceptionFeatureExtractor,
    InceptionWeightsError,
    InceptionWeightsWarning,
    StatisticsCache,
    compute_inception_metrics,
    ensure_inception_available,
    resolve_inception_weights,
)
from stylegan_lit.metrics.real_images import ImageSource, as_image_source
from stylegan_lit.metrics.suite import MetricSuite
from stylegan_lit.metrics.swd import SlicedWassersteinDistance

__all__ = [
    "FeatureStatistics",
    "ImageSource",
    "InceptionFeatureExtractor",
    "InceptionWeightsError",
    "InceptionWeightsWarning",
    "MetricSuite",
    "SlicedWassersteinDistance",
    "StatisticsCache",
    "as_image_source",
    "compute_inception_metrics",
    "ensure_inception_available",
    "resolve_inception_weights",
]
