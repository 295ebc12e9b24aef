"""Op-family classification of ``benchmarks/profile_step.py`` (the profile itself trains;
never run here): a profiler op counted in the wrong family misstates where time goes."""

import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
spec = importlib.util.spec_from_file_location(
    "profile_benchmark", ROOT / "benchmarks" / "profile_step.py"
)
profile_step = importlib.util.module_from_spec(spec)
spec.loader.exec_module(profile_step)


@pytest.mark.parametrize(
    ("op", "family"),
    [
        ("aten::convolution_backward", "convolution"),
        ("aten::mkldnn_convolution", "convolution"),
        ("aten::_convolution", "convolution"),
        ("aten::addmm", "matmul"),
        ("aten::mm", "matmul"),
        ("aten::add_", "elementwise"),
        ("aten::addcmul", "elementwise"),
        ("aten::leaky_relu_backward", "elementwise"),
        ("aten::mean", "reduction/normalisation"),
        ("aten::_to_copy", "copy/cast/layout"),
        ("aten::contiguous", "copy/cast/layout"),
        ("Optimizer.step#Adam.step", "optimizer"),
        ("aten::_foreach_lerp_", "optimizer"),
        ("autograd::engine::evaluate_function: ConvolutionBackward0", "autograd bookkeeping"),
        ("_AdaptiveInstanceNormBackward", "other"),
    ],
)
def test_family_of(op, family):
    assert profile_step.family_of(op) == family


def test_every_variant_names_its_precision():
    """``--variant`` takes the precision from train_step.py's table unless overridden."""
    assert all("precision" in settings for settings in profile_step.VARIANTS.values())


def test_variant_setup_puts_the_switches_over_the_presets_arguments():
    """The precision goes to the Trainer, not the module; the variant's switches win over the
    preset's training arguments, which stay where the variant is silent."""
    precision, settings = profile_step.variant_setup("baseline", "demo")
    assert precision == "32-true" and "precision" not in settings
    assert settings["r1_interval"] == 1 and settings["reuse_fakes"] is False
    assert settings["ema_half_life_kimg"] == 0.5  # configs/demo.yaml's
    assert profile_step.variant_setup("shipped+bf16", "official")[0] == "bf16-mixed"
