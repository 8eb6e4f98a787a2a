"""IANA time zone names: whether a name is one, and which one was probably meant."""

from __future__ import annotations

import difflib
import functools
import zoneinfo
from typing import Any


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
    guess = [lower[str(value).lower()]] if str(value).lower() in lower else []
    guess = guess or difflib.get_close_matches(str(value), sorted(_zones()), n=1)
    hint = f" (did you mean {guess[0]!r}?)" if guess else ""
    return f"unknown time zone {value!r}{hint}"
