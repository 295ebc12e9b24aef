"""Vectorised renderer of the synthetic faces: signed distances on a pixel grid.

Each part of a face (hair, head, eyes, brows, nose, mouth, glasses, hat, ...) is a signed
distance field evaluated in the face's own frame (translated, rotated by the roll, scaled)
for a whole batch of faces at once, turned into coverage with a one-pixel linear edge (the
anti-aliasing), and painted over the canvas back to front. Parts are evaluated only inside
the bounding box they can reach over the batch, and optional parts (glasses, hats, beards,
hair) only for the faces that have them; that keeps a face at 64 px well under a
millisecond on one core.

Conventions: ``u`` and ``v`` are face-frame coordinates (the head centred at the origin,
``v`` pointing down, one unit about the head's half-height); ``du`` and ``dv`` are offsets
from a part's centre. Every arithmetic step is float32 and its order is part of the output:
the same attributes must give the same pixels on every run and after every refactoring.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from stylegan_lit.data.synthetic.attributes import FaceAttributes

_F32 = np.float32
_EYE_WHITE = np.array([0.95, 0.95, 0.93], _F32)
_DARK = np.array([0.1, 0.07, 0.06], _F32)
_MOUTH_INSIDE = np.array([0.3, 0.06, 0.08], _F32)
_TEETH = np.array([0.96, 0.94, 0.88], _F32)
_NOSTRIL = np.array([0.32, 0.16, 0.13], _F32)
_SIDES = (-1, 1)
"""Left (-1) and right (+1) in the face frame; the sign mirrors offsets to that side."""


def _ellipse(du: np.ndarray, dv: np.ndarray, rx: np.ndarray, ry: np.ndarray) -> np.ndarray:
    """Approximate distance to an ellipse with half-axes ``rx``, ``ry``.

    First-order accurate near the edge even when the ellipse is very thin (a closing eye), so
    the anti-aliased edge stays one pixel wide; far away from a thin ellipse that estimate
    collapses, so it is bounded below by the distance to the bounding box, which keeps every
    part inside its bounding box (rendering must not depend on the other faces in a batch).
    """
    nu, nv = du / rx, dv / ry
    radial = np.sqrt(nu * nu + nv * nv)
    gradient = np.sqrt((nu / rx) ** 2 + (nv / ry) ** 2) + _F32(1e-12)
    box = np.maximum(np.abs(du) - rx, np.abs(dv) - ry)
    return np.maximum(radial * (radial - 1) / gradient, box)


def _rounded_box(
    du: np.ndarray, dv: np.ndarray, half_width: np.ndarray, half_height: np.ndarray, radius: float
) -> np.ndarray:
    """Distance to a box with corners rounded by ``radius``."""
    qx = np.abs(du) - (half_width - radius)
    qy = np.abs(dv) - (half_height - radius)
    outside = np.sqrt(np.maximum(qx, 0) ** 2 + np.maximum(qy, 0) ** 2)
    return outside + np.minimum(np.maximum(qx, qy), 0) - radius


def _capsule(
    du: np.ndarray, dv: np.ndarray, half_length: np.ndarray, half_width: np.ndarray
) -> np.ndarray:
    """Horizontal capsule centred at the origin."""
    beyond = np.abs(du) - half_length
    return np.sqrt(np.maximum(beyond, 0) ** 2 + dv**2) - half_width


def _squircle_norm(nu: np.ndarray, nv: np.ndarray, squareness: np.ndarray) -> np.ndarray:
    """A norm between round (0: Euclidean) and square (1: the 4-norm) of normalised offsets.

    Its level set 1 is the outline of a shape whose half-axes ``nu``, ``nv`` were divided by.
    """
    nu2, nv2 = nu * nu, nv * nv
    round_norm = np.sqrt(nu2 + nv2)
    square_norm = np.sqrt(np.sqrt(nu2 * nu2 + nv2 * nv2))
    return round_norm + squareness * (square_norm - round_norm)


@dataclass(frozen=True)
class _HeadShape:
    """The head outline, per face: [B] arrays, or [b, 1, 1] once taken for a region.

    Attributes:
        half_width: Half-width at the level of the centre.
        crown_height: From the centre up to the top of the head.
        chin_depth: From the centre down to the chin.
        jaw_taper: How much the width narrows towards the chin.
        squareness: 0 (oval) to 1 (square) outline.
    """

    half_width: np.ndarray
    crown_height: np.ndarray
    chin_depth: np.ndarray
    jaw_taper: np.ndarray
    squareness: np.ndarray

    def in_region(self, region: _Region) -> _HeadShape:
        """The faces of ``region``, shaped to broadcast over its pixels."""
        return _HeadShape(**{f.name: region.per_face(getattr(self, f.name)) for f in fields(self)})


def _head_distance(
    u: np.ndarray, v: np.ndarray, head: _HeadShape
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Distance to the head outline, and the normalised coordinates used for shading."""
    half_height = np.where(v < 0, head.crown_height, head.chin_depth)
    taper = 1 - head.jaw_taper * np.clip(v / head.chin_depth, 0, 1) ** 2
    nu = u / (head.half_width * taper)
    nv = v / half_height
    norm = _squircle_norm(nu, nv, head.squareness)
    return (norm - 1) * head.half_width, nu, nv


class _Region:
    """The part of the canvas one layer can touch, for some of the faces.

    ``u, v`` are the face-frame coordinates of its pixels, or with ``upright`` the same
    without the roll (for the body, which does not tilt with the head).

    Args:
        frame: The batch being rendered.
        faces: Indices of the faces painted, or ``None`` for all of them.
        rows, cols: The pixels, the same for every face painted.
        upright: Ignore the roll.
    """

    def __init__(
        self, frame: _Frame, faces: np.ndarray | None, rows: slice, cols: slice, upright: bool
    ) -> None:
        self.frame, self.faces, self.rows, self.cols = frame, faces, rows, cols
        if upright:
            centers, inv_scale = frame.pixel_centers, self.per_face(1 / frame.scale)
            self.u = (centers[None, None, cols] - self.per_face(frame.center_x)) * inv_scale
            self.v = (centers[None, rows, None] - self.per_face(frame.center_y)) * inv_scale
        elif faces is None:
            self.u = frame.u[:, rows, cols]
            self.v = frame.v[:, rows, cols]
        else:
            self.u = frame.u[faces, rows, cols]
            self.v = frame.v[faces, rows, cols]
        self.pixels_per_unit = self.per_face(frame.pixels_per_unit)

    def per_face(self, values: np.ndarray) -> np.ndarray:
        """The region's faces' entries, shaped to broadcast over its pixels.

        Per-face values [B] -> [b, 1, 1]; colours [B, 3] -> [b, 3, 1, 1].
        """
        picked = values if self.faces is None else values[self.faces]
        return picked.reshape(*picked.shape, 1, 1)

    def coverage(self, distance: np.ndarray) -> np.ndarray:
        """Coverage in [0, 1] with a linear edge one pixel wide."""
        alpha = 0.5 - distance * self.pixels_per_unit
        return np.clip(alpha, 0, 1, out=alpha)

    def paint(self, alpha: np.ndarray, color: np.ndarray) -> None:
        """Blend ``color`` ([B, 3] per face or [b, 3, h, w]) over the canvas by ``alpha``."""
        if color.ndim == 2:
            color = self.per_face(color)
        elif color.ndim == 1:
            color = color.reshape(1, 3, 1, 1)
        canvas = self.frame.canvas
        if self.faces is None:
            view = canvas[:, :, self.rows, self.cols]  # a view: painted in place
        else:
            view = canvas[self.faces, :, self.rows, self.cols]  # a copy: written back below
        blend = color - view
        blend *= alpha[:, None]
        view += blend
        if self.faces is not None:
            canvas[self.faces, :, self.rows, self.cols] = view


class _Frame:
    """Pixel grid of a batch of faces in each face's own coordinates, and the canvas."""

    def __init__(self, attrs: FaceAttributes, resolution: int) -> None:
        self.resolution = resolution
        # The image coordinate in [-1, 1] of each pixel column's (and row's) centre.
        step = _F32(2.0 / resolution)
        pixel_centers = (np.arange(resolution, dtype=_F32) + _F32(0.5)) * step - _F32(1)
        self.pixel_centers = pixel_centers
        self.center_x, self.center_y = attrs.center_x.astype(_F32), attrs.center_y.astype(_F32)
        self.scale = attrs.scale.astype(_F32)
        self.roll_cos = np.cos(attrs.roll).astype(_F32)
        self.roll_sin = np.sin(attrs.roll).astype(_F32)

        def column(values: np.ndarray) -> np.ndarray:
            return values[:, None, None]

        dx = pixel_centers[None, None, :] - column(self.center_x)
        dy = pixel_centers[None, :, None] - column(self.center_y)
        inv_scale = column(1 / self.scale)
        self.u = (column(self.roll_cos) * dx + column(self.roll_sin) * dy) * inv_scale
        self.v = (column(self.roll_cos) * dy - column(self.roll_sin) * dx) * inv_scale
        self.pixels_per_unit = self.scale * _F32(resolution / 2)
        self.canvas = np.empty((len(attrs), 3, resolution, resolution), _F32)

    def region(
        self,
        faces: np.ndarray | None,
        u_min: np.ndarray | float,
        u_max: np.ndarray | float,
        v_min: np.ndarray | float,
        v_max: np.ndarray | float,
        upright: bool = False,
    ) -> _Region | None:
        """The pixels the face-frame box [u_min, u_max] x [v_min, v_max] can reach.

        The bounds are scalars or [B] arrays; ``None`` when no pixel (or no face) is left.
        """
        count = len(self.scale)
        if faces is not None:
            if len(faces) == 0:
                return None
            if len(faces) == count:
                faces = None

        def select(values: np.ndarray) -> np.ndarray:
            return values if faces is None else values[faces]

        painted = count if faces is None else len(faces)
        u0, u1, v0, v1 = (
            np.broadcast_to(np.asarray(bound, _F32), (count,))
            for bound in (u_min, u_max, v_min, v_max)
        )
        corner_u = np.stack([select(u0), select(u1)] * 2)
        corner_v = np.stack([select(v0)] * 2 + [select(v1)] * 2)
        cos, sin, scale = select(self.roll_cos), select(self.roll_sin), select(self.scale)
        if upright:
            cos, sin = np.ones_like(cos), np.zeros_like(sin)
        corner_x = select(self.center_x) + scale * (cos * corner_u - sin * corner_v)
        corner_y = select(self.center_y) + scale * (sin * corner_u + cos * corner_v)
        # Pixel bounds of the corners, two pixels wider for the anti-aliased edges.
        half = self.resolution / 2
        col_start = max(int(np.floor((corner_x.min() + 1) * half)) - 2, 0)
        col_stop = min(int(np.ceil((corner_x.max() + 1) * half)) + 2, self.resolution)
        row_start = max(int(np.floor((corner_y.min() + 1) * half)) - 2, 0)
        row_stop = min(int(np.ceil((corner_y.max() + 1) * half)) + 2, self.resolution)
        if col_start >= col_stop or row_start >= row_stop or painted == 0:
            return None
        return _Region(self, faces, slice(row_start, row_stop), slice(col_start, col_stop), upright)


@dataclass(frozen=True)
class _Geometry:
    """Positions and sizes of the parts in the face frame, per face ([B] float32 arrays).

    The per-side entries are keyed by side, -1 (left in the face frame) and +1.

    Attributes:
        head: The head outline.
        feature_shift_x, feature_shift_y: How far yaw and pitch move the features.
        eye_y: Height of both eyes.
        eye_x: Horizontal position of each eye.
        eye_half_width, eye_half_height: Size of each eye (the far one narrows with yaw).
        ear_visibility: 1 for an ear in full view, 0 for one hidden by the turned head.
        brow_y: Height of both brows.
        nose_x, nose_y: Centre of the nose.
        mouth_x, mouth_y: Centre of the (closed, unsmiling) mouth.
        mouth_half_width: Half-width of the mouth.
    """

    head: _HeadShape
    feature_shift_x: np.ndarray
    feature_shift_y: np.ndarray
    eye_y: np.ndarray
    eye_x: dict[int, np.ndarray]
    eye_half_width: dict[int, np.ndarray]
    eye_half_height: dict[int, np.ndarray]
    ear_visibility: dict[int, np.ndarray]
    brow_y: np.ndarray
    nose_x: np.ndarray
    nose_y: np.ndarray
    mouth_x: np.ndarray
    mouth_y: np.ndarray
    mouth_half_width: np.ndarray


def _float32(values: np.ndarray) -> np.ndarray:
    return np.asarray(values, _F32)


def _geometry(attrs: FaceAttributes) -> _Geometry:
    """The geometry of a batch of faces, derived once per batch."""
    shift_x = attrs.yaw * _F32(0.22)
    shift_y = attrs.pitch * _F32(0.12)
    eye_y = shift_y - _F32(0.02)
    eye_x: dict[int, np.ndarray] = {}
    eye_half_width: dict[int, np.ndarray] = {}
    eye_half_height: dict[int, np.ndarray] = {}
    ear_visibility: dict[int, np.ndarray] = {}
    for side in _SIDES:
        eye_x[side] = side * attrs.eye_spacing + shift_x
        eye_half_width[side] = attrs.eye_size * (1 - _F32(0.3) * attrs.yaw * side)
        eye_half_height[side] = eye_half_width[side] * _F32(0.62) * attrs.eye_open
        ear_visibility[side] = np.clip(1 - _F32(1.5) * attrs.yaw * side, 0, 1)

    def per_side(values: dict[int, np.ndarray]) -> dict[int, np.ndarray]:
        return {side: _float32(values[side]) for side in _SIDES}

    return _Geometry(
        head=_HeadShape(
            half_width=_float32(attrs.face_width),
            crown_height=_float32(attrs.face_length * _F32(0.95)),
            chin_depth=_float32(attrs.face_length),
            jaw_taper=_float32(attrs.jaw),
            squareness=_float32(attrs.squareness),
        ),
        feature_shift_x=_float32(shift_x),
        feature_shift_y=_float32(shift_y),
        eye_y=_float32(eye_y),
        eye_x=per_side(eye_x),
        eye_half_width=per_side(eye_half_width),
        eye_half_height=per_side(eye_half_height),
        ear_visibility=per_side(ear_visibility),
        brow_y=_float32(eye_y - _F32(0.16) - _F32(0.05) * attrs.brow_raise),
        nose_x=_float32(attrs.yaw * _F32(0.3)),
        nose_y=_float32(shift_y + _F32(0.24)),
        mouth_x=_float32(attrs.yaw * _F32(0.24)),
        mouth_y=_float32(shift_y * _F32(0.8) + _F32(0.52)),
        mouth_half_width=_float32(attrs.mouth_width * (1 - _F32(0.25) * np.abs(attrs.yaw))),
    )


def landmarks(attrs: FaceAttributes) -> dict[str, np.ndarray]:
    """Where the parts of each face are in the image, for evaluation and editing work.

    Returns:
        ``{name: float32 [B, 2]}`` of (x, y) in [-1, 1] image units (x right, y down; pixel
        column = (x + 1) * R / 2 - 0.5) for ``left_eye``, ``right_eye`` (as seen in the image),
        ``nose``, ``mouth`` and ``crown`` (top of the head, under any hair or hat).
    """
    geo = _geometry(attrs)
    crown = geo.head.crown_height
    local = {
        "left_eye": (geo.eye_x[-1], geo.eye_y),
        "right_eye": (geo.eye_x[1], geo.eye_y),
        "nose": (geo.nose_x, geo.nose_y),
        "mouth": (geo.mouth_x, geo.mouth_y + attrs.smile * _F32(0.07)),
        "crown": (np.zeros_like(crown), -crown * _F32(0.75)),
    }
    cos, sin, scale = np.cos(attrs.roll), np.sin(attrs.roll), attrs.scale
    out = {}
    for name, (u, v) in local.items():
        x = attrs.center_x + scale * (cos * u - sin * v)
        y = attrs.center_y + scale * (sin * u + cos * v)
        out[name] = np.stack([x, y], axis=1).astype(_F32)
    return out


def render_faces(attrs: FaceAttributes, resolution: int) -> np.ndarray:
    """Render faces at one resolution.

    Args:
        attrs: The faces' attributes (see
            :func:`~stylegan_lit.data.synthetic.attributes.sample_attributes`).
        resolution: Side in pixels.

    Returns:
        uint8 [B, 3, R, R].
    """
    frame = _Frame(attrs, resolution)
    geo = _geometry(attrs)
    _background(frame, attrs)
    _hair_back(frame, attrs, geo)
    _body(frame, attrs, geo)
    _ears(frame, attrs, geo)
    _head(frame, attrs, geo)
    _beard(frame, attrs, geo)
    _hair_front(frame, attrs, geo)
    _nose(frame, attrs, geo)
    for side in _SIDES:
        _eye(frame, attrs, geo, side)
        _brow(frame, attrs, geo, side)
    _mouth(frame, attrs, geo)
    _glasses(frame, attrs, geo)
    _hat(frame, attrs, geo)
    pixels = np.clip(frame.canvas, 0, 1) * _F32(255) + _F32(0.5)
    return pixels.astype(np.uint8)


def _faces_where(mask: np.ndarray) -> np.ndarray:
    """Indices of the faces for which ``mask`` holds (the faces that have a part)."""
    return np.flatnonzero(mask)


def _background(frame: _Frame, attrs: FaceAttributes) -> None:
    # Vertical gradient, 0 at the top row and 1 at the bottom.
    fade = np.clip(_F32(0.5) + _F32(0.5) * frame.pixel_centers, 0, 1)[None, None, :, None]
    top = attrs.background_top[:, :, None, None]
    bottom = attrs.background_bottom[:, :, None, None]
    frame.canvas[:] = top + fade * (bottom - top)


def _hair_back(frame: _Frame, attrs: FaceAttributes, geo: _Geometry) -> None:
    """The hair behind the head: long, bob and curly styles."""
    style, length = attrs.hair_style, attrs.hair_length
    long_, bob, curly = style == 2, style == 3, style == 4
    top = np.where(curly, _F32(-1.3) - _F32(0.25) * length, _F32(-1.12))
    bottom = np.select(
        [long_, bob],
        [_F32(0.35) + length, np.full_like(length, 0.4)],
        _F32(0.75) + _F32(0.2) * length,
    )
    head_width = geo.head.half_width
    half_width = np.select(
        [long_, bob],
        [head_width + _F32(0.17), head_width + _F32(0.13)],
        head_width + _F32(0.3) + _F32(0.2) * length,
    )
    center_v, half_height = (top + bottom) / 2, (bottom - top) / 2
    region = frame.region(_faces_where(long_ | bob | curly), -half_width, half_width, top, bottom)
    if region is None:
        return
    nu = region.u / region.per_face(half_width)
    nv = (region.v - region.per_face(center_v)) / region.per_face(half_height)
    squareness = region.per_face(np.where(curly, _F32(0), _F32(0.8)))
    norm = _squircle_norm(nu, nv, squareness)
    distance = (norm - 1) * region.per_face(np.minimum(half_width, half_height))
    region.paint(region.coverage(distance), attrs.hair_color * _F32(0.8))


def _body(frame: _Frame, attrs: FaceAttributes, geo: _Geometry) -> None:
    """Shoulders (upright: they do not roll with the head), then the neck."""
    region = frame.region(None, -1.6, 1.6, 1.15, 2.75, upright=True)
    if region is not None:
        dv = region.v - _F32(1.95)
        distance = _ellipse(region.u, dv, _F32(1.5), _F32(0.78))
        shade = _F32(1) - _F32(0.25) * np.clip(np.abs(region.u) - _F32(0.6), 0, 1)
        region.paint(region.coverage(distance), region.per_face(attrs.shirt_color) * shade[:, None])
    neck_half_width = geo.head.half_width * _F32(0.42)
    region = frame.region(None, -neck_half_width, neck_half_width, 0.3, 1.5)
    if region is not None:
        distance = _rounded_box(
            region.u, region.v - _F32(0.9), region.per_face(neck_half_width), _F32(0.6), 0.12
        )
        region.paint(region.coverage(distance), attrs.skin_color * _F32(0.8))


def _ears(frame: _Frame, attrs: FaceAttributes, geo: _Geometry) -> None:
    for side in _SIDES:
        visibility = geo.ear_visibility[side]
        ear_x = side * (geo.head.half_width - _F32(0.03)) + geo.feature_shift_x * _F32(0.3)
        region = frame.region(
            _faces_where(visibility > 0.05), ear_x - 0.15, ear_x + 0.15, -0.22, 0.22
        )
        if region is None:
            continue
        distance = _ellipse(
            region.u - region.per_face(ear_x),
            region.v,
            region.per_face(_F32(0.11) * visibility),
            _F32(0.17),
        )
        region.paint(region.coverage(distance), attrs.skin_color * _F32(0.92))


def _head(frame: _Frame, attrs: FaceAttributes, geo: _Geometry) -> None:
    """The face, shaded as a sphere lit by the key light."""
    head = geo.head
    region = frame.region(
        None, -head.half_width, head.half_width, -head.crown_height, head.chin_depth
    )
    if region is None:
        return
    distance, nu, nv = _head_distance(region.u, region.v, head.in_region(region))
    nu, nv = np.clip(nu, -1, 1), np.clip(nv, -1, 1)
    nz = np.sqrt(np.clip(1 - nu * nu - nv * nv, 0, 1))
    angle = attrs.light_angle
    light = np.stack([np.cos(angle) * 0.7, np.sin(angle) * 0.5 - 0.3, np.full_like(angle, 0.65)])
    light = (light / np.linalg.norm(light, axis=0)).astype(_F32)
    light_x, light_y, light_z = (region.per_face(component) for component in light)
    strength = region.per_face(attrs.light_strength)
    lambert = np.clip(nu * light_x + nv * light_y + nz * light_z, 0, 1)
    shade = (1 - strength) + strength * _F32(1.4) * lambert
    region.paint(region.coverage(distance), region.per_face(attrs.skin_color) * shade[:, None])


def _beard(frame: _Frame, attrs: FaceAttributes, geo: _Geometry) -> None:
    head = geo.head
    region = frame.region(
        _faces_where(attrs.beard),
        -head.half_width - 0.02,
        head.half_width + 0.02,
        geo.mouth_y - 0.5,
        head.chin_depth + 0.05,
    )
    if region is None:
        return
    head_here = head.in_region(region)
    head_distance = _head_distance(region.u, region.v, head_here)[0]
    # The beard's upper edge: a curve under the mouth, rising towards the cheeks.
    upper_edge = (
        region.per_face(geo.mouth_y)
        - _F32(0.13)
        - _F32(0.35) * (region.u / head_here.half_width) ** 2
    )
    inside = np.maximum(head_distance - _F32(0.02), upper_edge - region.v)
    region.paint(region.coverage(inside) * _F32(0.95), attrs.hair_color)


def _hair_front(frame: _Frame, attrs: FaceAttributes, geo: _Geometry) -> None:
    """The hair over the head: a layer around the skull down to a curved hairline."""
    style, length = attrs.hair_style, attrs.hair_length
    head = geo.head
    thickness = np.choose(style, [_F32(0), _F32(0.06), _F32(0.08), _F32(0.09), _F32(0.16)])
    thickness = thickness.astype(_F32)
    hairline = np.choose(
        style,
        [
            _F32(0),
            _F32(-0.55) + _F32(0.12) * length,
            _F32(-0.5) + _F32(0.12) * length,
            _F32(-0.3) + _F32(0.1) * length,
            _F32(-0.5),
        ],
    ).astype(_F32)
    curve = np.choose(style, [_F32(0), _F32(0.5), _F32(1.0), _F32(0.9), _F32(0.7)]).astype(_F32)
    reach = head.half_width + thickness + np.abs(geo.feature_shift_x) * _F32(0.5)
    lowest = (
        hairline
        + geo.feature_shift_y
        + curve * reach * reach
        + _F32(0.12) * np.abs(attrs.hair_part) * reach
    )
    bottom = np.minimum(lowest, head.chin_depth + thickness)
    # The head's distance is scaled by its half-width, so a dilation reaches
    # crown_height / half_width further up.
    top = -head.crown_height - thickness * head.crown_height / head.half_width
    region = frame.region(_faces_where(style > 0), -reach, reach, top, bottom)
    if region is None:
        return
    head_distance = _head_distance(region.u, region.v, head.in_region(region))[0]
    u = region.u - region.per_face(geo.feature_shift_x) * _F32(0.5)
    hairline_v = (
        region.per_face(hairline + geo.feature_shift_y)
        + region.per_face(curve) * u * u
        - region.per_face(attrs.hair_part) * _F32(0.12) * u
    )
    distance = np.maximum(head_distance - region.per_face(thickness), region.v - hairline_v)
    region.paint(region.coverage(distance), attrs.hair_color)


def _nose(frame: _Frame, attrs: FaceAttributes, geo: _Geometry) -> None:
    size = attrs.nose_size
    nose_x, nose_y = geo.nose_x, geo.nose_y
    region = frame.region(
        None, nose_x - 0.12 * size, nose_x + 0.12 * size, nose_y - 0.08, nose_y + 0.08
    )
    if region is None:
        return
    du, dv = region.u - region.per_face(nose_x), region.v - region.per_face(nose_y)
    scale = region.per_face(size)
    region.paint(
        region.coverage(_ellipse(du, dv, _F32(0.065) * scale, _F32(0.045) * scale)) * _F32(0.55),
        attrs.skin_color * _F32(0.72),
    )
    for side in _SIDES:
        nostril = _ellipse(
            du - side * _F32(0.035) * scale,
            dv - _F32(0.02) * scale,
            _F32(0.02) * scale,
            _F32(0.013) * scale,
        )
        region.paint(region.coverage(nostril) * _F32(0.7), _NOSTRIL)


def _eye(frame: _Frame, attrs: FaceAttributes, geo: _Geometry, side: int) -> None:
    """White, iris, pupil, glint and the upper lid's line of one eye."""
    eye_x, eye_y = geo.eye_x[side], geo.eye_y
    half_width, half_height = geo.eye_half_width[side], geo.eye_half_height[side]
    region = frame.region(
        None,
        eye_x - half_width - 0.03,
        eye_x + half_width + 0.03,
        eye_y - half_width - 0.03,
        eye_y + half_width,
    )
    if region is None:
        return
    du, dv = region.u - region.per_face(eye_x), region.v - region.per_face(eye_y)
    width = region.per_face(half_width)
    height = region.per_face(np.maximum(half_height, _F32(1e-3)))
    white = region.coverage(_ellipse(du, dv, width, height))
    region.paint(white, _EYE_WHITE)
    iris_radius = width * _F32(0.52)
    iris_du = du - region.per_face(attrs.gaze) * _F32(0.35) * width
    iris_distance = np.sqrt(iris_du * iris_du + dv * dv)
    region.paint(np.minimum(region.coverage(iris_distance - iris_radius), white), attrs.eye_color)
    region.paint(
        np.minimum(region.coverage(iris_distance - iris_radius * _F32(0.45)), white), _DARK
    )
    glint = np.sqrt((iris_du + iris_radius * _F32(0.3)) ** 2 + (dv + iris_radius * _F32(0.3)) ** 2)
    region.paint(
        np.minimum(region.coverage(glint - iris_radius * _F32(0.18)), white) * _F32(0.8),
        _EYE_WHITE,
    )
    lid_v = region.per_face(eye_y) - height * np.sqrt(np.clip(1 - (du / width) ** 2, 0, 1))
    lash = np.maximum(np.abs(region.v - lid_v) - _F32(0.012), np.abs(du) - width * _F32(1.05))
    region.paint(region.coverage(lash), _DARK)


def _brow(frame: _Frame, attrs: FaceAttributes, geo: _Geometry, side: int) -> None:
    """One brow: a thick stroke, arched, tilted by ``brow_tilt``."""
    brow_x, brow_y = geo.eye_x[side], geo.brow_y
    half_length = geo.eye_half_width[side] * _F32(1.15)
    region = frame.region(
        None,
        brow_x - half_length - 0.06,
        brow_x + half_length + 0.06,
        brow_y - 0.12,
        brow_y + 0.12,
    )
    if region is None:
        return
    du = region.u - region.per_face(brow_x)
    length = region.per_face(half_length)
    along = np.clip(du, -length, length)  # nearest point on the stroke's centre line
    centre_v = (
        region.per_face(brow_y)
        - region.per_face(attrs.brow_tilt) * _F32(0.5) * side * along
        - _F32(0.035) * (1 - (along / length) ** 2)
    )
    distance = np.sqrt((du - along) ** 2 + (region.v - centre_v) ** 2) - region.per_face(
        attrs.brow_thickness
    ) * _F32(0.5)
    region.paint(region.coverage(distance), attrs.hair_color * _F32(0.7))


def _mouth(frame: _Frame, attrs: FaceAttributes, geo: _Geometry) -> None:
    """Lips, the dark inside of an open mouth, and teeth when smiling."""
    mouth_x, mouth_y, mouth_half_width = geo.mouth_x, geo.mouth_y, geo.mouth_half_width
    region = frame.region(
        None,
        mouth_x - mouth_half_width - 0.05,
        mouth_x + mouth_half_width + 0.05,
        mouth_y - 0.12,
        mouth_y + 0.2,
    )
    if region is None:
        return
    half_width = region.per_face(mouth_half_width)
    across = (region.u - region.per_face(mouth_x)) / half_width  # -1 .. 1 corner to corner
    arch = np.clip(1 - across * across, 0, 1)
    centre_v = region.per_face(mouth_y) + region.per_face(attrs.smile) * _F32(0.07) * arch
    opening = region.per_face(attrs.mouth_open) * _F32(0.09) * np.sqrt(arch)
    upper, lower = centre_v - opening * _F32(0.3), centre_v + opening
    beyond_corners = (np.abs(across) - 1) * half_width
    lips = np.maximum(
        np.maximum(upper - _F32(0.022) - region.v, region.v - lower - _F32(0.03)), beyond_corners
    )
    region.paint(region.coverage(lips), attrs.lip_color)
    inside = np.maximum(np.maximum(upper - region.v, region.v - lower), beyond_corners)
    region.paint(region.coverage(inside), _MOUTH_INSIDE)
    teeth = np.maximum(inside, region.v - (upper + (lower - upper) * _F32(0.35)))
    smiling = region.per_face((attrs.smile > 0.2).astype(_F32))
    region.paint(region.coverage(teeth) * smiling, _TEETH)


def _glasses(frame: _Frame, attrs: FaceAttributes, geo: _Geometry) -> None:
    """Lenses (clear or dark), rims, temples and the bridge."""
    faces = _faces_where(attrs.glasses | attrs.sunglasses)
    lens_half_width = _F32(0.16) + attrs.eye_size * _F32(0.3)
    lens_half_height = _F32(0.12) + attrs.eye_size * _F32(0.2)
    lens_y = geo.eye_y + _F32(0.01)
    head_width = geo.head.half_width
    region = frame.region(
        faces,
        -head_width - 0.05,
        head_width + 0.05,
        lens_y - lens_half_height - 0.05,
        lens_y + lens_half_height + 0.05,
    )
    if region is None:
        return
    dark = region.per_face(attrs.sunglasses.astype(_F32))
    lens_alpha = _F32(0.12) + dark * _F32(0.82)
    lens_color = region.per_face(attrs.lens_color) * dark[:, None] + (1 - dark[:, None])
    frame_color = region.per_face(attrs.frame_color)
    rim_half_width = _F32(0.014)
    dv = region.v - region.per_face(lens_y)
    width, height = region.per_face(lens_half_width), region.per_face(lens_half_height)
    inner_edges = []
    for side in _SIDES:
        lens_x = region.per_face(geo.eye_x[side])
        lens = _rounded_box(region.u - lens_x, dv, width, height, 0.06)
        region.paint(region.coverage(lens) * lens_alpha, lens_color)
        region.paint(region.coverage(np.abs(lens) - rim_half_width), frame_color)
        outer_edge = lens_x + side * width
        temple_half_length = (region.per_face(head_width) - side * outer_edge) * _F32(0.5)
        temple = _capsule(
            region.u - (outer_edge + side * temple_half_length),
            dv + height * _F32(0.5),
            np.maximum(temple_half_length, 0),
            rim_half_width,
        )
        region.paint(region.coverage(temple), frame_color)
        inner_edges.append(lens_x - side * width)
    bridge_center = (inner_edges[0] + inner_edges[1]) / 2
    bridge_half_length = (inner_edges[1] - inner_edges[0]) / 2
    bridge = _capsule(
        region.u - bridge_center,
        dv + height * _F32(0.35),
        np.maximum(bridge_half_length, 0),
        rim_half_width,
    )
    region.paint(region.coverage(bridge), frame_color)


def _hat(frame: _Frame, attrs: FaceAttributes, geo: _Geometry) -> None:
    """A knitted hat: the crown over the head, a cuff at its lower edge and a pompom."""
    head = geo.head
    lower_edge = _F32(-0.42) + geo.feature_shift_y * _F32(0.5)
    half_width = head.half_width + _F32(0.16)
    region = frame.region(
        _faces_where(attrs.hat),
        -half_width,
        half_width,
        -head.crown_height - 0.45,
        lower_edge + 0.1,
    )
    if region is None:
        return
    head_distance = _head_distance(region.u, region.v, head.in_region(region))[0]
    color = region.per_face(attrs.hat_color)
    crown = np.maximum(head_distance - _F32(0.13), region.v - region.per_face(lower_edge))
    region.paint(region.coverage(crown), color)
    cuff = _rounded_box(
        region.u,
        region.v - region.per_face(lower_edge - _F32(0.05)),
        region.per_face(half_width),
        _F32(0.08),
        0.05,
    )
    region.paint(region.coverage(cuff), color * _F32(0.8))
    pompom_v = region.per_face(-head.crown_height - _F32(0.2))
    pompom = np.sqrt(region.u**2 + (region.v - pompom_v) ** 2) - _F32(0.13)
    region.paint(region.coverage(pompom), np.clip(color * _F32(1.25), 0, 1))
