"""Clocks the provider tests inject and move by hand, so that backoff, rate limits, breakers,
caches and ``Expires`` run without waiting."""

from __future__ import annotations

from datetime import datetime


class SleepingClock:
    """A monotonic clock that only ``sleep`` and the test move; every sleep is recorded."""

    def __init__(self, now: float = 1000.0) -> None:
        self.now = now
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


class WallClock:
    """An aware UTC wall clock the test moves: what providers and clients call ``now``."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now
