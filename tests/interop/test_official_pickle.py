"""Official StyleGAN v1 pickles (built here, tiny) load into our networks and compute what
the official networks compute, fused layers included; bad files are refused."""

from __future__ import annotations

import os
import pickle

import numpy as np
import pytest
import torch

from stylegan_lit.interop import OfficialPickleError, crop_rows, load_official_pickle
from stylegan_lit.nn import set_fused_ops
from tests.interop.official_format import (
    dumps,
    generator_network,
    network,
    official_discriminator,
    official_mapping,
    official_pickle_parts,
    official_synthesis,
    official_truncate,
    release_tuple,
)

TOLERANCE = dict(rtol=1e-5, atol=1e-5)
"""Float64 evaluation of float32 weights: what remains is the float32 rounding of the AdaIN
scale bias, which we store with the official run-time ``+ 1`` folded in (about 1e-7
relative)."""
FUSED_RULES = {True: lambda r: True, False: lambda r: False, "auto": lambda r: r >= 128}


def _write(tmp_path, obj, name="net.pkl"):
    path = tmp_path / name
    path.write_bytes(dumps(obj))
    return path


def _official_images(parts, role, z, fused_scale, psi=1.0, cutoff=0):
    g, mapping, synthesis = parts[role]
    kw = parts["g_kwargs"]
    num_ws = 2 * int(np.log2(kw["resolution"])) - 2
    w = official_mapping(mapping, z, kw["mapping_layers"])
    dlatents = w[:, None].expand(-1, num_ws, -1)
    if cutoff:
        dlatents = official_truncate(dlatents, g["dlatent_avg"], psi, cutoff)
    return official_synthesis(synthesis, dlatents, kw["resolution"], FUSED_RULES[fused_scale])


@pytest.mark.parametrize("fused_scale", [True, False])
@pytest.mark.parametrize("our_fused", [True, False])
def test_generators_compute_what_the_official_ones_compute(tmp_path, fused_scale, our_fused):
    parts = official_pickle_parts(1, fused_scale=fused_scale)
    nets = load_official_pickle(_write(tmp_path, release_tuple(parts)))
    z = torch.randn(3, 8, dtype=torch.float64)
    for role, ours in (("G", nets.G), ("Gs", nets.G_ema)):
        assert ours is not None
        set_fused_ops(ours, resampling=our_fused)
        expected = _official_images(parts, role, z, fused_scale)
        got = ours.double()(z, noise_mode="const")
        torch.testing.assert_close(got, expected, **TOLERANCE)
        # float32, as the networks are loaded: float precision of the reference.
        got32 = ours.float()(z.float(), noise_mode="const")
        assert (got32.double() - expected).abs().max() < 1e-4


def test_fused_scale_auto_flips_only_the_fused_layers_of_high_resolution(tmp_path):
    """At 128 px 'auto' fuses the 64 -> 128 upsampling conv (official rule: output >= 128) and
    D's 128 px downsampling conv: both must still match, and the flip must matter."""
    parts = official_pickle_parts(2, resolution=128, fmap_base=256, fmap_max=4, fused_scale="auto")
    nets = load_official_pickle(_write(tmp_path, release_tuple(parts)))
    assert nets.fused_up_resolutions == [128] and nets.fused_down_resolutions == [128]
    z = torch.randn(2, 8, dtype=torch.float64)
    expected = _official_images(parts, "Gs", z, "auto")
    assert nets.G_ema is not None and nets.D is not None
    torch.testing.assert_close(nets.G_ema.double()(z, noise_mode="const"), expected, **TOLERANCE)
    # The official fused conv is not upsample-then-conv with the stored kernel.
    unfused = _official_images(parts, "Gs", z, False)
    assert (unfused - expected).abs().max() > 1e-2
    images = torch.randn(4, 3, 128, 128, dtype=torch.float64)
    reference = official_discriminator(parts["D"], images, 128, FUSED_RULES["auto"])
    torch.testing.assert_close(nets.D.double()(images), reference, **TOLERANCE)


@pytest.mark.parametrize("fused_scale", [True, False])
def test_discriminator_computes_what_the_official_one_computes(tmp_path, fused_scale):
    parts = official_pickle_parts(3, fused_scale=fused_scale)
    nets = load_official_pickle(_write(tmp_path, release_tuple(parts)))
    assert nets.D is not None
    images = torch.randn(8, 3, 16, 16, dtype=torch.float64)
    expected = official_discriminator(parts["D"], images, 16, FUSED_RULES[fused_scale])
    for fused in (True, False):
        set_fused_ops(nets.D, resampling=fused)
        torch.testing.assert_close(nets.D.double()(images), expected, **TOLERANCE)


def test_every_parameter_and_buffer_comes_from_the_file(tmp_path):
    parts = official_pickle_parts(4)
    nets = load_official_pickle(_write(tmp_path, release_tuple(parts)))
    assert nets.G_ema is not None
    g, _, synthesis = parts["Gs"]
    np.testing.assert_array_equal(nets.G_ema.mapping.w_avg.numpy(), g["dlatent_avg"])
    noise = nets.G_ema.synthesis.blocks["8"].epilogue1.noise.noise_const
    np.testing.assert_array_equal(noise.numpy(), synthesis["noise3"])
    assert nets.generator_config == dict(
        z_dim=8, w_dim=8, resolution=16, mapping_layers=2, mapping_lr_multiplier=0.01,
        w_avg_beta=0.995, fmap_base=64, fmap_max=16, img_channels=3,
    )  # fmt: skip
    assert nets.discriminator_config is not None
    assert nets.discriminator_config["mbstd_group_size"] == 4


def test_truncation_defaults_are_the_official_ones(tmp_path):
    parts = official_pickle_parts(5)
    nets = load_official_pickle(_write(tmp_path, release_tuple(parts)))
    assert (nets.truncation_psi, nets.truncation_cutoff) == (0.7, 8)
    z = torch.randn(2, 8, dtype=torch.float64)
    assert nets.G_ema is not None
    got = nets.G_ema.double()(
        z, truncation_psi=nets.truncation_psi, truncation_cutoff=nets.truncation_cutoff,
        noise_mode="const",
    )  # fmt: skip
    expected = _official_images(parts, "Gs", z, "auto", psi=0.7, cutoff=8)
    torch.testing.assert_close(got, expected, **TOLERANCE)
    for extra, defaults in (
        ({"truncation_psi": None}, (1.0, None)),
        ({"truncation_cutoff": None}, (1.0, None)),
        ({"truncation_psi": 0.5, "truncation_cutoff": 4}, (0.5, 4)),
    ):
        parts = official_pickle_parts(5, g_extra=extra)
        nets = load_official_pickle(_write(tmp_path, release_tuple(parts)))
        assert (nets.truncation_psi, nets.truncation_cutoff) == defaults


def test_a_pickle_of_gs_alone_and_grayscale(tmp_path):
    parts = official_pickle_parts(6, num_channels=1)
    gs = generator_network("Gs", parts["g_kwargs"], parts["Gs"])
    nets = load_official_pickle(_write(tmp_path, gs))
    assert nets.G is None and nets.D is None and nets.G_ema is not None
    assert nets.generator_config["img_channels"] == 1
    z = torch.randn(2, 8, dtype=torch.float64)
    torch.testing.assert_close(
        nets.G_ema.double()(z, noise_mode="const"),
        _official_images(parts, "Gs", z, "auto"),
        **TOLERANCE,
    )


def test_wide_models_crop_to_their_picture():
    images = torch.arange(2 * 3 * 512 * 512, dtype=torch.float32).reshape(2, 3, 512, 512)
    cropped = crop_rows(images, 384)
    assert cropped.shape == (2, 3, 384, 512)
    torch.testing.assert_close(cropped, images[:, :, 64:448])


class _RunsShell:
    def __init__(self, command: str) -> None:
        self.command = command

    def __reduce__(self):
        return (os.system, (self.command,))


def test_a_pickle_that_would_run_code_is_refused_before_it_runs(tmp_path):
    marker = tmp_path / "ran"
    path = tmp_path / "evil.pkl"
    path.write_bytes(pickle.dumps(_RunsShell(f"touch {marker}")))
    with pytest.raises(OfficialPickleError, match=r"refusing to load global (posix|os|nt)\.system"):
        load_official_pickle(path)
    assert not marker.exists()
    # Hidden inside an otherwise valid network, too.
    parts = official_pickle_parts(7)
    gs = generator_network("Gs", parts["g_kwargs"], parts["Gs"])
    gs.state["static_kwargs"]["resolution"] = _RunsShell(f"touch {marker}")
    path.write_bytes(dumps(gs))
    with pytest.raises(OfficialPickleError, match="system"):
        load_official_pickle(path)
    assert not marker.exists()
    # Not a pickle at all.
    path.write_bytes(b"not a pickle")
    with pytest.raises(OfficialPickleError, match="could not be read"):
        load_official_pickle(path)


def _gs_with(parts, edit):
    gs = generator_network("Gs", parts["g_kwargs"], parts["Gs"])
    edit(gs)
    return gs


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            lambda gs: gs.state["components"]["synthesis"].state["variables"].pop(),
            r"lacks variable\(s\) \['ToRGB_lod0/bias'\]",
        ),
        (
            lambda gs: (
                gs.state["components"]["mapping"]
                .state["variables"]
                .append(("Dense9/weight", np.zeros((8, 8), np.float32)))
            ),
            r"unknown variable\(s\) \['Dense9/weight'\]",
        ),
        (
            lambda gs: (
                gs.state["components"]["synthesis"].state["static_kwargs"].update(new_knob=1)
            ),
            r"unknown setting\(s\) \['new_knob'\]",
        ),
        (
            lambda gs: (
                gs.state["components"]["synthesis"]
                .state["static_kwargs"]
                .update(use_pixel_norm=True)
            ),
            r"use_pixel_norm=True; only False is supported",
        ),
        (
            lambda gs: gs.state["variables"].__setitem__(0, ("lod", np.float32(1.5))),
            r"saved at lod 1.5",
        ),
        (lambda gs: gs.state.update(build_func_name="G_main"), r"'G_main', not G_style"),
    ],
)
def test_files_that_do_not_fit_are_refused_naming_why(tmp_path, edit, message):
    parts = official_pickle_parts(8)
    with pytest.raises(OfficialPickleError, match=message):
        load_official_pickle(_write(tmp_path, _gs_with(parts, edit)))


def test_a_wrong_shape_is_named(tmp_path):
    parts = official_pickle_parts(9)
    d = network("D", "D_basic", parts["d_kwargs"], {**parts["D"], "4x4/Dense1/bias": np.ones(2)})
    with pytest.raises(OfficialPickleError, match=r"'4x4/Dense1/bias' has shape \(2,\)"):
        load_official_pickle(_write(tmp_path, d))


@pytest.mark.parametrize("protocol", [4, 5])
def test_pickle_protocols_of_the_releases_and_of_today(tmp_path, protocol):
    parts = official_pickle_parts(10)
    gs = generator_network("Gs", parts["g_kwargs"], parts["Gs"])
    (tmp_path / "gs.pkl").write_bytes(dumps(gs, protocol=protocol))
    nets = load_official_pickle(tmp_path / "gs.pkl")
    assert nets.G_ema is not None
    np.testing.assert_array_equal(nets.G_ema.mapping.w_avg.numpy(), parts["Gs"][0]["dlatent_avg"])


def test_numpy_1_names_of_the_reconstructors_resolve():
    """Release pickles were written by NumPy 1, which names its core module numpy.core."""
    import io

    from stylegan_lit.interop.official_pickle import SafeUnpickler

    unpickler = SafeUnpickler(io.BytesIO(b""))
    core = np._core.multiarray  # type: ignore[attr-defined]
    assert unpickler.find_class("numpy.core.multiarray", "_reconstruct") is core._reconstruct
    assert unpickler.find_class("numpy.core.multiarray", "scalar") is core.scalar
    assert unpickler.find_class("numpy", "dtype") is np.dtype
    with pytest.raises(OfficialPickleError, match=r"numpy\.load"):
        unpickler.find_class("numpy", "load")
