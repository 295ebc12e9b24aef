"""The torch.compile switch: compiled training matches eager, and failures fall back."""

import logging

import pytest
import torch

from stylegan_lit.training.compile import CompiledOrEager
from tests.training.helpers import tiny_data, tiny_growth, tiny_module, tiny_trainer


def test_compile_falls_back_to_eager_with_a_warning(caplog):
    def broken_backend(gm, example_inputs):
        raise RuntimeError("no compiler here")

    wrapped = CompiledOrEager(lambda x: x * 2, "toy", backend=broken_backend)
    with caplog.at_level(logging.WARNING):
        out = wrapped(torch.ones(3))
    torch.testing.assert_close(out, torch.full((3,), 2.0))
    assert not wrapped.is_compiled
    assert "torch.compile of toy failed" in caplog.text and "eagerly" in caplog.text
    torch.testing.assert_close(wrapped(torch.ones(2)), torch.full((2,), 2.0))  # still works


def test_disabled_wrapper_calls_the_function():
    wrapped = CompiledOrEager(lambda x: x + 1, "toy", enabled=False)
    assert not wrapped.is_compiled
    assert wrapped(1) == 2


@pytest.fixture(autouse=True)
def _fresh_compile_caches():
    """Each test compiles from scratch: guards and recompiles cached for another test's
    modules would otherwise slow every later call."""
    torch._dynamo.reset()
    yield
    torch._dynamo.reset()


def compiled_copies(module):
    """The module's G synthesis and D compiled with the portable 'aot_eager' backend (no C++
    compiler needed; it traces the same graphs as inductor)."""
    return (
        CompiledOrEager(module.generator.synthesis.forward, "G", backend="aot_eager"),
        CompiledOrEager(module.discriminator.forward, "D", backend="aot_eager"),
    )


@pytest.mark.parametrize("alpha", [0.3, 1.0])
def test_compiled_networks_compute_the_eager_function_and_gradients(alpha):
    """Same inputs, same weights: outputs and every parameter gradient of compiled G and D
    equal eager ones to float tolerance, mid-fade (alpha as a device tensor) and after."""
    module = tiny_module()
    synthesize, discriminate = compiled_copies(module)
    torch.manual_seed(0)
    ws = module.generator.mapping(torch.randn(4, 16)).detach()
    fade = torch.tensor(alpha) if alpha < 1 else 1.0
    results = []
    for G, D in ((module.generator.synthesis.forward, module.discriminator.forward),
                 (synthesize, discriminate)):  # fmt: skip
        module.zero_grad(set_to_none=True)
        images = G(ws, resolution=16, alpha=fade, noise_mode="const")
        D(images, alpha=fade).square().sum().backward()
        grads = [p.grad.clone() for p in module.parameters() if p.grad is not None]
        results.append((images.detach(), grads))
    torch.testing.assert_close(results[1][0], results[0][0], rtol=1e-4, atol=1e-5)
    assert len(results[1][1]) == len(results[0][1]) > 0
    torch.testing.assert_close(results[1][1], results[0][1], rtol=1e-4, atol=1e-5)
    assert synthesize.is_compiled and discriminate.is_compiled


@pytest.mark.slow
def test_compiled_training_runs_through_a_fade_without_falling_back(tmp_path):
    """8 px, a fade to 16 px with alpha passed as a tensor, and 16 px, compiled throughout.
    (The weights it ends at are not compared with an eager run's: after a few Adam steps
    float rounding, which differs between compiled and eager kernels and with the thread
    count, moves them by up to a learning rate; the function itself is compared above.)"""
    module = tiny_module(r1_interval=4)
    module.hparams.compile = True
    module.setup("fit")  # builds the wrappers; point them at the portable backend
    module._synthesize, module._discriminate = compiled_copies(module)
    trainer = tiny_trainer(tmp_path, [tiny_growth(total_kimg=0.096)])
    trainer.fit(module, datamodule=tiny_data())
    assert module._synthesize.is_compiled and module._discriminate.is_compiled
    assert int(module.images_seen) == 96 and int(module.resolution) == 16
    assert all(torch.isfinite(p).all() for p in module.generator_ema.parameters())
