import pytest
import torch

from stylegan_lit.generate import (
    RenderOptions,
    assign_ranges,
    copy_layers,
    sample_images,
    style_mixing,
    style_range,
    style_ranges,
)


def layer_table(resolution):
    return {r.name: (r.layers.start, r.layers.stop) for r in style_ranges(resolution)}


def test_ranges_are_the_papers_from_64_px():
    assert layer_table(1024) == {"coarse": (0, 4), "middle": (4, 8), "fine": (8, 18)}
    assert layer_table(64) == {"coarse": (0, 4), "middle": (4, 8), "fine": (8, 10)}
    assert style_range(1024, "middle").resolutions == (16, 32)


def test_ranges_are_scaled_down_for_small_models():
    assert layer_table(32) == {"coarse": (0, 4), "middle": (4, 6), "fine": (6, 8)}
    assert layer_table(16) == {"coarse": (0, 2), "middle": (2, 4), "fine": (4, 6)}
    assert layer_table(8) == {"coarse": (0, 2), "fine": (2, 4)}
    with pytest.raises(KeyError, match="no 'middle' styles at 8 px"):
        style_range(8, "middle")


def test_rows_are_spread_over_the_ranges_like_figure_3():
    names = [r.name for r in assign_ranges(style_ranges(1024), 5)]
    assert names == ["coarse", "coarse", "middle", "middle", "fine"]


def test_copy_layers_takes_exactly_the_chosen_layers():
    dst, src = torch.zeros(2, 6, 3), torch.ones(2, 6, 3)
    mixed = copy_layers(dst, src, range(1, 3))
    assert mixed[:, :, 0].tolist() == [[0, 1, 1, 0, 0, 0]] * 2


@pytest.mark.parametrize("psi", [1.0, 0.7])
def test_extreme_crossovers_reproduce_the_pure_sources(G, psi):
    rows, cols = [0, 1, 2], [3, 4]
    sources = RenderOptions(truncation_psi=psi, truncation_cutoff=4)
    row_images = sample_images(G, rows, options=sources)
    col_images = sample_images(G, cols, options=sources)
    nothing = style_mixing(G, rows, cols, range(0), sources)
    everything = style_mixing(G, rows, cols, range(G.num_ws), sources)
    exact = dict(rtol=0, atol=1e-5)
    torch.testing.assert_close(nothing.row_images, row_images, **exact)
    torch.testing.assert_close(nothing.col_images, col_images, **exact)
    for k in range(len(cols)):
        torch.testing.assert_close(nothing.mixed[:, k], row_images, **exact)
    for r in range(len(rows)):
        torch.testing.assert_close(everything.mixed[r], col_images, **exact)


def test_mixed_cells_differ_from_both_sources_and_grid_layout(G):
    figure = style_mixing(G, [0, 1], [2, 3, 4], style_range(16, "coarse"))
    assert figure.mixed.shape == (2, 3, 3, 16, 16)
    cell = figure.mixed[0, 0]
    assert (cell - figure.row_images[0]).abs().max() > 1e-3
    assert (cell - figure.col_images[0]).abs().max() > 1e-3
    grid = figure.grid()
    assert grid.shape == (3, 4, 3, 16, 16)
    torch.testing.assert_close(grid[0, 1:], figure.col_images)
    torch.testing.assert_close(grid[1:, 0], figure.row_images)


def test_one_range_per_row_and_bad_layers(G):
    per_row = [range(0), range(G.num_ws)]
    figure = style_mixing(G, [0, 1], [2, 3], per_row)
    torch.testing.assert_close(figure.mixed[0], figure.row_images[:1].expand(2, -1, -1, -1))
    torch.testing.assert_close(figure.mixed[1], figure.col_images, rtol=0, atol=1e-5)
    with pytest.raises(ValueError, match="3 layer ranges given for 2 rows"):
        style_mixing(G, [0, 1], [2], [range(1), range(2), range(3)])
    with pytest.raises(ValueError, match=r"outside 0\.\.5"):
        style_mixing(G, [0], [2], range(4, 8))
