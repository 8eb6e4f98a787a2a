"""A moment engine that lives on the database: its places, its active rule set, its consumers,
its recent weather, and its state, history and shadows, kept current while it runs.

:meth:`LiveEngine.current` is called before each unit of work (a sweep): it follows place
changes (the change log), reloads consumers (consent withdrawn in another process is in force
at the next run), and builds the engine again when a new rule-set version was applied.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from geotrigger.config import Settings
from geotrigger.errors import ConfigError
from geotrigger.jobs.place_sync import PlaceSync
from geotrigger.moments.pipeline import MomentEngine
from geotrigger.store.consumers import load_consumers
from geotrigger.store.database import database_errors, shown
from geotrigger.store.durable import Durable
from geotrigger.store.rule_sets import active_rule_set, compile_rule_set
from geotrigger.store.weather_readings import load_timeline

log = logging.getLogger("geotrigger.live")

# How far back the weather is loaded when an engine is built: enough for any rule's maximum
# age and for the next reading to be compared with the last one.
WEATHER_HISTORY = timedelta(days=1)


class LiveEngine:
    """The moment engine of one database, rebuilt or refreshed before each unit of work."""

    def __init__(self, durable: Durable, settings: Settings, *, now: datetime) -> None:
        self.durable, self.settings = durable, settings
        self.moments, self.sync, self.version = self._build(now)

    def _build(self, now: datetime) -> tuple[MomentEngine, PlaceSync, int]:
        durable, settings = self.durable, self.settings
        places, position = durable.places()
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
        rules = compile_rule_set(version, places={p.id: p for p in places})
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
        sync = PlaceSync(durable.feed, moments, position=position, every_s=0.0)
        return moments, sync, version.version

    def current(self, now: datetime) -> MomentEngine:
        """The engine, up to date with the database at ``now``."""
        with database_errors(self.durable.url), self.durable.engine.connect() as conn:
            version = active_rule_set(conn)
            consumers = load_consumers(conn)
        if version is not None and version.version != self.version:
            log.info("rule set version %d applied: the engine is built again", version.version)
            self.moments, self.sync, self.version = self._build(now)
            return self.moments
        self.sync.poll(now, force=True)
        self.moments.factory.consumers = consumers
        return self.moments
