"""Column types that mean the same on SQLite and on PostgreSQL/PostGIS.

A place's geometry is a PostGIS ``geometry(GEOMETRY, 4326)`` on PostgreSQL (so that SQL can
use it, with a GiST index) and plain WKB bytes on SQLite, which needs no native extension: the
in-memory index does the spatial work there. Either way the column reads and writes WKB, and
shapely geometries never leave this package as anything else. JSON is ``JSONB`` on PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from geoalchemy2 import Geometry, WKBElement
from sqlalchemy import JSON, LargeBinary
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator, TypeEngine

SRID = 4326

# JSON documents: JSONB on PostgreSQL (indexable, compact), JSON text elsewhere.
Document = JSON().with_variant(JSONB(), "postgresql")


class WkbGeometry(TypeDecorator[bytes]):
    """WKB in and out; a PostGIS geometry on PostgreSQL, a BLOB elsewhere."""

    impl = Geometry  # what GeoAlchemy2's DDL hooks look at; SQLite gets a BLOB below
    cache_ok = True

    def __init__(self) -> None:
        super().__init__(geometry_type="GEOMETRY", srid=SRID, spatial_index=False)

    def load_dialect_impl(self, dialect: Dialect | None) -> TypeEngine[Any]:
        """The column's real type on this database (GeoAlchemy2 asks without a dialect when
        it looks for spatial columns: PostGIS geometry then)."""
        geometry = Geometry(geometry_type="GEOMETRY", srid=SRID, spatial_index=False)
        if dialect is None:
            return geometry
        if dialect.name == "postgresql":
            return dialect.type_descriptor(geometry)
        return dialect.type_descriptor(LargeBinary())

    def process_bind_param(self, value: bytes | None, dialect: Dialect) -> Any:
        """WKB bytes to what the driver takes."""
        if value is None or dialect.name != "postgresql":
            return value
        return WKBElement(value, srid=SRID)

    def process_result_value(self, value: Any, dialect: Dialect) -> bytes | None:
        """What the driver gives back, as WKB bytes."""
        if value is None:
            return None
        if dialect.name == "postgresql":
            data = getattr(value, "data", value)  # a WKBElement carries its bytes
            if isinstance(data, str):
                return bytes.fromhex(data)
            return bytes(data)
        return bytes(value)


def stored_utc(at: dt.datetime) -> dt.datetime:
    """A time read back from a column as aware UTC: SQLite gives back the wall time without
    its offset, and the repositories write every time in UTC (:func:`utc`)."""
    return at.replace(tzinfo=dt.UTC) if at.tzinfo is None else at.astimezone(dt.UTC)


def utc(at: dt.datetime) -> dt.datetime:
    """An aware time in UTC, as every repository writes times; ValueError for a naive one
    (SQLite would keep its wall time without an offset)."""
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"time {at!r} must be timezone-aware")
    return at.astimezone(dt.UTC)
