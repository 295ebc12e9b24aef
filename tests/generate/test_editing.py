import math

import numpy as np
import pytest
import torch

from stylegan_lit.data.face_attributes import sample_attributes
from stylegan_lit.generate import (
    AttributeDirection,
    attribute_labels,
    edit_images,
    edit_outcome,
    edit_ws,
    find_direction,
    fit_direction,
    labels_from_scores,
    map_seeds,
    sample_images,
)


def separable(n=400, dim=12, seed=0):
    """Points whose label is decided by a known hyperplane, with some label noise."""
    generator = torch.Generator().manual_seed(seed)
    true_normal = torch.randn(dim, generator=generator)
    true_normal /= true_normal.norm()
    w = torch.randn(n, dim, generator=generator) * 2 + 3  # off-centre, not unit scale
    margin = (w - 3) @ true_normal + 0.3 * torch.randn(n, generator=generator)
    return w, margin > 0.5, true_normal  # unbalanced: about 40 % positive


@pytest.mark.parametrize("method", ["logistic", "svm"])
def test_fit_recovers_a_known_boundary(method):
    w, labels, true_normal = separable()
    direction = fit_direction(w, labels, method=method)
    assert float(direction.normal.norm()) == pytest.approx(1.0, abs=1e-5)
    assert float(direction.normal @ true_normal) > 0.97
    assert direction.accuracy > 0.9
    side = direction.distance(w) > 0
    assert (side == labels).float().mean() > 0.9  # offset puts the boundary in place
    assert direction.scale == pytest.approx(float((w @ direction.normal).std()), rel=1e-5)


def test_fit_refuses_one_class_and_bad_method():
    w = torch.randn(10, 4)
    with pytest.raises(ValueError, match="same label"):
        fit_direction(w, torch.ones(10, dtype=torch.bool))
    with pytest.raises(ValueError, match="method"):
        fit_direction(w, torch.arange(10) % 2 == 0, method="tree")


def test_edit_moves_along_the_normal_by_strength_scales():
    direction = AttributeDirection(
        normal=torch.tensor([0.6, 0.8, 0.0]), offset=0.0, scale=2.0, accuracy=1.0
    )
    ws = torch.zeros(2, 4, 3)
    edited = edit_ws(ws, direction, 1.5)
    torch.testing.assert_close(direction.distance(edited), torch.full((2,), 3.0))
    only_first = edit_ws(ws, direction, torch.tensor([1.0, -1.0]), layers=range(1))
    torch.testing.assert_close(only_first[:, 0, 0], torch.tensor([1.2, -1.2]))
    assert only_first[:, 1:].abs().max() == 0


def test_random_control_has_the_same_norm_and_another_direction():
    direction = fit_direction(*separable()[:2])
    control = direction.random_like(seed=3)
    assert control.scale == direction.scale
    assert float(control.normal.norm()) == pytest.approx(1.0, abs=1e-6)
    assert abs(float(control.normal @ direction.normal)) < 0.9


def test_direction_round_trip_is_safe_to_load(tmp_path):
    direction = fit_direction(*separable()[:2], attribute="hat")
    loaded = AttributeDirection.load(direction.save(tmp_path / "hat.pt"))
    torch.testing.assert_close(loaded.normal, direction.normal)
    assert (loaded.offset, loaded.scale, loaded.attribute) == (
        direction.offset,
        direction.scale,
        "hat",
    )
    torch.save({"other": 1}, tmp_path / "other.pt")
    with pytest.raises(ValueError, match="not an attribute direction"):
        AttributeDirection.load(tmp_path / "other.pt")


def test_labels_from_scores_keeps_confident_ends():
    scores = torch.tensor([0.9, 0.1, 0.6, 0.4, 0.95, 0.05, 0.5, 0.55])
    kept, labels = labels_from_scores(scores)
    assert kept.tolist() == list(range(8)) and labels.tolist() == (scores > 0.5).tolist()
    kept, labels = labels_from_scores(scores, extremes=0.25)
    assert sorted(kept[labels].tolist()) == [0, 4] and sorted(kept[~labels].tolist()) == [1, 5]
    with pytest.raises(ValueError, match="same score"):
        labels_from_scores(torch.zeros(10), extremes=0.2)


def test_attribute_labels():
    attrs = sample_attributes(0, np.arange(200))
    assert attribute_labels(attrs, "hat").dtype == np.bool_
    np.testing.assert_array_equal(attribute_labels(attrs, "smile"), attrs.smile > 0.4)
    np.testing.assert_array_equal(attribute_labels(attrs, "yaw", 0.1), attrs.yaw > 0.1)
    with pytest.raises(ValueError, match="give a threshold"):
        attribute_labels(attrs, "yaw")
    with pytest.raises(ValueError, match="unknown face attribute"):
        attribute_labels(attrs, "wings")
    with pytest.raises(ValueError, match="not a yes/no"):
        attribute_labels(attrs, "skin_color")


def test_the_classifier_tells_hats_on_held_out_renders(hat_classifier):
    assert hat_classifier.validation_accuracy > 0.8


def one_sided_sign_test(wins: int, losses: int) -> float:
    """P(at least ``wins`` of ``wins + losses`` fair coin flips): McNemar's exact test."""
    n = wins + losses
    return sum(math.comb(n, k) for k in range(wins, n + 1)) / 2**n


def test_the_hat_direction_flips_the_classifier_more_often_than_random_directions(
    trained, hat_classifier
):
    """The edit direction, fitted on the 250 most and 250 least hat-like of 1,000 generated
    samples (as the classifier ranks them), is applied to 128 other seeds;
    each face is pushed 3 scales towards the opposite decision. Controls: 8 random
    directions of the same norm. Everything is seeded, so the outcome is fixed; the
    thresholds leave a wide margin (measured: the edit flips 0.66 of the decisions, the
    random directions 0 to 0.44; 37 seeds flipped only by the edit, 9 only by the best
    random direction). The trained model, and so these rates, move with float rounding in
    training: after the fused layers and channels_last became the defaults the same seeds
    gave 0.47 for the edit and 0.03 to 0.31 for the random directions. The comparisons with
    the controls are the claim; the absolute floor only rules out a useless direction."""
    G, render = trained.generator, dict(resolution=trained.resolution, alpha=trained.alpha)
    scorer = hat_classifier.predict_proba
    direction = find_direction(G, scorer, 1000, attribute="hat", seed=0, **render)
    ws = map_seeds(G, range(100_000, 100_128))  # not among the fitting samples
    edit = edit_outcome(G, scorer, ws, direction, strength=3.0, **render)
    controls = [
        edit_outcome(G, scorer, ws, direction.random_like(seed), strength=3.0, **render)
        for seed in range(8)
    ]
    random_rates = [c.flip_rate for c in controls]
    assert edit.flip_rate > 0.35
    assert edit.flip_rate > max(random_rates) + 0.1
    # Paired against the most successful random direction: seeds that only the edit flips
    # must outnumber seeds that only the random direction flips, beyond chance.
    best = controls[int(np.argmax(random_rates))]
    wins = int((edit.flipped & ~best.flipped).sum())
    losses = int((~edit.flipped & best.flipped).sum())
    assert one_sided_sign_test(wins, losses) < 1e-3


def test_edit_images_grid_keeps_the_unedited_column(trained):
    G = trained.generator
    direction = AttributeDirection(
        normal=torch.nn.functional.normalize(torch.ones(G.w_dim), dim=0),
        offset=0.0,
        scale=1.0,
        accuracy=1.0,
    )
    grid = edit_images(G, [0, 1], direction, (-2.0, 0.0, 2.0), resolution=trained.resolution)
    assert grid.shape == (2, 3, 3, 16, 16)
    torch.testing.assert_close(
        grid[:, 1], sample_images(G, [0, 1], resolution=trained.resolution), rtol=0, atol=1e-5
    )
    assert (grid[:, 0] - grid[:, 2]).abs().max() > 1e-3
