"""The feed of place changes: what changed in ``places`` since a reader last looked.

A reader keeps a position (the last change-log number it has applied). :meth:`PlaceFeed.since`
answers with the places that were written after it (as they are now) and the ids that are gone.
When the log no longer reaches back to the position (pruned, or a different database), the
answer is *complete*: every place there is, for the reader to compare with what it holds.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import Connection, Engine, delete, func, select

from geotrigger.model import Place
from geotrigger.store.places import load_places, load_places_by_id
from geotrigger.store.tables import place_changes


@dataclass(frozen=True, slots=True, kw_only=True)
class PlaceChanges:
    """Places written since a position, and the ids deleted since; ``position`` is where the
    reader stands once it has applied them. ``complete``: ``upserted`` is every place there
    is, and anything the reader holds beyond it is gone (``removed`` is then empty)."""

    position: int
    upserted: tuple[Place, ...] = ()
    removed: tuple[str, ...] = ()
    complete: bool = False

    @property
    def is_empty(self) -> bool:
        return not (self.upserted or self.removed or self.complete)


class PlaceFeed:
    """Reads the change log of one database."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def position(self) -> int:
        """The number of the newest change (0 for none): where a reader that has just loaded
        every place stands."""
        with self.engine.connect() as conn:
            return _newest(conn)

    def since(self, position: int) -> PlaceChanges:
        """What changed after ``position``, read in one transaction."""
        with self.engine.connect() as conn, conn.begin():
            newest = _newest(conn)
            if newest == position:
                return PlaceChanges(position=position)
            oldest = conn.execute(select(func.min(place_changes.c.seq))).scalar_one()
            if newest < position or oldest is None or oldest > position + 1:
                return PlaceChanges(
                    position=newest, upserted=tuple(load_places(conn)), complete=True
                )
            ids = sorted(
                set(
                    conn.execute(
                        select(place_changes.c.place_id).where(
                            place_changes.c.seq > position, place_changes.c.seq <= newest
                        )
                    ).scalars()
                )
            )
            found = load_places_by_id(conn, ids)
        return PlaceChanges(
            position=newest,
            upserted=tuple(found[i] for i in ids if i in found),
            removed=tuple(i for i in ids if i not in found),
        )


def _newest(conn: Connection) -> int:
    return int(conn.execute(select(func.coalesce(func.max(place_changes.c.seq), 0))).scalar_one())


def prune_place_changes(conn: Connection, *, before: dt.datetime) -> int:
    """Delete changes logged before ``before``, always keeping the newest (so that the next
    number stays above every number a reader holds); the rows deleted."""
    newest = _newest(conn)
    deleted = conn.execute(
        delete(place_changes).where(
            place_changes.c.changed_at < before, place_changes.c.seq < newest
        )
    )
    return int(deleted.rowcount or 0)
