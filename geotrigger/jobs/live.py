"""A moment engine that lives on the database: its places, its active rule set, its consumers,
its recent weather, and its state, history and shadows, kept current while it runs.

:meth:`LiveEngine.current` is called before each unit of work (a sweep): it follows place
changes (the change log), reloads consumers (consent withdrawn in another process is in force
at the next run), and builds the engine again when a new rule-set version was applied.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime, timedelta

from geotrigger.config import Settings
from geotrigger.errors import ConfigError
from geotrigger.jobs.place_sync import PlaceSync
from geotrigger.moments.pipeline import MomentEngine
from geotrigger.store.consumers import load_consumers
from geotrigger.store.database import database_errors, shown
from geotrigger.store.durable import Durable
from geotrigger.store.rule_sets import active_rule_set, compile_rule_set
from geotrigger.store.weather_readings import WeatherFeed, load_timeline

log = logging.getLogger("geotrigger.live")

# How far back the weather is loaded when an engine is built: enough for any rule's maximum
# age and for the next reading to be compared with the last one.
WEATHER_HISTORY = timedelta(days=1)


class LiveEngine:
    """The moment engine of one database, rebuilt or refreshed before each unit of work.

    ``follow_weather``: new readings stored by the scheduler's sweeps are added to the weather
    the rules read (not decided again: the sweep that stored them decided them). ``every_s``:
    a refresh costs a few queries, so :meth:`current` refreshes at most this often (0: every
    time). ``owns_state``: this process accepts the pings (the API service), so it closes the
    visits of removed places; the scheduler only reads device state."""

    def __init__(
        self,
        durable: Durable,
        settings: Settings,
        *,
        now: datetime,
        follow_weather: bool = False,
        owns_state: bool = False,
        every_s: float = 0.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.durable, self.settings, self.owns_state = durable, settings, owns_state
        self.follow_weather, self.every_s, self.clock = follow_weather, every_s, clock
        self.weather_feed = WeatherFeed(durable.engine)
        self.moments, self.sync, self.version = self._build(now)
        self._next = clock() + every_s

    def _build(self, now: datetime) -> tuple[MomentEngine, PlaceSync, int]:
        durable, settings = self.durable, self.settings
        places, position = durable.places()
        self.weather_position = self.weather_feed.position()  # before loading, as places
        with database_errors(durable.url), durable.engine.connect() as conn:
            version = active_rule_set(conn)
            if version is None:
                raise ConfigError(
                    f"the database {shown(durable.url)} has no moments: run geotrigger rules apply"
                )
            consumers = load_consumers(conn)
            timeline = load_timeline(
                conn, cell_m=settings.weather.cell_m, since=now - WEATHER_HISTORY
            )
        # Not checked against the places: a place removed since `rules apply` leaves its rules
        # without that place (their selectors choose nothing there), it does not stop the engine.
        rules = compile_rule_set(version)
        moments = MomentEngine(
            places,
            rules,
            consumers=consumers,
            weather=timeline,
            settings=settings,
            history=durable.history,
            shadows=durable.shadow,
            store=durable.state,
        )
        if moments.watch is not None:
            moments.watch.drop()  # stored readings are history: new ones make the changes
        sync = PlaceSync(
            durable.feed, moments, position=position, every_s=0.0, close_visits=self.owns_state
        )
        return moments, sync, version.version

    def current(self, now: datetime, *, force: bool = False) -> MomentEngine:
        """The engine, up to date with the database at ``now`` (refreshed when ``every_s``
        has passed since the last refresh, or ``force``)."""
        if not force and self.every_s > 0:
            tick = self.clock()
            if tick < self._next:
                return self.moments
            self._next = tick + self.every_s
        with database_errors(self.durable.url), self.durable.engine.connect() as conn:
            version = active_rule_set(conn)
            consumers = load_consumers(conn)
        if version is not None and version.version != self.version:
            log.info("rule set version %d applied: the engine is built again", version.version)
            self.moments, self.sync, self.version = self._build(now)
            return self.moments
        self.sync.poll(now, force=True)
        self.moments.factory.consumers = consumers
        if self.follow_weather:
            self.weather_position, readings = self.weather_feed.since(self.weather_position)
            if readings:
                self.moments.add_weather(readings, evaluate=False)
        return self.moments
