"""Multi-scale sliced Wasserstein distance (SWD) of Progressive GAN (Karras et al. 2018, app. D).

SWD compares the distributions of small image patches at several scales. It needs no
pretrained network, so it runs offline on every machine; that is why the demo and the tests
track it. The recipe follows the paper and the official ``metrics/sliced_wasserstein.py``:

1. Each image (8-bit pixels, see :func:`stylegan_lit.generate.images.to_uint8`) is split into
   a Laplacian pyramid (5x5 binomial filter, mirror borders, as ``cv2.pyrDown/pyrUp``) whose
   coarsest level is 16 px: levels 64, 32, 16 for a 64 px image. The finer levels hold band-
   pass detail, the 16 px level the low-pass image.
2. From every level, 128 neighbourhoods of 7x7 pixels per image are cut at random positions;
   each is a descriptor of ``channels * 49`` numbers.
3. Each set of descriptors (reals, fakes) is standardised per colour channel by its own mean
   and standard deviation, so SWD measures structure rather than global colour calibration:
   a per-channel affine change of every image leaves it nearly unchanged.
4. The descriptors of both sets are projected onto 128 random unit directions, repeated 4
   times (512 directions in all, the paper's count); along each direction the sorted
   projections of the two sets are compared (the 1-D Wasserstein-1 distance is the mean
   absolute difference of the sorted values), averaged over directions and repeats.
5. The distance is reported x1e3 per level and averaged over levels (``SWDx1e3_<res>`` and
   ``SWDx1e3_avg`` officially; ``swd_<res>`` and ``swd_avg`` here).

Two deliberate differences from the official code, neither changing what is measured: the
patch positions of image ``i`` are a pure function of ``(seed, i)`` rather than draws from a
global generator, so two identical sets give exactly 0, and a set split across DDP ranks
gives the same value as in one process; and sets of different sizes are compared with the
exact 1-D Wasserstein distance between their quantile functions (the official code requires
equal sizes, where both agree).

Memory: the descriptors are kept until :meth:`SlicedWassersteinDistance.compute`,
``images * 128 * channels * 49 * 4`` bytes per level and set (75 MB per level for 1000 RGB
images). The official protocol (ProGAN's tables) uses 16384 images.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from stylegan_lit.generate.images import to_uint8

NHOOD_SIZE = 7
NHOODS_PER_IMAGE = 128
DIR_REPEATS = 4
DIRS_PER_REPEAT = 128
MIN_RESOLUTION = 16

# The 5x5 binomial kernel of cv2.pyrDown (outer product of [1, 4, 6, 4, 1] / 16).
_BINOMIAL = torch.tensor([1.0, 4.0, 6.0, 4.0, 1.0]) / 16.0


def swd_resolutions(
    resolution: int, min_resolution: int = MIN_RESOLUTION, nhood_size: int = NHOOD_SIZE
) -> list[int]:
    """Pyramid levels for square images of ``resolution`` px, finest first: 64 -> [64, 32, 16].

    Images smaller than ``min_resolution`` (the 8 px start of progressive training) get one
    level, the image itself, as long as a neighbourhood fits; the official code stops there.

    Raises:
        ValueError: If a ``nhood_size`` neighbourhood does not fit in the image.
    """
    if resolution < nhood_size:
        raise ValueError(
            f"SWD needs images of at least {nhood_size} px (one {nhood_size}x{nhood_size} "
            f"neighbourhood), got {resolution} px"
        )
    levels = []
    res = resolution
    while res >= min_resolution:
        levels.append(res)
        res //= 2
    return levels or [resolution]


def _blur(x: Tensor, gain: float = 1.0) -> Tensor:
    """Depthwise 5x5 binomial filter with mirror ('reflect', edge not repeated) borders."""
    channels = x.shape[1]
    k = _BINOMIAL.to(x.device, x.dtype)
    kernel = (torch.outer(k, k) * gain).expand(channels, 1, 5, 5)
    return F.conv2d(F.pad(x, (2, 2, 2, 2), mode="reflect"), kernel, groups=channels)


def pyr_down(x: Tensor) -> Tensor:
    """Blur and keep every second pixel: [N, C, H, W] -> [N, C, H/2, W/2] (``cv2.pyrDown``)."""
    return _blur(x)[:, :, ::2, ::2]


def pyr_up(x: Tensor) -> Tensor:
    """Insert zeros between pixels and blur with 4x gain: [N, C, H, W] -> [N, C, 2H, 2W]."""
    n, c, h, w = x.shape
    up = x.new_zeros(n, c, 2 * h, 2 * w)
    up[:, :, ::2, ::2] = x
    return _blur(up, gain=4.0)


def laplacian_pyramid(images: Tensor, num_levels: int) -> list[Tensor]:
    """Laplacian pyramid, finest level first; the last level is the low-pass image.

    ``images[k] = levels[k] + pyr_up(gaussian[k + 1])``, so the pyramid is exactly
    invertible (:func:`collapse_pyramid`).

    Args:
        images: Float images [N, C, H, W], H and W divisible by ``2 ** (num_levels - 1)``.
        num_levels: Number of levels (1 returns the images themselves).
    """
    gaussian = images.float()
    levels = []
    for _ in range(num_levels - 1):
        smaller = pyr_down(gaussian)
        levels.append(gaussian - pyr_up(smaller))
        gaussian = smaller
    levels.append(gaussian)
    return levels


def collapse_pyramid(levels: Sequence[Tensor]) -> Tensor:
    """Inverse of :func:`laplacian_pyramid`."""
    image = levels[-1]
    for detail in reversed(levels[:-1]):
        image = detail + pyr_up(image)
    return image


def neighbourhood_positions(
    first_index: int,
    count: int,
    level_sizes: Sequence[int],
    *,
    nhoods_per_image: int = NHOODS_PER_IMAGE,
    nhood_size: int = NHOOD_SIZE,
    seed: int = 0,
) -> Tensor:
    """Top-left corners of the sampled neighbourhoods: int64 [count, levels, 2 (y, x), P].

    Image ``first_index + j`` gets positions drawn from a generator seeded with
    ``(seed, first_index + j)``, so they depend only on the image's index in its set: not on
    batching, on the rank that processed it, or on the order of calls.
    """
    draws = np.stack(
        [
            np.random.default_rng([seed, first_index + j]).random(
                (len(level_sizes), 2, nhoods_per_image)
            )
            for j in range(count)
        ]
    ).reshape(count, len(level_sizes), 2, nhoods_per_image)
    spans = np.asarray(level_sizes, dtype=np.float64) - nhood_size + 1  # valid corners per axis
    if (spans < 1).any():
        raise ValueError(f"a {nhood_size}x{nhood_size} neighbourhood does not fit {level_sizes}")
    corners = np.floor(draws * spans[None, :, None, None]).astype(np.int64)
    return torch.from_numpy(corners)


def extract_neighbourhoods(level: Tensor, corners: Tensor, nhood_size: int = NHOOD_SIZE) -> Tensor:
    """Cut ``nhood_size`` squares: level [N, C, S, S], corners [N, 2, P] -> [N * P, C, k, k]."""
    n, c = level.shape[:2]
    corners = corners.to(level.device)
    offsets = torch.arange(nhood_size, device=level.device)
    rows = (corners[:, 0, :, None] + offsets)[:, :, :, None]  # [N, P, k, 1]
    cols = (corners[:, 1, :, None] + offsets)[:, :, None, :]  # [N, P, 1, k]
    batch = torch.arange(n, device=level.device)[:, None, None, None]
    patches = level[batch, :, rows, cols]  # [N, P, k, k, C]: the advanced indices lead
    return patches.permute(0, 1, 4, 2, 3).reshape(-1, c, nhood_size, nhood_size)


def normalize_descriptors(descriptors: Tensor) -> Tensor:
    """Standardise each colour channel over the whole set; flatten. [M, C, k, k] -> [M, C*k*k].

    The population standard deviation (as ``np.std``) of one set, not of both together.
    """
    d = descriptors.float()
    count = d.numel() // d.shape[1]
    # Sums in float64: float32 loses digits when a channel's mean dwarfs its spread.
    mean = d.sum(dim=(0, 2, 3), keepdim=True, dtype=torch.float64) / count
    centred = d - mean.float()
    var = centred.square().sum(dim=(0, 2, 3), keepdim=True, dtype=torch.float64) / count
    centred /= var.sqrt().clamp_min(1e-8).float()
    return centred.reshape(d.shape[0], -1)


def random_directions(
    dim: int, dirs_per_repeat: int, dir_repeats: int, generator: torch.Generator
) -> Tensor:
    """Unit directions in descriptor space: [dir_repeats, dim, dirs_per_repeat]."""
    dirs = torch.randn(dir_repeats, dim, dirs_per_repeat, generator=generator, dtype=torch.float64)
    return (dirs / dirs.norm(dim=1, keepdim=True)).float()


def wasserstein_1d(a_sorted: Tensor, b_sorted: Tensor) -> Tensor:
    """W1 between empirical distributions, per row: sorted [K, n], sorted [K, m] -> [K].

    For ``n == m`` this is the mean absolute difference of the sorted samples (the official
    formula). Otherwise the integral of ``|F_a^-1(t) - F_b^-1(t)|`` over t in [0, 1] is
    summed exactly over the intervals on which both quantile functions are constant.
    """
    n, m = a_sorted.shape[-1], b_sorted.shape[-1]
    if n == m:
        return (a_sorted - b_sorted).abs().mean(dim=-1)
    device = a_sorted.device
    breaks = torch.cat(
        [
            torch.arange(1, n + 1, dtype=torch.float64, device=device) / n,
            torch.arange(1, m + 1, dtype=torch.float64, device=device) / m,
        ]
    ).unique()  # sorted; ends at 1
    widths = torch.diff(breaks, prepend=breaks.new_zeros(1))
    keep = widths > 0
    breaks, widths = breaks[keep], widths[keep]
    middle = breaks - widths / 2
    ia = (middle * n).floor().long().clamp_(0, n - 1)
    ib = (middle * m).floor().long().clamp_(0, m - 1)
    diff = (a_sorted[..., ia].double() - b_sorted[..., ib].double()).abs()
    return (diff * widths).sum(dim=-1).to(a_sorted.dtype)


def sliced_wasserstein(a: Tensor, b: Tensor, directions: Tensor) -> float:
    """Mean over directions (and repeats) of the 1-D W1 distance of the projected sets.

    Args:
        a: Normalised descriptors [n, D].
        b: Normalised descriptors [m, D].
        directions: Unit directions [repeats, D, K] (see :func:`random_directions`).
    """
    if a.shape[1] != b.shape[1] or a.shape[1] != directions.shape[1]:
        raise ValueError(f"descriptor widths differ: {a.shape}, {b.shape}, {directions.shape}")
    b = b.to(a.device)
    results = []
    for dirs in directions.to(a.device):
        # Projections as [K, n]: sorting contiguous rows is about twice as fast as columns.
        proj_a = torch.sort(dirs.T @ a.T, dim=-1).values
        proj_b = torch.sort(dirs.T @ b.T, dim=-1).values
        results.append(wasserstein_1d(proj_a, proj_b).mean())
    return float(torch.stack(results).mean())


class SlicedWassersteinDistance:
    """Accumulates descriptors of a real and a fake image set and computes multi-scale SWD.

    ``update`` takes batches (uint8, or floats in [-1, 1] which are quantised like reals);
    for a set split over processes, compute :meth:`descriptors` per shard with the shard's
    first global index, gather them, and :meth:`add_descriptors` the result. The reals can
    be kept across :meth:`reset` calls, so one real set serves many evaluations.

    Args:
        nhood_size: Side of a neighbourhood (7).
        nhoods_per_image: Neighbourhoods per image and level (128).
        dir_repeats: Independent sets of directions (4).
        dirs_per_repeat: Directions per set (128; 512 in all).
        min_resolution: Coarsest pyramid level (16 px).
        seed: Seed of patch positions and directions: the result is a function of the two
            image sets and this seed.
    """

    def __init__(
        self,
        *,
        nhood_size: int = NHOOD_SIZE,
        nhoods_per_image: int = NHOODS_PER_IMAGE,
        dir_repeats: int = DIR_REPEATS,
        dirs_per_repeat: int = DIRS_PER_REPEAT,
        min_resolution: int = MIN_RESOLUTION,
        seed: int = 0,
    ) -> None:
        if min(nhood_size, nhoods_per_image, dir_repeats, dirs_per_repeat) < 1:
            raise ValueError("SWD sizes and counts must be positive")
        self.nhood_size = nhood_size
        self.nhoods_per_image = nhoods_per_image
        self.dir_repeats = dir_repeats
        self.dirs_per_repeat = dirs_per_repeat
        self.min_resolution = min_resolution
        self.seed = seed
        self.resolution: int | None = None
        self._sets: dict[bool, list[list[Tensor]]] = {True: [], False: []}
        self._counts = {True: 0, False: 0}

    @property
    def levels(self) -> list[int]:
        """Pyramid level resolutions of the images seen so far (finest first)."""
        if self.resolution is None:
            raise RuntimeError("no images seen yet")
        return swd_resolutions(self.resolution, self.min_resolution, self.nhood_size)

    def num_images(self, real: bool) -> int:
        """Images added to the real (``True``) or fake set."""
        return self._counts[real]

    def descriptors(self, images: Tensor, first_index: int) -> list[Tensor]:
        """Raw descriptors per level of a batch: list of [N * P, C, k, k] float32.

        Args:
            images: [N, C, R, R], uint8 or floats in [-1, 1].
            first_index: Index of ``images[0]`` within its set (fixes the patch positions).
        """
        pixels = to_uint8(images, require_finite=True)
        resolution = pixels.shape[-1]
        if pixels.ndim != 4 or pixels.shape[-2] != resolution:
            raise ValueError(f"expected square images [N, C, R, R], got {tuple(pixels.shape)}")
        self._check_resolution(resolution)
        levels = self.levels
        pyramid = laplacian_pyramid(pixels.float(), len(levels))
        corners = neighbourhood_positions(
            first_index,
            pixels.shape[0],
            levels,
            nhoods_per_image=self.nhoods_per_image,
            nhood_size=self.nhood_size,
            seed=self.seed,
        )
        return [
            extract_neighbourhoods(level, corners[:, k], self.nhood_size)
            for k, level in enumerate(pyramid)
        ]

    def add_descriptors(self, descriptors: Sequence[Tensor], *, real: bool, count: int) -> None:
        """Add descriptors of ``count`` images (from :meth:`descriptors`) to a set."""
        if len(descriptors) != len(self.levels):
            raise ValueError(f"expected {len(self.levels)} levels, got {len(descriptors)}")
        self._sets[real].append([d.detach() for d in descriptors])
        self._counts[real] += count

    def update(self, images: Tensor, *, real: bool) -> None:
        """Add a batch to the real or fake set (indices continue from the set's count)."""
        descriptors = self.descriptors(images, first_index=self._counts[real])
        self.add_descriptors(descriptors, real=real, count=images.shape[0])

    def set_descriptors(self, real: bool) -> list[Tensor]:
        """All descriptors of one set, concatenated per level."""
        batches = self._sets[real]
        if not batches:
            raise RuntimeError(f"no {'real' if real else 'fake'} images added")
        return [torch.cat([b[k] for b in batches]) for k in range(len(batches[0]))]

    def compute(self, device: torch.device | str | None = None) -> dict[str, float]:
        """SWD x1e3 per level (``swd_<res>``) and their mean (``swd_avg``).

        Args:
            device: Where to project and sort, one level at a time (default: where the
                descriptors are). Sorting dominates the cost: on a GPU it is milliseconds,
                on two CPU cores about 7 s per level for 1000 images.
        """
        reals = self.set_descriptors(True)
        fakes = self.set_descriptors(False)
        generator = torch.Generator().manual_seed(self.seed)
        result: dict[str, float] = {}
        for res, a, b in zip(self.levels, reals, fakes, strict=True):
            directions = random_directions(
                a[0].numel(), self.dirs_per_repeat, self.dir_repeats, generator
            )
            a, b = (a.to(device), b.to(device)) if device is not None else (a, b)
            distance = sliced_wasserstein(
                normalize_descriptors(a), normalize_descriptors(b), directions
            )
            result[f"swd_{res}"] = distance * 1e3
        result["swd_avg"] = float(np.mean([result[f"swd_{r}"] for r in self.levels]))
        return result

    def reset(self, *, keep_reals: bool = True) -> None:
        """Drop the fake set (and the real set unless ``keep_reals``)."""
        self._sets[False] = []
        self._counts[False] = 0
        if not keep_reals:
            self._sets[True] = []
            self._counts[True] = 0
            self.resolution = None

    def _check_resolution(self, resolution: int) -> None:
        if self.resolution is None:
            swd_resolutions(resolution, self.min_resolution, self.nhood_size)  # validates
            self.resolution = resolution
        elif resolution != self.resolution:
            raise ValueError(
                f"images of {resolution} px added to an SWD of {self.resolution} px; "
                "call reset(keep_reals=False) when the resolution changes"
            )


__all__ = [
    "SlicedWassersteinDistance",
    "collapse_pyramid",
    "extract_neighbourhoods",
    "laplacian_pyramid",
    "neighbourhood_positions",
    "normalize_descriptors",
    "pyr_down",
    "pyr_up",
    "random_directions",
    "sliced_wasserstein",
    "swd_resolutions",
    "wasserstein_1d",
]
