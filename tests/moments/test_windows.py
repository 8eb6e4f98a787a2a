"""Cap windows: rolling, calendar day and week across DST, fixed, forever."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from geotrigger.moments.windows import describe_days, window_bounds
from geotrigger.rules.model import Window, WindowKind

HEL = "Europe/Helsinki"


def utc(*args: int) -> float:
    """Epoch seconds of a UTC time."""
    return datetime(*args, tzinfo=UTC).timestamp()


def local(text: str, zone: str = HEL) -> float:
    """Epoch seconds of a wall-clock time in ``zone`` (first occurrence)."""
    return datetime.fromisoformat(text).replace(tzinfo=ZoneInfo(zone)).timestamp()


def test_rolling_is_open_before_and_closed_at_the_candidate() -> None:
    """(at - length, at]: a moment at ``at`` counts, one at ``at - length`` does not."""
    at = utc(2026, 3, 27, 12)
    start, end = window_bounds(Window(kind=WindowKind.ROLLING, length_s=3600), at, HEL)
    assert start <= at < end
    assert not start <= at - 3600 < end
    assert start <= at - 3599.999 < end
    assert not start <= at + 0.001 < end


@pytest.mark.parametrize(
    ("at", "day", "hours"),
    [
        # an ordinary Friday: 24 h from local midnight (22:00 UTC the day before)
        (local("2026-03-27 14:00"), "2026-03-27", 24),
        # spring forward (2026-03-29, 03:00 -> 04:00): 23 h
        (local("2026-03-29 12:00"), "2026-03-29", 23),
        # late on the spring-forward day, after the jump
        (local("2026-03-29 23:59"), "2026-03-29", 23),
        # fall back (2026-10-25, 04:00 -> 03:00): 25 h
        (local("2026-10-25 12:00"), "2026-10-25", 25),
        # the first 03:30 of the fall-back day
        (utc(2026, 10, 25, 0, 30), "2026-10-25", 25),
        # the second 03:30, an hour later, is the same day
        (utc(2026, 10, 25, 1, 30), "2026-10-25", 25),
    ],
)
def test_calendar_day_is_23_or_25_hours_across_dst(at: float, day: str, hours: int) -> None:
    """A local day from local midnight to local midnight, converted with zoneinfo."""
    start, end = window_bounds(Window(kind=WindowKind.CALENDAR_DAY), at, HEL)
    assert start == local(f"{day} 00:00")
    assert end - start == hours * 3600
    assert start <= at < end


def test_calendar_day_boundaries_at_midnight() -> None:
    """Midnight starts its day; a moment before it is the day before."""
    midnight = local("2026-03-28 00:00")
    day = Window(kind=WindowKind.CALENDAR_DAY)
    assert window_bounds(day, midnight, HEL)[0] == midnight
    assert window_bounds(day, midnight - 0.5, HEL)[1] == midnight


def test_calendar_day_in_a_zone_that_skips_midnight() -> None:
    """Where DST began at midnight (Santiago, 2022-09-11 00:00 -> 01:00), the day starts when
    the clocks jumped, and every instant of it is inside."""
    zone = "America/Santiago"
    for text in ("2022-09-11 01:00", "2022-09-11 12:00", "2022-09-10 23:59"):
        at = local(text, zone)
        start, end = window_bounds(Window(kind=WindowKind.CALENDAR_DAY), at, zone)
        assert start <= at < end
        assert end - start in (23 * 3600, 24 * 3600)


def test_calendar_day_in_a_zone_that_repeats_midnight() -> None:
    """Where midnight happens twice (Santiago, 2022-04-03 00:00 -> 23:00 the day before), days
    neither overlap nor leave gaps: the repeated hour belongs to the new day."""
    zone = "America/Santiago"
    day = Window(kind=WindowKind.CALENDAR_DAY)
    at = utc(2022, 4, 3, 2, 30)  # 23:30 local, the second time (UTC-4)
    start, end = window_bounds(day, at, zone)
    assert start <= at < end
    previous = window_bounds(day, start - 1, zone)
    following = window_bounds(day, end, zone)
    assert previous[1] == start and following[0] == end


@pytest.mark.parametrize(
    ("at", "monday", "hours"),
    [
        # a week with the spring-forward Sunday: Mon 23 Mar to Mon 30 Mar, 167 h
        (local("2026-03-27 14:00"), "2026-03-23", 167),
        # its Sunday itself
        (local("2026-03-29 23:00"), "2026-03-23", 167),
        # the Monday after starts a new week
        (local("2026-03-30 00:00"), "2026-03-30", 168),
    ],
)
def test_calendar_week_monday_to_sunday(at: float, monday: str, hours: int) -> None:
    """A local week from Monday 00:00 to the next Monday 00:00."""
    start, end = window_bounds(Window(kind=WindowKind.CALENDAR_WEEK), at, HEL)
    assert start == local(f"{monday} 00:00")
    assert end - start == hours * 3600


@pytest.mark.parametrize(
    ("anchor", "at", "start"),
    [
        # from the epoch: six-hour blocks at 00, 06, 12, 18 UTC
        (None, utc(2026, 3, 27, 13, 0), utc(2026, 3, 27, 12)),
        # exactly on a boundary: the new block
        (None, utc(2026, 3, 27, 18, 0), utc(2026, 3, 27, 18)),
        # anchored at 03:00: blocks at 03, 09, 15, 21
        (datetime(2026, 1, 1, 3, tzinfo=UTC), utc(2026, 3, 27, 13), utc(2026, 3, 27, 9)),
        # before the anchor: blocks continue backwards
        (datetime(2026, 1, 1, 3, tzinfo=UTC), utc(2025, 12, 31, 23), utc(2025, 12, 31, 21)),
    ],
)
def test_fixed_windows(anchor: datetime | None, at: float, start: float) -> None:
    """Back-to-back windows of length_s from the anchor (default the epoch)."""
    window = Window(kind=WindowKind.FIXED, length_s=6 * 3600, anchor=anchor)
    assert window_bounds(window, at, HEL) == (start, start + 6 * 3600)


def test_forever() -> None:
    """No window: everything ever counts."""
    assert window_bounds(Window(kind=WindowKind.FOREVER), 0.0, HEL) == (-math.inf, math.inf)


@pytest.mark.parametrize("kind", [WindowKind.ROLLING, WindowKind.FIXED])
def test_length_is_required(kind: WindowKind) -> None:
    """Rolling and fixed windows without a positive length are refused."""
    with pytest.raises(ValueError, match="length_s"):
        window_bounds(Window(kind=kind), 0.0, HEL)


@pytest.mark.parametrize(
    ("days", "told"),
    [
        (frozenset(range(5)), "Mon-Fri"),  # a run of days
        (frozenset({5, 6}), "Sat, Sun"),  # two days are listed
        (frozenset(range(7)), "every day"),  # all of them
        (frozenset({0, 2, 4}), "Mon, Wed, Fri"),  # gaps
    ],
)
def test_describe_days(days: frozenset[int], told: str) -> None:
    """Days as reasons tell them."""
    assert describe_days(days) == told


def test_fixed_blocks_hold_their_instant_far_from_the_anchor() -> None:
    """Tiny fixed windows far from the anchor still hold the instant (rounding corrected)."""
    window = Window(kind=WindowKind.FIXED, length_s=0.1)
    at = utc(2026, 3, 27, 12) + 0.3
    start, end = window_bounds(window, at, HEL)
    assert start <= at < end
    assert end - start == pytest.approx(0.1, abs=1e-6)
