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


@pytest.mark.slow
def test_compiled_training_through_a_fade_matches_eager(tmp_path):
    """8 px, a fade to 16 px with alpha passed as a tensor, and 16 px: the compiled run (the
    'aot_eager' backend, which needs no C++ compiler and traces the same graphs as inductor)
    ends at the weights of the eager run, to float tolerance, without falling back."""
    results = {}
    for compiled in (False, True):
        module = tiny_module(r1_interval=4)
        module.hparams.compile = compiled
        if compiled:
            module.setup("fit")  # builds the wrappers; point them at the portable backend
            module._synthesize = CompiledOrEager(
                module.generator.synthesis.forward, "G", backend="aot_eager"
            )
            module._discriminate = CompiledOrEager(
                module.discriminator.forward, "D", backend="aot_eager"
            )
        trainer = tiny_trainer(tmp_path / str(compiled), [tiny_growth(total_kimg=0.096)])
        trainer.fit(module, datamodule=tiny_data())
        if compiled:
            assert module._synthesize.is_compiled and module._discriminate.is_compiled
        results[compiled] = [p.detach().clone() for p in module.generator_ema.parameters()]
    torch.testing.assert_close(results[True], results[False], rtol=1e-4, atol=1e-5)
