"""Fine-tuning from an imported official network: the weights arrive, training runs at the
full resolution from the first step, and a stopped run resumes exactly."""

from __future__ import annotations

import lightning.pytorch as pl
import pytest
import torch

from stylegan_lit.callbacks import ProgressiveGrowing
from stylegan_lit.checkpoint_format import CheckpointError
from stylegan_lit.checkpoints import load_generator
from stylegan_lit.interop import load_official_pickle
from stylegan_lit.interop.checkpoint import save_official_checkpoint
from tests.interop.official_format import dumps, official_pickle_parts, release_tuple
from tests.training.helpers import tiny_data, tiny_module, tiny_trainer

TINY_OFFICIAL = dict(
    resolution=16, fmap_base=64, fmap_max=16, latent_size=16, dlatent_size=16, mapping_layers=2
)  # tests.training.helpers.tiny_module's networks


@pytest.fixture
def imported(tmp_path):
    nets = load_official_pickle(dumps(release_tuple(official_pickle_parts(11, **TINY_OFFICIAL))))
    path = tmp_path / "imported.ckpt"
    save_official_checkpoint(nets, path)
    return path, nets


def _growth(total_kimg=0.064, **kwargs):
    return ProgressiveGrowing(
        start_resolution=None, total_kimg=total_kimg, batch_sizes={16: 8}, **kwargs
    )


def weights(module):
    return {k: v.detach().clone() for k, v in module.state_dict().items()}


def test_the_imported_checkpoint_reads_as_ours_at_full_resolution(imported):
    path, nets = imported
    loaded = load_generator(path)
    assert (loaded.resolution, loaded.alpha) == (16, 1.0)
    assert loaded.kimg == 1200.0  # official schedule: 8 px 600 kimg stable, 600 kimg fade to 16
    z = torch.randn(2, 16)
    torch.testing.assert_close(
        loaded.generator(z, noise_mode="const"), nets.G_ema(z, noise_mode="const"), rtol=0, atol=0
    )
    meta = torch.load(path, weights_only=True)["stylegan_lit"]["imported"]
    assert (meta["truncation_psi"], meta["truncation_cutoff"]) == (0.7, 8)


def test_init_from_loads_every_network(imported):
    path, nets = imported
    module = tiny_module(init_seed=3, init_from=str(path))
    module.load_weights_from(str(path))
    for ours, theirs in ((module.generator, nets.G), (module.generator_ema, nets.G_ema),
                         (module.discriminator, nets.D)):  # fmt: skip
        assert theirs is not None
        for key, value in theirs.state_dict().items():
            torch.testing.assert_close(ours.state_dict()[key], value, rtol=0, atol=0, msg=key)


def test_init_from_a_checkpoint_of_other_networks_is_refused(imported):
    path, _ = imported
    module = tiny_module(init_from=str(path))
    module.generator.config["z_dim"] = 8  # as if built with another config
    with pytest.raises(CheckpointError, match=r"init_from .*z_dim"):
        module.load_weights_from(str(path))


def test_fine_tuning_trains_at_full_resolution_and_resumes_exactly(tmp_path, imported):
    path, nets = imported
    full = tiny_module(init_seed=1, init_from=str(path))
    resolutions: list[int] = []

    class Watch(pl.Callback):
        def on_train_batch_start(self, trainer, module, batch, batch_idx):
            resolutions.append(
                int(batch.shape[-1] if torch.is_tensor(batch) else batch[0].shape[-1])
            )

    tiny_trainer(tmp_path / "full", [_growth(), Watch()]).fit(full, datamodule=tiny_data())
    assert int(full.images_seen) == 64 and set(resolutions) == {16}
    moved = (full.generator.synthesis.blocks["16"].conv1.weight
             - nets.G.synthesis.blocks["16"].conv1.weight).abs().max()  # fmt: skip
    assert 0 < moved < 1  # trained from the imported weights, not from scratch

    first = tiny_module(init_seed=2, init_from=str(path))
    trainer = tiny_trainer(tmp_path / "a", [_growth()], max_steps=6)  # 3 of 8 batches
    trainer.fit(first, datamodule=tiny_data())
    ckpt = tmp_path / "stop.ckpt"
    trainer.save_checkpoint(ckpt)
    resumed = tiny_module(init_seed=99, init_from=str(path))
    tiny_trainer(tmp_path / "b", [_growth()]).fit(resumed, datamodule=tiny_data(), ckpt_path=ckpt)
    expected, actual = weights(full), weights(resumed)
    assert int(resumed.images_seen) == 64 and expected.keys() == actual.keys()
    for key in expected:
        torch.testing.assert_close(actual[key], expected[key], rtol=0, atol=0, msg=key)


def test_init_from_refuses_a_growing_schedule(tmp_path, imported):
    path, _ = imported
    module = tiny_module(init_from=str(path))
    growth = ProgressiveGrowing(start_resolution=8, total_kimg=0.064, batch_sizes={8: 8, 16: 8})
    with pytest.raises(ValueError, match="start_resolution: null"):
        tiny_trainer(tmp_path, [growth]).fit(module, datamodule=tiny_data())
