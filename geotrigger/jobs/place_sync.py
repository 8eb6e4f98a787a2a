"""Keeping a running engine's places in step with the database.

``geotrigger places apply`` (or the admin API) writes places and logs what it touched; a
running engine polls the log (:class:`~geotrigger.store.place_feed.PlaceFeed`) every
``every_s`` seconds and applies what changed to its index, its rule book and its weather
watch, without a restart. A removed place closes the visits inside it (exits with reason
"place removed"). When the log no longer reaches back to the engine's position, the engine
compares every place with what it holds and applies the difference.

:class:`Following` wraps what replay feeds, so that a replay against the database's places
(no ``--places``) sees changes made while it runs, at its batch boundaries.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from geotrigger.engine.replay import Processor, Wrapper
from geotrigger.model import Ping, Place, Transition
from geotrigger.store.place_feed import PlaceChanges, PlaceFeed
from geotrigger.store.places import changed_fields

log = logging.getLogger("geotrigger.places.sync")


class PlaceHolder(Protocol):
    """An engine whose places can change while it runs (the location engine or the moment
    engine)."""

    def upsert_place(self, place: Place) -> None: ...

    def remove_place(
        self, place_id: str, at: datetime, *, close_visits: bool = True
    ) -> list[Transition]: ...

    def place(self, place_id: str) -> Place | None: ...

    def place_ids(self) -> set[str]: ...


@dataclass(frozen=True, slots=True, kw_only=True)
class Synced:
    """What one poll applied."""

    upserted: int = 0
    removed: int = 0
    exits: list[Transition] = field(default_factory=list)
    complete: bool = False  # the whole set was compared (the log did not reach back)


class PlaceSync:
    """Polls the change log and applies it to ``holder``."""

    def __init__(
        self,
        feed: PlaceFeed,
        holder: PlaceHolder,
        *,
        position: int,
        every_s: float,
        clock: Callable[[], float] = time.monotonic,
        close_visits: bool = True,
    ) -> None:
        """``position``: the log position the holder's places were loaded at (read it before
        loading them: a change in between is applied again, which is harmless).
        ``close_visits``: False in a process that does not own device state (the scheduler):
        removed places leave its index only."""
        self.feed, self.holder, self.position = feed, holder, position
        self.close_visits = close_visits
        self.every_s, self.clock = every_s, clock
        self._next = clock() + every_s

    def poll(self, at: datetime, *, force: bool = False) -> Synced | None:
        """Apply the changes since the last poll, when ``every_s`` has passed (or ``force``);
        removed places close their visits at ``at``. None when it was not time yet."""
        now = self.clock()
        if not force and now < self._next:
            return None
        self._next = now + self.every_s
        changes = self.feed.since(self.position)
        synced = self.apply(changes, at)
        self.position = changes.position
        return synced

    def apply(self, changes: PlaceChanges, at: datetime) -> Synced:
        """Apply one answer of the feed."""
        if changes.is_empty:
            return Synced()
        upserts, removals = self._plan(changes)
        holder = self.holder
        for place in upserts:
            holder.upsert_place(place)
        exits: list[Transition] = []
        for place_id in removals:
            exits += holder.remove_place(place_id, at, close_visits=self.close_visits)
        if upserts or removals:
            log.info(
                "places changed: %d added or changed, %d removed, %d visits closed",
                len(upserts),
                len(removals),
                len(exits),
            )
        return Synced(
            upserted=len(upserts), removed=len(removals), exits=exits, complete=changes.complete
        )

    def _plan(self, changes: PlaceChanges) -> tuple[list[Place], list[str]]:
        held = self.holder.place_ids()
        if not changes.complete:
            return list(changes.upserted), [i for i in changes.removed if i in held]
        wanted = {p.id for p in changes.upserted}
        upserts = [p for p in changes.upserted if self._differs(p)]
        return upserts, sorted(held - wanted)

    def _differs(self, place: Place) -> bool:
        old = self.holder.place(place.id)
        return old is None or bool(changed_fields(old, place))


class Following(Wrapper):
    """What replay feeds, polling for place changes before each batch; the exits of removed
    places come out first, dated at the batch's first ping."""

    def __init__(self, processor: Processor, sync: PlaceSync) -> None:
        super().__init__(processor)
        self.sync = sync

    def process(
        self,
        pings: Sequence[Ping],
        *,
        now: datetime | None = None,
        lines: Sequence[int | None] | None = None,
    ) -> list[Any]:
        at = pings[0].timestamp if pings else (now or datetime.now(UTC))
        synced = self.sync.poll(at)
        out: list[Any] = list(synced.exits) if synced is not None else []
        out += self.processor.process(pings, now=now, lines=lines)
        return out
