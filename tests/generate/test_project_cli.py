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
        capsys,
        trained_checkpoint,
        photo,
        "--outdir",
        tmp_path,
        "--steps",
        "3",
        "--w-avg-samples",
        "64",
    )
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


@pytest.fixture
def projected(trained_checkpoint, photo, tmp_path_factory):
    """Two projections (W and W+) of the photo, a few steps each."""
    paths = []
    for extra in ([], ["--w-plus"]):
        outdir = tmp_path_factory.mktemp("projected")
        assert (
            main([str(trained_checkpoint), str(photo), "--outdir", str(outdir), *QUICK, *extra])
            == 0
        )
        paths.append(outdir / "projected_w.npz")
    return paths


def generate(capsys, *argv):
    from stylegan_lit.cli.generate import main as generate_main

    code = generate_main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out.splitlines(), err.strip().splitlines()


@pytest.mark.parametrize(
    ("args", "files"),
    [
        (["--figure", "images"], ["projection0.png", "projection1.png"]),
        (
            ["--figure", "mixing", "--col-seeds", "3-4"],
            ["style-mixing.png", *(f"style-mixing-{r}.png" for r in ("coarse", "middle", "fine"))],
        ),
        (["--figure", "truncation", "--psis", "1,0"], ["truncation.png"]),
        (["--figure", "interpolation", "--steps", "3", "--space", "w"], ["interpolation-w.png"]),
        (
            ["--figure", "edit", "--attribute", "hat", "--num-samples", "64"],
            ["edit-hat.png", "direction-hat.pt"],
        ),
    ],
)
def test_generate_uses_projections(trained_checkpoint, projected, tmp_path, capsys, args, files):
    extra = ["--classifier-steps", "5"] if "edit" in args else []
    w_args = [word for path in projected for word in ("--w", path)]
    code, out, err = generate(
        capsys, trained_checkpoint, *w_args, *args, *extra, "--outdir", tmp_path
    )
    assert code == 0, err
    assert [p for p in out if p.endswith((".png", ".pt"))] == [str(tmp_path / f) for f in files]
    with Image.open(tmp_path / files[0]) as image:
        rows = {"mixing": 3, "truncation": 2, "interpolation": 1, "edit": 2}  # grids
        assert image.height == (rows[args[1]] * 17 + 1 if args[1] in rows else 16)


def test_generate_renders_a_projection_as_found(trained_checkpoint, projected, tmp_path, capsys):
    """psi 1 by default with --w: the stored w renders untruncated."""
    code, _, _ = generate(
        capsys,
        trained_checkpoint,
        "--w",
        projected[0],
        "--outdir",
        tmp_path,
        "--noise-mode",
        "none",
    )
    assert code == 0
    G = load_generator(trained_checkpoint).generator
    with np.load(projected[0]) as data:
        ws = torch.from_numpy(data["w"])
    from stylegan_lit.generate import RenderOptions, synthesize, to_hwc

    expected = to_hwc(synthesize(G, ws, RenderOptions(noise_mode="none")))[0]
    assert np.array_equal(np.asarray(Image.open(tmp_path / "projection0.png")), expected)


def test_generate_w_errors(trained_checkpoint, projected, tmp_path, capsys):
    w = ["--w", projected[0]]
    code, _, err = generate(capsys, trained_checkpoint, *w, "--figure", "variation")
    assert code == 2 and "--w is not used by --figure variation" in err[0]
    code, _, err = generate(
        capsys, trained_checkpoint, *w, *w, "--figure", "interpolation", "--space", "z"
    )
    assert code == 2 and "use --space w" in err[0]
    code, _, err = generate(capsys, trained_checkpoint, *w, "--figure", "interpolation")
    assert code == 2 and "two --w files" in err[0]
    bad = tmp_path / "bad.npz"
    np.savez(bad, w=np.zeros((1, 3, 7), np.float32))
    code, _, err = generate(capsys, trained_checkpoint, "--w", bad, "--outdir", tmp_path)
    assert code == 1 and len(err) == 1 and "w has shape (3, 7)" in err[0]
    code, _, err = generate(capsys, trained_checkpoint, "--w", tmp_path / "none.npz")
    assert code == 1 and "does not exist" in err[0]
