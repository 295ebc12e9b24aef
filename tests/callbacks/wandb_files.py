"""Reading an offline W&B run directory back, to check what a run logged.

An offline run keeps its history in ``run-<id>.wandb``: protobuf ``Record`` messages in the
LevelDB log format (a 7-byte file header, then 32 KiB blocks of chunks, each with a 7-byte
header: CRC32, little-endian length, chunk type). ``wandb-summary.json`` is only written by
an online run's sender, so it is absent here; wandb 0.31 has no public reader for the file.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from google.protobuf.message import DecodeError
from wandb.proto import wandb_internal_pb2

_BLOCK = 32 * 1024
_HEADER = 7
_FULL, _FIRST, _MIDDLE, _LAST = 1, 2, 3, 4


def read_records(path: Path) -> list[wandb_internal_pb2.Record]:
    """Every record of a ``.wandb`` file, in order."""
    data = path.read_bytes()
    if data[:4] != b":W&B":
        raise ValueError(f"{path} is not a W&B run file (header {data[:7]!r})")
    records, payload, pos = [], b"", _HEADER
    while pos + _HEADER <= len(data):
        left = _BLOCK - pos % _BLOCK
        if left < _HEADER:  # block trailer: zero padding
            pos += left
            continue
        length = int.from_bytes(data[pos + 4 : pos + 6], "little")
        kind = data[pos + 6]
        if kind == 0:  # zero padding up to the end of the block
            pos += left
            continue
        payload += data[pos + _HEADER : pos + _HEADER + length]
        pos += _HEADER + length
        if kind in (_FULL, _LAST):
            records.append(wandb_internal_pb2.Record.FromString(payload))
            payload = b""
        elif kind not in (_FIRST, _MIDDLE):
            raise ValueError(f"unknown chunk type {kind} at byte {pos} of {path}")
    return records


@dataclass
class OfflineRun:
    """What an offline run recorded: history rows (keys joined with ``/``), the run config
    (hyperparameters) and artifacts."""

    directory: Path
    history: list[dict[str, Any]] = field(default_factory=list)
    config: dict[str, Any] = field(default_factory=dict)
    artifacts: list[wandb_internal_pb2.ArtifactRecord] = field(default_factory=list)

    def rows_with(self, key: str) -> list[dict[str, Any]]:
        return [row for row in self.history if key in row]

    def keys(self) -> set[str]:
        return {key for row in self.history for key in row}


def _finished_records(save_dir: Path, timeout: float) -> tuple[Path, list]:
    """The records of the single run under ``save_dir``, once its exit record is written.

    W&B's service process writes the file; ``wandb.finish()`` can return a moment before the
    last block reaches the disk, so this polls until the run's exit record is there.
    """
    deadline = time.monotonic() + timeout
    while True:
        files = sorted(Path(save_dir).glob("wandb/offline-run-*/run-*.wandb"))
        try:
            (run_file,) = files
            records = read_records(run_file)
            if any(r.WhichOneof("record_type") == "exit" for r in records):
                return run_file, records
            problem = "no exit record yet"
        except (ValueError, DecodeError) as error:  # absent, several, or half-written
            problem = f"{len(files)} run files: {error}"
        if time.monotonic() > deadline:
            raise AssertionError(f"no finished offline run under {save_dir}: {problem}")
        time.sleep(0.1)


def read_offline_run(save_dir: Path, timeout: float = 30.0) -> OfflineRun:
    """The single offline run under ``<save_dir>/wandb``."""
    run_file, records = _finished_records(save_dir, timeout)
    run = OfflineRun(run_file.parent)
    for record in records:
        kind = record.WhichOneof("record_type")
        if kind == "history":
            run.history.append(
                {
                    item.key or "/".join(item.nested_key): json.loads(item.value_json)
                    for item in record.history.item
                }
            )
        elif kind == "config":
            for item in record.config.update:
                run.config[item.key or "/".join(item.nested_key)] = json.loads(item.value_json)
        elif kind == "artifact":
            run.artifacts.append(record.artifact)
    return run
