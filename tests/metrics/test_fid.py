"""FID/KID on a random-weights Inception: offline weights, protocol, cache, start-up check."""

import urllib.error
import urllib.request
import warnings
from pathlib import Path

import pytest
import torch

from stylegan_lit.generate.images import to_uint8
from stylegan_lit.metrics import fid as fid_module
from stylegan_lit.metrics.fid import (
    INCEPTION_FILENAME,
    INCEPTION_URL,
    FeatureStatistics,
    InceptionFeatureExtractor,
    InceptionWeightsError,
    InceptionWeightsWarning,
    StatisticsCache,
    StatisticsKey,
    compute_inception_metrics,
    default_weights_file,
    ensure_inception_available,
    resolve_inception_weights,
)
from stylegan_lit.metrics.real_images import TensorImages
from stylegan_lit.metrics.suite import MetricSuite
from stylegan_lit.metrics.swd import SlicedWassersteinDistance
from tests.metrics.helpers import gaussian_blur, smooth_images

N = 16


@pytest.fixture(scope="module")
def inception64(inception_weights):
    """The same network tapped after its first block: cheap features for formula checks."""
    return InceptionFeatureExtractor(inception_weights, download=False, num_features=64)


@pytest.fixture(scope="module")
def sets(inception64):
    """64-d features of a real set, a blurred copy, and a different distribution."""
    reals = smooth_images(N, 32)
    return {
        "real": inception64(reals),
        "blurred": inception64(gaussian_blur(reals, 1.5)),
        "noise": inception64(torch.rand(N, 3, 32, 32) * 2 - 1),
    }


# ---------------------------------------------------------------- protocol
def test_uint8_conversion_is_the_official_round_half_up():
    x = torch.tensor([-1.5, -1.0, -0.9961, 0.0, 0.5, 1.0, 2.0])
    # official: saturate_cast(x * 127.5 + 127.5 + 0.5), truncating
    expected = torch.tensor([0, 0, 0, 128, 191, 255, 255], dtype=torch.uint8)
    assert torch.equal(to_uint8(x.view(1, 1, 1, -1)).flatten(), expected)
    nan = torch.full((1, 3, 16, 16), float("nan"))
    with pytest.raises(ValueError, match="NaN"):
        to_uint8(nan, require_finite=True)
    # The metrics ask for finite values: a diverged generator yields no silent number.
    with pytest.raises(ValueError, match="NaN"):
        SlicedWassersteinDistance().descriptors(nan, 0)
    assert to_uint8(nan).dtype == torch.uint8  # files and grids still show a broken model


def test_features_equal_torch_fidelity_reference_resize_not_antialiased(
    inception, inception64, inception_weights
):
    """Our extractor == torch-fidelity's own InceptionV3 (TF1 bilinear, no antialias)."""
    from torch_fidelity.feature_extractor_inceptionv3 import FeatureExtractorInceptionV3
    from torchmetrics.image.fid import NoTrainInceptionV3

    images = smooth_images(2, 32)
    pixels = to_uint8(images)
    reference = FeatureExtractorInceptionV3(
        "inception-v3-compat", ["64", "2048"], feature_extractor_weights_path=str(inception_weights)
    )
    with torch.no_grad():
        expected64, expected2048 = reference(pixels)
    torch.testing.assert_close(inception(images), expected2048, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(inception64(images), expected64, rtol=1e-5, atol=1e-5)
    # torchmetrics' default (antialias=True) is a different resize filter: different features.
    antialiased = NoTrainInceptionV3(
        "inception-v3-compat", ["64"], str(inception_weights), antialias=True
    )
    with torch.no_grad():
        assert not torch.allclose(antialiased(pixels), expected64, rtol=1e-3, atol=1e-3)


def test_grayscale_is_shown_as_three_equal_channels(inception64):
    gray = smooth_images(2, 16, channels=1)
    torch.testing.assert_close(inception64(gray), inception64(gray.expand(-1, 3, -1, -1)))


# ---------------------------------------------------------------- FID / KID values
@pytest.mark.slow
def test_fid_2048_of_a_set_against_itself_is_zero_and_positive_for_another(inception):
    """The production tap (pool_3, 2048-d) end to end on 10 images per set (slow on CPU:
    torchmetrics' FID takes the eigenvalues of a 2048 x 2048 non-symmetric matrix)."""
    real_features = inception(smooth_images(10, 32))
    real = FeatureStatistics.from_features(real_features)
    same = compute_inception_metrics(real, real_features)
    other = compute_inception_metrics(real, inception(torch.rand(10, 3, 32, 32) * 2 - 1))
    scale = float(real.mean_and_covariance()[1].trace())
    assert abs(same["fid"]) < 1e-4 * scale
    assert other["fid"] > 0.1 * scale


def test_fid_and_kid_grow_with_the_difference(sets):
    real = FeatureStatistics.from_features(sets["real"], keep_features=True)
    same = compute_inception_metrics(real, sets["real"], kid=True, kid_subset_size=8)
    blurred = compute_inception_metrics(real, sets["blurred"], kid=True, kid_subset_size=8)
    noise = compute_inception_metrics(real, sets["noise"], kid=True, kid_subset_size=8)
    assert abs(same["fid"]) < 1e-6 * noise["fid"]
    # KID is an unbiased estimate from random subsets: about, not exactly, 0 for equal sets.
    assert abs(same["kid"]) < 0.05 * noise["kid"]
    assert 0 < blurred["fid"] < noise["fid"]
    assert blurred["kid"] < noise["kid"]


def test_fid_equals_torchmetrics_on_the_same_features(sets):
    from torchmetrics.image.fid import FrechetInceptionDistance

    class Given(torch.nn.Module):
        num_features = 64

        def forward(self, x):
            return x

    metric = FrechetInceptionDistance(feature=Given())
    metric.update(sets["real"], real=True)
    metric.update(sets["blurred"], real=False)
    ours = compute_inception_metrics(FeatureStatistics.from_features(sets["real"]), sets["blurred"])
    assert ours["fid"] == pytest.approx(float(metric.compute()), rel=1e-5)


def test_kid_is_reproducible_and_subset_size_is_lowered_for_small_sets(sets):
    real = FeatureStatistics.from_features(sets["real"], keep_features=True)
    with pytest.warns(UserWarning, match="subset size lowered from 1000 to 16"):
        first = compute_inception_metrics(real, sets["noise"], fid=False, kid=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        again = compute_inception_metrics(real, sets["noise"], fid=False, kid=True)
    assert first == again and set(first) == {"kid", "kid_std"}


def test_feature_statistics_combine_equals_whole(sets):
    whole = FeatureStatistics.from_features(sets["real"], keep_features=True)
    parts = [FeatureStatistics.from_features(p, keep_features=True) for p in sets["real"].split(5)]
    combined = FeatureStatistics.combine(parts)
    assert combined.num_samples == N
    torch.testing.assert_close(combined.features_cov_sum, whole.features_cov_sum)
    torch.testing.assert_close(combined.features, whole.features)


# ---------------------------------------------------------------- real-statistics cache
def test_real_statistics_are_cached_and_reused(inception64, tmp_path):
    reals = TensorImages(smooth_images(8, 16))
    calls = []

    class Counting(torch.nn.Module):
        fingerprint = inception64.fingerprint
        num_features = 64

        def forward(self, images):
            calls.append(images.shape[0])
            return inception64(images)

    def suite() -> MetricSuite:
        return MetricSuite(
            ["fid", "kid"],
            num_fake=8,
            batch_size=4,
            inception=Counting(),  # type: ignore[arg-type]
            cache=StatisticsCache(tmp_path / "stats"),
            kid_subset_size=4,
        )

    first = suite()
    first.prepare_reals(reals, 16)
    assert sum(calls) == 8 and not first.real_info()["real_statistics_cached"]
    files = list((tmp_path / "stats").glob("inception-16px-8-*.pt"))
    assert len(files) == 1
    stored = torch.load(files[0], weights_only=True)  # plain tensors, safe to load
    assert stored["num_samples"] == 8 and stored["features"].shape == (8, 64)

    second = suite()
    second.prepare_reals(reals, 16)
    assert sum(calls) == 8, "cache hit: Inception must not see the reals again"
    assert second.real_info()["real_statistics_cached"]
    torch.testing.assert_close(
        second._reals.inception.features_cov_sum, first._reals.inception.features_cov_sum
    )

    # Other images (or another resolution / count / weights) are a different key.
    other = suite()
    other.prepare_reals(TensorImages(smooth_images(8, 16, seed=9)), 16)
    assert sum(calls) == 16


def test_cache_entry_without_features_is_not_used_for_kid(tmp_path):
    cache = StatisticsCache(tmp_path)
    key = StatisticsKey(dataset="d", resolution=16, num_images=4, extractor="e")
    cache.save(key, FeatureStatistics.from_features(torch.randn(4, 8)))
    assert cache.load(key) is not None
    assert cache.load(key, need_features=True) is None
    cache.path(key).write_bytes(b"garbage")
    with pytest.warns(UserWarning, match="unreadable"):
        assert cache.load(key) is None


# ---------------------------------------------------------------- start-up check
def test_explicit_weights_path_is_used_offline(inception_weights):
    assert resolve_inception_weights(inception_weights, download=False) == inception_weights
    assert ensure_inception_available(inception_weights) is True


def test_missing_weights_error_names_file_url_and_option(tmp_path):
    missing = tmp_path / "nowhere" / INCEPTION_FILENAME
    with pytest.raises(InceptionWeightsError) as info:
        ensure_inception_available(missing, "error")
    message = str(info.value)
    assert str(missing) in message and "does not exist" in message
    assert INCEPTION_URL in message
    assert "feature_extractor_weights_path" in message
    assert str(default_weights_file()) in message


def test_default_location_honours_torch_home_and_download_can_be_off(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "th"))
    expected = tmp_path / "th" / "hub" / "checkpoints" / INCEPTION_FILENAME
    assert default_weights_file() == expected
    with pytest.raises(InceptionWeightsError, match="downloading is off") as info:
        resolve_inception_weights(None, download=False)
    assert str(expected) in str(info.value)


def test_no_network_fails_immediately(tmp_path, monkeypatch):
    def offline(*args, **kwargs):
        raise urllib.error.URLError("Temporary failure in name resolution")

    monkeypatch.setattr(urllib.request, "urlopen", offline)
    with pytest.raises(InceptionWeightsError, match="downloading it failed") as info:
        ensure_inception_available(None, "error")
    assert INCEPTION_URL in str(info.value)
    assert not list(default_weights_file().parent.glob("*.partial"))  # nothing half-written


def test_cached_weights_are_found_without_network(inception_weights, monkeypatch):
    target = default_weights_file()
    target.parent.mkdir(parents=True)
    target.write_bytes(Path(inception_weights).read_bytes())
    monkeypatch.setattr(fid_module, "_download", None)  # any download attempt would crash
    assert resolve_inception_weights() == target


def test_disable_returns_false_and_warns(tmp_path):
    with pytest.warns(InceptionWeightsWarning, match="disabled"):
        assert ensure_inception_available(tmp_path / "missing.pth", "disable") is False
    with pytest.raises(ValueError, match="on_missing"):
        ensure_inception_available(tmp_path / "missing.pth", "ignore")  # type: ignore[arg-type]


def test_unusable_files_are_refused_before_torch_fidelity_unpickles_them(tmp_path):
    wrong = tmp_path / "wrong.pth"
    torch.save({"fc.weight": torch.zeros(10, 10)}, wrong)
    with pytest.raises(InceptionWeightsError, match="not torch-fidelity's InceptionV3"):
        resolve_inception_weights(wrong)
    code = tmp_path / "code.pth"
    torch.save({"x": object}, code)  # a pickled class: refused by weights_only=True
    with pytest.raises(InceptionWeightsError, match="could not be read"):
        InceptionFeatureExtractor(code)
