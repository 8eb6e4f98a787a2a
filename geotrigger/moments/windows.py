"""Time windows: the windows a frequency cap counts in, and windows of the local day.

Cap windows (:func:`window_bounds`) are half-open ``[start, end)`` in epoch seconds, the form
:meth:`History.count <geotrigger.moments.history.History.count>` counts over:

- ``rolling``: the last ``length_s`` seconds up to and including the candidate, ``(at - length,
  at]``. As a half-open interval that is ``[next float after at - length, next float after
  at)``, so a moment at exactly ``at`` counts and one at exactly ``at - length`` does not.
  That is the window looking back from the event; the caps gate also looks at every other
  window of that length that holds the event, since events are not always decided in time
  order (see :mod:`geotrigger.moments.gates.caps`).
- ``calendar_day`` / ``calendar_week``: the local day (week: Monday to Sunday) of ``at`` in the
  zone. Start and end are local midnights converted to UTC with ``zoneinfo``, so a day on which
  the clocks change lasts 23 or 25 hours. Where a midnight occurs twice (clocks set back over
  it), a day starts at its first occurrence, so days never overlap.
- ``fixed``: back-to-back windows of ``length_s`` from ``anchor`` (default the Unix epoch).
- ``forever``: ``(-inf, inf)``.

Windows of the local day (:func:`in_day_window`) are wall-clock: ``start``-``end`` on a local
clock, running past midnight when ``end`` is before ``start``, the whole day when they are
equal. The hour skipped when clocks spring forward is never inside; the hour repeated when they
fall back is inside (or not) both times.
"""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from geotrigger.rules.model import Window, WindowKind

_DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def window_bounds(window: Window, at_s: float, zone: str) -> tuple[float, float]:
    """The half-open ``[start, end)`` epoch-second bounds of the window holding ``at_s``."""
    kind = window.kind
    if kind is WindowKind.ROLLING:
        length = _length(window)
        return math.nextafter(at_s - length, math.inf), math.nextafter(at_s, math.inf)
    if kind is WindowKind.CALENDAR_DAY:
        return _calendar_bounds(at_s, ZoneInfo(zone), days=1)
    if kind is WindowKind.CALENDAR_WEEK:
        return _calendar_bounds(at_s, ZoneInfo(zone), days=7)
    if kind is WindowKind.FIXED:
        return _fixed_bounds(window, at_s)
    return -math.inf, math.inf


def _length(window: Window) -> float:
    if window.length_s is None or not window.length_s > 0:
        raise ValueError(f"a {window.kind.value} window needs a positive length_s")
    return window.length_s


def _calendar_bounds(at_s: float, zone: ZoneInfo, *, days: int) -> tuple[float, float]:
    local = datetime.fromtimestamp(at_s, zone).date()
    first = local - timedelta(days=local.weekday()) if days == 7 else local
    step = timedelta(days=days)
    # A repeated midnight can put ``at_s`` past the end of its own wall-clock date: move on.
    for _ in range(2):
        start, end = local_midnight(first, zone), local_midnight(first + step, zone)
        if at_s >= end:
            first += step
        elif at_s < start:
            first -= step
        else:
            return start, end
    return local_midnight(first, zone), local_midnight(first + step, zone)


def local_midnight(day: date, zone: ZoneInfo) -> float:
    """Epoch seconds of the first occurrence of 00:00 on ``day`` in ``zone`` (the moment the
    clocks jumped, when midnight was skipped)."""
    return datetime.combine(day, time(0), tzinfo=zone).timestamp()


def _fixed_bounds(window: Window, at_s: float) -> tuple[float, float]:
    length = _length(window)
    anchor = window.anchor.timestamp() if window.anchor is not None else 0.0
    k = math.floor((at_s - anchor) / length)
    # Rounding may put the boundary a hair on the wrong side of ``at_s``.
    if anchor + k * length > at_s:
        k -= 1
    elif anchor + (k + 1) * length <= at_s:
        k += 1
    return anchor + k * length, anchor + (k + 1) * length


def in_day_window(local: datetime, start: time, end: time, days: frozenset[int]) -> bool:
    """Whether the local wall-clock time ``local`` is within ``start``-``end`` of a day in
    ``days`` (0 = Monday), the day being the one the window started on."""
    clock = local.time().replace(tzinfo=None, fold=0)
    weekday = local.weekday()
    if start < end:
        return weekday in days and start <= clock < end
    # Past midnight (or the whole day when start == end): the evening part belongs to today,
    # the morning part to the window that started yesterday.
    if clock >= start:
        return weekday in days
    return clock < end and (weekday - 1) % 7 in days


def local_time(at: datetime, zone: str) -> datetime:
    """The aware instant ``at`` on the wall clock of ``zone``."""
    return at.astimezone(ZoneInfo(zone))


def describe_local(local: datetime) -> str:
    """A local time as traces tell it: ``09:12 Fri``."""
    return f"{local:%H:%M} {_DAY_NAMES[local.weekday()]}"


def describe_days(days: frozenset[int]) -> str:
    """Days of the week as traces tell them: ``Mon-Fri``, ``Sat, Sun``, ``every day``."""
    ordered = sorted(days)
    if len(ordered) == 7:
        return "every day"
    if not ordered:
        return "no day"
    if len(ordered) > 2 and ordered == list(range(ordered[0], ordered[-1] + 1)):
        return f"{_DAY_NAMES[ordered[0]]}-{_DAY_NAMES[ordered[-1]]}"
    return ", ".join(_DAY_NAMES[d] for d in ordered)


def describe_span(start: time, end: time) -> str:
    """A span of the local day: ``14:00-17:00``."""
    return f"{start:%H:%M}-{end:%H:%M}"


def iso_utc(epoch_s: float) -> str | None:
    """Epoch seconds as an ISO UTC string for traces (None for an infinite bound)."""
    if not math.isfinite(epoch_s):
        return None
    return datetime.fromtimestamp(epoch_s, UTC).isoformat()


__all__ = [
    "describe_days",
    "describe_local",
    "describe_span",
    "in_day_window",
    "iso_utc",
    "local_midnight",
    "local_time",
    "window_bounds",
]
