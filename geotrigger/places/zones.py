"""IANA time zone names: whether a name is one, and which one was probably meant."""

from __future__ import annotations

import functools
import zoneinfo
from typing import Any

from geotrigger.suggest import did_you_mean


@functools.cache
def _zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def timezone_problem(value: Any) -> str | None:
    """Why ``value`` is not an IANA time zone name (with a suggestion), or None if it is.

    Names are exact, as the tz database spells them: ``europe/helsinki`` is not one.
    """
    if isinstance(value, str) and value in _zones():
        return None
    lower = {z.lower(): z for z in _zones()}
    same = lower.get(str(value).lower())  # only the case is wrong
    hint = f" (did you mean {same!r}?)" if same else did_you_mean(value, _zones())
    return f"unknown time zone {value!r}{hint}"
