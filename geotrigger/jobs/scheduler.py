"""The scheduler: APScheduler 3 running each provider's sweep at its interval.

Each sweep is one job: ``coalesce`` (runs missed while the process was busy or asleep become
one run, not a burst), ``max_instances=1`` (a slow sweep is never overlapped by its next run),
and a misfire grace of half the interval (a run more than that late is skipped; the next one
comes at its time). The first run is at once. Across processes the sweep's own lock (see
:mod:`geotrigger.jobs.sweep`) keeps two schedulers from running the same sweep. A job never
raises into the scheduler: a failed run is logged and counted, and the next one comes.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

from apscheduler.schedulers.base import BaseScheduler
from apscheduler.triggers.interval import IntervalTrigger

from geotrigger.errors import GeotriggerError
from geotrigger.jobs.sweep import Sweep, SweepReport

log = logging.getLogger("geotrigger.scheduler")


def job_id(sweep: Sweep) -> str:
    """The scheduler's id of a sweep's job."""
    return f"sweep:{sweep.provider.name}"


def schedule_sweeps(
    scheduler: BaseScheduler,
    sweeps: Sequence[tuple[Sweep, float]],
    *,
    on_report: Callable[[SweepReport], None] | None = None,
    first_run: datetime | None = None,
) -> None:
    """Add a job per (sweep, interval in seconds); the first runs at ``first_run`` (now by
    default). ``on_report`` sees every report (the command line prints them)."""
    start = first_run or datetime.now(UTC)
    for sweep, every_s in sweeps:
        if not every_s > 0:
            raise ValueError(f"the interval of {job_id(sweep)} must be positive, got {every_s!r}")
        scheduler.add_job(
            _runner(sweep, on_report),
            trigger=IntervalTrigger(seconds=every_s, timezone=UTC),
            id=job_id(sweep),
            name=job_id(sweep),
            coalesce=True,
            max_instances=1,
            misfire_grace_time=max(1, int(every_s / 2)),
            next_run_time=start,
            replace_existing=True,
        )


def _runner(sweep: Sweep, on_report: Callable[[SweepReport], None] | None) -> Callable[[], None]:
    def run() -> None:
        try:
            report = sweep.run()
        except Exception as exc:  # the next run comes at its time; the failure is counted
            sweep.counts[("sweep_failures", sweep.provider.name)] += 1
            # our own errors' messages are safe to log; others' may carry values (a URL's
            # key, a statement's parameters): their class only
            told = str(exc) if isinstance(exc, GeotriggerError) else type(exc).__name__
            log.error("%s failed: %s", job_id(sweep), told)
            return
        log.info("%s", report.summary())
        if on_report is not None:
            on_report(report)

    return run
