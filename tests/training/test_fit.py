import pytest
import torch
from lightning.pytorch.callbacks import ModelCheckpoint

from stylegan_lit.training import NonFiniteLossError
from tests.training.helpers import tiny_data, tiny_growth, tiny_module, tiny_trainer


def weights(module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in module.state_dict().items()}


def test_fit_grows_through_levels(tmp_path):
    module, growth = tiny_module(), tiny_growth(total_kimg=0.096)
    trainer = tiny_trainer(tmp_path, [growth])
    trainer.fit(module, datamodule=tiny_data())
    assert int(module.images_seen) == 96
    assert int(module.resolution) == 16 and float(module.alpha) == 1.0
    assert trainer.current_epoch >= 1  # one epoch per level
    # Structure changed at the start and at the end of the fade-in: two resets.
    assert growth.optimizer_resets == 2
    # Weights trained and the EMA follows G.
    assert all(torch.isfinite(p).all() for p in module.parameters())
    assert not torch.equal(module.generator_ema.synthesis.blocks["16"].conv1.weight,
                           tiny_module().generator.synthesis.blocks["16"].conv1.weight)  # fmt: skip
    assert module.generator.mapping.w_avg.abs().sum() > 0
    samples = module.sample(torch.randn(3, 16))
    assert samples.shape == (3, 3, 16, 16)


@pytest.mark.parametrize(
    ("stop_batches", "how"),
    [
        (4, "stop"),  # the last batch of the 8 px level: the next epoch starts the fade
        (4, "periodic"),
        (5, "stop"),  # stopped inside the fade-in, checkpoint written after fit returns
        (7, "stop"),  # the last batch of the fade-in
        (6, "periodic"),  # a mid-epoch checkpoint written by ModelCheckpoint while training on
    ],
)
def test_exact_resume_mid_fade(tmp_path, stop_batches, how):
    total = 0.096  # 12 batches of 8
    full = tiny_module()
    tiny_trainer(tmp_path / "full", [tiny_growth(total)]).fit(full, datamodule=tiny_data())

    first = tiny_module()
    ckpt = tmp_path / "stop.ckpt"
    if how == "stop":
        trainer = tiny_trainer(tmp_path / "a", [tiny_growth(total)], max_steps=2 * stop_batches)
        trainer.fit(first, datamodule=tiny_data())
        assert int(first.images_seen) == 8 * stop_batches
        # What the next batch trains: the fade to 16 px, which starts at 32 images.
        assert (first.resolution, first.alpha) == (16, (8 * stop_batches - 32) / 32)
        trainer.save_checkpoint(ckpt)
    else:
        saver = ModelCheckpoint(
            dirpath=tmp_path / "ckpts", every_n_train_steps=2 * stop_batches, save_top_k=-1
        )
        trainer = tiny_trainer(
            tmp_path / "a", [tiny_growth(total), saver], enable_checkpointing=True, max_steps=18
        )
        trainer.fit(first, datamodule=tiny_data())
        (written,) = (tmp_path / "ckpts").glob(f"*step={2 * stop_batches}.ckpt")
        ckpt = written

    resumed = tiny_module(init_seed=99)  # different init: everything must come from the file
    tiny_trainer(tmp_path / "b", [tiny_growth(total)]).fit(
        resumed, datamodule=tiny_data(), ckpt_path=ckpt
    )
    assert int(resumed.images_seen) == int(full.images_seen) == 96
    expected, actual = weights(full), weights(resumed)
    assert expected.keys() == actual.keys()
    for key in expected:
        torch.testing.assert_close(actual[key], expected[key], rtol=0, atol=0, msg=key)


def test_nonfinite_steps_are_skipped_then_stop(tmp_path):
    module = tiny_module(max_nonfinite_steps=3)
    with torch.no_grad():
        module.discriminator.epilogue.out.weight.fill_(float("nan"))
    before = weights(module)
    trainer = tiny_trainer(tmp_path, [tiny_growth()])
    with pytest.raises(NonFiniteLossError, match="3 consecutive steps"):
        trainer.fit(module, datamodule=tiny_data())
    assert int(module.nonfinite_skips) == 3
    # No step was taken on non-finite gradients: G is untouched.
    for key, value in weights(module.generator).items():
        torch.testing.assert_close(
            value, before[f"generator.{key}"], rtol=0, atol=0, equal_nan=True
        )


def test_checkpoint_from_other_config_rejected(tmp_path):
    module = tiny_module()
    trainer = tiny_trainer(tmp_path, [tiny_growth()], max_steps=2)
    trainer.fit(module, datamodule=tiny_data())
    ckpt = tmp_path / "a.ckpt"
    trainer.save_checkpoint(ckpt)
    from stylegan_lit.models import Discriminator, Generator
    from stylegan_lit.training import StyleGANModule

    other = StyleGANModule(
        Generator(z_dim=16, w_dim=16, mapping_layers=2, resolution=16, fmap_base=128, fmap_max=32),
        Discriminator(resolution=16, fmap_base=128, fmap_max=32),
    )
    with pytest.raises(ValueError, match="does not match this config"):
        tiny_trainer(tmp_path, [tiny_growth()]).fit(other, datamodule=tiny_data(), ckpt_path=ckpt)


def test_wgan_gp_trains(tmp_path):
    module = tiny_module(loss="wgan-gp")
    tiny_trainer(tmp_path, [tiny_growth(total_kimg=0.032)]).fit(module, datamodule=tiny_data())
    assert int(module.images_seen) == 32
    assert all(torch.isfinite(p).all() for p in module.parameters())


@pytest.mark.parametrize("precision", ["bf16-mixed", "16-mixed"])
def test_mixed_precision_trains_with_fp32_r1(tmp_path, precision):
    module = tiny_module(r1_interval=1)
    trainer = tiny_trainer(tmp_path, [tiny_growth(total_kimg=0.048)], precision=precision)
    trainer.fit(module, datamodule=tiny_data())
    assert int(module.images_seen) == 48
    assert all(p.dtype == torch.float32 for p in module.parameters())
    assert all(torch.isfinite(p).all() for p in module.parameters())
    assert torch.isfinite(trainer.callback_metrics["loss/r1"])


def test_microbatches_accumulate_to_the_same_gradients(tmp_path, monkeypatch):
    # Micro-batches of 4 accumulate gradients averaged over the same 8 images: the first D
    # and G gradients equal the one-pass ones up to float rounding. (Minibatch-std groups
    # are per forward pass, so they are made trivial here.)
    from stylegan_lit.training.module import StyleGANModule

    original = StyleGANModule._step
    captured: list[dict[str, torch.Tensor]] = []

    def spy(self, optimizer, network, name):
        captured.append(
            {k: p.grad.clone() for k, p in network.named_parameters() if p.grad is not None}
        )
        return original(self, optimizer, network, name)

    monkeypatch.setattr(StyleGANModule, "_step", spy)
    runs = []
    for micro in (None, 4):
        captured.clear()
        module = tiny_module(max_microbatch=micro, reuse_fakes=False, mbstd_group_size=1)
        trainer = tiny_trainer(tmp_path / str(micro), [tiny_growth(total_kimg=0.008)])
        trainer.fit(module, datamodule=tiny_data())
        runs.append(list(captured))
    assert len(runs[0]) == len(runs[1]) == 2  # one D step and one G step
    for one_pass, chunked in zip(runs[0], runs[1], strict=True):
        assert one_pass.keys() == chunked.keys()
        # Per-pixel noise is drawn per forward pass, so only its strengths' gradients differ.
        keys = [k for k in one_pass if not k.endswith("noise.strength")]
        # Float rounding of sums of large per-sample terms: compare to the whole gradient's
        # norm (some gradients, e.g. biases before instance norm, are ~0 up to rounding).
        scale = torch.stack([one_pass[k].norm() for k in keys]).norm()
        for key in keys:
            assert (chunked[key] - one_pass[key]).norm() <= 1e-5 * scale, key


def test_total_not_a_multiple_of_the_batch_ends_cleanly(tmp_path):
    # 0.100 kimg at batch 8: the last batch overshoots to 104 images; training still ends.
    module = tiny_module()
    tiny_trainer(tmp_path, [tiny_growth(total_kimg=0.1)]).fit(module, datamodule=tiny_data())
    assert int(module.images_seen) == 104


def test_a_run_ending_at_a_level_boundary_keeps_the_trained_level(tmp_path):
    # 32 images end the 8 px level; the next level (the fade to 16 px) never trained, so the
    # module (and so its final grids, metrics and checkpoint) must still say 8 px, alpha 1.
    module = tiny_module()
    tiny_trainer(tmp_path, [tiny_growth(total_kimg=0.032)]).fit(module, datamodule=tiny_data())
    assert int(module.images_seen) == 32
    assert int(module.resolution) == 8 and float(module.alpha) == 1.0
