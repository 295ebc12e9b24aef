"""``stylegan-lit export --format onnx``: the graph matches PyTorch in onnxruntime within
1e-4, its noise is an input (not drawn, not baked in), truncation psi an input."""

from __future__ import annotations

import pytest
import torch

from stylegan_lit.checkpoints import load_generator
from stylegan_lit.cli.export import main as export_main
from stylegan_lit.interop import load_official_pickle
from stylegan_lit.interop.checkpoint import save_official_checkpoint
from stylegan_lit.interop.onnx_export import ExportableGenerator
from tests.interop.official_format import dumps, official_pickle_parts, release_tuple
from tests.interop.test_finetune import TINY_OFFICIAL

ort = pytest.importorskip("onnxruntime")
pytest.importorskip("onnxscript")
pytestmark = pytest.mark.slow  # one export (torch.export tracing): ~20 s on 2 cores

CUTOFF = 4  # of the 6 style layers at 16 px: truncation reaches only the coarse ones


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    root = tmp_path_factory.mktemp("onnx")
    nets = load_official_pickle(dumps(release_tuple(official_pickle_parts(13, **TINY_OFFICIAL))))
    save_official_checkpoint(nets, root / "imported.ckpt")
    status = export_main(
        [str(root / "imported.ckpt"), str(root / "g.onnx"), "--format", "onnx",
         "--truncation-cutoff", str(CUTOFF)]
    )  # fmt: skip
    assert status == 0
    session = ort.InferenceSession(str(root / "g.onnx"), providers=["CPUExecutionProvider"])
    return session, load_generator(root / "imported.ckpt").generator


def _run(session, z, psi, noise):
    feed = {"z": z.numpy(), "truncation_psi": torch.tensor(psi).numpy()}
    feed.update({f"noise{i}": n.numpy() for i, n in enumerate(noise)})
    return torch.from_numpy(session.run(["images"], feed)[0])


def test_the_graph_computes_what_pytorch_computes(exported):
    session, G = exported
    module = ExportableGenerator(G, truncation_cutoff=CUTOFF)
    assert [i.name for i in session.get_inputs()] == module.input_names()
    for batch, psi in ((1, 1.0), (5, 0.7), (3, 0.0)):  # the batch is dynamic
        z, _, *noise = module.example_inputs(batch, seed=batch)
        expected = module(z, torch.tensor(psi), *noise)
        assert (_run(session, z, psi, noise) - expected).abs().max() < 1e-4


def test_noise_and_truncation_are_inputs(exported):
    session, G = exported
    z = torch.randn(2, 16)
    stored = [
        block.__getattr__(f"epilogue{j}").noise.noise_const.expand(2, -1, -1, -1)
        for block in G.synthesis.blocks.values() for j in range(2)
    ]  # fmt: skip
    for psi in (1.0, 0.5):
        expected = G(z, truncation_psi=psi, truncation_cutoff=CUTOFF, noise_mode="const")
        assert (_run(session, z, psi, stored) - expected).abs().max() < 1e-4
    fresh = [torch.randn_like(n) for n in stored]
    assert (_run(session, z, 1.0, fresh) - _run(session, z, 1.0, stored)).abs().max() > 1e-3
    no_noise = [torch.zeros_like(n) for n in stored]
    expected = G(z, noise_mode="none")
    assert (_run(session, z, 1.0, no_noise) - expected).abs().max() < 1e-4
