"""Training: the LightningModule, losses, EMA and the progressive schedule."""

from stylegan_lit.training.ema import ema_beta, update_ema
from stylegan_lit.training.gradient_sync import GANDDPStrategy, sync_gradients
from stylegan_lit.training.guard import NonFiniteLossError
from stylegan_lit.training.module import StyleGANModule
from stylegan_lit.training.schedule import (
    OFFICIAL_BATCH_SIZES_1GPU,
    OFFICIAL_BATCH_SIZES_8GPU,
    OFFICIAL_LEARNING_RATES,
    Phase,
    ProgressiveSchedule,
)

__all__ = [
    "OFFICIAL_BATCH_SIZES_1GPU",
    "OFFICIAL_BATCH_SIZES_8GPU",
    "OFFICIAL_LEARNING_RATES",
    "GANDDPStrategy",
    "NonFiniteLossError",
    "Phase",
    "ProgressiveSchedule",
    "StyleGANModule",
    "ema_beta",
    "sync_gradients",
    "update_ema",
]
