"""The ``local_time`` condition: the event time on the wall clock of the place's zone, within a
window of the local day on chosen days (0 = Monday).

A window whose end is before its start runs past midnight and belongs to the day it started
on: ``23:00-02:00`` on Friday includes Saturday 01:00. The window is wall-clock time, so on the
days the clocks change it starts and ends at the same local times as on any other day (see
:func:`geotrigger.moments.windows.in_day_window`).
"""

from __future__ import annotations

from geotrigger.moments.decision import Candidate, ConditionResult
from geotrigger.moments.windows import (
    describe_days,
    describe_local,
    describe_span,
    in_day_window,
    local_time,
)
from geotrigger.rules.model import LocalTimeWindow


def check_local_time(window: LocalTimeWindow, candidate: Candidate) -> ConditionResult:
    """Whether the event's local time at the place is within ``window``."""
    local = local_time(candidate.at, candidate.place_zone)
    held = in_day_window(local, window.start, window.end, window.days)
    wanted = f"{describe_span(window.start, window.end)} {describe_days(window.days)}"
    verdict = "within" if held else "outside"
    return ConditionResult(
        name="local_time",
        held=held,
        reason=f"local time {describe_local(local)} is {verdict} {wanted}",
        seen={
            "local_time": local.isoformat(),
            "zone": candidate.place_zone,
            "window": wanted,
        },
    )
