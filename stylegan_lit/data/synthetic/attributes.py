"""Attributes of the synthetic faces: what each face looks like, as numbers, per image.

Every attribute is drawn from its own counter-based stream keyed by (seed, attribute name),
so face ``i`` is a pure function of (seed, i), and the coarse attributes (pose, head and
feature geometry, hair style, accessories) vary independently of the fine ones (colours,
lighting): style mixing and attribute editing have ground truth to be checked against.
Change a field with :meth:`FaceAttributes.replace` and render again to get, for instance,
the same face with sunglasses.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from stylegan_lit.data.hashing import salt
from stylegan_lit.data.hashing import uniform as hashed_uniform

HAIR_STYLES: tuple[str, ...] = ("bald", "short", "long", "bob", "curly")
"""Names of the ``hair_style`` codes."""


@dataclass(frozen=True)
class FaceAttributes:
    """Attributes of a batch of faces, one array entry per face (struct of arrays).

    Coordinates are in the face frame: the head is centred at the origin, its half-width is
    ``face_width`` (about 0.7) and ``v`` points down. Colours are RGB in [0, 1], shaped
    [B, 3]. ``len()`` is the number of faces; ``attrs[i]`` is face ``i`` as a plain dict.

    Coarse (geometry) attributes:
        center_x, center_y: Head position in the image, in [-1, 1] units.
        scale: Head size (image half-widths per face unit).
        roll: In-plane head tilt, radians.
        yaw, pitch: Head turn left/right and up/down, in [-1, 1] (features shift, the far
            eye narrows, one ear hides).
        face_width, face_length: Head half-width and half-height.
        jaw: Narrowing of the chin, 0 (round) to about 0.35 (pointed).
        squareness: 0 (oval) to 1 (square) head outline.
        hair_style: Index into :data:`HAIR_STYLES`.
        hair_length: 0 to 1; length of long hair, volume of curly hair, depth of the fringe.
        hair_part: -1 to 1; where the hairline is highest.
        eye_size, eye_spacing: Eye half-width and distance of each eye from the centre line.
        eye_open: 1 wide open, near 0 closed (a blink).
        gaze: -1 (looking left) to 1 (looking right).
        brow_raise: -1 (low) to 1 (raised, surprised).
        brow_tilt: Negative: worried; positive: frowning (inner ends lowered).
        brow_thickness: Stroke width of the brows.
        nose_size: Scale of the nose.
        smile: -1 (frown) to 1 (broad smile): curvature of the mouth.
        mouth_open: 0 (closed) to 1 (wide open; teeth show when smiling).
        mouth_width: Half-width of the mouth.
        glasses: Clear glasses.
        sunglasses: Dark glasses (never together with ``glasses``).
        hat: A knitted hat.
        beard: A full beard.

    Fine (appearance) attributes:
        skin_color, hair_color, eye_color, lip_color, shirt_color, hat_color, frame_color,
        lens_color, background_top, background_bottom: RGB colours.
        light_angle: Direction of the key light in the image plane, radians.
        light_strength: Contrast of the shading, 0 (flat) to about 0.35.
    """

    center_x: np.ndarray
    center_y: np.ndarray
    scale: np.ndarray
    roll: np.ndarray
    yaw: np.ndarray
    pitch: np.ndarray
    face_width: np.ndarray
    face_length: np.ndarray
    jaw: np.ndarray
    squareness: np.ndarray
    hair_style: np.ndarray
    hair_length: np.ndarray
    hair_part: np.ndarray
    eye_size: np.ndarray
    eye_spacing: np.ndarray
    eye_open: np.ndarray
    gaze: np.ndarray
    brow_raise: np.ndarray
    brow_tilt: np.ndarray
    brow_thickness: np.ndarray
    nose_size: np.ndarray
    smile: np.ndarray
    mouth_open: np.ndarray
    mouth_width: np.ndarray
    glasses: np.ndarray
    sunglasses: np.ndarray
    hat: np.ndarray
    beard: np.ndarray
    skin_color: np.ndarray
    hair_color: np.ndarray
    eye_color: np.ndarray
    lip_color: np.ndarray
    shirt_color: np.ndarray
    hat_color: np.ndarray
    frame_color: np.ndarray
    lens_color: np.ndarray
    background_top: np.ndarray
    background_bottom: np.ndarray
    light_angle: np.ndarray
    light_strength: np.ndarray

    def __len__(self) -> int:
        return len(self.center_x)

    def __getitem__(self, index: int) -> dict[str, Any]:
        """Face ``index`` as ``{name: float | int | bool | (r, g, b)}``."""
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)[index]
            out[f.name] = tuple(float(c) for c in value) if np.ndim(value) else value.item()
        return out

    def replace(self, **changes: ArrayLike) -> FaceAttributes:
        """A copy with some attributes changed; scalars (or one colour) apply to every face."""
        fixed = {}
        for name, value in changes.items():
            current = getattr(self, name)
            fixed[name] = np.broadcast_to(
                np.asarray(value, dtype=current.dtype), current.shape
            ).copy()
        return dataclasses.replace(self, **fixed)

    def take(self, indices: Sequence[int] | np.ndarray) -> FaceAttributes:
        """The faces at ``indices``."""
        return FaceAttributes(
            **{f.name: getattr(self, f.name)[indices] for f in dataclasses.fields(self)}
        )


_NAMES = tuple(f.name for f in dataclasses.fields(FaceAttributes))
COARSE_ATTRIBUTES: tuple[str, ...] = _NAMES[: _NAMES.index("skin_color")]
"""Pose, geometry, hair style and accessories: what StyleGAN's coarse styles control."""
FINE_ATTRIBUTES: tuple[str, ...] = _NAMES[_NAMES.index("skin_color") :]
"""Colours and lighting: what StyleGAN's fine styles control."""

_SKIN_TONES = (
    np.array(
        [
            [255, 226, 204],
            [241, 194, 160],
            [214, 158, 118],
            [168, 112, 76],
            [116, 74, 50],
            [76, 48, 34],
        ],
        np.float32,
    )
    / 255
)
_HAIR_COLORS = (
    np.array(
        [[28, 24, 22], [62, 40, 28], [110, 72, 42], [196, 160, 96], [150, 62, 30], [168, 168, 168]],
        np.float32,
    )
    / 255
)
_HAIR_PROBS = (0.26, 0.24, 0.16, 0.14, 0.07, 0.08)  # the rest (5%): dyed, any hue
_EYE_COLORS = (
    np.array(
        [[88, 54, 30], [128, 96, 48], [76, 118, 70], [70, 118, 170], [120, 130, 136]], np.float32
    )
    / 255
)
_EYE_PROBS = (0.45, 0.15, 0.12, 0.2, 0.08)
_FRAME_COLORS = (
    np.array(
        [[20, 20, 22], [90, 56, 32], [196, 160, 80], [176, 176, 184], [160, 30, 40], [30, 60, 150]],
        np.float32,
    )
    / 255
)
_HAIR_STYLE_PROBS = (0.08, 0.32, 0.3, 0.18, 0.12)
_EYEWEAR_PROBS = (0.7, 0.18, 0.12)  # none, glasses, sunglasses


class _Draw:
    """Per-attribute uniform streams for a set of face indices."""

    def __init__(self, seed: int, indices: np.ndarray) -> None:
        self.seed = seed
        self.indices = indices

    def uniform(self, name: str, low: float = 0.0, high: float = 1.0) -> np.ndarray:
        """Uniform in [low, high), one per face, from the stream ``name``."""
        unit = hashed_uniform(self.indices, self.seed, salt(name)).astype(np.float32)
        return np.float32(low) + np.float32(high - low) * unit

    def choice(self, name: str, probs: Sequence[float]) -> np.ndarray:
        edges = np.cumsum(probs)
        return np.minimum(np.searchsorted(edges, self.uniform(name), side="right"), len(probs))

    def chance(self, name: str, probability: float) -> np.ndarray:
        return self.uniform(name) < probability

    def hsv(
        self, name: str, saturation: tuple[float, float], value: tuple[float, float]
    ) -> np.ndarray:
        """RGB colours of any hue, with saturation and value drawn within the given ranges."""
        hue = self.uniform(f"{name}/h")
        return hsv_to_rgb(
            hue, self.uniform(f"{name}/s", *saturation), self.uniform(f"{name}/v", *value)
        )

    def palette(
        self, name: str, colors: np.ndarray, probs: Sequence[float], jitter: float
    ) -> np.ndarray:
        choice = np.minimum(self.choice(f"{name}/pick", probs), len(colors) - 1)
        brightness = self.uniform(f"{name}/bright", 1 - jitter, 1 + jitter)
        return np.clip(colors[choice] * brightness[:, None], 0, 1)


def hsv_to_rgb(h: np.ndarray, s: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Vectorised HSV -> RGB, all in [0, 1]; returns [B, 3] float32."""
    k = (np.array([5.0, 3.0, 1.0], np.float32) + h[:, None] * 6) % 6
    return (v[:, None] - v[:, None] * s[:, None] * np.clip(np.minimum(k, 4 - k), 0, 1)).astype(
        np.float32
    )


def sample_attributes(seed: int, indices: ArrayLike) -> FaceAttributes:
    """The attributes of faces ``indices`` under ``seed`` (each a pure function of both)."""
    idx = np.asarray(indices, dtype=np.int64).reshape(-1)
    if (idx < 0).any():
        raise ValueError("face indices must be >= 0")
    draw = _Draw(seed, idx)
    eyewear = draw.choice("eyewear", _EYEWEAR_PROBS)
    blink = draw.chance("blink", 0.06)
    mouth_closed = draw.chance("mouth_closed", 0.45)

    tone = draw.uniform("skin/tone") * (len(_SKIN_TONES) - 1)
    low = np.minimum(tone.astype(np.int64), len(_SKIN_TONES) - 2)
    frac = (tone - low)[:, None]
    skin = _SKIN_TONES[low] * (1 - frac) + _SKIN_TONES[low + 1] * frac
    skin = np.clip(
        skin + np.stack([draw.uniform(f"skin/tint{c}", -0.03, 0.03) for c in range(3)], 1), 0, 1
    )

    hair = draw.palette("hair", _HAIR_COLORS, _HAIR_PROBS, 0.15)
    dyed = draw.choice("hair/pick", _HAIR_PROBS) >= len(_HAIR_COLORS)
    hair[dyed] = draw.hsv("hair/dye", (0.5, 0.9), (0.4, 0.9))[dyed]
    lip_mix = draw.uniform("lips/mix", 0.3, 0.65)[:, None]
    lips = (
        skin * (1 - lip_mix) + np.array([0.72, 0.28, 0.32], np.float32) * lip_mix
    ) * draw.uniform("lips/v", 0.8, 1.0)[:, None]
    top = draw.hsv("background", (0.05, 0.55), (0.35, 0.95))
    bottom = top * draw.uniform("background/fade", 0.55, 1.0)[:, None]

    return FaceAttributes(
        center_x=draw.uniform("center_x", -0.06, 0.06),
        center_y=draw.uniform("center_y", -0.1, 0.02),
        scale=draw.uniform("scale", 0.5, 0.6),
        roll=draw.uniform("roll", -0.25, 0.25),
        yaw=draw.uniform("yaw", -0.6, 0.6),
        pitch=draw.uniform("pitch", -0.5, 0.5),
        face_width=draw.uniform("face_width", 0.62, 0.78),
        face_length=draw.uniform("face_length", 0.88, 1.04),
        jaw=draw.uniform("jaw", 0.0, 0.35),
        squareness=draw.uniform("squareness"),
        hair_style=draw.choice("hair_style", _HAIR_STYLE_PROBS).astype(np.int64),
        hair_length=draw.uniform("hair_length"),
        hair_part=draw.uniform("hair_part", -1.0, 1.0),
        eye_size=draw.uniform("eye_size", 0.095, 0.13),
        eye_spacing=draw.uniform("eye_spacing", 0.26, 0.34),
        eye_open=np.where(blink, np.float32(0.06), draw.uniform("eye_open", 0.55, 1.0)),
        gaze=draw.uniform("gaze", -1.0, 1.0),
        brow_raise=draw.uniform("brow_raise", -1.0, 1.0),
        brow_tilt=draw.uniform("brow_tilt", -0.4, 0.4),
        brow_thickness=draw.uniform("brow_thickness", 0.03, 0.055),
        nose_size=draw.uniform("nose_size", 0.8, 1.3),
        smile=draw.uniform("smile", -0.6, 1.0),
        mouth_open=np.where(mouth_closed, np.float32(0.0), draw.uniform("mouth_open", 0.15, 1.0)),
        mouth_width=draw.uniform("mouth_width", 0.17, 0.27),
        glasses=eyewear == 1,
        sunglasses=eyewear == 2,
        hat=draw.chance("hat", 0.15),
        beard=draw.chance("beard", 0.15),
        skin_color=skin.astype(np.float32),
        hair_color=hair.astype(np.float32),
        eye_color=draw.palette("eye", _EYE_COLORS, _EYE_PROBS, 0.15),
        lip_color=np.clip(lips, 0, 1).astype(np.float32),
        shirt_color=draw.hsv("shirt", (0.15, 0.8), (0.25, 0.9)),
        hat_color=draw.hsv("hat_color", (0.4, 0.9), (0.3, 0.9)),
        frame_color=draw.palette("frame", _FRAME_COLORS, (1 / 6,) * 6, 0.1),
        lens_color=draw.hsv("lens", (0.2, 0.6), (0.05, 0.2)),
        background_top=top,
        background_bottom=bottom.astype(np.float32),
        light_angle=draw.uniform("light_angle", 0.0, 2 * np.pi),
        light_strength=draw.uniform("light_strength", 0.05, 0.35),
    )
