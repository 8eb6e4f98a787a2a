"""The places repository: places in and out of the ``places`` table, and the diff that
``geotrigger places apply`` prints and applies.

A row holds what a :class:`~geotrigger.model.Place` holds. A circle is its centre (the WKB of
a point, in (lon, lat) order) with ``radius_m``; a polygon or multipolygon is its WKB with
``radius_m`` NULL. Tags are a sorted JSON list, metadata a JSON object, opening hours the text
they were parsed from (parsed again, in the place's zone, when loaded). Dates in metadata are
kept as ISO text: JSON has no dates, so a place is compared in that form too.

Every write also appends the ids it touched to ``place_changes``, under a lock held to the end
of the transaction, so that the log's numbers are in commit order and a running engine can
follow it (:mod:`geotrigger.store.place_feed`).

The caller owns the transaction (``with engine.begin() as conn:``); nothing here commits.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import shapely
from shapely.geometry import Point
from shapely.geometry.base import BaseGeometry
from sqlalchemy import Connection, RowMapping, delete, func, inspect, select, update

from geotrigger.errors import ConfigError, GeotriggerError, PlaceError, Where
from geotrigger.model import Circle, Place
from geotrigger.places import parse_opening_hours
from geotrigger.store.database import in_lists
from geotrigger.store.tables import place_changes
from geotrigger.store.tables import places as places_table
from geotrigger.store.types import utc

# The fields a diff names, in the order it names them.
FIELDS = (
    "name",
    "brand",
    "tags",
    "geometry",
    "timezone",
    "opening_hours",
    "dwell_s",
    "metadata",
)
_FROM_DATABASE = "the database"


@dataclass(frozen=True, slots=True, kw_only=True)
class PlaceDiff:
    """What it takes to make the database hold a given set of places (ids sorted)."""

    added: tuple[str, ...] = ()
    changed: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # id -> fields
    removed: tuple[str, ...] = ()
    unchanged: int = 0

    def __post_init__(self) -> None:
        ordered = {key: tuple(self.changed[key]) for key in sorted(self.changed)}
        object.__setattr__(self, "changed", MappingProxyType(ordered))

    @property
    def is_empty(self) -> bool:
        """True when the database already holds exactly the places."""
        return not (self.added or self.changed or self.removed)


def require_places_table(conn: Connection) -> None:
    """ConfigError unless the schema (the ``places`` table) exists on this connection."""
    if not inspect(conn).has_table(places_table.name):
        raise ConfigError("no places table: run geotrigger db upgrade first")


def save_place(conn: Connection, *, place: Place, now: dt.datetime) -> None:
    """Insert ``place``, or replace the row of the same id."""
    lock_changes(conn)
    row = _row(place, utc(now))
    updated = conn.execute(update(places_table).where(places_table.c.id == place.id).values(row))
    if updated.rowcount == 0:
        conn.execute(places_table.insert().values(row))
    log_changes(conn, place_ids=[place.id], now=now)


def delete_place(conn: Connection, *, place_id: str) -> bool:
    """Delete the place ``place_id``; True when there was one."""
    lock_changes(conn)
    deleted = conn.execute(delete(places_table).where(places_table.c.id == place_id))
    if deleted.rowcount:
        log_changes(conn, place_ids=[place_id], now=dt.datetime.now(dt.UTC))
    return bool(deleted.rowcount)


def load_places(conn: Connection) -> list[Place]:
    """Every place in the database, sorted by id."""
    rows = conn.execute(select(places_table).order_by(places_table.c.id)).mappings()
    return [_place(row) for row in rows]


def load_places_by_id(conn: Connection, place_ids: Iterable[str]) -> dict[str, Place]:
    """The places among ``place_ids`` that exist, by id."""
    found: dict[str, Place] = {}
    for chunk in in_lists(place_ids):
        rows = conn.execute(select(places_table).where(places_table.c.id.in_(chunk))).mappings()
        found.update((row["id"], _place(row)) for row in rows)
    return found


def diff_places(conn: Connection, *, places: Iterable[Place]) -> PlaceDiff:
    """What differs between the database and ``places`` (which must have distinct ids)."""
    wanted = _by_id(places)
    held = {place.id: place for place in load_places(conn)}
    changed: dict[str, tuple[str, ...]] = {}
    unchanged = 0
    for place_id in wanted.keys() & held.keys():
        fields = changed_fields(held[place_id], wanted[place_id])
        if fields:
            changed[place_id] = fields
        else:
            unchanged += 1
    return PlaceDiff(
        added=tuple(sorted(wanted.keys() - held.keys())),
        changed=changed,
        removed=tuple(sorted(held.keys() - wanted.keys())),
        unchanged=unchanged,
    )


def apply_places(conn: Connection, *, places: Iterable[Place], now: dt.datetime) -> PlaceDiff:
    """Make the database hold exactly ``places``: insert, update and delete what differs.

    Returns the diff that was applied. Unchanged rows are not written (their ``updated_at``
    stays the time they last changed)."""
    wanted = _by_id(places)
    lock_changes(conn)
    diff = diff_places(conn, places=wanted.values())
    stamp = utc(now)
    if diff.added:
        conn.execute(places_table.insert(), [_row(wanted[i], stamp) for i in diff.added])
    for place_id in diff.changed:
        row = _row(wanted[place_id], stamp)
        conn.execute(update(places_table).where(places_table.c.id == place_id).values(row))
    if diff.removed:
        conn.execute(delete(places_table).where(places_table.c.id.in_(diff.removed)))
    log_changes(conn, place_ids=[*diff.added, *diff.changed, *diff.removed], now=stamp)
    return diff


# The PostgreSQL advisory lock that orders writers of the change log (any fixed number).
CHANGE_LOG_LOCK = 0x9E07_1ACE


def lock_changes(conn: Connection) -> None:
    """Take the change log's lock for the rest of the transaction, before any place row is
    written (so that writers queue on this one lock, never on each other's rows). On
    PostgreSQL a transaction-scoped advisory lock makes writers take log numbers in commit
    order (a number taken by a transaction that commits after a higher one would be skipped
    by a reader); SQLite has one writer at a time anyway. Taken again, it is a no-op."""
    if conn.dialect.name == "postgresql":
        conn.execute(select(func.pg_advisory_xact_lock(CHANGE_LOG_LOCK)))


def log_changes(conn: Connection, *, place_ids: Iterable[str], now: dt.datetime) -> None:
    """Append ``place_ids`` to the change log (under :func:`lock_changes`)."""
    ids = list(place_ids)
    if not ids:
        return
    lock_changes(conn)
    stamp = utc(now)
    conn.execute(place_changes.insert(), [{"place_id": i, "changed_at": stamp} for i in ids])


def changed_fields(old: Place, new: Place) -> tuple[str, ...]:
    """The fields (of :data:`FIELDS`) in which two places differ, as the database sees them."""
    return tuple(name for name in FIELDS if _COMPARE[name](old, new))


def _differs_geometry(old: Place, new: Place) -> bool:
    a, b = old.geometry, new.geometry
    if isinstance(a, Circle) or isinstance(b, Circle):
        return a != b
    return a.geom_type != b.geom_type or not shapely.equals_exact(a, b, tolerance=0.0)


def _hours_text(place: Place) -> str | None:
    return None if place.opening_hours is None else place.opening_hours.expression


_COMPARE = {
    "name": lambda a, b: a.name != b.name,
    "brand": lambda a, b: a.brand != b.brand,
    "tags": lambda a, b: a.tags != b.tags,
    "geometry": _differs_geometry,
    "timezone": lambda a, b: a.timezone != b.timezone,
    "opening_hours": lambda a, b: _hours_text(a) != _hours_text(b),
    "dwell_s": lambda a, b: a.dwell_s != b.dwell_s,
    "metadata": lambda a, b: _document(a) != _document(b),
}


def _by_id(places: Iterable[Place]) -> dict[str, Place]:
    by_id: dict[str, Place] = {}
    for place in places:
        if place.id in by_id:
            raise PlaceError("given twice", where=Where(item_id=place.id))
        by_id[place.id] = place
    return by_id


def _row(place: Place, now: dt.datetime) -> dict[str, Any]:
    geometry, radius_m = _geometry_wkb(place.geometry)
    return {
        "id": place.id,
        "name": place.name,
        "brand": place.brand,
        "tags": sorted(place.tags),
        "geometry": geometry,
        "radius_m": radius_m,
        "timezone": place.timezone,
        "opening_hours": _hours_text(place),
        "dwell_s": place.dwell_s,
        "metadata": _document(place),
        "updated_at": now,
    }


def _geometry_wkb(geometry: Circle | BaseGeometry) -> tuple[bytes, float | None]:
    if isinstance(geometry, Circle):
        return shapely.to_wkb(Point(geometry.lon, geometry.lat)), geometry.radius_m
    return shapely.to_wkb(geometry), None


def _document(place: Place) -> dict[str, Any]:
    """The metadata as JSON holds it (dates as ISO text); PlaceError if JSON cannot."""
    try:
        text = json.dumps(dict(place.metadata), default=_json_default, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise PlaceError(
            f"metadata cannot be stored as JSON: {exc}", where=Where(item_id=place.id)
        ) from exc
    document: dict[str, Any] = json.loads(text)
    return document


def _json_default(value: object) -> Any:
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, Mapping):
        return dict(value)
    if isinstance(value, frozenset | set):
        return sorted(value)
    raise TypeError(f"{type(value).__name__} is not JSON")


def _place(row: RowMapping) -> Place:
    """A row to a Place; PlaceError naming the place when the row cannot be one."""
    where = Where(source=_FROM_DATABASE, item_id=row["id"])
    try:
        hours = row["opening_hours"]
        return Place(
            id=row["id"],
            name=row["name"],
            geometry=_geometry(row["geometry"], row["radius_m"]),
            brand=row["brand"],
            tags=frozenset(row["tags"]),
            timezone=row["timezone"],
            opening_hours=None if hours is None else parse_opening_hours(hours, row["timezone"]),
            dwell_s=row["dwell_s"],
            metadata=row["metadata"],
        )
    except GeotriggerError as exc:
        raise PlaceError(str(exc), where=where) from exc
    except (ValueError, TypeError, shapely.errors.GEOSException) as exc:
        raise PlaceError(f"the row is not a place: {exc}", where=where) from exc


def _geometry(wkb: bytes, radius_m: float | None) -> Circle | BaseGeometry:
    geometry = shapely.from_wkb(wkb)
    if radius_m is None:
        if geometry.geom_type not in ("Polygon", "MultiPolygon"):
            raise ValueError(f"a {geometry.geom_type} without a radius")
        return geometry
    if not isinstance(geometry, Point):
        raise ValueError(f"a radius with a {geometry.geom_type}, not a centre point")
    return Circle(lat=geometry.y, lon=geometry.x, radius_m=float(radius_m))
