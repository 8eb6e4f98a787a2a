"""The scheduler: APScheduler runs each provider's sweep at its interval, with the job options
that keep a slow or late sweep from piling up, and a failing run never stops the next."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from datetime import UTC, datetime

from apscheduler.schedulers.background import BackgroundScheduler
from test_sweep import SETTINGS, Scripted, _moments, _reading

from geotrigger.jobs.scheduler import job_id, schedule_sweeps
from geotrigger.jobs.sweep import Sweep, SweepReport
from geotrigger.weather import WeatherCondition
from geotrigger.weather.provider import Cell, FetchResult


def _wait_for(predicate: object, timeout_s: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return True
        time.sleep(0.02)
    return False


def test_each_sweep_is_one_job_that_runs_at_once_and_then_at_its_interval() -> None:
    provider = Scripted([_reading(0, WeatherCondition.CLOUDY)])
    sweep = Sweep(provider, _moments(), settings=SETTINGS, clock=lambda: datetime.now(UTC))
    reports: list[SweepReport] = []
    scheduler = BackgroundScheduler(timezone=UTC)
    schedule_sweeps(scheduler, [(sweep, 0.2)], on_report=reports.append)
    job = scheduler.get_job(job_id(sweep))
    assert job.coalesce is True and job.max_instances == 1 and job.misfire_grace_time == 1
    scheduler.start()
    try:
        assert _wait_for(lambda: len(reports) >= 3)
    finally:
        scheduler.shutdown(wait=True)
    assert all(r.provider == "scripted" and r.cells == 1 for r in reports)
    assert sweep.counts[("sweeps", "scripted")] == len(reports)


def test_a_failing_run_is_counted_and_the_next_one_comes() -> None:
    sweep = Sweep(
        Scripted([_reading(0, WeatherCondition.CLOUDY)]),
        _moments(),
        settings=SETTINGS,
        clock=lambda: datetime.now(UTC),
    )
    failures = iter([True])
    original = sweep.run

    def run() -> SweepReport:
        if next(failures, False):
            raise RuntimeError("the database went away")
        return original()

    sweep.run = run  # type: ignore[method-assign]
    reports: list[SweepReport] = []
    scheduler = BackgroundScheduler(timezone=UTC)
    schedule_sweeps(scheduler, [(sweep, 0.2)], on_report=reports.append)
    scheduler.start()
    try:
        assert _wait_for(lambda: len(reports) >= 2)
    finally:
        scheduler.shutdown(wait=True)
    assert sweep.counts[("sweep_failures", "scripted")] == 1


def test_a_slow_sweep_is_never_overlapped_by_its_next_run() -> None:
    running, overlaps = threading.Semaphore(1), []

    class Slow(Scripted):
        def fetch(self, cells: Sequence[Cell]) -> FetchResult:
            if not running.acquire(blocking=False):
                overlaps.append(True)
                return super().fetch(cells)
            try:
                time.sleep(0.5)  # longer than the interval
                return super().fetch(cells)
            finally:
                running.release()

    provider = Slow([_reading(0, WeatherCondition.CLOUDY)])
    sweep = Sweep(provider, _moments(), settings=SETTINGS, clock=lambda: datetime.now(UTC))
    scheduler = BackgroundScheduler(timezone=UTC)
    schedule_sweeps(scheduler, [(sweep, 0.1)])
    scheduler.start()
    try:
        assert _wait_for(lambda: provider.calls >= 2)
    finally:
        scheduler.shutdown(wait=True)
    assert overlaps == []
