"""Command line of ``benchmarks/editing.py`` (the benchmark itself needs a trained model)."""

import subprocess
import sys
from pathlib import Path

import pytest
import torch

from benchmarks import editing
from benchmarks.editing import unedited_view
from stylegan_lit.generate import RenderOptions, map_latents
from stylegan_lit.generate.sampling import synthesize
from stylegan_lit.models import Generator

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "editing.py"


@pytest.mark.parametrize("option", ["--attributes", "--condition-on"])
def test_an_unknown_attribute_is_refused_by_name(option, tmp_path):
    """Refused before any model or classifier is loaded, in one line naming the attribute."""
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--checkpoint", str(tmp_path / "none.ckpt"),
         option, "moustache"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 2
    assert "invalid choice: 'moustache'" in done.stderr and "beard" in done.stderr


class MeanBrightness:
    """A scorer: P(attribute) rises with the image's mean pixel."""

    def predict_proba(self, images):
        return torch.sigmoid(4 * images.mean(dim=(1, 2, 3)))


def test_side_effects_measure_what_an_edit_moves():
    torch.manual_seed(0)
    G = Generator(z_dim=16, w_dim=16, resolution=16, mapping_layers=2, fmap_base=64, fmap_max=16)
    options = RenderOptions(truncation_psi=1.0, noise_mode="const", batch_size=8)
    ws = map_latents(G, torch.randn(8, 16), options)
    scorers = {"bright": MeanBrightness()}
    before = unedited_view(G, ws, scorers, options)
    assert before.low.shape == (8, 3, 8, 8)
    # Not edited: nothing moves.
    assert editing.side_effects(G, before, ws, scorers, options) == ({"bright": 0.0}, 0.0)
    moved = ws + 2 * torch.randn(1, 1, 16)
    effects, low_change = editing.side_effects(G, before, moved, scorers, options)
    full = (synthesize(G, moved, options) - synthesize(G, ws, options)).square().mean().sqrt()
    # Averaging over 2x2 blocks cannot add energy: the low-pass change is at most the full one.
    assert 0 < low_change <= float(full) + 1e-4
    assert effects["bright"] > 0
