"""Durations as marketers write them: ``90s``, ``15m``, ``2h``, ``1d``, ``1w``, ``1h30m``, or
a plain number of seconds."""

from __future__ import annotations

import math
import re

UNITS = {"s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, "w": 604800.0}
# One or more number-and-unit parts, largest first by habit (not enforced): "1h30m".
PATTERN = r"^([0-9]+(\.[0-9]+)?[smhdw])+$"
_PART = re.compile(r"([0-9]+(?:\.[0-9]+)?)([smhdw])")
_WHOLE = re.compile(PATTERN)


def parse_duration(value: object) -> float:
    """Seconds in ``value`` (a duration text or a number of seconds); ValueError if it is
    neither, or negative."""
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a duration")
    if isinstance(value, int | float):
        if not math.isfinite(value) or value < 0:
            raise ValueError(f"a duration must be a number of seconds >= 0, got {value!r}")
        return float(value)
    if not isinstance(value, str):
        raise ValueError(f"{value!r} is not a duration")
    text = value.strip()  # no inner spaces: the editors' schema would refuse them
    if not _WHOLE.match(text):
        raise ValueError(f"{value!r} is not a duration (write e.g. 90s, 15m, 2h, 1d, 1w)")
    return sum(float(n) * UNITS[u] for n, u in _PART.findall(text))


def format_duration(seconds: float) -> str:
    """The shortest text for ``seconds`` in the largest whole unit: ``3600`` -> ``"1h"``."""
    for unit in ("w", "d", "h", "m"):
        if seconds and seconds % UNITS[unit] == 0:
            return f"{int(seconds // UNITS[unit])}{unit}"
    return f"{int(seconds)}s" if float(seconds).is_integer() else f"{seconds}s"
