"""Everything a replay (or, later, the service) keeps in one database, behind one object.

:class:`Durable` opens the database once (it must have its schema: ``geotrigger db
upgrade``) and hands out what the engines take: the device-state store, the history of
moments, the per-rule histories of would-be moments, the stored places and the feed of their
changes; and it archives each
batch's decisions, and the pings as read when keeping raw pings is on. Rows it writes for
retention are stamped with the wall-clock time, from which ``geotrigger db prune`` counts.
Database failures come out as ConfigError naming the database, never with its password.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from geotrigger.config import Settings
from geotrigger.errors import ConfigError
from geotrigger.model import Ping, Place
from geotrigger.moments.decision import Decision
from geotrigger.pings.files import Numbered
from geotrigger.store import migrations
from geotrigger.store.database import connect, database_errors, shown
from geotrigger.store.decisions import save_decisions
from geotrigger.store.device_state import DatabaseStateStore
from geotrigger.store.history import DatabaseHistory
from geotrigger.store.place_feed import PlaceFeed
from geotrigger.store.places import load_places, require_places_table
from geotrigger.store.raw_pings import save_raw_pings
from geotrigger.store.shadow_history import DatabaseShadowHistory

PINGS_PER_INSERT = 1000


class Durable:
    """One database for a run: its stores, its archive."""

    def __init__(self, url: str, settings: Settings, *, owns_state: bool = False) -> None:
        """``owns_state``: this process is the one that ingests into the database (the API
        service, which holds its ingest lock), so device states may stay in memory between
        batches (``settings.api.devices_in_memory`` of them)."""
        self.url = url
        with database_errors(url):
            if migrations.current(url) is None:
                raise ConfigError(
                    f"the database {shown(url)} has no schema yet: run geotrigger db upgrade first"
                )
        self.engine = connect(url)
        keep = settings.api.devices_in_memory if owns_state else 0
        self.state = DatabaseStateStore(self.engine, keep_devices=keep)
        self.history = DatabaseHistory(self.engine)
        self.feed = PlaceFeed(self.engine)
        self.keeps_pings = settings.retention.keep_raw_pings

    def shadow(self, rule_id: str) -> DatabaseShadowHistory:
        """The history of what ``rule_id`` would have fired (monitor mode, holdout)."""
        return DatabaseShadowHistory(self.engine, rule_id)

    def places(self) -> tuple[list[Place], int]:
        """The places applied to the database (``geotrigger places apply``; some are needed),
        and the change-log position they are at (for :class:`PlaceFeed`)."""
        with database_errors(self.url), self.engine.connect() as conn:
            require_places_table(conn)
            position = self.feed.position()  # before loading: a change in between comes again
            places = load_places(conn)
        if not places:
            raise ConfigError(
                f"the database {shown(self.url)} has no places: run geotrigger places apply"
            )
        return places, position

    @contextmanager
    def states_with_decisions(self) -> Iterator[None]:
        """Within the block, the device states the engine saves are held, and written by
        :meth:`archive_decisions` in the transaction of their batch's decisions (what is still
        held when the block ends is written then). A crash thus never keeps the states that
        say a batch's pings were seen without that batch's decisions: the batch runs again
        (its moments and decisions are keyed, so nothing is stored twice)."""
        with self.state.deferred():
            yield
            self.archive_decisions(())

    def archive_decisions(self, items: Iterable[object]) -> None:
        """Store the decisions among ``items``, and the device states held since the last
        call (:meth:`states_with_decisions`), in one transaction."""
        found = [d for d in items if type(d) is Decision]
        if found or self.state.holds_states:
            with database_errors(self.url), self.engine.begin() as conn:
                self.state.write_held(conn)
                if found:
                    save_decisions(conn, decisions=found, now=datetime.now(UTC))

    def archive_pings(self, records: Iterator[Numbered]) -> Iterator[Numbered]:
        """Pass the records on, storing the pings among them as read (when keeping is on)."""
        if not self.keeps_pings:
            yield from records
            return
        held: list[Ping] = []
        for numbered in records:
            if isinstance(numbered[1], Ping):
                held.append(numbered[1])
            if len(held) >= PINGS_PER_INSERT:
                self._save_pings(held)
                held = []
            yield numbered
        self._save_pings(held)

    def _save_pings(self, pings: list[Ping]) -> None:
        if pings:
            with database_errors(self.url), self.engine.begin() as conn:
                save_raw_pings(conn, pings=pings, received_at=datetime.now(UTC))

    def close(self) -> None:
        """Release the connections."""
        self.engine.dispose()
