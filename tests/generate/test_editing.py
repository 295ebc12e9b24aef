import copy
from dataclasses import replace

import numpy as np
import pytest
import torch

from stylegan_lit.data import sample_attributes
from stylegan_lit.generate import (
    AttributeDirection,
    RenderOptions,
    attribute_labels,
    edit_images,
    edit_outcome,
    edit_ws,
    figures,
    find_direction,
    fit_direction,
    labels_from_scores,
    map_seeds,
    sample_images,
    train_attribute_classifier,
)
from stylegan_lit.generate.attribute_classifier import _renders, balanced_accuracy


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


def test_conditioned_direction_keeps_the_other_boundaries():
    generator = torch.Generator().manual_seed(0)
    dim = 16

    def direction(name):
        normal = torch.randn(dim, generator=generator)
        return AttributeDirection(
            normal=normal / normal.norm(), offset=0.7, scale=2.0, accuracy=0.9, attribute=name
        )

    glasses, beard, smile = direction("glasses"), direction("beard"), direction("smile")
    kept = glasses.conditioned_on([beard, smile])
    assert float(kept.normal.norm()) == pytest.approx(1.0, abs=1e-6)
    assert float(kept.normal @ glasses.normal) > 0  # still adds glasses
    assert kept.scale == glasses.scale and kept.attribute == "glasses | beard, smile"
    ws = torch.randn(5, 3, dim, generator=generator)
    edited = edit_ws(ws, kept, 4.0)
    for other in (beard, smile):  # moving along it crosses no other boundary
        torch.testing.assert_close(other.distance(edited), other.distance(ws))
    assert (glasses.distance(edited) > glasses.distance(ws)).all()
    nearest = -glasses.offset * glasses.normal  # on the old boundary ...
    assert float(kept.distance(nearest[None])) == pytest.approx(0.0, abs=1e-5)  # ... and new
    assert glasses.conditioned_on([]) is glasses
    with pytest.raises(ValueError, match="span"):
        glasses.conditioned_on([beard, replace(glasses, attribute="copy")])


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


class LinearSynthesis(torch.nn.Module):
    """Stands in for G's synthesis network: the image is a fixed linear map of the first w.

    With it and a scorer that is linear in the pixels (:func:`linear_scorer`), the score's
    logit is an exactly known linear function of w, so what finding and applying an edit
    direction must give is known in closed form, on any CPU and thread count.
    """

    def __init__(self, w_dim: int, img_channels: int, resolution: int, num_ws: int) -> None:
        super().__init__()
        generator = torch.Generator().manual_seed(11)
        pixels = img_channels * resolution * resolution
        self.register_buffer("A", torch.randn(w_dim, pixels, generator=generator) / w_dim**0.5)
        self.shape = (img_channels, resolution, resolution)
        self.num_ws = num_ws

    def forward(self, ws, resolution=None, alpha=1.0, noise_mode="const"):
        return (ws[:, 0] @ self.A).unflatten(1, self.shape)


@pytest.fixture
def linear_G(G):
    linear = copy.deepcopy(G)
    linear.synthesis = LinearSynthesis(G.w_dim, G.img_channels, G.resolution, G.num_ws)
    return linear


def linear_scorer(G, gain: float = 3.0):
    """P = sigmoid(gain * (pixels . v - bias)); returns the scorer and its direction in W.

    The bias is the median over the fitting samples, so both classes are common.
    """
    v = torch.randn(G.synthesis.A.shape[1], generator=torch.Generator().manual_seed(5))
    in_w = G.synthesis.A @ v  # logit = gain * (w . in_w - bias)
    ws = map_seeds(G, range(1000))
    bias = float((ws[:, 0] @ in_w).median())

    def scorer(images):
        return torch.sigmoid(gain * (images.flatten(1) @ v - bias))

    return scorer, in_w, bias


def test_find_direction_recovers_a_known_linear_attribute(linear_G):
    scorer, in_w, bias = linear_scorer(linear_G)
    # Every sample labelled by its score, the default (the two extreme quarters give a
    # boundary that tilts with the anisotropy of W; measured 0.93 here).
    direction = find_direction(linear_G, scorer, 1000, attribute="linear")
    true_normal = in_w / in_w.norm()
    assert float(direction.normal @ true_normal) > 0.95  # measured 0.978
    ws = map_seeds(linear_G, range(100_000, 100_400))  # not among the fitting samples
    truth = ws[:, 0] @ in_w > bias
    assert float(((direction.distance(ws) > 0) == truth).float().mean()) > 0.95  # measured 0.98
    assert direction.attribute == "linear"


def test_find_direction_ranks_when_no_sample_crosses_the_threshold(linear_G):
    """A generator that shows the attribute nowhere (every score under 0.5) still has a
    direction along which the score grows: the fit falls back to the ranking's ends."""
    scorer, in_w, _ = linear_scorer(linear_G)
    with pytest.warns(UserWarning, match="every sample on one side of 0.5"):
        direction = find_direction(linear_G, lambda x: 0.4 * scorer(x), 1000, attribute="rare")
    assert float(direction.normal @ (in_w / in_w.norm())) > 0.8


@pytest.mark.parametrize("control", [False, True])
def test_edit_outcome_moves_the_score_by_the_known_amount(linear_G, control):
    """Each w moves ``strength * scale`` along the normal, towards the other decision; with
    a linear image and scorer the new logit is known exactly, and so is every flip."""
    gain = 3.0
    scorer, in_w, bias = linear_scorer(linear_G, gain)
    normal = in_w / in_w.norm()
    direction = AttributeDirection(
        normal=normal, offset=-bias / float(in_w.norm()), scale=0.4, accuracy=1.0
    )
    if control:
        direction = direction.random_like(seed=2)
    ws = map_seeds(linear_G, range(100_000, 100_256))
    outcome = edit_outcome(linear_G, scorer, ws, direction, strength=2.0)
    logit = gain * (ws[:, 0] @ in_w - bias)
    signs = torch.where(logit > 0, -1.0, 1.0)
    moved = logit + gain * signs * 2.0 * direction.scale * float(direction.normal @ in_w)
    torch.testing.assert_close(outcome.before, torch.sigmoid(logit), rtol=0, atol=1e-4)
    torch.testing.assert_close(outcome.after, torch.sigmoid(moved), rtol=0, atol=1e-4)
    clear = moved.abs() > 1e-2  # decisions not within rounding of the boundary
    assert torch.equal(outcome.flipped[clear], ((logit > 0) != (moved > 0))[clear])
    if not control:  # along the true normal, at 2 scales, most decisions flip
        assert outcome.flip_rate > 0.3


def test_edit_outcome_moves_only_the_given_layers(linear_G):
    """The linear stand-in renders from layer 0 alone: an edit of the other layers leaves
    every score as it was, one that includes layer 0 scores as the edit of all layers."""
    scorer, in_w, bias = linear_scorer(linear_G)
    direction = AttributeDirection(
        normal=in_w / in_w.norm(), offset=-bias / float(in_w.norm()), scale=0.4, accuracy=1.0
    )
    ws = map_seeds(linear_G, range(100_000, 100_064))
    untouched = edit_outcome(linear_G, scorer, ws, direction, 2.0, layers=range(1, ws.shape[1]))
    torch.testing.assert_close(untouched.after, untouched.before, rtol=0, atol=0)
    assert untouched.flip_rate == 0
    first = edit_outcome(linear_G, scorer, ws, direction, 2.0, layers=[0])
    every = edit_outcome(linear_G, scorer, ws, direction, 2.0)
    torch.testing.assert_close(first.after, every.after, rtol=0, atol=0)
    assert first.flip_rate > 0


def test_the_classifier_reports_its_held_out_balanced_accuracy():
    """What accuracy a trained classifier reaches moves with float rounding (it belongs in a
    benchmark); here: the reported number is the balanced accuracy of its own predictions
    on the held-out renders, and training is reproducible for a seed."""
    kwargs = dict(num_images=128, steps=5, batch_size=32, validation_images=64, seed=3)
    model = train_attribute_classifier("hat", 16, **kwargs)
    again = train_attribute_classifier("hat", 16, **kwargs)
    for a, b in zip(model.parameters(), again.parameters(), strict=True):
        assert torch.equal(a, b)
    images, labels = _renders("hat", 128 + 64, 16, 1_000_003, 3, None)
    predicted = model.predict_proba(images[128:]) > 0.5
    assert model.validation_accuracy == balanced_accuracy(predicted, labels[128:])
    assert balanced_accuracy(
        torch.tensor([1, 1, 0, 0]), torch.tensor([1, 0, 0, 0])
    ) == pytest.approx(5 / 6)
    with pytest.raises(ValueError, match="never or always"):
        train_attribute_classifier("hat", 16, **{**kwargs, "threshold": None, "num_images": 1})


def uniform_direction(w_dim: int) -> AttributeDirection:
    """A unit direction with equal components: any fixed direction does for these tests."""
    normal = torch.nn.functional.normalize(torch.ones(w_dim), dim=0)
    return AttributeDirection(normal=normal, offset=0.0, scale=1.0, accuracy=1.0)


def test_edit_images_grid_keeps_the_unedited_column(trained):
    G = trained.generator
    direction = uniform_direction(G.w_dim)
    options = RenderOptions.from_checkpoint(trained)
    grid = edit_images(G, [0, 1], direction, (-2.0, 0.0, 2.0), options)
    assert grid.shape == (2, 3, 3, 16, 16)
    torch.testing.assert_close(
        grid[:, 1], sample_images(G, [0, 1], options=options), rtol=0, atol=1e-5
    )
    assert (grid[:, 0] - grid[:, 2]).abs().max() > 1e-3


def test_write_edit_conditions_only_a_direction_it_fits(trained, tmp_path):
    """A given direction is drawn as saved: conditioning it would need the other
    attributes' directions fitted on this model, so the combination is refused."""
    G = trained.generator
    given = uniform_direction(G.w_dim)
    with pytest.raises(ValueError, match="fitted here"):
        figures.write_edit(G, [0], tmp_path, direction=given, condition_on=["beard"])
    assert not any(tmp_path.iterdir())
