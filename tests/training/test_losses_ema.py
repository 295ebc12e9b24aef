import pytest
import torch
import torch.nn.functional as F

from stylegan_lit.training import losses
from stylegan_lit.training.ema import ema_beta, ramped_half_life, update_ema
from tests.training.helpers import tiny_module


def test_logistic_losses():
    real, fake = torch.tensor([2.0, -1.0]), torch.tensor([0.5, -3.0])
    expected_d = F.softplus(fake).mean() + F.softplus(-real).mean()
    torch.testing.assert_close(losses.d_logistic_loss(real, fake), expected_d)
    torch.testing.assert_close(losses.g_nonsaturating_loss(fake), F.softplus(-fake).mean())


def test_r1_penalty_of_linear_critic():
    weight = torch.randn(1, 3, 4, 4)
    real = torch.randn(5, 3, 4, 4, requires_grad=True)
    logits = (real * weight).sum(dim=(1, 2, 3))
    torch.testing.assert_close(losses.r1_penalty(logits, real), weight.square().sum())


def test_gradient_penalty_zero_for_unit_gradient_critic():
    weight = torch.randn(1, 3, 4, 4)
    weight = weight / weight.norm()
    critic = lambda x: (x * weight).sum(dim=(1, 2, 3))  # noqa: E731
    real, fake = torch.randn(4, 3, 4, 4), torch.randn(4, 3, 4, 4)
    torch.testing.assert_close(losses.gradient_penalty(critic, real, fake), torch.tensor(0.0))
    critic2 = lambda x: 3 * critic(x)  # noqa: E731
    torch.testing.assert_close(losses.gradient_penalty(critic2, real, fake), torch.tensor(4.0))


def test_wgan_losses():
    real, fake = torch.tensor([1.0, 3.0]), torch.tensor([-1.0, 0.0])
    torch.testing.assert_close(
        losses.d_wgan_loss(real, fake, drift=0.001), torch.tensor(-0.5 - 2 + 0.005)
    )
    torch.testing.assert_close(losses.g_wgan_loss(fake), torch.tensor(0.5))


@pytest.mark.parametrize("batch", [4, 16, 32, 256])
def test_ema_decay_per_image_is_batch_independent(batch):
    images = 1024
    decay = ema_beta(batch, half_life_kimg=10.0) ** (images // batch)
    assert decay == pytest.approx(ema_beta(1, 10.0) ** images, rel=1e-9)
    assert ema_beta(batch, 10.0) ** (10_000 / batch) == pytest.approx(0.5)


def test_ema_same_for_any_gpu_count():
    # 2 GPUs x 8 per GPU (global 16) and 1 GPU x 16 give the same decay per step.
    assert ema_beta(2 * 8, 10.0) == ema_beta(16, 10.0)


def test_ema_rampup_grows_the_half_life_with_training_up_to_its_cap():
    assert ramped_half_life(10.0, None, 0) == 10.0
    # 5% of the images seen: 1 kimg after 20 kimg, 6 after 120, capped at 10 from 200 on.
    assert ramped_half_life(10.0, 0.05, 20_000) == pytest.approx(1.0)
    assert ramped_half_life(10.0, 0.05, 120_000) == pytest.approx(6.0)
    assert ramped_half_life(10.0, 0.05, 400_000) == 10.0
    # Early on the EMA nearly follows G.
    assert ema_beta(8, ramped_half_life(10.0, 0.05, 8)) < 1e-6


def test_update_ema_lerps_params_and_copies_buffers():
    model = torch.nn.BatchNorm1d(3)
    ema = torch.nn.BatchNorm1d(3)
    with torch.no_grad():
        model.weight.fill_(2.0)
        ema.weight.fill_(0.0)
        model.running_mean.fill_(5.0)
    update_ema(ema, model, beta=0.75)
    torch.testing.assert_close(ema.weight, torch.full((3,), 0.5))
    torch.testing.assert_close(ema.running_mean, torch.full((3,), 5.0))


@pytest.mark.parametrize(("rampup", "half_life_kimg"), [(None, 0.1), (0.05, 0.01)])
def test_the_module_moves_its_ema_at_the_ramped_half_life(rampup, half_life_kimg):
    # After 192 + 8 images a ramp of 5% makes the half-life 10 images instead of 100.
    module = tiny_module(ema_half_life_kimg=0.1, ema_rampup=rampup)
    module.images_seen = 192
    with torch.no_grad():
        for p in module.generator.parameters():
            p.add_(1.0)
    before = [p.clone() for p in module.generator_ema.parameters()]
    module._follow_generator(torch.zeros(8, module.generator.w_dim), 8)
    beta = ema_beta(8, half_life_kimg)
    for old, new, target in zip(
        before, module.generator_ema.parameters(), module.generator.parameters(), strict=True
    ):
        torch.testing.assert_close(new, torch.lerp(target, old, beta))


def test_a_non_positive_ema_rampup_is_refused():
    with pytest.raises(ValueError, match="ema_rampup"):
        tiny_module(ema_rampup=0.0)
