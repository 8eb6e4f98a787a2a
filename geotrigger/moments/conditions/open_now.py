"""The ``open_now`` condition: whether the place is open at the event time (``True``), or
closed (``False``), by its opening hours in its own zone. A place with no opening hours fails
either way: nothing says whether it is open."""

from __future__ import annotations

from geotrigger.moments.decision import Candidate, ConditionResult
from geotrigger.moments.windows import describe_local, local_time


def check_open_now(want_open: bool, candidate: Candidate) -> ConditionResult:
    """Whether the place is open (``want_open``) or closed at the event time."""
    hours = candidate.place.opening_hours
    wanted = "open" if want_open else "closed"
    if hours is None:
        return ConditionResult(
            name="open_now",
            held=False,
            reason=f"opening hours unknown (needs {wanted})",
            seen={"wanted": wanted, "hours": None},
        )
    is_open = hours.is_open(candidate.at)
    state = "open" if is_open else "closed"
    local = describe_local(local_time(candidate.at, candidate.place_zone))
    return ConditionResult(
        name="open_now",
        held=is_open == want_open,
        reason=f"place is {state} at {local} ({hours.expression}); needs {wanted}",
        seen={"wanted": wanted, "open": is_open, "hours": hours.expression},
    )
