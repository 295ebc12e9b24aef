"""FID and KID with torchmetrics on torch-fidelity's Inception, usable without network.

Why this module exists: users cannot reproduce published FIDs when the Inception weights,
the resize filter, the quantisation or the sample count differ, and FID tools that fetch
their weights at first use fail on compute nodes without internet, often hours into a run.
Here the weights are found (or their absence reported) before anything starts, and the
protocol is pinned to the reference.

Weights: torch-fidelity's InceptionV3, converted from the 2015-12-05 TensorFlow Inception
graph of the TTUR FID code, which the official StyleGAN metrics also use (``pool_3``, 2048
features). The file is looked up,
in order, at ``feature_extractor_weights_path`` when given, else in the torch hub cache
(``$TORCH_HOME/hub/checkpoints/`` with ``TORCH_HOME`` defaulting to
``$XDG_CACHE_HOME/torch``, i.e. ``~/.cache/torch``), where torch-fidelity itself would put
it; only then is a download from :data:`INCEPTION_URL` tried. Without the file and without
network, :func:`ensure_inception_available` fails at once with a message naming the file,
the URL and the option, or (``on_missing="disable"``) warns and returns ``False``.

Comparability with the reference protocol (official StyleGAN ``metrics/frechet_inception_
distance.py``, "FID50k"; checked by ``tests/metrics/test_fid.py``):

* Pixels: generator output in [-1, 1] is converted to uint8 exactly as the official
  ``convert_images_to_uint8`` (scale, +0.5, saturate, truncate; see
  :func:`stylegan_lit.generate.images.to_uint8`); real images are read as stored (uint8).
  torchmetrics' own ``normalize=True`` path truncates ``x * 255`` instead of rounding, a
  bias of half a grey level, so it is not used.
* Resize: Inception sees 299x299 images, resized inside the feature extractor with the
  bilinear filter of TensorFlow 1.x without antialiasing (torch-fidelity's
  ``interpolate_bilinear_2d_like_tensorflow1x``), as the TF original did.
  **Recent torchmetrics (1.9 here) default to ``antialias=True``**, a different filter whose
  FIDs are not comparable with the reference's; we pass ``antialias=False`` (older releases
  such as 1.4 have no such argument and always resize like TF1).
* Precision: features in float32 with TF32 disabled on GPUs (TF32 convolutions would
  perturb the features), accumulated in float64.
* Samples: 50,000 generated images without truncation (psi = 1) and random noise inputs,
  against 50,000 real images: the default of ``stylegan-lit eval``. A smaller dataset is
  repeated in new orders up to 50,000 by the data module, as the official TF iterator
  repeated its records; unlike it, reals are never mirrored (the official iterator applied
  the run's mirror augmentation to them, a negligible difference for faces). FID is biased
  upwards for small N (roughly by a constant / N), so values from the few-thousand-sample
  tracking during training are larger than FID50k and comparable only with each other.
* Formula: ``|mu_r - mu_f|^2 + tr(S_r + S_f - 2 (S_r S_f)^(1/2))`` with unbiased
  covariances (torchmetrics; the reference uses scipy's ``sqrtm``, equal up to rounding).
* KID: unbiased MMD with the cubic polynomial kernel, mean over 100 subsets of 1000 (the
  torch-fidelity and Binkowski et al. defaults), reported x1 (not x1e3).

Real-image statistics (feature sums, and the features themselves when KID is wanted) are
computed once per (dataset fingerprint, resolution, number of images, weights file) and
cached on disk by :class:`StatisticsCache`.
"""

from __future__ import annotations

import contextlib
import hashlib
import inspect
import json
import os
import tempfile
import urllib.request
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import torch
from torch import Tensor, nn

from stylegan_lit.generate.images import to_uint8
from stylegan_lit.metrics.images import to_rgb

try:  # The URL torch-fidelity (and torchmetrics through it) downloads from.
    from torch_fidelity.feature_extractor_inceptionv3 import URL_INCEPTION_V3 as INCEPTION_URL
except ImportError:  # pragma: no cover - torch-fidelity is a dependency
    INCEPTION_URL = (
        "https://github.com/toshas/torch-fidelity/releases/download/v0.2.0/"
        "weights-inception-2015-12-05-6726825d.pth"
    )

INCEPTION_FILENAME = INCEPTION_URL.rsplit("/", 1)[-1]
FEATURE_DIM = 2048
FEATURE_TAPS = (64, 192, 768, 2048)
WEIGHTS_OPTION = "feature_extractor_weights_path"
OnMissing = Literal["error", "disable"]

# Two tensors that identify torch-fidelity's InceptionV3 layout (the full strict check
# happens when the network loads the file).
_SIGNATURE = {"Conv2d_1a_3x3.conv.weight": (32, 3, 3, 3), "fc.weight": (1008, 2048)}


class InceptionWeightsError(FileNotFoundError):
    """The Inception weights for FID/KID are missing or unusable; the message says how to fix."""


class InceptionWeightsWarning(UserWarning):
    """FID/KID were disabled because the Inception weights are missing."""


def default_weights_file() -> Path:
    """Where torch-fidelity caches the weights: ``<torch hub dir>/checkpoints/<file>``.

    The hub directory honours ``TORCH_HOME`` and ``XDG_CACHE_HOME`` (``torch.hub.get_dir``).
    """
    return Path(torch.hub.get_dir()) / "checkpoints" / INCEPTION_FILENAME


def _how_to_provide(path: Path, problem: str) -> str:
    return (
        f"Inception weights for FID/KID: {path} {problem}.\n"
        f"FID and KID need torch-fidelity's InceptionV3 weights ({INCEPTION_FILENAME}). "
        "To provide them without network on this machine:\n"
        f"  1. download {INCEPTION_URL}\n"
        f"     on a machine with internet (e.g. curl -L -O <that URL>);\n"
        f"  2. either put the file at {default_weights_file()}\n"
        "     (the torch hub cache; set TORCH_HOME to move it), or pass its path as\n"
        f"     {WEIGHTS_OPTION}=/path/to/{INCEPTION_FILENAME}\n"
        "     (MetricsCallback option; --feature-extractor-weights-path for `stylegan-lit eval`).\n"
        "Or set on_missing_weights='disable' (--on-missing-weights disable) to run without "
        "FID/KID; SWD needs no weights."
    )


def _check_weights_file(path: Path) -> None:
    """Load with ``weights_only=True`` (refusing pickled code) and check the layout."""
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # any failure means an unusable file
        raise InceptionWeightsError(
            _how_to_provide(path, f"could not be read as a weights file ({error})")
        ) from error
    if not isinstance(state, dict):
        raise InceptionWeightsError(_how_to_provide(path, "is not a state dict"))
    for key, shape in _SIGNATURE.items():
        tensor = state.get(key)
        if not isinstance(tensor, Tensor) or tuple(tensor.shape) != shape:
            raise InceptionWeightsError(
                _how_to_provide(path, f"is not torch-fidelity's InceptionV3 (bad or no {key!r})")
            )


def _download(url: str, destination: Path, timeout: float) -> None:
    """Fetch ``url`` to ``destination`` atomically, checking the hash prefix in its name."""
    destination.parent.mkdir(parents=True, exist_ok=True)
    expected = destination.stem.rsplit("-", 1)[-1]
    digest = hashlib.sha256()
    handle, temporary = tempfile.mkstemp(dir=destination.parent, suffix=".partial")
    try:
        with os.fdopen(handle, "wb") as out, urllib.request.urlopen(url, timeout=timeout) as src:
            while chunk := src.read(1 << 20):
                digest.update(chunk)
                out.write(chunk)
        if not digest.hexdigest().startswith(expected):
            raise OSError(f"sha256 {digest.hexdigest()[:8]} does not match {expected}")
        os.replace(temporary, destination)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)


def resolve_inception_weights(
    weights_path: str | os.PathLike[str] | None = None,
    *,
    download: bool = True,
    timeout: float = 60.0,
) -> Path:
    """Return a local, checked Inception weights file, or raise saying how to provide one.

    Args:
        weights_path: An explicit file (``feature_extractor_weights_path``); never downloaded.
        download: Without ``weights_path`` and without a cached file, try to download to the
            torch hub cache (what torch-fidelity would do, but with a timeout).
        timeout: Seconds before a stalled download counts as "no network".

    Raises:
        InceptionWeightsError: The file is missing, unreadable or not InceptionV3.
    """
    if weights_path is not None:
        path = Path(weights_path).expanduser()
        if not path.is_file():
            raise InceptionWeightsError(_how_to_provide(path, "does not exist"))
        _check_weights_file(path)
        return path
    path = default_weights_file()
    if not path.is_file():
        if not download:
            raise InceptionWeightsError(
                _how_to_provide(path, "is not in the cache and downloading is off")
            )
        try:
            _download(INCEPTION_URL, path, timeout)
        except OSError as error:  # URLError and timeouts are OSErrors
            raise InceptionWeightsError(
                _how_to_provide(path, f"is missing and downloading it failed ({error})")
            ) from error
    _check_weights_file(path)
    return path


def ensure_inception_available(
    weights_path: str | os.PathLike[str] | None = None,
    on_missing: OnMissing = "error",
    *,
    download: bool = True,
) -> bool:
    """Start-up check: are FID/KID computable? Call it before training, not hours in.

    Args:
        weights_path: Explicit weights file, or ``None`` for the torch hub cache.
        on_missing: ``"error"`` raises :class:`InceptionWeightsError`; ``"disable"`` warns
            (:class:`InceptionWeightsWarning`) and returns ``False``.
        download: Allow a download when nothing is cached.

    Returns:
        ``True`` when the weights are usable, ``False`` when missing and disabled.
    """
    if on_missing not in ("error", "disable"):
        raise ValueError(f"on_missing must be 'error' or 'disable', got {on_missing!r}")
    try:
        resolve_inception_weights(weights_path, download=download)
    except InceptionWeightsError as error:
        if on_missing == "error":
            raise
        warnings.warn(
            f"{error}\nFID/KID are disabled for this run (on_missing='disable').",
            InceptionWeightsWarning,
            stacklevel=2,
        )
        return False
    return True


_FINGERPRINTS: dict[tuple[str, int, int], str] = {}


def weights_fingerprint(path: str | os.PathLike[str]) -> str:
    """SHA-256 (16 hex digits) of a weights file: real statistics depend on the exact weights."""
    stat = os.stat(path)
    key = (str(Path(path).resolve()), stat.st_size, stat.st_mtime_ns)
    if key not in _FINGERPRINTS:
        digest = hashlib.sha256()
        with open(path, "rb") as handle:
            while chunk := handle.read(1 << 22):
                digest.update(chunk)
        _FINGERPRINTS[key] = digest.hexdigest()[:16]
    return _FINGERPRINTS[key]


@contextlib.contextmanager
def _full_fp32() -> Iterator[None]:
    """Disable TF32 (on by default for cuDNN convolutions) while extracting features."""
    saved = torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32
    torch.backends.cudnn.allow_tf32 = torch.backends.cuda.matmul.allow_tf32 = False
    try:
        yield
    finally:
        torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32 = saved


class InceptionFeatureExtractor(nn.Module):
    """torch-fidelity's InceptionV3 (via torchmetrics) with the reference resize: images -> pool_3.

    Args:
        weights_path: Weights file; ``None`` looks in the torch hub cache (see module doc).
        download: Allow a download when nothing is cached.
        num_features: 2048 (``pool_3``, the FID of every paper). The earlier taps 64, 192 and
            768 that torchmetrics offers are cheaper but give numbers comparable with nothing
            published; they exist for quick checks and tests.
    """

    def __init__(
        self,
        weights_path: str | os.PathLike[str] | None = None,
        *,
        download: bool = True,
        num_features: int = FEATURE_DIM,
    ) -> None:
        super().__init__()
        from torchmetrics.image.fid import NoTrainInceptionV3

        if num_features not in FEATURE_TAPS:
            raise ValueError(f"num_features must be one of {FEATURE_TAPS}, got {num_features}")
        self.num_features = num_features
        self.weights_path = resolve_inception_weights(weights_path, download=download)
        options: dict[str, Any] = {}
        if "antialias" in inspect.signature(NoTrainInceptionV3.__init__).parameters:
            # Recent torchmetrics (1.9 here) default to an antialiased resize; older ones
            # (1.4) had only the TF1 bilinear resize of the reference and no such argument.
            options["antialias"] = False
        self.network = NoTrainInceptionV3(
            name="inception-v3-compat",
            features_list=[str(num_features)],
            feature_extractor_weights_path=str(self.weights_path),
            **options,
        )

    @property
    def fingerprint(self) -> str:
        """Weights file and feature tap (the real-statistics cache key depends on both)."""
        return f"{weights_fingerprint(self.weights_path)}-{self.num_features}"

    @torch.no_grad()
    def forward(self, images: Tensor) -> Tensor:
        """Images [N, 1|3, H, W] (uint8, or floats in [-1, 1]) -> features float32 [N, D]."""
        device = next(self.network.parameters()).device
        pixels = to_rgb(to_uint8(images, require_finite=True)).to(device)
        with _full_fp32():
            return self.network(pixels).float()


@dataclass
class FeatureStatistics:
    """What FID (and KID) need of one image set: feature sums, and the features for KID.

    Attributes:
        num_samples: Images summarised.
        features_sum: Sum of features, float64 [D].
        features_cov_sum: Sum of outer products ``f f^T``, float64 [D, D].
        features: The features themselves, float32 [N, D], or ``None`` when not kept (KID
            needs them, FID does not).
    """

    num_samples: int
    features_sum: Tensor
    features_cov_sum: Tensor
    features: Tensor | None = None

    @classmethod
    def from_features(cls, features: Tensor, *, keep_features: bool = False) -> FeatureStatistics:
        """Summarise features [N, D]."""
        f = features.detach().double().cpu()
        return cls(
            num_samples=f.shape[0],
            features_sum=f.sum(dim=0),
            features_cov_sum=f.T @ f,
            features=features.detach().float().cpu() if keep_features else None,
        )

    @classmethod
    def combine(cls, parts: Sequence[FeatureStatistics]) -> FeatureStatistics:
        """Statistics of the union of disjoint sets (in order, for the features)."""
        if not parts:
            raise ValueError("nothing to combine")
        keep = all(p.features is not None for p in parts)
        return cls(
            num_samples=sum(p.num_samples for p in parts),
            features_sum=torch.stack([p.features_sum for p in parts]).sum(dim=0),
            features_cov_sum=torch.stack([p.features_cov_sum for p in parts]).sum(dim=0),
            features=torch.cat([p.features for p in parts]) if keep else None,  # type: ignore[misc]
        )

    def mean_and_covariance(self) -> tuple[Tensor, Tensor]:
        """Mean [D] and unbiased covariance [D, D], float64 (as FID uses them)."""
        n = self.num_samples
        mean = self.features_sum / n
        cov = (self.features_cov_sum - n * torch.outer(mean, mean)) / (n - 1)
        return mean, cov

    def to_dict(self) -> dict[str, Any]:
        state: dict[str, Any] = {
            "num_samples": self.num_samples,
            "features_sum": self.features_sum,
            "features_cov_sum": self.features_cov_sum,
        }
        if self.features is not None:
            state["features"] = self.features
        return state

    @classmethod
    def from_dict(cls, state: dict[str, Any]) -> FeatureStatistics:
        return cls(
            num_samples=int(state["num_samples"]),
            features_sum=state["features_sum"],
            features_cov_sum=state["features_cov_sum"],
            features=state.get("features"),
        )


def default_cache_dir() -> Path:
    """``$STYLEGAN_LIT_CACHE_DIR/metrics``, else ``$XDG_CACHE_HOME/stylegan_lit/metrics``."""
    root = os.environ.get("STYLEGAN_LIT_CACHE_DIR")
    if root:
        return Path(root).expanduser() / "metrics"
    xdg = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(xdg).expanduser() / "stylegan_lit" / "metrics"


@dataclass(frozen=True)
class StatisticsKey:
    """Identity of a set of real statistics: change any field and they must be recomputed.

    Attributes:
        dataset: Fingerprint of the real images (see ``ImageSource.fingerprint``).
        resolution: Image size the reals were measured at.
        num_images: Number of real images.
        extractor: Fingerprint of the Inception weights.
    """

    dataset: str
    resolution: int
    num_images: int
    extractor: str

    def digest(self) -> str:
        text = json.dumps(self.__dict__, sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:16]


class StatisticsCache:
    """Real-image Inception statistics on disk, one ``torch.save`` file per key.

    Files are read with ``weights_only=True`` and written atomically (temporary file, then
    rename), so concurrent runs sharing the directory never see half a file.

    Args:
        directory: Cache folder (default :func:`default_cache_dir`).
    """

    def __init__(self, directory: str | os.PathLike[str] | None = None) -> None:
        self.directory = Path(directory) if directory is not None else default_cache_dir()

    def path(self, key: StatisticsKey) -> Path:
        return self.directory / (f"inception-{key.resolution}px-{key.num_images}-{key.digest()}.pt")

    def load(self, key: StatisticsKey, *, need_features: bool = False) -> FeatureStatistics | None:
        """The cached statistics, or ``None`` if absent, stale, unreadable or lacking features."""
        path = self.path(key)
        if not path.is_file():
            return None
        try:
            state = torch.load(path, map_location="cpu", weights_only=True)
        except Exception as error:  # a broken cache entry is recomputed
            warnings.warn(f"ignoring unreadable statistics cache {path}: {error}", stacklevel=2)
            return None
        if state.get("key") != key.__dict__:
            return None
        stats = FeatureStatistics.from_dict(state)
        if need_features and stats.features is None:
            return None
        return stats

    def save(self, key: StatisticsKey, stats: FeatureStatistics) -> Path:
        path = self.path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=path.parent, suffix=".partial")
        os.close(handle)
        try:
            torch.save({"key": dict(key.__dict__), **stats.to_dict()}, temporary)
            os.replace(temporary, path)
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temporary)
        return path


class _GivenFeatures(nn.Module):
    """A "feature extractor" that returns its input: torchmetrics then works on our features.

    Features are extracted once by :class:`InceptionFeatureExtractor` and shared by FID and
    KID (torchmetrics would otherwise run Inception once per metric).
    """

    def __init__(self, num_features: int) -> None:
        super().__init__()
        self.num_features = num_features

    def forward(self, features: Tensor) -> Tensor:
        return features


def compute_inception_metrics(
    real: FeatureStatistics,
    fake_features: Tensor,
    *,
    fid: bool = True,
    kid: bool = False,
    kid_subsets: int = 100,
    kid_subset_size: int = 1000,
    seed: int = 0,
) -> dict[str, float]:
    """FID and/or KID of fake features against real statistics, with torchmetrics.

    Args:
        real: Real statistics (with ``features`` when ``kid``).
        fake_features: Fake features [N, D].
        fid: Compute ``fid``.
        kid: Compute ``kid`` and ``kid_std``. The subset size is lowered (with a warning) to
            the smaller set size when a set is smaller than one subset.
        kid_subsets: KID subsets.
        kid_subset_size: KID subset size.
        seed: Seed of the KID subset draws (so the value is reproducible).
    """
    from torchmetrics.image.fid import FrechetInceptionDistance
    from torchmetrics.image.kid import KernelInceptionDistance

    dim = fake_features.shape[1]
    if real.features_sum.shape[0] != dim:
        raise ValueError(f"real features have {real.features_sum.shape[0]} dims, fakes {dim}")
    result: dict[str, float] = {}
    if fid:
        fid_metric = FrechetInceptionDistance(
            feature=_GivenFeatures(dim), reset_real_features=False, sync_on_compute=False
        )
        fid_metric.real_features_sum = real.features_sum.double()
        fid_metric.real_features_cov_sum = real.features_cov_sum.double()
        fid_metric.real_features_num_samples = torch.tensor(real.num_samples, dtype=torch.long)
        fid_metric.update(fake_features.float().cpu(), real=False)
        result["fid"] = float(fid_metric.compute())
    if kid:
        if real.features is None:
            raise ValueError("KID needs the real features; compute them with keep_features")
        subset_size = min(kid_subset_size, real.num_samples, fake_features.shape[0])
        if subset_size < kid_subset_size:
            warnings.warn(
                f"KID subset size lowered from {kid_subset_size} to {subset_size} "
                "(fewer images than one subset)",
                stacklevel=2,
            )
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*will save all extracted features.*")
            metric = KernelInceptionDistance(
                feature=_GivenFeatures(dim),
                subsets=kid_subsets,
                subset_size=subset_size,
                reset_real_features=False,
                sync_on_compute=False,
            )
        metric.update(real.features.float(), real=True)
        metric.update(fake_features.float().cpu(), real=False)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            mean, std = metric.compute()
        result["kid"], result["kid_std"] = float(mean), float(std)
    return result


__all__ = [
    "FEATURE_DIM",
    "INCEPTION_FILENAME",
    "INCEPTION_URL",
    "WEIGHTS_OPTION",
    "FeatureStatistics",
    "InceptionFeatureExtractor",
    "InceptionWeightsError",
    "InceptionWeightsWarning",
    "StatisticsCache",
    "StatisticsKey",
    "compute_inception_metrics",
    "default_cache_dir",
    "default_weights_file",
    "ensure_inception_available",
    "resolve_inception_weights",
    "weights_fingerprint",
]
