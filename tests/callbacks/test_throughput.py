"""Throughput: images/s over logging intervals, from a fake clock, at the losses' steps."""

import csv
from pathlib import Path

import pytest
from lightning.pytorch.loggers import CSVLogger

from stylegan_lit.callbacks import Throughput, ThroughputMeter
from tests.training.helpers import tiny_data, tiny_growth, tiny_module, tiny_trainer


def test_meter_divides_images_by_seconds_between_readings():
    meter = ThroughputMeter()
    assert meter.update(10.0, 0) is None  # the first reading only starts an interval
    assert meter.update(12.0, 64) == {
        "progress/images_per_s": 32.0,
        "progress/sec_per_kimg": pytest.approx(31.25),
    }
    # Each interval stands alone: 96 images in 4 s.
    assert meter.update(16.0, 160)["progress/images_per_s"] == 24.0
    # No images, or no time, gives nothing rather than a fake stall or infinity.
    assert meter.update(17.0, 160) is None
    assert meter.update(17.0, 200) is None
    assert meter.update(19.0, 240)["progress/images_per_s"] == 20.0


class FakeClock:
    """Advances ``tick`` seconds on every reading."""

    def __init__(self, tick: float) -> None:
        self.now, self.tick, self.readings = 100.0, tick, 0

    def __call__(self) -> float:
        self.now += self.tick
        self.readings += 1
        return self.now


def csv_rows(root: Path) -> list[dict[str, str]]:
    with open(root / "metrics.csv") as handle:
        return list(csv.DictReader(handle))


def test_callback_logs_on_logging_steps_beside_the_losses(tmp_path):
    clock = FakeClock(tick=2.0)
    callback = Throughput(clock=clock)
    logger = CSVLogger(tmp_path, name="", version="")
    trainer = tiny_trainer(
        tmp_path, [tiny_growth(total_kimg=0.064), callback], logger=logger, log_every_n_steps=2
    )
    trainer.fit(tiny_module(), datamodule=tiny_data())  # 8 batches of 8 images

    rows = csv_rows(tmp_path)
    throughput = [r for r in rows if r["progress/images_per_s"]]
    losses = [r for r in rows if r["loss/d"]]
    # Every 2 batches: 16 images per 2 fake seconds.
    assert [float(r["progress/images_per_s"]) for r in throughput] == [8.0] * 4
    assert [float(r["progress/sec_per_kimg"]) for r in throughput] == [125.0] * 4
    # At the steps Lightning logs the losses of the same batches (not trainer.global_step,
    # which counts two optimizer steps per batch).
    assert [r["step"] for r in throughput] == [r["step"] for r in losses] == ["1", "3", "5", "7"]
    assert clock.readings == 5  # one start reading, then one per logging step: no per-step work
    assert callback.last["progress/images_per_s"] == 8.0


def test_interval_can_differ_from_log_every_n_steps(tmp_path):
    callback = Throughput(every_n_steps=4, clock=FakeClock(tick=1.0))
    logger = CSVLogger(tmp_path, name="", version="")
    trainer = tiny_trainer(
        tmp_path, [tiny_growth(total_kimg=0.064), callback], logger=logger, log_every_n_steps=1
    )
    trainer.fit(tiny_module(), datamodule=tiny_data())
    throughput = [r for r in csv_rows(tmp_path) if r["progress/images_per_s"]]
    assert [(r["step"], float(r["progress/images_per_s"])) for r in throughput] == [
        ("3", 32.0),
        ("7", 32.0),
    ]


def test_argument_validation():
    with pytest.raises(ValueError, match="every_n_steps"):
        Throughput(every_n_steps=0)
