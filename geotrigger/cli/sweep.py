"""``geotrigger sweep --once`` and ``geotrigger scheduler``: weather sweeps over the database.

Both work on a migrated database with places, moments and consumers applied to it (``places
apply``, ``rules apply``, ``consumers apply``). The providers are those of
``GEOTRIGGER_WEATHER_PROVIDERS`` (or ``--provider``), each configured by its
``GEOTRIGGER_WEATHER_<NAME>_*`` variables. A sweep prints what it fetched per weather cell
(cell keys, never coordinates), what failed and why, and the weather moments it decided.
"""

from __future__ import annotations

import argparse
import json
import os
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from apscheduler.schedulers.background import BackgroundScheduler

from geotrigger.cli.arguments import add_database_url, duration, instant, stop_on_signals
from geotrigger.cli.db import database_url
from geotrigger.config import Settings, load_settings
from geotrigger.errors import ConfigError
from geotrigger.jobs.live import LiveEngine
from geotrigger.jobs.scheduler import schedule_sweeps
from geotrigger.jobs.sweep import Sweep, SweepReport
from geotrigger.store.durable import Durable
from geotrigger.timestamps import wall_clock
from geotrigger.weather.registry import (
    create_provider,
    enabled_providers,
    provider_config,
    sweep_interval_s,
)


def register(subparsers: Any) -> None:
    """Add ``sweep`` and ``scheduler``."""
    sweep = subparsers.add_parser(
        "sweep", help="fetch the weather of the cells rules care about, once, and decide"
    )
    sweep.add_argument("--once", action="store_true", required=True, help="one sweep, then exit")
    sweep.add_argument(
        "--at", type=instant, metavar="TIME", help="the sweep's now (the file provider plays it)"
    )
    sweep.add_argument("--json", action="store_true", help="the reports as JSON")
    scheduler = subparsers.add_parser(
        "scheduler", help="run the weather sweeps at their intervals, in the foreground"
    )
    scheduler.add_argument(
        "--duration",
        type=duration,
        metavar="DUR",
        help="stop after this long (e.g. 1h); default: until interrupted",
    )
    for parser in (sweep, scheduler):
        parser.add_argument(
            "--provider",
            action="append",
            metavar="NAME",
            help="a provider to sweep (repeatable); default: GEOTRIGGER_WEATHER_PROVIDERS",
        )
        add_database_url(parser)
    sweep.set_defaults(handler=run_sweep)
    scheduler.set_defaults(handler=run_scheduler)


def distinct_providers(names: list[str]) -> list[str]:
    """``names``, which must not name a provider twice (ConfigError)."""
    if len(set(names)) != len(names):
        raise ConfigError(f"a provider is given twice: {', '.join(names)}")
    return names


def _provider_names(args: argparse.Namespace) -> list[str]:
    """The providers to sweep: ``--provider``, else ``GEOTRIGGER_WEATHER_PROVIDERS``."""
    names = list(args.provider or enabled_providers(os.environ))
    if not names:
        raise ConfigError(
            "no weather provider: set GEOTRIGGER_WEATHER_PROVIDERS (e.g. open-meteo) "
            "or give --provider NAME"
        )
    return distinct_providers(names)


def _sweeps(
    names: list[str],
    settings: Settings,
    durable: Durable,
    clock: Callable[[], datetime],
    gaps: dict[str, float] | None = None,
) -> list[Sweep]:
    """One sweep per provider over one live engine (its runs one at a time); ``gaps``: per
    provider, the least time since another process's sweep (the scheduler's half interval)."""
    live = LiveEngine(durable, settings, now=clock())
    engine_lock = threading.Lock()
    return [
        Sweep(
            provider,
            live.moments,
            settings=settings,
            database=durable.engine,
            clock=clock,
            on_decisions=durable.archive_decisions,
            refresh=live.current,
            engine_lock=engine_lock,
            min_gap_s=(gaps or {}).get(provider.name, 0.0),
        )
        for provider in [create_provider(provider_config(name, os.environ)) for name in names]
    ]


def run_sweep(args: argparse.Namespace) -> int:
    """Handler of ``geotrigger sweep --once``."""
    settings = load_settings()
    durable = Durable(database_url(args), settings)
    fixed = args.at
    clock = (lambda: fixed) if fixed is not None else wall_clock
    sweeps: list[Sweep] = []
    try:
        sweeps = _sweeps(_provider_names(args), settings, durable, clock)
        reports = [sweep.run() for sweep in sweeps]
    finally:
        for sweep in sweeps:
            sweep.provider.close()
        durable.close()
    for report in reports:
        if args.json:
            print(json.dumps(report_document(report), ensure_ascii=False))
        else:
            print(format_report(report))
    return 0


def run_scheduler(args: argparse.Namespace) -> int:
    """Handler of ``geotrigger scheduler``: the sweeps at their intervals until interrupted
    (or ``--duration`` has passed)."""
    settings = load_settings()
    durable = Durable(database_url(args), settings)
    stop = threading.Event()
    scheduler = BackgroundScheduler(timezone=UTC)
    sweeps: list[Sweep] = []
    try:
        names = _provider_names(args)
        every = {name: sweep_interval_s(name, os.environ) for name in names}
        gaps = {name: interval / 2 for name, interval in every.items()}
        sweeps = _sweeps(names, settings, durable, wall_clock, gaps)
        intervals = [every[s.provider.name] for s in sweeps]
        schedule_sweeps(scheduler, list(zip(sweeps, intervals, strict=True)), on_report=_print)
        for sweep, every_s in zip(sweeps, intervals, strict=True):
            print(f"scheduler: {sweep.provider.name} every {every_s:g} s", flush=True)
        restore = stop_on_signals(stop)
        try:
            scheduler.start()
            stop.wait(args.duration.total_seconds() if args.duration is not None else None)
        finally:
            restore()
    finally:
        if scheduler.running:
            scheduler.shutdown(wait=True)
        for sweep in sweeps:
            sweep.provider.close()
        durable.close()
    print("scheduler: stopped", flush=True)
    return 0


def _print(report: SweepReport) -> None:
    print(format_report(report), flush=True)


def format_report(report: SweepReport) -> str:
    """The report for people: the summary, then a line per cell and per fired moment."""
    lines = [report.summary()]
    for key in sorted(report.readings):
        reading = report.readings[key]
        values = [
            f"{reading.condition.value if reading.condition else 'condition unknown'}",
            _value(reading.temperature_c, "°C"),
            _value(reading.precipitation_mm_h, " mm/h"),
            f"observed {reading.observed_at.isoformat()}",
        ]
        lines.append(f"  {key}: " + ", ".join(v for v in values if v))
    for key in sorted(report.errors):
        lines.append(f"  {key}: no reading: {report.errors[key].reason}")
    for decision in report.fired:
        lines.append(f"  fired {decision.rule_id} at {decision.place_id}")
    return "\n".join(lines)


def _value(value: float | None, unit: str) -> str:
    return "" if value is None else f"{value:g}{unit}"


def report_document(report: SweepReport) -> dict[str, Any]:
    """The report as JSON-ready data (cell keys, never coordinates)."""
    return {
        "provider": report.provider,
        "at": report.at.isoformat(),
        "skipped": report.skipped,
        "cells": report.cells,
        "stored": report.stored,
        "outage": report.outage,
        "readings": {
            key: {
                "observed_at": r.observed_at.isoformat(),
                "valid_until": r.valid_until.isoformat() if r.valid_until else None,
                "condition": r.condition.value if r.condition else None,
                "temperature_c": r.temperature_c,
                "precipitation_mm_h": r.precipitation_mm_h,
                "source": r.source,
            }
            for key, r in sorted(report.readings.items())
        },
        "errors": {key: {"kind": e.kind, "reason": e.reason} for key, e in report.errors.items()},
        "decisions": len(report.decisions),
        "fired": [{"rule_id": d.rule_id, "place_id": d.place_id} for d in report.fired],
    }
