import pytest
import torch

from stylegan_lit.checkpoints import CheckpointError, load_discriminator, load_generator
from tests.training.helpers import tiny_data, tiny_growth, tiny_module, tiny_trainer


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    root = tmp_path_factory.mktemp("ckpt")
    module = tiny_module()
    trainer = tiny_trainer(root, [tiny_growth(total_kimg=0.048)])
    trainer.fit(module, datamodule=tiny_data())
    path = root / "model.ckpt"
    trainer.save_checkpoint(path)
    return path, module


def test_generator_round_trip(checkpoint):
    path, module = checkpoint
    loaded = load_generator(path)
    assert loaded.resolution == 16 and loaded.kimg == pytest.approx(0.048)
    assert 0.0 < loaded.alpha <= 1.0
    z = torch.randn(2, 16)
    # The module trains channels_last; bit-equality needs the same memory format.
    module.to(memory_format=torch.contiguous_format)
    expected = module.generator_ema(z, resolution=16, alpha=loaded.alpha, noise_mode="const")
    actual = loaded.generator(z, resolution=16, alpha=loaded.alpha, noise_mode="const")
    torch.testing.assert_close(actual, expected, rtol=0, atol=0)
    torch.testing.assert_close(loaded.generator.mapping.w_avg, module.generator_ema.mapping.w_avg)
    raw = load_generator(path, ema=False).generator
    torch.testing.assert_close(raw.mapping.w_avg, module.generator.mapping.w_avg)
    D = load_discriminator(path)
    img = torch.randn(4, 3, 16, 16)
    torch.testing.assert_close(D(img), module.discriminator.eval()(img))


def test_bad_files_are_refused_clearly(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_generator(tmp_path / "missing.ckpt")
    garbage = tmp_path / "garbage.ckpt"
    garbage.write_bytes(b"not a checkpoint")
    with pytest.raises(CheckpointError, match="could not be read"):
        load_generator(garbage)
    foreign = tmp_path / "foreign.ckpt"
    torch.save({"state_dict": {"w": torch.zeros(1)}}, foreign)
    with pytest.raises(CheckpointError, match="not a stylegan_lit checkpoint"):
        load_generator(foreign)


def test_pickled_code_is_never_executed(tmp_path):
    class Boom:
        def __reduce__(self):
            return (exec, ("raise SystemExit('executed')",))

    evil = tmp_path / "evil.ckpt"
    torch.save({"stylegan_lit": {"generator_config": {}}, "payload": Boom()}, evil)
    with pytest.raises(CheckpointError, match="could not be read"):
        load_generator(evil)
