"""SampleGrids' style-mixing grid: the paper's layout, with the ranges of the resolution in use."""

import numpy as np
import pytest
import torch
from PIL import Image

from stylegan_lit.callbacks import SampleGrids, style_mixing_grid
from stylegan_lit.callbacks.samples import sample_grid_pixels
from stylegan_lit.generate import RenderOptions, copy_layers, map_seeds, synthesize
from stylegan_lit.generate.seeds import SeedError
from tests.training.helpers import place_at, tiny_module, tiny_trainer

ROWS, COLS = (0, 1, 2, 3, 4, 5), (6, 7, 8)


def module_at(resolution: int, alpha: float = 1.0):
    return place_at(tiny_module(), resolution, alpha)  # a 16 px network: 6 style layers


def test_at_8_px_only_the_layers_in_use_are_mixed():
    module = module_at(8)
    figure, layout = style_mixing_grid(module, ROWS, COLS)
    # 8 px has two levels: coarse (4 px) and fine (8 px), three rows each; layers 4-5
    # (16 px, not trained yet) are never copied.
    assert [r.name for r in layout] == ["coarse"] * 3 + ["fine"] * 3
    assert figure.layers == [[0, 1]] * 3 + [[2, 3]] * 3
    assert figure.grid().shape == (len(ROWS) + 1, len(COLS) + 1, 3, 8, 8)

    # Each cell is its row's ws with the row's range taken from its column's ws.
    G = module.generator_ema
    row_ws, col_ws = map_seeds(G, ROWS), map_seeds(G, COLS)
    for r, k in [(0, 2), (4, 1)]:
        ws = copy_layers(row_ws[r : r + 1], col_ws[k : k + 1], figure.layers[r])
        expected = synthesize(G, ws, RenderOptions(resolution=8))[0]
        torch.testing.assert_close(figure.mixed[r, k], expected)
    # Mixing changes the image, and not into either source.
    assert not torch.allclose(figure.mixed[0, 0], figure.row_images[0])
    assert not torch.allclose(figure.mixed[0, 0], figure.col_images[0])


def test_mid_fade_16_px_has_coarse_middle_and_fine():
    figure, layout = style_mixing_grid(module_at(16, alpha=0.5), ROWS, COLS)
    assert [r.name for r in layout] == ["coarse"] * 2 + ["middle"] * 2 + ["fine"] * 2
    assert figure.layers == [[0, 1]] * 2 + [[2, 3]] * 2 + [[4, 5]] * 2
    assert figure.mixed.shape[-1] == 16


def test_render_saves_the_mixing_grid_beside_the_sample_grids(tmp_path):
    module = module_at(8)
    callback = SampleGrids(
        num_samples=4, directory=str(tmp_path), mixing_row_seeds=ROWS, mixing_col_seeds=COLS
    )
    callback.render(tiny_trainer(tmp_path, []), module)
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "kimg000000.0-mixing.png",
        "kimg000000.0-psi0.7.png",
        "kimg000000.0-psi1.png",
    ]
    pixels = np.asarray(Image.open(tmp_path / "kimg000000.0-mixing.png"))
    # (rows + 1) x (cols + 1) cells of 8 px with 1 px borders; the corner cell is blank.
    assert pixels.shape == (7 * 9 + 1, 4 * 9 + 1, 3)
    assert (pixels[1:9, 1:9] == 255).all()
    assert not (pixels[1:9, 10:18] == 255).all()


def test_mixing_grid_can_be_switched_off_and_seeds_are_checked(tmp_path):
    callback = SampleGrids(num_samples=4, directory=str(tmp_path), mixing_grid=False)
    callback.render(tiny_trainer(tmp_path, []), module_at(8))
    assert not list(tmp_path.glob("*mixing*"))
    with pytest.raises(SeedError):
        SampleGrids(mixing_row_seeds=[])
    with pytest.raises(SeedError):
        SampleGrids(mixing_col_seeds=[-1])


def test_psi_grids_are_the_modules_samples_in_the_shared_pixel_layout(tmp_path):
    """The grids render through the generate API with the module's progress: the same
    images as ``StyleGANModule.sample``, quantised by the one conversion, black borders."""
    module = module_at(16, alpha=0.5)
    callback = SampleGrids(num_samples=4, directory=str(tmp_path), mixing_grid=False, seed=5)
    callback.render(tiny_trainer(tmp_path, []), module)
    saved = np.asarray(Image.open(tmp_path / f"kimg{module.kimg:08.1f}-psi1.png"))
    assert saved.shape == (2 * 17 + 1, 2 * 17 + 1, 3)  # 2 x 2 images of 16 px, 1 px borders
    assert (saved[0] == 0).all() and (saved[:, 0] == 0).all()
    z = torch.randn(4, module.generator.z_dim, generator=torch.Generator().manual_seed(5))
    expected = sample_grid_pixels(module.sample(z).cpu())
    assert np.abs(saved.astype(int) - expected.astype(int)).max() <= 1  # float rounding
