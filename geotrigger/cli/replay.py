"""``geotrigger replay``: run a file of pings through the engine against a set of places.

One JSON line per event goes to ``--out`` (default: standard output): every transition with all
its fields, and every rejected ping with its reason, detail and line. With ``--rules`` (and
``--consumers``, ``--weather``) the rule engine runs too, and every candidate moment adds a
``"type": "decision"`` line: fired (with the moment), suppressed by which gate, or not matched
by which condition; the summary then shows each rule's funnel. A summary table goes to
standard error, and on large files a progress bar too when standard error is a terminal. The
summary names places and counts, never a device or a position: it is the part that ends up in
logs, while the events file is data.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import IO, Any

import orjson

from geotrigger.cli.arguments import duration, instant
from geotrigger.cli.heap import settle_heap
from geotrigger.cli.progress import progress_bar
from geotrigger.cli.replay_output import (
    DUMP_OPTIONS,
    events_output,
    format_summary,
    format_sweeps,
    record_of,
)
from geotrigger.cli.sweep import distinct_providers
from geotrigger.config import Settings, load_settings
from geotrigger.consumers import ConsumerDirectory, load_consumers
from geotrigger.engine import Engine, Event
from geotrigger.engine.replay import ReplaySummary, replay
from geotrigger.errors import ConfigError
from geotrigger.jobs.ingest import sole_ingester
from geotrigger.jobs.place_sync import Following, PlaceSync
from geotrigger.jobs.sweep import Sweep, Sweeping
from geotrigger.model import Place
from geotrigger.moments.decision import Decision
from geotrigger.moments.pipeline import MomentEngine
from geotrigger.moments.summary import MomentSummary, format_funnels
from geotrigger.pings import FORMATS, read_numbered
from geotrigger.places import load_places_strict
from geotrigger.rules.loading import load_rules_strict
from geotrigger.store.durable import Durable
from geotrigger.weather import WeatherTimeline
from geotrigger.weather.files import load_weather_timeline
from geotrigger.weather.registry import create_provider, provider_config


def register(subparsers: Any) -> None:
    """Add the ``replay`` command."""
    parser = subparsers.add_parser(
        "replay",
        help="run a file of pings through the engine and write every event",
        description="Run pings (JSON Lines, CSV or GPX) through filters, matching and "
        "enter/dwell/exit, writing one JSON line per transition or rejected ping.",
    )
    parser.add_argument(
        "--places",
        nargs="+",
        metavar="PATH",
        type=Path,
        help="place files or folders; without them, the places of --database-url "
        "(put there by geotrigger places apply)",
    )
    parser.add_argument("--pings", required=True, metavar="FILE", type=Path)
    parser.add_argument("--out", metavar="FILE", type=Path, help="events file (default: stdout)")
    parser.add_argument(
        "--now",
        metavar="TIME",
        type=instant,
        help="judge every ping as if received at TIME (RFC 3339 or epoch seconds); "
        "default: the newest accepted ping time so far",
    )
    parser.add_argument("--format", choices=FORMATS, help="ping format (default: by suffix)")
    parser.add_argument("--device-id", help="device of a GPX file (default: the file name)")
    parser.add_argument("--top", type=int, default=10, metavar="N", help="places in the summary")
    add_rule_arguments(parser)
    parser.set_defaults(handler=run)


def add_rule_arguments(parser: argparse.ArgumentParser) -> None:
    """The options that bring in the rule engine (replay and demo share them)."""
    parser.add_argument(
        "--rules", nargs="+", metavar="PATH", type=Path, help="moments (rules) files or folders"
    )
    parser.add_argument(
        "--consumers",
        nargs="+",
        metavar="PATH",
        type=Path,
        help="consumer profiles (JSON Lines or YAML); without them no consumer has consented",
    )
    parser.add_argument(
        "--weather", metavar="FILE", type=Path, help="a weather timeline (JSON Lines of readings)"
    )
    parser.add_argument(
        "--sweep",
        action="append",
        metavar="PROVIDER",
        help="weather sweeps of this provider (repeatable) during the replay, every "
        "--sweep-every of the replay's clock, instead of --weather: a backtest of weather "
        "moments (the file provider plays GEOTRIGGER_WEATHER_FILE_PATH)",
    )
    parser.add_argument(
        "--sweep-every",
        type=duration,
        default=timedelta(minutes=5),
        metavar="DUR",
        help="the replay time between sweeps (default 5m)",
    )
    parser.add_argument(
        "--database-url",
        metavar="URL",
        help="keep device state, moments and decisions (and raw pings when kept) in this "
        "database (made by geotrigger db upgrade), so a replay stopped mid-stream continues "
        "where it was; default: in memory",
    )


def load_places(paths: list[Path]) -> list[Place]:
    """Places from files or folders, all or nothing (PlaceError names every problem)."""
    return list(load_places_strict(paths).places)


def open_durable(args: argparse.Namespace, settings: Settings) -> Durable | None:
    """The database of ``--database-url``, when given (it must have its schema)."""
    return None if args.database_url is None else Durable(args.database_url, settings)


def replay_places(
    args: argparse.Namespace, durable: Durable | None
) -> tuple[list[Place], int | None]:
    """The places of ``--places``, else those stored in the database with the change-log
    position they were loaded at (the replay then follows changes made while it runs)."""
    if args.places is not None:
        return load_places(args.places), None
    if durable is None:
        raise ConfigError("give --places PATH, or --database-url URL with places applied to it")
    return durable.places()


def build_processor(
    args: argparse.Namespace,
    places: list[Place],
    settings: Settings,
    durable: Durable | None = None,
) -> Engine | MomentEngine:
    """The location engine, or the moment engine when ``--rules`` is given; state and moments
    in ``durable`` when given, else in memory."""
    store = None if durable is None else durable.state
    sweep = getattr(args, "sweep", None)  # demo has no --sweep
    if args.rules is None:
        if args.consumers is not None or args.weather is not None or sweep:
            raise ConfigError("--consumers, --weather and --sweep are for rules: add --rules PATH")
        return Engine(places, settings=settings, store=store)
    by_id = {p.id: p for p in places}
    rules = load_rules_strict(args.rules, places=by_id)
    if args.consumers is None:
        print(
            "note: no --consumers given: no consumer has consented, so every candidate moment "
            "will be suppressed by consent",
            file=sys.stderr,
        )
    consumers = (
        load_consumers(args.consumers) if args.consumers is not None else ConsumerDirectory.empty()
    )
    weather = None
    if args.weather is not None and sweep:
        raise ConfigError(
            "give --weather (a recorded timeline) or --sweep (a provider's sweeps), not both"
        )
    if args.weather is not None:
        weather = load_weather_timeline(args.weather, cell_m=settings.weather.cell_m, places=by_id)
    elif sweep:
        weather = WeatherTimeline(settings.weather.cell_m)  # filled by the sweeps
    return MomentEngine(
        places,
        rules,
        consumers=consumers,
        weather=weather,
        settings=settings,
        history=None if durable is None else durable.history,
        shadows=None if durable is None else durable.shadow,
        store=store,
    )


def replay_sweeps(
    args: argparse.Namespace, processor: Engine | MomentEngine, settings: Settings
) -> list[Sweep]:
    """The sweeps of ``--sweep`` (providers configured by their environment variables).
    A backtest's readings are not stored: the database's readings are the live ones."""
    if not args.sweep:
        return []
    assert isinstance(processor, MomentEngine)
    return [
        Sweep(create_provider(provider_config(name, os.environ)), processor, settings=settings)
        for name in distinct_providers(list(args.sweep))
    ]


def run(args: argparse.Namespace) -> int:
    """Handler of ``geotrigger replay``."""
    settings = load_settings()
    durable = open_durable(args, settings)
    try:
        places, position = replay_places(args, durable)
        processor = build_processor(args, places, settings, durable)
        sync = None
        if durable is not None and position is not None:
            sync = PlaceSync(
                durable.feed,
                processor,
                position=position,
                every_s=settings.database.places_poll_s,
            )
        sweeps = replay_sweeps(args, processor, settings)
        settle_heap()
        moments = MomentSummary()
        try:
            with _into(durable), events_output(args.out) as out:
                summary = replay_file(
                    processor,
                    args.pings,
                    out,
                    args=args,
                    moments=moments,
                    durable=durable,
                    sync=sync,
                    sweeps=sweeps,
                )
        finally:
            for sweep in sweeps:
                sweep.provider.close()
    finally:
        if durable is not None:
            durable.close()
    text = format_summary(summary, source=args.pings.name, places=len(places), top=args.top)
    if isinstance(processor, MomentEngine):
        rule_ids = [r.id for r in processor.book.rule_set.rules]
        text += "\n" + format_funnels(moments, rule_ids)
    for sweep in sweeps:
        text += "\n" + format_sweeps(sweep)
    print(text, file=sys.stderr)
    return 0


@contextmanager
def _into(durable: Durable | None) -> Iterator[None]:
    """A replay into a database is its one ingesting process while it runs (no API serving
    it: the two would write the same devices' states), and writes each batch's device
    states with its decisions."""
    if durable is None:
        yield
        return
    with sole_ingester(durable), durable.states_with_decisions():
        yield


def replay_file(
    engine: Engine | MomentEngine,
    path: Path,
    out: IO[bytes],
    *,
    args: argparse.Namespace,
    moments: MomentSummary | None = None,
    durable: Durable | None = None,
    sync: PlaceSync | None = None,
    sweeps: Sequence[Sweep] = (),
) -> ReplaySummary:
    """Replay one ping file into ``out`` (JSON lines), with a progress bar when it helps;
    decisions are counted into ``moments`` and archived in ``durable``; place changes in the
    database are followed by ``sync``, when given; ``sweeps`` run every ``--sweep-every``."""
    dumps, write = orjson.dumps, out.write
    key = engine.settings.privacy.pseudonym_key if isinstance(engine, MomentEngine) else None

    def sink(items: list[Event | Decision]) -> None:
        if moments is not None:
            moments.count(d for d in items if type(d) is Decision)
        write(b"".join(dumps(record_of(e, key), option=DUMP_OPTIONS) for e in items))
        if durable is not None:
            durable.archive_decisions(items)

    bar = progress_bar(path)
    records = read_numbered(
        path, fmt=args.format, device_id=args.device_id, progress=bar.update if bar else None
    )
    if durable is not None:
        records = durable.archive_pings(records)
    try:
        processor: Any = engine if sync is None else Following(engine, sync)
        if sweeps:
            processor = Sweeping(processor, sweeps, args.sweep_every.total_seconds())
        summary = replay(processor, records, sink=sink, now=args.now)
        if isinstance(engine, MomentEngine):
            sink(list(engine.finish(now=args.now)))
        return summary
    finally:
        if bar is not None:
            bar.close()
