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
        (dict(lr_rampdown_kimg=-1), "lr_rampdown_kimg"),
        (dict(total_kimg=5, lr_rampdown_kimg=6), "lr_rampdown_kimg"),
    ],
)
def test_bad_values_name_the_field(kwargs, field):
    base = dict(start_resolution=8, final_resolution=32, batch_sizes={8: 4, 16: 4, 32: 4})
    with pytest.raises(ValueError, match=field):
        ProgressiveSchedule(**{**base, **kwargs})


def test_streams_start_where_the_last_full_batch_of_the_level_before_stopped():
    # 8 px trains to 500 in batches of 300 (2 batches, to 600); 16 px fades in from 500 and
    # its stream, from 600 to 1,500, takes 3 batches of 400 (to 1,800); 32 px starts there.
    schedule = ProgressiveSchedule(8, 32, stable_kimg=0.5, fade_kimg=0.5, total_kimg=5,
                                   batch_sizes={8: 300, 16: 400, 32: 500})  # fmt: skip
    assert [schedule.stream_start(level) for level in range(3)] == [0, 600, 1800]
    assert [schedule.stream_level(p) for p in (0, 599, 600, 1799, 1800, 9999)] == [
        0, 0, 1, 1, 2, 2,
    ]  # fmt: skip
    # The batch that ended at an image count began one batch of its own level earlier.
    assert [schedule.batch_start_before(n) for n in (0, 300, 600, 1000, 1800, 2300)] == [
        0, 0, 300, 600, 1400, 1800,
    ]  # fmt: skip
    assert schedule.config["batch_sizes"] == {8: 300, 16: 400, 32: 500}
    assert ProgressiveSchedule(**schedule.config).phase(2000) == schedule.phase(2000)


def test_learning_rate_ramps_down_along_a_half_cosine_to_zero_at_the_end():
    # 10 kimg in all, the last 4 ramped: full rate to 6 kimg, half at 8, zero at 10.
    schedule = ProgressiveSchedule(8, 16, stable_kimg=1, fade_kimg=1, total_kimg=10,
                                   batch_sizes={8: 4, 16: 4}, learning_rates={8: 0.01},
                                   base_lr=0.002, lr_rampdown_kimg=4)  # fmt: skip
    rates = [schedule.phase(n).learning_rate for n in (0, 6000, 7000, 8000, 9000, 9999)]
    assert rates[0] == 0.01  # 8 px, before the ramp: the resolution's own rate
    assert rates[1] == 0.002
    assert rates[2] == pytest.approx(0.002 * (1 + 2**-0.5) / 2)
    assert rates[3] == pytest.approx(0.001)
    assert rates[4] == pytest.approx(0.002 * (1 - 2**-0.5) / 2)
    assert 0 < rates[5] < 1e-8
    assert rates[1:] == sorted(rates[1:], reverse=True)
    assert schedule.config["lr_rampdown_kimg"] == 4
    assert ProgressiveSchedule(**schedule.config).phase(8000) == schedule.phase(8000)
    assert "ramps down to 0 over the last 4 kimg" in schedule.describe()


def test_no_rampdown_by_default(official):
    assert official.phase(24_999_999).learning_rate == 0.003
    assert "ramps down" not in official.describe()
