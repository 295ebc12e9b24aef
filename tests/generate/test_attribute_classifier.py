"""Saving, loading and caching attribute classifiers (training itself is too slow to test)."""

import pytest
import torch

from stylegan_lit.generate import attribute_classifier as ac


def _classifier(attribute: str = "hat", resolution: int = 16) -> ac.AttributeClassifier:
    torch.manual_seed(0)
    clf = ac.AttributeClassifier(attribute, resolution)
    clf.validation_accuracy = 0.9
    return clf


def test_round_trip_without_unpickling_code(tmp_path):
    clf = _classifier()
    path = ac.save_classifier(clf, tmp_path / "hat.pt")
    torch.load(path, weights_only=True)  # tensors and plain values only
    again = ac.load_classifier(path)
    assert (again.attribute, again.resolution, again.validation_accuracy) == ("hat", 16, 0.9)
    images = torch.rand(4, 3, 16, 16) * 2 - 1
    torch.testing.assert_close(again.predict_proba(images), clf.predict_proba(images))


def test_load_refuses_other_files(tmp_path):
    path = tmp_path / "other.pt"
    torch.save({"weights": torch.zeros(2)}, path)
    with pytest.raises(ValueError, match="not an attribute classifier"):
        ac.load_classifier(path)


def test_cache_trains_once_per_key(tmp_path, monkeypatch):
    calls = []

    def fake_training(attribute, resolution, *, steps, img_channels, seed, data_seed):
        calls.append((attribute, resolution, steps, img_channels, seed, data_seed))
        return _classifier(attribute, resolution)

    monkeypatch.setattr(ac, "train_attribute_classifier", fake_training)
    first = ac.cached_attribute_classifier("hat", 16, steps=5, cache_dir=tmp_path)
    second = ac.cached_attribute_classifier("hat", 16, steps=5, cache_dir=tmp_path)
    ac.cached_attribute_classifier("hat", 16, steps=6, cache_dir=tmp_path)
    # Another seed is another classifier (an independent judge): other weights and renders.
    ac.cached_attribute_classifier("hat", 16, steps=5, cache_dir=tmp_path, seed=1)
    ac.cached_attribute_classifier("hat", 16, steps=5, cache_dir=tmp_path, seed=1)
    data = ac.DATA_SEED
    assert calls == [
        ("hat", 16, 5, 3, 0, data),
        ("hat", 16, 6, 3, 0, data),
        ("hat", 16, 5, 3, 1, data + 1),
    ]
    # Seed 0 keeps the file name caches had before seeds existed.
    names = sorted(p.name for p in tmp_path.glob("*.pt"))
    assert names == [
        f"hat-16px-3ch-5steps-seed1-v{ac.CACHE_FORMAT}.pt",
        f"hat-16px-3ch-5steps-v{ac.CACHE_FORMAT}.pt",
        f"hat-16px-3ch-6steps-v{ac.CACHE_FORMAT}.pt",
    ]
    images = torch.rand(2, 3, 16, 16) * 2 - 1
    torch.testing.assert_close(first.predict_proba(images), second.predict_proba(images))


def test_default_cache_dir_follows_xdg(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert ac.default_cache_dir() == tmp_path / "stylegan_lit" / "attribute_classifiers"


def test_no_cache_dir_trains_and_keeps_nothing(tmp_path, monkeypatch):
    monkeypatch.setattr(
        ac, "train_attribute_classifier", lambda attribute, resolution, **_: _classifier()
    )
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    ac.cached_attribute_classifier("hat", 16, cache_dir=None)
    assert not any(tmp_path.rglob("*.pt"))
