import math

import pytest
import torch
from PIL import Image

import stylegan_lit.generate.animation as animation
from stylegan_lit.generate import (
    RenderOptions,
    find_ffmpeg,
    frames_of,
    interpolate,
    lerp,
    sample_images,
    save_gif,
    save_mp4,
    slerp,
)


def test_slerp_follows_the_great_circle():
    a, b = torch.tensor([1.0, 0.0]), torch.tensor([0.0, 2.0])
    path = slerp(a, b, torch.linspace(0, 1, 5))
    torch.testing.assert_close(path[0], a)
    torch.testing.assert_close(path[-1], b)
    angles = torch.atan2(path[:, 1], path[:, 0])
    torch.testing.assert_close(angles, torch.linspace(0, math.pi / 2, 5))  # constant speed
    torch.testing.assert_close(path.norm(dim=1), torch.linspace(1, 2, 5))
    same = slerp(a, a, torch.tensor([0.5]))  # parallel: no division by zero
    torch.testing.assert_close(same[0], a)


def test_lerp_is_linear():
    a, b = torch.zeros(3), torch.ones(3)
    torch.testing.assert_close(lerp(a, b, torch.tensor([0.25]))[0], torch.full((3,), 0.25))


@pytest.mark.parametrize("space", ["z", "w"])
def test_walks_start_and_end_on_the_seeds(G, space):
    truncated = RenderOptions(truncation_psi=0.7)
    segments = interpolate(G, [0, 1, 2], steps=5, options=truncated, space=space)
    assert segments.shape == (2, 5, 3, 16, 16)
    keys = sample_images(G, [0, 1, 2], options=truncated)
    exact = dict(rtol=0, atol=1e-4)
    torch.testing.assert_close(segments[0, 0], keys[0], **exact)
    torch.testing.assert_close(segments[0, -1], keys[1], **exact)
    torch.testing.assert_close(segments[1, 0], keys[1], **exact)
    torch.testing.assert_close(segments[1, -1], keys[2], **exact)


def test_z_and_w_paths_differ_in_between(G):
    z = interpolate(G, [0, 1], steps=3, space="z")
    w = interpolate(G, [0, 1], steps=3, space="w")
    assert (z[0, 1] - w[0, 1]).abs().max() > 1e-4


def test_frames_drop_repeats_and_loop_closes(G):
    segments = interpolate(G, [0, 1, 2], steps=4, loop=True)
    assert segments.shape[0] == 3
    torch.testing.assert_close(segments[-1, -1], segments[0, 0], rtol=0, atol=1e-5)
    assert frames_of(segments, loop=True).shape[0] == 9
    assert frames_of(segments[:2]).shape[0] == 7
    with pytest.raises(ValueError, match="two seeds"):
        interpolate(G, [0], steps=4)


def test_gif_has_every_frame(tmp_path):
    frames = torch.linspace(-1, 1, 6)[:, None, None, None].expand(6, 3, 8, 8)
    path = save_gif(frames, tmp_path / "walk.gif", fps=10, zoom=2)
    with Image.open(path) as gif:
        assert gif.n_frames == 6 and gif.size == (16, 16)
        assert gif.info["loop"] == 0 and gif.info["duration"] == 100


def test_mp4_is_skipped_cleanly_without_ffmpeg(tmp_path, monkeypatch):
    monkeypatch.setattr(animation.shutil, "which", lambda name: None)
    monkeypatch.setitem(__import__("sys").modules, "imageio_ffmpeg", None)  # import fails
    assert find_ffmpeg() is None
    frames = torch.zeros(4, 3, 8, 8)
    assert save_mp4(frames, tmp_path / "walk.mp4") is None
    assert not (tmp_path / "walk.mp4").exists()


@pytest.mark.skipif(find_ffmpeg() is None, reason="no ffmpeg on this machine")
def test_mp4_is_written_when_ffmpeg_exists(tmp_path):
    frames = torch.rand(5, 3, 8, 8) * 2 - 1
    path = save_mp4(frames, tmp_path / "walk.mp4", fps=5, zoom=2)
    assert path is not None and path.stat().st_size > 0
    assert path.read_bytes()[4:8] == b"ftyp"
