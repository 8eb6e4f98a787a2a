"""Opening hours in OpenStreetMap ``opening_hours`` syntax, evaluated in the place's zone.

Parsing happens once, when a place is loaded (:func:`parse_opening_hours`); evaluation only
looks up the local day. Semantics, where the OSM specification leaves room:

- Rules are applied in order to each local calendar day. A ``;`` rule that names a day replaces
  that day's spans; a ``,`` rule adds to them. A closed rule (``off``/``closed``/``unknown``)
  removes its time spans from the day, or the whole day when it gives none.
- A span that ends after midnight (``Fr 22:00-03:00``, or up to ``48:00``) belongs to the day it
  starts on: rules about the next day do not cut it short.
- Times are local wall-clock times in the place's IANA zone (``zoneinfo``), so DST is honoured:
  ``Mo-Su 08:00-20:00`` opens at 08:00 local on the days the clocks change as on any other.
- ``PH``/``SH`` (public and school holidays) are accepted but never apply: there is no holiday
  calendar. A rule such as ``PH off`` is therefore ignored (the loader warns about it).
- A comment alone (``"by appointment"``) or the state ``unknown`` counts as closed.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from geotrigger.errors import HoursError
from geotrigger.places.hours_syntax import DAY_MINUTES, DateSpec, Parser, Rule

Spans = tuple[tuple[int, int], ...]

_DAY = dt.timedelta(days=1)


class OsmOpeningHours:
    """Parsed OSM opening hours bound to an IANA time zone; implements ``OpeningHours``."""

    __slots__ = ("_cache", "_expression", "_rules", "_weekly", "_zone", "timezone")

    def __init__(self, expression: str, rules: list[Rule], timezone: str) -> None:
        self._expression = expression
        self._rules = tuple(rules)
        self.timezone = timezone
        self._zone = ZoneInfo(timezone)
        self._cache: dict[dt.date, Spans] = {}
        # Without date selectors a day's spans depend on its weekday only: tabulate them.
        self._weekly: tuple[Spans, ...] | None = None
        if not any(rule.dates for rule in rules):
            monday = dt.date(2024, 1, 1)
            self._weekly = tuple(self._compute(monday + k * _DAY) for k in range(7))

    @property
    def expression(self) -> str:
        """The text the hours were parsed from."""
        return self._expression

    @property
    def names_holidays(self) -> bool:
        """True when a rule names PH or SH, which are accepted but ignored."""
        return any(rule.holidays for rule in self._rules)

    @property
    def never_open(self) -> bool:
        """True when no rule opens the place on any day (e.g. a comment alone, or ``off``)."""
        return not any(rule.state == "open" and rule.spans for rule in self._rules)

    def __repr__(self) -> str:
        return f"OsmOpeningHours({self._expression!r}, {self.timezone!r})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, OsmOpeningHours):
            return NotImplemented
        return (self._expression, self.timezone) == (other._expression, other.timezone)

    def __hash__(self) -> int:
        return hash((self._expression, self.timezone))

    def is_open(self, at: dt.datetime) -> bool:
        """Whether the place is open at the aware instant ``at`` (any offset; UTC inside)."""
        if at.tzinfo is None:
            raise ValueError("is_open needs a timezone-aware datetime")
        local = at.astimezone(self._zone)
        minute = local.hour * 60 + local.minute + local.second / 60.0
        day = local.date()
        if any(start <= minute < end for start, end in self.spans_on(day)):
            return True
        # Spans of the day before that run past its midnight.
        return any(minute + DAY_MINUTES < end for _, end in self.spans_on(day - _DAY))

    def spans_on(self, day: dt.date) -> Spans:
        """The open spans that start on a local day, in minutes after its midnight."""
        if self._weekly is not None:
            return self._weekly[day.weekday()]
        spans = self._cache.get(day)
        if spans is None:
            if len(self._cache) > 4096:
                self._cache.clear()  # bounded: a long replay walks through many days
            spans = self._cache[day] = self._compute(day)
        return spans

    def _compute(self, day: dt.date) -> Spans:
        spans: list[tuple[int, int]] = []
        for rule in self._rules:
            if not _applies(rule, day):
                continue
            if rule.state == "open":
                spans = [*spans, *rule.spans] if rule.additional else list(rule.spans)
            else:
                spans = _subtract(spans, rule.spans) if rule.spans else []
        return tuple(sorted(spans))


def parse_opening_hours(expression: str, timezone: str) -> OsmOpeningHours:
    """Parse an OSM ``opening_hours`` value for a place in ``timezone``; HoursError if not."""
    if not isinstance(expression, str):
        raise HoursError(f"expected text, got {type(expression).__name__}")
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise HoursError(f"unknown time zone {timezone!r}") from exc
    try:
        rules = Parser(expression).parse()
    except HoursError as exc:
        raise HoursError(f"cannot parse {expression!r}: {exc.reason}") from None
    return OsmOpeningHours(expression, rules, timezone)


def _applies(rule: Rule, day: dt.date) -> bool:
    if rule.weekdays is not None and day.weekday() not in rule.weekdays:
        return False
    return not rule.dates or any(_in_range(day, lo, hi) for lo, hi in rule.dates)


def _in_range(day: dt.date, lo: DateSpec, hi: DateSpec) -> bool:
    first = (lo.month, lo.day or 1)
    last = (hi.month, hi.day or 31)
    if lo.year is not None:
        # Years given: an absolute range of dates.
        this = (day.year, day.month, day.day)
        return (lo.year, *first) <= this <= (hi.year or lo.year, *last)
    this_md = (day.month, day.day)
    if first <= last:
        return first <= this_md <= last
    return this_md >= first or this_md <= last  # wraps over the new year (Sep-May)


def _subtract(spans: list[tuple[int, int]], cuts: Spans) -> list[tuple[int, int]]:
    for cut_start, cut_end in cuts:
        kept: list[tuple[int, int]] = []
        for start, end in spans:
            if end <= cut_start or start >= cut_end:
                kept.append((start, end))
                continue
            if start < cut_start:
                kept.append((start, cut_start))
            if end > cut_end:
                kept.append((cut_end, end))
        spans = kept
    return spans
