"""Weather sweeps: one fetch per weather cell that rules care about, readings stored with
their validity, and the changes they show decided as weather moments at once.

A sweep asks its provider for the cells of the places chosen by weather-triggered rules and by
rules with a weather condition (places in one cell share one fetch). The readings go to the
database (when there is one) and into the moment engine: a reading newer than the last one at
its cell is a weather change, decided for the devices whose last accepted location is fresh and
near a chosen place in that cell — the environmental moment with no new ping. Same decider,
same gates and traces as every other moment; a weather-event cap stops a second moment in the
same spell.

A provider outage is not an error of the sweep: its cells get no reading (so no weather
moments, and rules with a weather condition see their last reading grow stale), the report
says so and the counters count it. With a database, a sweep runs under a lock named after its
provider, so two schedulers never run the same sweep at once, and (with ``min_gap_s``, half
the interval in the scheduler) a sweep another scheduler has just made is skipped: N
schedulers make one sweep per interval between them, not N.

:class:`Sweeping` runs sweeps inside a replay, at fixed steps of the replay's clock, with the
provider's clock set to the sweep time (providers that can be given a clock: the file provider
plays a recording; a live provider would answer with today's weather): a backtest of weather
moments on recorded pings.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from geotrigger.config import Settings
from geotrigger.engine.replay import Processor, Wrapper
from geotrigger.model import Ping
from geotrigger.moments.decision import Decision, Outcome
from geotrigger.moments.pipeline import MomentEngine
from geotrigger.moments.rulebook import RuleBook
from geotrigger.rules.model import WeatherTrigger
from geotrigger.store.database import Engine
from geotrigger.store.job_runs import last_run, record_run
from geotrigger.store.locks import try_lock
from geotrigger.store.weather_readings import save_readings
from geotrigger.timestamps import wall_clock
from geotrigger.weather.cells import cell_centre, cell_of_place
from geotrigger.weather.provider import (
    Cell,
    Clocked,
    FetchResult,
    ProviderError,
    WeatherProvider,
)
from geotrigger.weather.reading import WeatherReading

log = logging.getLogger("geotrigger.weather.sweep")

Clock = Callable[[], datetime]


def weather_cells(book: RuleBook, cell_m: float) -> list[Cell]:
    """The cells of the places that weather rules care about (a weather trigger or a weather
    condition), each once, sorted by key; the centre of each cell is where it is read."""
    chosen: set[str] = set()
    for rule in book.rule_set.rules:
        if isinstance(rule.trigger, WeatherTrigger) or rule.conditions.weather is not None:
            chosen |= book.chosen[rule.id]
    keys = {cell_of_place(book.places[place_id], cell_m) for place_id in chosen}
    return [Cell(key, *cell_centre(key)) for key in sorted(keys)]


@dataclass(frozen=True, slots=True, kw_only=True)
class SweepReport:
    """What one sweep did."""

    provider: str
    at: datetime
    cells: int = 0
    readings: dict[str, WeatherReading] = field(default_factory=dict)
    errors: dict[str, ProviderError] = field(default_factory=dict)
    stored: int = 0  # readings new to the database
    decisions: list[Decision] = field(default_factory=list)
    skipped: str | None = None  # why the sweep did not run
    elapsed_s: float = 0.0

    @property
    def outage(self) -> bool:
        """Every cell failed: the provider is down (or refuses us)."""
        return bool(self.cells) and not self.readings

    @property
    def fired(self) -> list[Decision]:
        return [d for d in self.decisions if d.outcome is Outcome.FIRED]

    def summary(self) -> str:
        """One line for logs and the command line: counts only, no coordinates."""
        if self.skipped:
            return f"sweep {self.provider}: skipped ({self.skipped})"
        kinds = Counter(e.kind for e in self.errors.values())
        failed = ", ".join(f"{n} {kind}" for kind, n in sorted(kinds.items()))
        return (
            f"sweep {self.provider} at {self.at.isoformat()}: {self.cells} cells, "
            f"{len(self.readings)} readings ({self.stored} new), "
            f"{len(self.errors)} failed{f' ({failed})' if failed else ''}, "
            f"{len(self.decisions)} decisions, {len(self.fired)} fired"
            f"{' — provider outage: no weather moments' if self.outage else ''}"
        )


class Sweep:
    """One provider's sweep over the cells of one moment engine."""

    def __init__(
        self,
        provider: WeatherProvider,
        moments: MomentEngine,
        *,
        settings: Settings,
        database: Engine | None = None,
        clock: Clock = wall_clock,
        on_decisions: Callable[[list[Decision]], None] | None = None,
        refresh: Callable[[datetime], MomentEngine] | None = None,
        engine_lock: threading.Lock | None = None,
        min_gap_s: float = 0.0,
    ) -> None:
        """Readings are stored in ``database`` when given (and the sweep runs under its lock);
        decisions go to ``on_decisions``; ``clock`` is the sweep's "now" (the provider's too,
        for providers that play recordings); ``refresh`` gives the engine, up to date, at the
        start of each run's decisions (a :class:`~geotrigger.jobs.live.LiveEngine`, after the
        fetch, so that consent withdrawn during a slow fetch is in force); sweeps sharing an
        engine share ``engine_lock`` (a scheduler runs jobs in threads); ``min_gap_s``: with
        a database, a sweep another process finished less than this ago is not made again."""
        self.provider, self.moments, self.settings = provider, moments, settings
        self.database, self.clock, self.on_decisions = database, clock, on_decisions
        self.refresh, self.min_gap_s = refresh, min_gap_s
        self.engine_lock = engine_lock or threading.Lock()
        self.counts: Counter[tuple[str, ...]] = Counter()  # metrics: (name, provider[, label])
        if isinstance(provider, Clocked):
            provider.set_clock(clock)

    @property
    def lock_name(self) -> str:
        return f"geotrigger-sweep:{self.provider.name}"

    def run(self) -> SweepReport:
        """One sweep; with a database only when no other process is running this one, nor
        has just made it (``min_gap_s``)."""
        if self.database is None:
            with self.engine_lock:
                return self._run()
        with try_lock(self.database, self.lock_name) as taken:
            if not taken:
                return self._skipped("another process is running this sweep")
            if self.min_gap_s > 0:
                with self.database.connect() as conn:
                    last = last_run(conn, self.lock_name)
                age_s = None if last is None else (wall_clock() - last).total_seconds()
                if age_s is not None and 0 <= age_s < self.min_gap_s:
                    return self._skipped(f"another process made it {age_s:.0f} s ago")
            with self.engine_lock:
                report = self._run()
            with self.database.begin() as conn:
                record_run(conn, self.lock_name, finished_at=wall_clock())
            return report

    def _skipped(self, why: str) -> SweepReport:
        self.counts[("sweeps_skipped", self.provider.name)] += 1
        return SweepReport(provider=self.provider.name, at=self.clock(), skipped=why)

    def _run(self) -> SweepReport:
        started = time.perf_counter()
        name, at = self.provider.name, self.clock()
        cells = weather_cells(self.moments.book, self.settings.weather.cell_m)
        result = self._fetch(cells)
        if self.refresh is not None:
            self.moments = self.refresh(at)
        stored = 0
        if self.database is not None and result.readings:
            with self.database.begin() as conn:
                stored = save_readings(conn, readings=result.readings, fetched_at=wall_clock())
        if self.refresh is not None:  # pings are accepted elsewhere: where are devices now?
            self.moments.refresh_locations()
        decisions = self.moments.add_weather(sorted(result.readings.items()), now=at)
        if decisions and self.on_decisions is not None:
            self.on_decisions(decisions)
        report = SweepReport(
            provider=name,
            at=at,
            cells=len(cells),
            readings=dict(result.readings),
            errors=dict(result.errors),
            stored=stored,
            decisions=decisions,
            elapsed_s=time.perf_counter() - started,
        )
        self._count(report)
        return report

    def _fetch(self, cells: Sequence[Cell]) -> FetchResult:
        if not cells:
            return FetchResult()
        try:
            return self.provider.fetch(cells)
        except Exception as exc:  # a plug-in that breaks the contract must not stop sweeps
            # the class only: a plug-in's message may carry a URL with a key or coordinates
            log.error("provider %s raised %s from fetch", self.provider.name, type(exc).__name__)
            error = ProviderError(self.provider.name, f"the provider failed: {type(exc).__name__}")
            return FetchResult(errors={cell.key: error for cell in cells})

    def _count(self, report: SweepReport) -> None:
        name, counts = report.provider, self.counts
        counts[("sweeps", name)] += 1
        counts[("readings", name)] += len(report.readings)
        for error in report.errors.values():
            counts[("fetch_errors", name, error.kind)] += 1
        counts[("weather_decisions", name)] += len(report.decisions)
        counts[("weather_moments", name)] += len(report.fired)
        if report.outage:
            counts[("outages", name)] += 1
            log.warning("weather provider %s: no reading for any cell: no weather moments", name)


class Sweeping(Wrapper):
    """What replay feeds, with sweeps every ``every_s`` of the replay's clock: a batch is
    split at each sweep time, so a sweep sees the devices where they were then."""

    def __init__(self, processor: Processor, sweeps: Sequence[Sweep], every_s: float) -> None:
        if not every_s > 0:
            raise ValueError(f"the sweep step must be positive, got {every_s!r}")
        super().__init__(processor)
        self.sweeps, self.every_s = list(sweeps), every_s
        self.next_s: float | None = None  # epoch seconds of the next sweep
        self.now = datetime.fromtimestamp(0, UTC)  # the replay clock the sweeps read
        self.reports: list[SweepReport] = []
        for sweep in self.sweeps:
            sweep.clock = self._clock
            if isinstance(sweep.provider, Clocked):
                sweep.provider.set_clock(self._clock)

    def _clock(self) -> datetime:
        return self.now

    def process(
        self,
        pings: Sequence[Ping],
        *,
        now: datetime | None = None,
        lines: Sequence[int | None] | None = None,
    ) -> list[Any]:
        out: list[Any] = []
        if not pings:
            return out
        if self.next_s is None:  # the first sweep at the first step at or after the stream
            first = pings[0].epoch_s
            self.next_s = first - first % self.every_s
        start = 0
        for i, ping in enumerate(pings):
            while self.next_s <= ping.epoch_s:
                out += self._pings(pings, start, i, now, lines)
                start = i
                out += self._sweep(self.next_s)
                self.next_s += self.every_s
        out += self._pings(pings, start, len(pings), now, lines)
        return out

    def _pings(
        self,
        pings: Sequence[Ping],
        start: int,
        stop: int,
        now: datetime | None,
        lines: Sequence[int | None] | None,
    ) -> list[Any]:
        if start == stop:
            return []
        part = None if lines is None else lines[start:stop]
        return list(self.processor.process(pings[start:stop], now=now, lines=part))

    def _sweep(self, at_s: float) -> list[Decision]:
        self.now = datetime.fromtimestamp(at_s, UTC)
        decisions: list[Decision] = []
        for sweep in self.sweeps:
            report = sweep.run()
            self.reports.append(report)
            decisions += report.decisions
        return decisions
