"""Vectorised renderer of the synthetic faces: signed distances on a pixel grid.

Each part of a face (hair, head, eyes, brows, nose, mouth, glasses, hat, ...) is a signed
distance field evaluated in the face's own frame (translated, rotated by the roll, scaled)
for a whole batch of faces at once, turned into coverage with a one-pixel linear edge (the
anti-aliasing), and painted over the canvas back to front. Parts are evaluated only inside
the bounding box they can reach over the batch, and optional parts (glasses, hats, beards,
hair) only for the faces that have them; that keeps a face at 64 px well under a
millisecond on one core.
"""

from __future__ import annotations

import numpy as np

from stylegan_lit.data.synthetic.attributes import FaceAttributes

_F = np.float32
_EYE_WHITE = np.array([0.95, 0.95, 0.93], _F)
_DARK = np.array([0.1, 0.07, 0.06], _F)
_MOUTH_INSIDE = np.array([0.3, 0.06, 0.08], _F)
_TEETH = np.array([0.96, 0.94, 0.88], _F)
_NOSTRIL = np.array([0.32, 0.16, 0.13], _F)


def _ellipse(du: np.ndarray, dv: np.ndarray, rx: np.ndarray, ry: np.ndarray) -> np.ndarray:
    """Approximate distance to an ellipse.

    First-order accurate near the edge even when the ellipse is very thin (a closing eye), so
    the anti-aliased edge stays one pixel wide; far away from a thin ellipse that estimate
    collapses, so it is bounded below by the distance to the bounding box, which keeps every
    part inside its bounding box (rendering must not depend on the other faces in a batch).
    """
    ux, vy = du / rx, dv / ry
    k0 = np.sqrt(ux * ux + vy * vy)
    k1 = np.sqrt((ux / rx) ** 2 + (vy / ry) ** 2) + _F(1e-12)
    box = np.maximum(np.abs(du) - rx, np.abs(dv) - ry)
    return np.maximum(k0 * (k0 - 1) / k1, box)


def _rounded_box(
    du: np.ndarray, dv: np.ndarray, hx: np.ndarray, hy: np.ndarray, r: float
) -> np.ndarray:
    qx = np.abs(du) - (hx - r)
    qy = np.abs(dv) - (hy - r)
    outside = np.sqrt(np.maximum(qx, 0) ** 2 + np.maximum(qy, 0) ** 2)
    return outside + np.minimum(np.maximum(qx, qy), 0) - r


def _capsule(
    du: np.ndarray, dv: np.ndarray, half_length: np.ndarray, half_width: np.ndarray
) -> np.ndarray:
    """Horizontal capsule centred at the origin."""
    ex = np.abs(du) - half_length
    return np.sqrt(np.maximum(ex, 0) ** 2 + dv**2) - half_width


def _head(u: np.ndarray, v: np.ndarray, g: dict[str, np.ndarray]) -> tuple[np.ndarray, ...]:
    """Distance to the head outline, and the normalised coordinates used for shading."""
    b = np.where(v < 0, g["bt"], g["bb"])
    taper = 1 - g["jaw"] * np.clip(v / g["bb"], 0, 1) ** 2
    uu = u / (g["a"] * taper)
    vv = v / b
    u2, v2 = uu * uu, vv * vv
    k2 = np.sqrt(u2 + v2)
    k4 = np.sqrt(np.sqrt(u2 * u2 + v2 * v2))
    k = k2 + g["sq"] * (k4 - k2)
    return (k - 1) * g["a"], uu, vv


class _Region:
    """The part of the canvas one layer can touch, for some of the faces.

    ``u, v`` are the face-frame coordinates of its pixels, or with ``upright`` the same
    without the roll (for the body, which does not tilt with the head).
    """

    def __init__(
        self, frame: _Frame, faces: np.ndarray | None, rows: slice, cols: slice, upright: bool
    ) -> None:
        self.frame, self.faces, self.rows, self.cols = frame, faces, rows, cols
        if upright:
            inv_s = self.p(1 / frame.s)
            self.u = (frame.grid[None, None, cols] - self.p(frame.cx)) * inv_s
            self.v = (frame.grid[None, rows, None] - self.p(frame.cy)) * inv_s
        elif faces is None:
            self.u = frame.u[:, rows, cols]
            self.v = frame.v[:, rows, cols]
        else:
            self.u = frame.u[faces, rows, cols]
            self.v = frame.v[faces, rows, cols]
        self.inv_px = self.p(frame.inv_px)

    def p(self, values: np.ndarray) -> np.ndarray:
        """Per-face values [B] -> [b, 1, 1]; colours [B, 3] -> [b, 3, 1, 1]."""
        picked = values if self.faces is None else values[self.faces]
        return picked.reshape(*picked.shape, 1, 1)

    def cover(self, distance: np.ndarray) -> np.ndarray:
        """Coverage in [0, 1] with a linear edge one pixel wide."""
        alpha = 0.5 - distance * self.inv_px
        return np.clip(alpha, 0, 1, out=alpha)

    def paint(self, alpha: np.ndarray, color: np.ndarray) -> None:
        """Blend ``color`` ([B, 3] per face or [b, 3, h, w]) over the canvas by ``alpha``."""
        if color.ndim == 2:
            color = self.p(color)
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
        grid = (np.arange(resolution, dtype=_F) + _F(0.5)) * _F(2.0 / resolution) - _F(1)
        self.grid = grid
        self.cx, self.cy = attrs.center_x.astype(_F), attrs.center_y.astype(_F)
        self.s = attrs.scale.astype(_F)
        self.cos, self.sin = np.cos(attrs.roll).astype(_F), np.sin(attrs.roll).astype(_F)
        col = lambda a: a[:, None, None]  # noqa: E731
        dx = grid[None, None, :] - col(self.cx)
        dy = grid[None, :, None] - col(self.cy)
        inv_s = col(1 / self.s)
        self.u = (col(self.cos) * dx + col(self.sin) * dy) * inv_s
        self.v = (col(self.cos) * dy - col(self.sin) * dx) * inv_s
        self.inv_px = self.s * _F(resolution / 2)
        self.canvas = np.empty((len(attrs), 3, resolution, resolution), _F)

    def region(
        self, faces: np.ndarray | None, u0, u1, v0, v1, upright: bool = False
    ) -> _Region | None:
        """The pixels the face-frame box [u0, u1] x [v0, v1] can reach (scalars or [B] arrays)."""
        if faces is not None:
            if len(faces) == 0:
                return None
            if len(faces) == len(self.s):
                faces = None
        pick = (lambda a: a) if faces is None else (lambda a: a[faces])
        n = len(self.s) if faces is None else len(faces)
        box = [np.broadcast_to(np.asarray(b, _F), (len(self.s),)) for b in (u0, u1, v0, v1)]
        us = np.stack([pick(box[0]), pick(box[1])] * 2)
        vs = np.stack([pick(box[2])] * 2 + [pick(box[3])] * 2)
        cos, sin, s = pick(self.cos), pick(self.sin), pick(self.s)
        if upright:
            cos, sin = np.ones_like(cos), np.zeros_like(sin)
        xs = pick(self.cx) + s * (cos * us - sin * vs)
        ys = pick(self.cy) + s * (sin * us + cos * vs)
        half = self.resolution / 2
        c0 = max(int(np.floor((xs.min() + 1) * half)) - 2, 0)
        c1 = min(int(np.ceil((xs.max() + 1) * half)) + 2, self.resolution)
        r0 = max(int(np.floor((ys.min() + 1) * half)) - 2, 0)
        r1 = min(int(np.ceil((ys.max() + 1) * half)) + 2, self.resolution)
        if c0 >= c1 or r0 >= r1 or n == 0:
            return None
        return _Region(self, faces, slice(r0, r1), slice(c0, c1), upright)


def _geometry(a: FaceAttributes) -> dict[str, np.ndarray]:
    """Positions and sizes of the parts in the face frame, derived once per batch."""
    g = {
        "a": a.face_width,
        "bt": a.face_length * _F(0.95),
        "bb": a.face_length,
        "jaw": a.jaw,
        "sq": a.squareness,
        "fx": a.yaw * _F(0.22),
        "fy": a.pitch * _F(0.12),
    }
    g["ey"] = g["fy"] - _F(0.02)
    for side in (-1, 1):
        g[f"ex{side}"] = side * a.eye_spacing + g["fx"]
        g[f"we{side}"] = a.eye_size * (1 - _F(0.3) * a.yaw * side)
        g[f"he{side}"] = g[f"we{side}"] * _F(0.62) * a.eye_open
        g[f"ear{side}"] = np.clip(1 - _F(1.5) * a.yaw * side, 0, 1)
    g["by"] = g["ey"] - _F(0.16) - _F(0.05) * a.brow_raise
    g["nx"], g["ny"] = a.yaw * _F(0.3), g["fy"] + _F(0.24)
    g["mx"], g["my"] = a.yaw * _F(0.24), g["fy"] * _F(0.8) + _F(0.52)
    g["mw"] = a.mouth_width * (1 - _F(0.25) * np.abs(a.yaw))
    return {k: np.asarray(v, _F) for k, v in g.items()}


def landmarks(attrs: FaceAttributes) -> dict[str, np.ndarray]:
    """Where the parts of each face are in the image, for evaluation and editing work.

    Returns:
        ``{name: float32 [B, 2]}`` of (x, y) in [-1, 1] image units (x right, y down; pixel
        column = (x + 1) * R / 2 - 0.5) for ``left_eye``, ``right_eye`` (as seen in the image),
        ``nose``, ``mouth`` and ``crown`` (top of the head, under any hair or hat).
    """
    g = _geometry(attrs)
    local = {
        "left_eye": (g["ex-1"], g["ey"]),
        "right_eye": (g["ex1"], g["ey"]),
        "nose": (g["nx"], g["ny"]),
        "mouth": (g["mx"], g["my"] + attrs.smile * _F(0.07)),
        "crown": (np.zeros_like(g["bt"]), -g["bt"] * _F(0.75)),
    }
    cos, sin, s = np.cos(attrs.roll), np.sin(attrs.roll), attrs.scale
    out = {}
    for name, (u, v) in local.items():
        x = attrs.center_x + s * (cos * u - sin * v)
        y = attrs.center_y + s * (sin * u + cos * v)
        out[name] = np.stack([x, y], axis=1).astype(_F)
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
    g = _geometry(attrs)
    _background(frame, attrs)
    _hair_back(frame, attrs, g)
    _body(frame, attrs, g)
    _ears(frame, attrs, g)
    _head_layer(frame, attrs, g)
    _beard(frame, attrs, g)
    _hair_front(frame, attrs, g)
    _nose(frame, attrs, g)
    for side in (-1, 1):
        _eye(frame, attrs, g, side)
        _brow(frame, attrs, g, side)
    _mouth(frame, attrs, g)
    _glasses(frame, attrs, g)
    _hat(frame, attrs, g)
    pixels = np.clip(frame.canvas, 0, 1) * _F(255) + _F(0.5)
    return pixels.astype(np.uint8)


def _faces(mask: np.ndarray) -> np.ndarray:
    return np.flatnonzero(mask)


def _background(frame: _Frame, a: FaceAttributes) -> None:
    grid = frame.grid
    t = np.clip(_F(0.5) + _F(0.5) * grid, 0, 1)[None, None, :, None]  # top to bottom
    top, bottom = a.background_top[:, :, None, None], a.background_bottom[:, :, None, None]
    frame.canvas[:] = top + t * (bottom - top)


def _hair_back(frame: _Frame, a: FaceAttributes, g: dict[str, np.ndarray]) -> None:
    style, length = a.hair_style, a.hair_length
    long_, bob, curly = style == 2, style == 3, style == 4
    top = np.where(curly, _F(-1.3) - _F(0.25) * length, _F(-1.12))
    bottom = np.select(
        [long_, bob], [_F(0.35) + length, np.full_like(length, 0.4)], _F(0.75) + _F(0.2) * length
    )
    rx = np.select(
        [long_, bob], [g["a"] + _F(0.17), g["a"] + _F(0.13)], g["a"] + _F(0.3) + _F(0.2) * length
    )
    cv, ry = (top + bottom) / 2, (bottom - top) / 2
    faces = _faces(long_ | bob | curly)
    r = frame.region(faces, -rx, rx, top, bottom)
    if r is None:
        return
    du, dv = r.u / r.p(rx), (r.v - r.p(cv)) / r.p(ry)
    u2, v2 = du * du, dv * dv
    roundness = r.p(np.where(curly, _F(0), _F(0.8)))
    k2 = np.sqrt(u2 + v2)
    k = k2 + roundness * (np.sqrt(np.sqrt(u2 * u2 + v2 * v2)) - k2)
    r.paint(r.cover((k - 1) * r.p(np.minimum(rx, ry))), a.hair_color * _F(0.8))


def _body(frame: _Frame, a: FaceAttributes, g: dict[str, np.ndarray]) -> None:
    r = frame.region(None, -1.6, 1.6, 1.15, 2.75, upright=True)
    if r is not None:
        dv = r.v - _F(1.95)
        d = _ellipse(r.u, dv, _F(1.5), _F(0.78))
        shade = _F(1) - _F(0.25) * np.clip(np.abs(r.u) - _F(0.6), 0, 1)
        r.paint(r.cover(d), r.p(a.shirt_color) * shade[:, None])
    half = g["a"] * _F(0.42)
    r = frame.region(None, -half, half, 0.3, 1.5)
    if r is not None:
        d = _rounded_box(r.u, r.v - _F(0.9), r.p(half), _F(0.6), 0.12)
        r.paint(r.cover(d), a.skin_color * _F(0.8))


def _ears(frame: _Frame, a: FaceAttributes, g: dict[str, np.ndarray]) -> None:
    for side in (-1, 1):
        visible = g[f"ear{side}"]
        x = side * (g["a"] - _F(0.03)) + g["fx"] * _F(0.3)
        r = frame.region(_faces(visible > 0.05), x - 0.15, x + 0.15, -0.22, 0.22)
        if r is None:
            continue
        d = _ellipse(r.u - r.p(x), r.v, r.p(_F(0.11) * visible), _F(0.17))
        r.paint(r.cover(d), a.skin_color * _F(0.92))


def _head_layer(frame: _Frame, a: FaceAttributes, g: dict[str, np.ndarray]) -> None:
    r = frame.region(None, -g["a"], g["a"], -g["bt"], g["bb"])
    if r is None:
        return
    geo = {k: r.p(g[k]) for k in ("a", "bt", "bb", "jaw", "sq")}
    d, nu, nv = _head(r.u, r.v, geo)
    nu, nv = np.clip(nu, -1, 1), np.clip(nv, -1, 1)
    nz = np.sqrt(np.clip(1 - nu * nu - nv * nv, 0, 1))
    angle = a.light_angle
    light = np.stack([np.cos(angle) * 0.7, np.sin(angle) * 0.5 - 0.3, np.full_like(angle, 0.65)])
    light = (light / np.linalg.norm(light, axis=0)).astype(_F)
    lx, ly, lz = (r.p(component) for component in light)
    strength = r.p(a.light_strength)
    shade = (1 - strength) + strength * _F(1.4) * np.clip(nu * lx + nv * ly + nz * lz, 0, 1)
    r.paint(r.cover(d), r.p(a.skin_color) * shade[:, None])


def _beard(frame: _Frame, a: FaceAttributes, g: dict[str, np.ndarray]) -> None:
    r = frame.region(_faces(a.beard), -g["a"] - 0.02, g["a"] + 0.02, g["my"] - 0.5, g["bb"] + 0.05)
    if r is None:
        return
    geo = {k: r.p(g[k]) for k in ("a", "bt", "bb", "jaw", "sq")}
    d_head = _head(r.u, r.v, geo)[0]
    edge = r.p(g["my"]) - _F(0.13) - _F(0.35) * (r.u / geo["a"]) ** 2
    r.paint(r.cover(np.maximum(d_head - _F(0.02), edge - r.v)) * _F(0.95), a.hair_color)


def _hair_front(frame: _Frame, a: FaceAttributes, g: dict[str, np.ndarray]) -> None:
    style, length = a.hair_style, a.hair_length
    thick = np.choose(style, [_F(0), _F(0.06), _F(0.08), _F(0.09), _F(0.16)]).astype(_F)
    line = np.choose(
        style,
        [
            _F(0),
            _F(-0.55) + _F(0.12) * length,
            _F(-0.5) + _F(0.12) * length,
            _F(-0.3) + _F(0.1) * length,
            _F(-0.5),
        ],
    ).astype(_F)
    curve = np.choose(style, [_F(0), _F(0.5), _F(1.0), _F(0.9), _F(0.7)]).astype(_F)
    reach = g["a"] + thick + np.abs(g["fx"]) * _F(0.5)
    lowest = line + g["fy"] + curve * reach * reach + _F(0.12) * np.abs(a.hair_part) * reach
    bottom = np.minimum(lowest, g["bb"] + thick)
    # The head's distance is scaled by its half-width, so a dilation reaches bt / a further up.
    top = -g["bt"] - thick * g["bt"] / g["a"]
    r = frame.region(_faces(style > 0), -reach, reach, top, bottom)
    if r is None:
        return
    geo = {k: r.p(g[k]) for k in ("a", "bt", "bb", "jaw", "sq")}
    d_head = _head(r.u, r.v, geo)[0]
    u = r.u - r.p(g["fx"]) * _F(0.5)
    hairline = r.p(line + g["fy"]) + r.p(curve) * u * u - r.p(a.hair_part) * _F(0.12) * u
    d = np.maximum(d_head - r.p(thick), r.v - hairline)
    r.paint(r.cover(d), a.hair_color)


def _nose(frame: _Frame, a: FaceAttributes, g: dict[str, np.ndarray]) -> None:
    size = a.nose_size
    r = frame.region(
        None, g["nx"] - 0.12 * size, g["nx"] + 0.12 * size, g["ny"] - 0.08, g["ny"] + 0.08
    )
    if r is None:
        return
    du, dv = r.u - r.p(g["nx"]), r.v - r.p(g["ny"])
    ns = r.p(size)
    r.paint(
        r.cover(_ellipse(du, dv, _F(0.065) * ns, _F(0.045) * ns)) * _F(0.55),
        a.skin_color * _F(0.72),
    )
    for side in (-1, 1):
        d = _ellipse(du - side * _F(0.035) * ns, dv - _F(0.02) * ns, _F(0.02) * ns, _F(0.013) * ns)
        r.paint(r.cover(d) * _F(0.7), _NOSTRIL)


def _eye(frame: _Frame, a: FaceAttributes, g: dict[str, np.ndarray], side: int) -> None:
    ex, ey, we, he = g[f"ex{side}"], g["ey"], g[f"we{side}"], g[f"he{side}"]
    r = frame.region(None, ex - we - 0.03, ex + we + 0.03, ey - we - 0.03, ey + we)
    if r is None:
        return
    du, dv = r.u - r.p(ex), r.v - r.p(ey)
    w, h = r.p(we), r.p(np.maximum(he, _F(1e-3)))
    white = r.cover(_ellipse(du, dv, w, h))
    r.paint(white, _EYE_WHITE)
    iris_r = w * _F(0.52)
    di = du - r.p(a.gaze) * _F(0.35) * w
    dist = np.sqrt(di * di + dv * dv)
    r.paint(np.minimum(r.cover(dist - iris_r), white), a.eye_color)
    r.paint(np.minimum(r.cover(dist - iris_r * _F(0.45)), white), _DARK)
    glint = np.sqrt((di + iris_r * _F(0.3)) ** 2 + (dv + iris_r * _F(0.3)) ** 2)
    r.paint(np.minimum(r.cover(glint - iris_r * _F(0.18)), white) * _F(0.8), _EYE_WHITE)
    lid = r.p(ey) - h * np.sqrt(np.clip(1 - (du / w) ** 2, 0, 1))
    lash = np.maximum(np.abs(r.v - lid) - _F(0.012), np.abs(du) - w * _F(1.05))
    r.paint(r.cover(lash), _DARK)


def _brow(frame: _Frame, a: FaceAttributes, g: dict[str, np.ndarray], side: int) -> None:
    ex, by = g[f"ex{side}"], g["by"]
    half = g[f"we{side}"] * _F(1.15)
    r = frame.region(None, ex - half - 0.06, ex + half + 0.06, by - 0.12, by + 0.12)
    if r is None:
        return
    du = r.u - r.p(ex)
    length = r.p(half)
    t = np.clip(du, -length, length)
    centre = r.p(by) - r.p(a.brow_tilt) * _F(0.5) * side * t - _F(0.035) * (1 - (t / length) ** 2)
    d = np.sqrt((du - t) ** 2 + (r.v - centre) ** 2) - r.p(a.brow_thickness) * _F(0.5)
    r.paint(r.cover(d), a.hair_color * _F(0.7))


def _mouth(frame: _Frame, a: FaceAttributes, g: dict[str, np.ndarray]) -> None:
    mx, my, mw = g["mx"], g["my"], g["mw"]
    r = frame.region(None, mx - mw - 0.05, mx + mw + 0.05, my - 0.12, my + 0.2)
    if r is None:
        return
    w = r.p(mw)
    t = (r.u - r.p(mx)) / w
    across = np.clip(1 - t * t, 0, 1)
    centre = r.p(my) + r.p(a.smile) * _F(0.07) * across
    opening = r.p(a.mouth_open) * _F(0.09) * np.sqrt(across)
    upper, lower = centre - opening * _F(0.3), centre + opening
    ends = (np.abs(t) - 1) * w
    lips = np.maximum(np.maximum(upper - _F(0.022) - r.v, r.v - lower - _F(0.03)), ends)
    r.paint(r.cover(lips), a.lip_color)
    inside = np.maximum(np.maximum(upper - r.v, r.v - lower), ends)
    r.paint(r.cover(inside), _MOUTH_INSIDE)
    teeth = np.maximum(inside, r.v - (upper + (lower - upper) * _F(0.35)))
    r.paint(r.cover(teeth) * r.p((a.smile > 0.2).astype(_F)), _TEETH)


def _glasses(frame: _Frame, a: FaceAttributes, g: dict[str, np.ndarray]) -> None:
    faces = _faces(a.glasses | a.sunglasses)
    lw, lh = _F(0.16) + a.eye_size * _F(0.3), _F(0.12) + a.eye_size * _F(0.2)
    ey = g["ey"] + _F(0.01)
    r = frame.region(faces, -g["a"] - 0.05, g["a"] + 0.05, ey - lh - 0.05, ey + lh + 0.05)
    if r is None:
        return
    dark = r.p(a.sunglasses.astype(_F))
    lens_alpha = _F(0.12) + dark * _F(0.82)
    lens_color = r.p(a.lens_color) * dark[:, None] + (1 - dark[:, None])
    frame_half = _F(0.014)
    dv = r.v - r.p(ey)
    w, h = r.p(lw), r.p(lh)
    inner = []
    for side in (-1, 1):
        ex = r.p(g[f"ex{side}"])
        lens = _rounded_box(r.u - ex, dv, w, h, 0.06)
        r.paint(r.cover(lens) * lens_alpha, lens_color)
        r.paint(r.cover(np.abs(lens) - frame_half), r.p(a.frame_color))
        outer = ex + side * w
        temple_len = (r.p(g["a"]) - side * outer) * _F(0.5)
        temple = _capsule(
            r.u - (outer + side * temple_len),
            dv + h * _F(0.5),
            np.maximum(temple_len, 0),
            frame_half,
        )
        r.paint(r.cover(temple), r.p(a.frame_color))
        inner.append(ex - side * w)
    bridge_c, bridge_half = (inner[0] + inner[1]) / 2, (inner[1] - inner[0]) / 2
    bridge = _capsule(r.u - bridge_c, dv + h * _F(0.35), np.maximum(bridge_half, 0), frame_half)
    r.paint(r.cover(bridge), r.p(a.frame_color))


def _hat(frame: _Frame, a: FaceAttributes, g: dict[str, np.ndarray]) -> None:
    line = _F(-0.42) + g["fy"] * _F(0.5)
    reach = g["a"] + _F(0.16)
    r = frame.region(_faces(a.hat), -reach, reach, -g["bt"] - 0.45, line + 0.1)
    if r is None:
        return
    geo = {k: r.p(g[k]) for k in ("a", "bt", "bb", "jaw", "sq")}
    d_head = _head(r.u, r.v, geo)[0]
    hat = r.p(a.hat_color)
    r.paint(r.cover(np.maximum(d_head - _F(0.13), r.v - r.p(line))), hat)
    cuff = _rounded_box(r.u, r.v - r.p(line - _F(0.05)), r.p(reach), _F(0.08), 0.05)
    r.paint(r.cover(cuff), hat * _F(0.8))
    pom = np.sqrt(r.u**2 + (r.v - r.p(-g["bt"] - _F(0.2))) ** 2) - _F(0.13)
    r.paint(r.cover(pom), np.clip(hat * _F(1.25), 0, 1))
