"""A small CNN that tells whether a face has an attribute (hat, sunglasses, ...).

Generated images come without labels. On the built-in synthetic faces every training image's
attributes are known, so a classifier trained on fresh synthetic renders can label the
generator's images; those labels then define attribute directions in w
(:mod:`.editing`) and measure whether an edit worked. This stands in for the pretrained
attribute classifiers (CelebA) that InterFaceGAN uses on real faces.

The classifier only ever sees real renders; a briefly trained generator's faces are
blurrier, so its scores on them are a noisy label, which is all a linear boundary in w
needs (InterFaceGAN fits on the most confident samples for the same reason).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from stylegan_lit.data import FaceAttributes, SyntheticFaces

BINARY_ATTRIBUTES: tuple[str, ...] = ("glasses", "sunglasses", "hat", "beard")
"""Attributes that are true or false for each synthetic face."""

SCORED_ATTRIBUTES: tuple[str, ...] = (*BINARY_ATTRIBUTES, "smile", "mouth_open")
"""The yes/no attributes the quality and editing benchmarks score and a refined edit keeps
(:mod:`.edit_refinement`): the binary ones and two expressions cut at
:data:`DEFAULT_THRESHOLDS`."""

TRAINING_STEPS = 3000
"""Adam steps of :func:`train_attribute_classifier` by default. At 400 (the earlier default)
glasses, smile and mouth_open stayed at chance on held-out 32 px renders (balanced accuracy
0.50-0.52); at 3,000 steps on 8,192 renders glasses reached 0.85, hat 0.99 and mouth_open
0.69, in about 50 s per attribute on one CPU thread."""

DATA_SEED = 1_000_003
"""Which synthetic faces classifiers train on by default: not the training runs' seed 0, so a
classifier is not judged on the GAN's training faces."""

DEFAULT_THRESHOLDS: dict[str, float] = {"smile": 0.4, "mouth_open": 0.5, "eye_open": 0.3}
"""Cut points that turn some continuous attributes into yes/no ones (e.g. smiling)."""


def attribute_labels(
    attrs: FaceAttributes, name: str, threshold: float | None = None
) -> np.ndarray:
    """Yes/no labels of attribute ``name`` for a batch of faces: bool [B].

    Boolean attributes are used as they are; a scalar one is compared with ``threshold``
    (default from :data:`DEFAULT_THRESHOLDS`): ``value > threshold``.

    Raises:
        ValueError: Unknown attribute, a colour, or a scalar without a threshold.
    """
    if not hasattr(attrs, name):
        raise ValueError(f"unknown face attribute {name!r}; e.g. {', '.join(BINARY_ATTRIBUTES)}")
    values = np.asarray(getattr(attrs, name))
    if values.dtype == np.bool_:
        return values
    if values.ndim != 1 or name == "hair_style":
        raise ValueError(f"attribute {name!r} is not a yes/no or scalar attribute")
    threshold = DEFAULT_THRESHOLDS.get(name) if threshold is None else threshold
    if threshold is None:
        raise ValueError(f"attribute {name!r} is continuous: give a threshold")
    return values > threshold


def check_attribute_name(name: str) -> None:
    """Raise :class:`ValueError` (as :func:`attribute_labels` would) unless ``name`` is an
    attribute a classifier can learn with the default thresholds: a check before any work."""
    attribute_labels(SyntheticFaces(1).attribute_batch(np.arange(1)), name)


class AttributeClassifier(nn.Module):
    """Four 3x3 convs (three strided), global average pooling, one logit.

    Args:
        attribute: Name of the attribute (kept for messages and saving).
        resolution: Input size it was trained at; other sizes are resized to it.
        img_channels: 3 for RGB, 1 for grayscale.
        width: Channels of the first conv (doubled once).
    """

    def __init__(
        self, attribute: str, resolution: int, img_channels: int = 3, width: int = 16
    ) -> None:
        super().__init__()
        self.attribute = attribute
        self.resolution = resolution
        self.img_channels = img_channels
        self.validation_accuracy: float | None = None
        """Balanced accuracy on held-out renders, set by :func:`train_attribute_classifier`."""
        self.features = nn.Sequential(  # strided from the first layer: cheap on a CPU
            nn.Conv2d(img_channels, width, 3, stride=2, padding=1),
            nn.LeakyReLU(0.2),
            nn.Conv2d(width, 2 * width, 3, stride=2, padding=1),
            nn.LeakyReLU(0.2),
            nn.Conv2d(2 * width, 2 * width, 3, padding=1),
            nn.LeakyReLU(0.2),
            nn.Conv2d(2 * width, 2 * width, 3, stride=2, padding=1),
            nn.LeakyReLU(0.2),
        )
        self.head = nn.Linear(2 * width, 1)

    def forward(self, images: Tensor) -> Tensor:
        """Images [N, C, H, W] in [-1, 1] -> logits [N] (positive: has the attribute)."""
        if images.shape[-1] != self.resolution:
            images = F.interpolate(
                images, size=self.resolution, mode="bilinear", antialias=True, align_corners=False
            )
        return self.head(self.features(images).mean(dim=(2, 3)))[:, 0]

    @torch.no_grad()
    def predict_proba(self, images: Tensor, batch_size: int = 256) -> Tensor:
        """P(attribute) [N] for images [N, C, H, W] in [-1, 1], on the CPU."""
        device = next(self.parameters()).device
        was_training = self.training
        self.eval()
        probs = [
            torch.sigmoid(self(chunk.to(device).float())).cpu()
            for chunk in images.split(batch_size)
        ]
        self.train(was_training)
        return torch.cat(probs) if probs else torch.empty(0)

    def extra_repr(self) -> str:
        return f"attribute={self.attribute!r}, resolution={self.resolution}"


def _renders(
    attribute: str, count: int, resolution: int, seed: int, img_channels: int, threshold
) -> tuple[Tensor, Tensor]:
    faces = SyntheticFaces(count, seed=seed, resolution=resolution, img_channels=img_channels)
    indices = np.arange(count)
    labels = attribute_labels(faces.attribute_batch(indices), attribute, threshold)
    images = torch.from_numpy(faces.read(indices, resolution)).float().div(127.5).sub(1)
    return images, torch.from_numpy(labels).float()


def _jitter_colors(x: Tensor, generator: torch.Generator) -> Tensor:
    """Per image: a random channel order, gain in [0.6, 1.4] and shift in [-0.2, 0.2]."""
    n, c = x.shape[:2]
    if c > 1:
        order = torch.argsort(torch.rand(n, c, generator=generator), dim=1)
        x = torch.gather(x, 1, order[:, :, None, None].expand_as(x))
    gain = 0.6 + 0.8 * torch.rand(n, c, 1, 1, generator=generator)
    shift = 0.4 * torch.rand(n, c, 1, 1, generator=generator) - 0.2
    return x * gain + shift


def balanced_accuracy(predicted: Tensor, labels: Tensor) -> float:
    """Mean of the true-positive and true-negative rates (fair for rare attributes)."""
    predicted, labels = predicted.bool(), labels.bool()
    rates = [
        (predicted[labels == c] == c).float().mean() for c in (True, False) if (labels == c).any()
    ]
    return float(torch.stack(rates).mean())


def train_attribute_classifier(
    attribute: str,
    resolution: int = 32,
    *,
    num_images: int = 8192,
    steps: int = TRAINING_STEPS,
    batch_size: int = 64,
    learning_rate: float = 2e-3,
    threshold: float | None = None,
    img_channels: int = 3,
    seed: int = 0,
    data_seed: int = DATA_SEED,
    validation_images: int = 1024,
    noise_std: float = 0.05,
    color_jitter: bool = True,
) -> AttributeClassifier:
    """Train an :class:`AttributeClassifier` on fresh synthetic renders (CPU, seconds).

    Args:
        attribute: A face attribute (see :func:`attribute_labels`).
        resolution: Training (and input) size; match the generator's output.
        num_images: Training renders.
        steps: Adam steps.
        batch_size: Images per step.
        learning_rate: Adam learning rate.
        threshold: Cut point for a continuous attribute.
        img_channels: 3 (RGB) or 1, as the generator's.
        seed: Initial weights and batch order.
        data_seed: Which synthetic faces to render (a different set from a training run's
            default seed 0, so the classifier is not judged on the GAN's training faces).
        validation_images: Held-out renders for :attr:`validation_accuracy`.
        noise_std: Gaussian pixel noise added while training, so generated images' grain
            does not throw the classifier.
        color_jitter: Shuffle the colour channels and scale them at random while
            training, so the classifier judges shapes (a hat's outline, dark lenses) rather
            than colours; otherwise directions fitted with it drift towards colour casts
            that a briefly trained generator correlates with the attribute.
    """
    images, labels = _renders(
        attribute, num_images + validation_images, resolution, data_seed, img_channels, threshold
    )
    train_x, val_x = images[:num_images], images[num_images:]
    train_y, val_y = labels[:num_images], labels[num_images:]
    positives = float(train_y.sum())
    if positives in (0, len(train_y)):
        raise ValueError(f"attribute {attribute!r} is never or always present in the renders")
    generator = torch.Generator().manual_seed(seed)
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        model = AttributeClassifier(attribute, resolution, img_channels)
    optimizer = torch.optim.Adam(model.parameters(), lr=learning_rate)
    pos_weight = torch.tensor((len(train_y) - positives) / positives)  # balance rare classes
    model.train()
    for _ in range(steps):
        rows = torch.randint(len(train_x), (batch_size,), generator=generator)
        x = train_x[rows]
        flip = torch.rand(batch_size, generator=generator) < 0.5
        x = torch.where(flip[:, None, None, None], x.flip(-1), x)
        x = x + noise_std * torch.randn(x.shape, generator=generator)
        if color_jitter:
            x = _jitter_colors(x, generator)
        loss = F.binary_cross_entropy_with_logits(model(x), train_y[rows], pos_weight=pos_weight)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
    model.eval().requires_grad_(False)
    if validation_images:
        model.validation_accuracy = balanced_accuracy(model.predict_proba(val_x) > 0.5, val_y)
    return model


CACHE_FORMAT = 2
"""Version of :func:`save_classifier`'s files, part of the cache's file names."""


def default_cache_dir() -> Path:
    """Where trained classifiers are kept: ``$XDG_CACHE_HOME/stylegan_lit/attribute_classifiers``
    (``~/.cache`` without it)."""
    root = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(root) / "stylegan_lit" / "attribute_classifiers"


def save_classifier(classifier: AttributeClassifier, path: str | os.PathLike[str]) -> Path:
    """Write the weights, constructor arguments and held-out accuracy: plain tensors and
    values, read back by :func:`load_classifier` with ``weights_only=True``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    meta = {
        "format": CACHE_FORMAT,
        "attribute": classifier.attribute,
        "resolution": classifier.resolution,
        "img_channels": classifier.img_channels,
        "accuracy": classifier.validation_accuracy,
    }
    torch.save({"meta": meta, "state_dict": classifier.state_dict()}, path)
    return path


def load_classifier(path: str | os.PathLike[str]) -> AttributeClassifier:
    """A classifier written by :func:`save_classifier` (nothing but tensors is unpickled).

    Raises:
        ValueError: The file is not such a classifier.
    """
    saved = torch.load(path, map_location="cpu", weights_only=True)
    if not isinstance(saved, dict) or not {"meta", "state_dict"} <= saved.keys():
        raise ValueError(f"{path} is not an attribute classifier written by save_classifier")
    meta = saved["meta"]
    classifier = AttributeClassifier(meta["attribute"], meta["resolution"], meta["img_channels"])
    classifier.load_state_dict(saved["state_dict"])
    classifier.validation_accuracy = meta["accuracy"]
    return classifier.eval().requires_grad_(False)


def cached_attribute_classifier(
    attribute: str,
    resolution: int = 32,
    *,
    steps: int = TRAINING_STEPS,
    img_channels: int = 3,
    cache_dir: str | os.PathLike[str] | None,
    seed: int = 0,
) -> AttributeClassifier:
    """:func:`train_attribute_classifier` with its other arguments at their defaults, kept in
    ``cache_dir`` (e.g. :func:`default_cache_dir`; ``None``: train, keep nothing) and reused.

    Training renders thousands of faces and takes about a minute per attribute on a CPU, and
    the result depends only on the attribute, resolution, channels, steps and seed, which
    name the file. A ``seed`` other than 0 draws other initial weights, batches and renders
    (``data_seed`` moves with it): a second, independent classifier of the same attribute,
    to judge edits that were fitted or refined with the first.
    """
    path = None
    if cache_dir is not None:
        name = f"{attribute}-{resolution}px-{img_channels}ch-{steps}steps"
        name += f"-seed{seed}" if seed else ""
        path = Path(cache_dir) / f"{name}-v{CACHE_FORMAT}.pt"
        if path.is_file():
            return load_classifier(path)
    classifier = train_attribute_classifier(
        attribute,
        resolution,
        steps=steps,
        img_channels=img_channels,
        seed=seed,
        data_seed=DATA_SEED + seed,
    )
    if path is not None:
        save_classifier(classifier, path)
    return classifier
