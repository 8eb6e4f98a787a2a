"""A progress bar on standard error for commands that read large files."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

PROGRESS_MIN_BYTES = 8 * 1024 * 1024  # smaller files finish before a bar would help


class ProgressBar:
    """A one-line bar on standard error, redrawn at most ten times a second."""

    def __init__(self, total: int) -> None:
        self.total = max(total, 1)
        self._last = 0.0

    def update(self, done: int) -> None:
        """Show ``done`` bytes of the total read."""
        now = time.monotonic()
        if now - self._last < 0.1 and done < self.total:
            return
        self._last = now
        share = min(done / self.total, 1.0)
        filled = int(share * 30)
        sys.stderr.write(
            f"\r[{'#' * filled}{'.' * (30 - filled)}] {share:6.1%} "
            f"{done / 1e6:,.1f}/{self.total / 1e6:,.1f} MB"
        )
        sys.stderr.flush()

    def close(self) -> None:
        """Erase the bar."""
        sys.stderr.write("\r" + " " * 60 + "\r")
        sys.stderr.flush()


def progress_bar(path: Path) -> ProgressBar | None:
    """A bar for reading ``path``, when standard error is a terminal and the file is large."""
    if not sys.stderr.isatty():
        return None
    try:
        size = os.path.getsize(path)
    except OSError:
        return None  # the reader reports the file problem itself
    return ProgressBar(size) if size >= PROGRESS_MIN_BYTES else None
