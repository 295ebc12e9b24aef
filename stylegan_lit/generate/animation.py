"""Animations of frame sequences: GIF with Pillow (always there), MP4 with ffmpeg (if found).

An MP4 needs an ffmpeg executable: one on ``PATH``, or the one shipped inside the
``imageio-ffmpeg`` wheel when that package is installed. Without either, :func:`save_mp4`
returns ``None`` so callers can skip the video and say so, rather than fail after the
expensive rendering.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from torch import Tensor

from stylegan_lit.generate.images import PathLike, to_hwc, to_pil


def save_gif(frames: Tensor, path: PathLike, fps: float = 12.0, zoom: int = 1) -> Path:
    """Save frames [N, C, H, W] in [-1, 1] as a looping GIF."""
    if frames.shape[0] < 1:
        raise ValueError("no frames to save")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    images = [to_pil(pixels, zoom) for pixels in to_hwc(frames)]
    images[0].save(
        path,
        save_all=True,
        append_images=images[1:],
        duration=round(1000 / fps),
        loop=0,
        optimize=False,
    )
    return path


def find_ffmpeg() -> str | None:
    """Path of an ffmpeg executable: ``PATH`` first, then ``imageio-ffmpeg``'s; or None."""
    found = shutil.which("ffmpeg")
    if found:
        return found
    try:
        import imageio_ffmpeg  # optional dependency
    except ImportError:
        return None
    try:
        return imageio_ffmpeg.get_ffmpeg_exe()
    except RuntimeError:  # the package is there but its binary is not
        return None


def save_mp4(
    frames: Tensor,
    path: PathLike,
    fps: float = 24.0,
    zoom: int = 1,
    ffmpeg: str | None = None,
) -> Path | None:
    """Save frames [N, C, H, W] in [-1, 1] as an H.264 MP4 (yuv420p, plays everywhere).

    Returns:
        The path, or ``None`` when no ffmpeg is available (nothing is written).

    Raises:
        RuntimeError: ffmpeg exists but failed (its last error line is in the message).
    """
    ffmpeg = ffmpeg or find_ffmpeg()
    if ffmpeg is None:
        return None
    pixels = to_hwc(frames)
    if pixels.shape[3] == 1:
        pixels = pixels.repeat(3, axis=3)
    if zoom > 1:
        pixels = pixels.repeat(zoom, axis=1).repeat(zoom, axis=2)
    _, height, width, _ = pixels.shape
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    command = [
        ffmpeg,
        "-y",
        "-loglevel",
        "error",
        "-f",
        "rawvideo",
        "-pix_fmt",
        "rgb24",
        "-s",
        f"{width}x{height}",
        "-r",
        f"{fps:g}",
        "-i",
        "-",
        "-vf",
        "pad=ceil(iw/2)*2:ceil(ih/2)*2",  # yuv420p needs even sides
        "-c:v",
        "libx264",
        "-pix_fmt",
        "yuv420p",
        "-crf",
        "18",
        str(path),
    ]
    result = subprocess.run(command, input=pixels.tobytes(), capture_output=True, check=False)
    if result.returncode != 0:
        lines = result.stderr.decode(errors="replace").strip().splitlines() or ["no output"]
        raise RuntimeError(f"ffmpeg could not write {path}: {lines[-1]}")
    return path
