"""Problems with input data: one exception type, and a record of files skipped on purpose.

Users bring large, messy folders (a truncated JPEG, a stray text file, a thumbnail). Every
problem either stops the run with a :class:`DatasetError` that names the file and what is
wrong with it, or, where the user allowed it, becomes a :class:`Skipped` record that is
logged and counted in a summary. Nothing surfaces as a bare PIL or numpy traceback.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass


class DatasetError(ValueError):
    """A dataset or one of its files cannot be used; the message names the file and the problem.

    Args:
        message: What is wrong, starting with the file or path concerned.
        reason: Short, stable category of the problem ("corrupt", "too small", ...), used to
            count skipped files by kind.
    """

    def __init__(self, message: str, *, reason: str = "invalid") -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class Skipped:
    """A file left out of a dataset, and why.

    Attributes:
        name: Path of the file, relative to the dataset root (or inside the archive).
        reason: Short, stable category ("corrupt", "too small", "not square", ...); counted
            in summaries.
        detail: Human-readable explanation for this file.
    """

    name: str
    reason: str
    detail: str

    def to_dict(self) -> dict[str, str]:
        return {"name": self.name, "reason": self.reason, "detail": self.detail}


def summarize_skipped(skipped: Iterable[Skipped], total: int, examples: int = 3) -> str:
    """A headline, then one line per reason, e.g. ``2 corrupt (a.png, b.jpg)``; ``""`` if none.

    Args:
        skipped: The records.
        total: Number of candidate files, for the "x of y" headline.
        examples: How many file names to show per reason.
    """
    skipped = list(skipped)
    if not skipped:
        return ""
    counts = Counter(s.reason for s in skipped)
    lines = [f"skipped {len(skipped)} of {total} files:"]
    for reason, count in counts.most_common():
        names = [s.name for s in skipped if s.reason == reason]
        shown = ", ".join(names[:examples]) + (", ..." if len(names) > examples else "")
        lines.append(f"  {count} {reason} ({shown})")
    return "\n".join(lines)
