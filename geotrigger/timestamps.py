"""Times: the wall clock, and what the API, the relay and stored documents write for an aware
time."""

from __future__ import annotations

from datetime import UTC, datetime


def rfc3339(at: datetime) -> str:
    """An aware time as RFC 3339 text in UTC, with ``Z`` (``2026-06-12T09:30:00Z``);
    ValueError for a naive one (whose zone would be a guess)."""
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"time {at!r} must be timezone-aware")
    return at.astimezone(UTC).isoformat().replace("+00:00", "Z")


def wall_clock() -> datetime:
    """Now, in UTC (the default clock of the jobs that stamp what they store)."""
    return datetime.now(UTC)
