"""``stylegan-lit eval``: checkpoint loading, real-image sources, JSON result, errors."""

import json

import numpy as np
import pytest
import torch
from PIL import Image

from stylegan_lit.checkpoints import CheckpointError, load_generator
from stylegan_lit.cli.evaluate import main
from stylegan_lit.generate.images import to_uint8
from stylegan_lit.metrics.real_images import DataModuleImages, FolderImages, TensorImages
from stylegan_lit.training import ProgressiveSchedule
from tests.metrics.helpers import smooth_images, tiny_module


@pytest.fixture
def checkpoint(tmp_path):
    """A checkpoint as StyleGANModule writes it (state dict + its stylegan_lit metadata)."""
    module = tiny_module()
    # 1 kimg at 8 px, then a fade to 16 px over 0.468 kimg: at 1234 images alpha is 0.5.
    module.schedule = ProgressiveSchedule(
        8, 16, stable_kimg=1.0, fade_kimg=0.468, total_kimg=10, batch_sizes={8: 2, 16: 2}
    )
    module.images_seen = 1234
    assert (module.resolution, module.alpha) == (16, 0.5)
    ckpt = {"state_dict": module.state_dict()}
    module.on_save_checkpoint(ckpt)
    path = tmp_path / "tiny.ckpt"
    torch.save(ckpt, path)
    return path, module


@pytest.fixture
def reals_pt(tmp_path):
    path = tmp_path / "reals.pt"
    torch.save(smooth_images(8, 32, seed=4), path)  # 32 px: box-downscaled to 16 px
    return path


def test_load_generator_rebuilds_g_ema_and_progress(checkpoint):
    path, module = checkpoint
    loaded = load_generator(path)
    assert (loaded.resolution, loaded.alpha, loaded.kimg) == (16, 0.5, 1.234)
    z = torch.randn(2, 16)
    expected = module.sample(z)
    got = loaded.generator(z, resolution=16, alpha=0.5, noise_mode="const")
    torch.testing.assert_close(got, expected)


def test_not_a_checkpoint_is_refused_clearly(tmp_path, capsys):
    other = tmp_path / "other.ckpt"
    torch.save({"state_dict": {}}, other)
    with pytest.raises(CheckpointError, match="not a stylegan_lit checkpoint"):
        load_generator(other)
    assert main([str(other), "--data", str(tmp_path), "--metrics", "swd"]) == 1
    assert "not a stylegan_lit checkpoint" in capsys.readouterr().err


def test_eval_swd_writes_json(checkpoint, reals_pt, tmp_path, capsys):
    path, _ = checkpoint
    out = tmp_path / "result.json"
    args = [str(path), "--data", str(reals_pt), "--metrics", "swd", "--swd-num-images", "8"]
    assert main([*args, "--batch-size", "4", "--out", str(out), "--quiet"]) == 0
    result = json.loads(out.read_text())
    assert set(result["metrics"]) == {"swd", "swd_16"}
    assert result["resolution"] == 16 and result["kimg"] == 1.234
    assert result["protocol"]["truncation_psi"] == 1.0
    assert result["protocol"]["reference_protocol"] is False  # no FID measured
    assert result["real"]["swd_num_real"] == 8
    assert "SWDx1e3" in capsys.readouterr().out
    # Deterministic: the same command gives the same number.
    assert main([*args, "--batch-size", "2", "--out", str(out), "--quiet"]) == 0
    assert json.loads(out.read_text())["metrics"] == result["metrics"]


def test_eval_fid_kid_offline(checkpoint, reals_pt, tmp_path, inception_weights):
    out = tmp_path / "fid.json"
    code = main(
        [
            str(checkpoint[0]),
            "--data", str(reals_pt),
            "--metrics", "fid,kid",
            "--num-images", "8",
            "--kid-subset-size", "4",
            "--inception-features", "64",  # the 2048 tap's FID costs ~20 s of eigvals on CPU
            "--batch-size", "4",
            "--feature-extractor-weights-path", str(inception_weights),
            "--no-download",
            "--cache-dir", str(tmp_path / "stats"),
            "--out", str(out),
            "--quiet",
        ]
    )  # fmt: skip
    assert code == 0
    result = json.loads(out.read_text())
    assert set(result["metrics"]) == {"fid", "kid", "kid_std"}
    assert result["metrics"]["fid"] > 0
    assert result["protocol"]["reference_protocol"] is False  # 8 images, not 50k
    assert result["protocol"]["inception_weights"] == str(inception_weights)
    assert result["real"]["num_real"] == 8 and not result["real"]["real_statistics_cached"]


def test_eval_reads_a_png_folder_through_the_data_module(checkpoint, tmp_path, capsys):
    pytest.importorskip("stylegan_lit.data.datamodule")
    folder = tmp_path / "pngs"
    folder.mkdir()
    pixels = ((smooth_images(6, 32, seed=2) + 1) * 127.5).round().byte().permute(0, 2, 3, 1)
    for i, image in enumerate(pixels.numpy()):
        Image.fromarray(image).save(folder / f"{i:03d}.png")
    out = tmp_path / "swd.json"
    args = ["--metrics", "swd", "--swd-num-images", "6", "--batch-size", "3", "--quiet"]
    code = main([str(checkpoint[0]), "--data", str(folder), *args, "--out", str(out)])
    assert code == 0, capsys.readouterr().err
    assert json.loads(out.read_text())["metrics"]["swd"] > 0


def test_eval_missing_weights_fails_before_loading_the_checkpoint(tmp_path, capsys):
    code = main(
        [
            str(tmp_path / "never-read.ckpt"),
            "--data", str(tmp_path),
            "--feature-extractor-weights-path", str(tmp_path / "w.pth"),
        ]
    )  # fmt: skip
    assert code == 1
    err = capsys.readouterr().err
    assert "w.pth does not exist" in err and "--feature-extractor-weights-path" in err


def test_real_image_sources(tmp_path):
    images = smooth_images(4, 32)
    source = TensorImages(images)
    assert source.read(0, 4, 16).shape == (4, 3, 16, 16)
    assert source.fingerprint(16, 4) != TensorImages(images.flip(-1)).fingerprint(16, 4)
    with pytest.raises(ValueError, match="integer downscaling"):
        source.read(0, 1, 24)
    folder = tmp_path / "imgs"
    folder.mkdir()
    Image.fromarray(np.zeros((16, 12, 3), np.uint8)).save(folder / "wide.png")
    with pytest.raises(ValueError, match=r"wide\.png is not square"):
        FolderImages(folder).read(0, 1, 16)


def test_folder_images_are_read_as_the_data_package_reads_them(tmp_path):
    """One folder reader: the files the data package lists, decoded its way (alpha over
    white), so measured reals are the pixels training sees."""
    from stylegan_lit.data import decode_image

    folder = tmp_path / "imgs"
    (folder / "sub").mkdir(parents=True)
    rgba = np.zeros((16, 16, 4), np.uint8)
    rgba[:8, :, :] = (10, 200, 30, 255)  # opaque top half, transparent bottom half
    Image.fromarray(rgba, "RGBA").save(folder / "sub" / "cutout.png")
    Image.fromarray(np.zeros((16, 16, 3), np.uint8)).save(folder / ".hidden.png")
    (folder / "notes.txt").write_text("not an image")
    source = FolderImages(folder)
    assert source.available(16, 10) == 1
    pixels = source.read(0, 1, 16)[0]
    expected = decode_image((folder / "sub" / "cutout.png").read_bytes(), "cutout.png")
    assert torch.equal(pixels, torch.tensor(expected).permute(2, 0, 1))
    assert pixels[:, 12, 0].tolist() == [255, 255, 255]  # transparent -> white
    assert source.read(0, 1, 8).shape == (1, 3, 8, 8)  # integer box downscaling


class StreamingData:
    """A data module's streaming interface over fixed images (counts what it decodes)."""

    def __init__(self, images):
        self.images = images
        self.hparams = {"source": "fake"}
        self.decoded = 0

    def iter_real_images(self, resolution, count, seed, batch_size=256):
        for start in range(0, count, batch_size):
            batch = self.images[start : min(start + batch_size, count)]
            self.decoded += len(batch)
            yield to_uint8(batch)


def test_data_module_images_stream_in_order_and_restart_when_needed():
    images = smooth_images(10, 16)
    data = StreamingData(images)
    source = DataModuleImages(data, batch_size=4)
    assert source.available(16, 10) == 10
    chunks = [source.read(a, b, 16) for a, b in [(0, 3), (3, 6), (6, 10)]]
    assert torch.equal(torch.cat(chunks), to_uint8(images))
    assert data.decoded == 10  # one pass for sequential reads
    assert torch.equal(source.read(2, 4, 16), to_uint8(images[2:4]))  # backwards: restart
    assert torch.equal(source.read(8, 10, 16), to_uint8(images[8:10]))  # skip ahead
    assert source.fingerprint(16, 10) == DataModuleImages(data).fingerprint(16, 10)
    other = StreamingData(images.flip(-1))
    assert DataModuleImages(other).fingerprint(16, 10) != source.fingerprint(16, 10)


def test_defaults_are_the_reference_protocol():
    from stylegan_lit.cli.evaluate import _parser

    args = _parser().parse_args(["g.ckpt", "--data", "ffhq"])
    assert args.num_images == 50_000 and args.num_real is None  # FID50k, 50k reals
    assert args.truncation_psi == 1.0 and args.noise_mode == "random"
    assert args.inception_features == 2048 and args.metrics == "fid,kid,swd"
    assert (args.kid_subsets, args.kid_subset_size) == (100, 1000)
    assert args.swd_num_images == 16_384
