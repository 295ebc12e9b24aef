"""``stylegan-lit project``: its files, and one-line errors for bad input."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from stylegan_lit.checkpoints import load_generator
from stylegan_lit.cli.project import main
from stylegan_lit.generate import find_ffmpeg, sample_images, save_image

QUICK = ["--steps", "4", "--w-avg-samples", "64", "--no-progress"]


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out.splitlines(), err.strip().splitlines()


@pytest.fixture
def photo(trained_checkpoint, tmp_path):
    """A sample of the model, written at twice its size and off-square, like a photo."""
    image = sample_images(load_generator(trained_checkpoint).generator, [3])[0]
    path = save_image(image, tmp_path / "photo.png", zoom=2)
    with Image.open(path) as pil:
        wide = Image.new("RGB", (40, 32), (200, 10, 10))
        wide.paste(pil, (4, 0))
    wide.save(path)
    return path


@pytest.mark.parametrize("w_plus", [False, True])
def test_writes_the_projection_files(trained_checkpoint, photo, tmp_path, capsys, w_plus):
    outdir = tmp_path / "out"
    extra = ["--w-plus"] if w_plus else []
    code, out, err = run(
        capsys, trained_checkpoint, photo, "--outdir", outdir, "--video", *QUICK, *extra
    )
    assert code == 0, err
    names = ["projected_w.npz", "projected.png", "target.png", "comparison.png", "projection.gif"]
    if find_ffmpeg() is not None:
        names.append("projection.mp4")
    assert out == [str(outdir / name) for name in names]
    assert any("pixel loss" in line for line in err)  # no VGG weights on the test machine
    G = load_generator(trained_checkpoint).generator
    with np.load(outdir / "projected_w.npz") as data:
        assert data["w"].shape == (1, G.num_ws, G.w_dim) and bool(data["w_plus"]) == w_plus
        assert len(data["losses"]) == 4 and int(data["resolution"]) == 16
    with Image.open(outdir / "comparison.png") as image:
        assert image.size == (2 * 16 + 3, 16 + 2)
    with Image.open(outdir / "target.png") as image:
        assert image.size == (16, 16)


def test_progress_bar(trained_checkpoint, photo, tmp_path, capsys):
    code, _, err = run(
        capsys, trained_checkpoint, photo, "--outdir", tmp_path, "--steps", "3",
        "--w-avg-samples", "64",
    )  # fmt: skip
    assert code == 0 and any("projecting" in line for line in err)


def one_line_error(capsys, *argv, status=1):
    code, out, err = run(capsys, *argv)
    assert code == status and len(err) == 1 and not out, err
    return err[0]


def test_bad_input_is_one_line(trained_checkpoint, photo, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    out = ["--outdir", tmp_path / "o", *QUICK]
    notes = tmp_path / "notes.png"
    notes.write_text("not an image")
    assert "not a readable image" in one_line_error(capsys, trained_checkpoint, notes, *out)
    tiny = tmp_path / "tiny.png"
    Image.new("RGB", (12, 20)).save(tiny)
    message = one_line_error(capsys, trained_checkpoint, tiny, *out)
    assert "12x20 px; the minimum for this model is 16x16" in message
    missing = one_line_error(capsys, trained_checkpoint, photo, "--loss", "vgg", *out)
    assert "vgg16-397923af.pth does not exist" in missing and "--loss pixel" in missing
    assert "does not exist" in one_line_error(capsys, tmp_path / "no.ckpt", photo, *out)
    checkpoint = torch.load(trained_checkpoint, map_location="cpu", weights_only=True)
    checkpoint["state_dict"] = {
        k: v for k, v in checkpoint["state_dict"].items() if not k.startswith("generator_ema.")
    }
    no_ema = tmp_path / "no-ema.ckpt"
    torch.save(checkpoint, no_ema)
    assert "holds no generator_ema weights" in one_line_error(capsys, no_ema, photo, *out)
    usage = one_line_error(capsys, trained_checkpoint, photo, "--steps", "0", status=2)
    assert "--steps" in usage
    assert not (tmp_path / "o").exists()


def test_grayscale_photo_into_an_rgb_model(trained_checkpoint, tmp_path, capsys):
    gray = tmp_path / "gray.png"
    Image.fromarray(np.arange(256, dtype=np.uint8).reshape(16, 16), "L").save(gray)
    code, _, err = run(capsys, trained_checkpoint, gray, "--outdir", tmp_path / "g", *QUICK)
    assert code == 0, err
    with Image.open(tmp_path / "g" / "target.png") as image:
        assert image.mode == "RGB"


def test_a_nan_keeps_the_best_w(trained_checkpoint, photo, tmp_path, capsys, monkeypatch):
    from stylegan_lit.generate import perceptual

    calls = []
    original = perceptual.PixelDistance.forward

    def breaks(self, images):
        calls.append(1)
        return original(self, images) * (float("nan") if len(calls) > 2 else 1.0)

    monkeypatch.setattr(perceptual.PixelDistance, "forward", breaks)
    code, out, err = run(capsys, trained_checkpoint, photo, "--outdir", tmp_path, *QUICK)
    assert code == 1 and not out and err[-1].startswith("stylegan-lit project: error:")
    assert "became nan at step 3" in err[-1] and "projected_w.npz" in err[-1]
    with np.load(tmp_path / "projected_w.npz") as data:
        assert np.isfinite(data["w"]).all()
