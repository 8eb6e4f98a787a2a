"""'Did you mean' for misspelled names: the closest known name, if one is close enough.

Every reader of marketer-written input (places, rules, consumers, weather) suggests names the
same way, from here."""

from __future__ import annotations

import difflib
from collections.abc import Iterable

# Close enough to be a typo ("dwel", "whn", "cooldwn"), far enough not to guess wildly.
CUTOFF = 0.6


def closest(name: object, candidates: Iterable[str]) -> str | None:
    """The candidate closest to ``name``, or None when none is close."""
    found = difflib.get_close_matches(str(name), sorted(set(candidates)), n=1, cutoff=CUTOFF)
    return found[0] if found else None


def did_you_mean(name: object, candidates: Iterable[str]) -> str:
    """``" (did you mean 'dwell'?)"`` for a close candidate, else ``""``; ready to append."""
    found = closest(name, candidates)
    return f" (did you mean {found!r}?)" if found is not None else ""
