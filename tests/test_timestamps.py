"""Aware times as RFC 3339 text in UTC; a naive time is refused, not guessed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from geotrigger.timestamps import rfc3339


def test_an_aware_time_is_written_in_utc_with_z() -> None:
    helsinki = timezone(timedelta(hours=3))
    assert rfc3339(datetime(2026, 6, 12, 12, 30, tzinfo=helsinki)) == "2026-06-12T09:30:00Z"
    assert rfc3339(datetime(2026, 6, 12, 9, 30, 0, 5, tzinfo=UTC)) == "2026-06-12T09:30:00.000005Z"


def test_a_naive_time_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        rfc3339(datetime(2026, 6, 12, 9, 30))
