import pytest

from stylegan_lit.training.schedule import (
    OFFICIAL_BATCH_SIZES_8GPU,
    OFFICIAL_LEARNING_RATES,
    ProgressiveSchedule,
)


@pytest.fixture
def official() -> ProgressiveSchedule:
    return ProgressiveSchedule(
        start_resolution=8,
        final_resolution=1024,
        stable_kimg=600,
        fade_kimg=600,
        total_kimg=25_000,
        batch_sizes=OFFICIAL_BATCH_SIZES_8GPU,
        learning_rates=OFFICIAL_LEARNING_RATES,
    )


@pytest.mark.parametrize(
    ("kimg", "resolution", "alpha", "batch", "lr"),
    [
        (0, 8, 1.0, 256, 0.001),
        (599.999, 8, 1.0, 256, 0.001),
        (600, 16, 0.0, 128, 0.001),  # fade-in of 16 starts; batch of the new resolution
        (900, 16, 0.5, 128, 0.001),
        (1200, 16, 1.0, 128, 0.001),
        (1800, 32, 0.0, 64, 0.001),
        (4200, 128, 0.0, 32, 0.0015),
        (4500, 128, 0.5, 32, 0.0015),
        (6300, 256, 1.0, 32, 0.002),
        (6900, 512, 0.5, 32, 0.003),
        (7800, 1024, 0.0, 32, 0.003),
        (8400, 1024, 1.0, 32, 0.003),  # 1024 reached at 8,400 kimg, as in DESIGN.md
        (25_000, 1024, 1.0, 32, 0.003),
    ],
)
def test_official_schedule(official, kimg, resolution, alpha, batch, lr):
    phase = official.phase(round(kimg * 1000))
    assert phase.resolution == resolution
    assert phase.alpha == pytest.approx(alpha)
    assert phase.batch_size == batch
    assert phase.learning_rate == lr


def test_levels_tile_training(official):
    starts = [official.level_start(k) for k in range(official.num_levels)]
    assert starts == [0, 600_000, 1_800_000, 3_000_000, 4_200_000, 5_400_000, 6_600_000, 7_800_000]
    for k in range(official.num_levels - 1):
        assert official.level_stop(k) == official.level_start(k + 1)
    assert official.level_stop(official.num_levels - 1) == 25_000_000


def test_lod_matches_official(official):
    # Official lod: log2(1024) - log2(8) = 7 at the start, 0 once 1024 is fully faded in.
    assert official.phase(0).lod == 7
    assert official.phase(900_000).lod == pytest.approx(6.5)
    assert official.phase(8_400_000).lod == 0


def test_no_fade_means_instant_growth():
    schedule = ProgressiveSchedule(8, 32, stable_kimg=1, fade_kimg=0, total_kimg=10,
                                   batch_sizes={8: 4, 16: 4, 32: 4})  # fmt: skip
    assert schedule.phase(999).resolution == 8
    assert schedule.phase(1000).resolution == 16
    assert schedule.phase(1000).alpha == 1.0


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        (dict(start_resolution=12), "start_resolution"),
        (dict(final_resolution=1000), "final_resolution"),
        (dict(start_resolution=64, final_resolution=32), "start_resolution"),
        (dict(batch_sizes={8: 4, 16: 4}), "batch_sizes"),
        (dict(batch_sizes={8: 4, 16: 4, 32: 0}), r"batch_sizes\[32\]"),
        (dict(stable_kimg=-1), "stable_kimg"),
        (dict(fade_kimg=float("nan")), "fade_kimg"),
        (dict(total_kimg=0), "total_kimg"),
        (dict(learning_rates={16: -0.1}), r"learning_rates\[16\]"),
    ],
)
def test_bad_values_name_the_field(kwargs, field):
    base = dict(start_resolution=8, final_resolution=32, batch_sizes={8: 4, 16: 4, 32: 4})
    with pytest.raises(ValueError, match=field):
        ProgressiveSchedule(**{**base, **kwargs})
