"""Generation and control with a trained StyleGAN: samples, the paper's figures, editing.

Everything takes a :class:`~stylegan_lit.models.Generator` and one :class:`RenderOptions`
(truncation, noise, resolution, alpha, batch size, device; for a checkpoint,
``RenderOptions.from_checkpoint(load_generator(path))`` renders where training stood) and
returns float CPU tensors in [-1, 1]; :mod:`.images` (the pixel conversion the metrics and
callbacks share too) and :mod:`.animation` write files. The ``stylegan-lit generate``
command (:mod:`.cli`) is a thin layer over this API. :func:`project` finds the ws of a
photo (:mod:`.projection`), which every figure then takes in place of seeds.
"""

from stylegan_lit.generate import figures
from stylegan_lit.generate.animation import find_ffmpeg, save_gif, save_mp4
from stylegan_lit.generate.attribute_classifier import (
    BINARY_ATTRIBUTES,
    AttributeClassifier,
    attribute_labels,
    check_attribute_name,
    train_attribute_classifier,
)
from stylegan_lit.generate.edit_refinement import (
    Refinement,
    refine_direction,
)
from stylegan_lit.generate.editing import (
    AttributeDirection,
    EditOutcome,
    LabelledSamples,
    direction_from_samples,
    edit_images,
    edit_outcome,
    edit_ws,
    find_direction,
    fit_direction,
    label_samples,
    labels_from_scores,
)
from stylegan_lit.generate.images import (
    grid_image,
    grid_pixels,
    save_grid,
    save_image,
    save_images,
    seed_names,
    to_hwc,
    to_uint8,
)
from stylegan_lit.generate.interpolation import (
    frames_of,
    interpolate,
    interpolation_ws,
    lerp,
    slerp,
)
from stylegan_lit.generate.mixing import (
    MixingFigure,
    StyleRange,
    assign_ranges,
    copy_layers,
    style_mixing,
    style_range,
    style_ranges,
)
from stylegan_lit.generate.options import OptionError, RenderOptions
from stylegan_lit.generate.perceptual import (
    PixelDistance,
    VGGDistance,
    VGGWeightsError,
    make_distance,
)
from stylegan_lit.generate.photos import PhotoError, load_photo
from stylegan_lit.generate.projection import (
    Projection,
    ProjectionError,
    ProjectionSettings,
    load_projected_ws,
    project,
)
from stylegan_lit.generate.sampling import (
    latent_sampler,
    map_latents,
    map_seeds,
    render_latents,
    sample_images,
    source_ws,
    synthesize,
)
from stylegan_lit.generate.seeds import SeedError, parse_seeds, z_from_seeds
from stylegan_lit.generate.truncation import PAPER_PSIS, truncation_sweep
from stylegan_lit.generate.variation import StochasticVariation, stochastic_variation

__all__ = [
    "BINARY_ATTRIBUTES",
    "PAPER_PSIS",
    "AttributeClassifier",
    "AttributeDirection",
    "EditOutcome",
    "LabelledSamples",
    "MixingFigure",
    "OptionError",
    "PhotoError",
    "PixelDistance",
    "Projection",
    "ProjectionError",
    "ProjectionSettings",
    "Refinement",
    "RenderOptions",
    "SeedError",
    "StochasticVariation",
    "StyleRange",
    "VGGDistance",
    "VGGWeightsError",
    "assign_ranges",
    "attribute_labels",
    "check_attribute_name",
    "copy_layers",
    "direction_from_samples",
    "edit_images",
    "edit_outcome",
    "edit_ws",
    "figures",
    "find_direction",
    "find_ffmpeg",
    "fit_direction",
    "frames_of",
    "grid_image",
    "grid_pixels",
    "interpolate",
    "interpolation_ws",
    "label_samples",
    "labels_from_scores",
    "latent_sampler",
    "lerp",
    "load_photo",
    "load_projected_ws",
    "make_distance",
    "map_latents",
    "map_seeds",
    "parse_seeds",
    "project",
    "refine_direction",
    "render_latents",
    "sample_images",
    "save_gif",
    "save_grid",
    "save_image",
    "save_images",
    "save_mp4",
    "seed_names",
    "slerp",
    "source_ws",
    "stochastic_variation",
    "style_mixing",
    "style_range",
    "style_ranges",
    "synthesize",
    "to_hwc",
    "to_uint8",
    "train_attribute_classifier",
    "truncation_sweep",
    "z_from_seeds",
]
