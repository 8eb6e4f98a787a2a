"""Consumers in the database: profiles, consent, devices; withdrawing consent and erasure.

A consumer is one row (the profile and the consent as JSON documents) and its devices, one
row each in ``consumer_devices`` (a device belongs to one consumer). Withdrawing consent is
one update, effective for the next decision. Erasing a consumer deletes everything stored
about them: the profile and devices, their decisions, moments (with their cap-ledger and
outbox rows), the outcomes of their moments and would-be moments, exits, and the state and raw
pings of their devices.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import Connection, Delete, RowMapping, delete, select, update

from geotrigger.consumers import Consumer, ConsumerDirectory
from geotrigger.consumers.record import build_consumer
from geotrigger.errors import ConsumerError, Where
from geotrigger.store.database import upsert_insert
from geotrigger.store.tables import (
    cap_ledger,
    consumer_devices,
    decisions,
    deliveries,
    device_state,
    exits,
    moments,
    outbox,
    outcomes,
    raw_pings,
    would_be_ledger,
)
from geotrigger.store.tables import consumers as consumers_table
from geotrigger.store.types import utc

STORED = "the database"  # the source named in errors about a stored profile


def save_consumer(conn: Connection, *, consumer: Consumer, now: dt.datetime) -> None:
    """Insert or replace the consumer: profile, consent, and devices (the old ones go).

    ConsumerError when a device belongs to another consumer (named by its position, never
    by its id)."""
    _check_devices(conn, consumer)
    row = {
        "id": consumer.id,
        "profile": profile_document(consumer),
        "consent": dict(consumer.consent),
        "updated_at": utc(now),
    }
    upsert = upsert_insert(conn, consumers_table).values(row)
    changed = {k: upsert.excluded[k] for k in ("profile", "consent", "updated_at")}
    conn.execute(upsert.on_conflict_do_update(index_elements=["id"], set_=changed))
    conn.execute(delete(consumer_devices).where(consumer_devices.c.consumer_id == consumer.id))
    if consumer.devices:
        rows = [{"device_id": d, "consumer_id": consumer.id} for d in sorted(consumer.devices)]
        conn.execute(consumer_devices.insert(), rows)


def load_consumer(conn: Connection, *, consumer_id: str) -> Consumer | None:
    """The consumer with this id, or None."""
    query = select(consumers_table).where(consumers_table.c.id == consumer_id)
    row = conn.execute(query).mappings().first()
    if row is None:
        return None
    devices = conn.execute(
        select(consumer_devices.c.device_id).where(consumer_devices.c.consumer_id == consumer_id)
    ).scalars()
    return _consumer(row, devices)


def load_consumers(conn: Connection) -> ConsumerDirectory:
    """Every consumer, by id and by device."""
    devices: dict[str, list[str]] = defaultdict(list)
    for device_id, consumer_id in conn.execute(
        select(consumer_devices.c.device_id, consumer_devices.c.consumer_id)
    ):
        devices[consumer_id].append(device_id)
    rows = conn.execute(select(consumers_table).order_by(consumers_table.c.id)).mappings()
    return ConsumerDirectory(_consumer(row, devices.get(row["id"], ())) for row in rows)


def set_consent(
    conn: Connection, *, consumer_id: str, purpose: str, given: bool, now: dt.datetime
) -> bool:
    """Record that consent for ``purpose`` is given or withdrawn, effective at once; False
    when there is no such consumer."""
    query = (
        select(consumers_table.c.consent)
        .where(consumers_table.c.id == consumer_id)
        .with_for_update()  # no lost update when two purposes change at once (PostgreSQL)
    )
    consent = conn.execute(query).scalar()
    if consent is None:
        return False
    conn.execute(
        update(consumers_table)
        .where(consumers_table.c.id == consumer_id)
        .values(consent={**consent, purpose: bool(given)}, updated_at=utc(now))
    )
    return True


def erase_consumer(conn: Connection, *, consumer_id: str) -> dict[str, int]:
    """Delete everything stored about the consumer; the rows deleted, per table.

    The rows that name the consumer (decisions, moments, outcomes, exits) go also when the
    profile is already gone; the state and raw pings of devices go for the devices the
    profile lists."""
    devices = select(consumer_devices.c.device_id).where(
        consumer_devices.c.consumer_id == consumer_id
    )
    their_moments = select(moments.c.id).where(moments.c.consumer_id == consumer_id)
    # Children first: the foreign keys cascade, but the counts are wanted, and explicit
    # deletes do not depend on how the connection was set up.
    steps: list[tuple[str, Delete]] = [
        ("cap_ledger", delete(cap_ledger).where(cap_ledger.c.moment_id.in_(their_moments))),
        ("deliveries", delete(deliveries).where(deliveries.c.moment_id.in_(their_moments))),
        ("outbox", delete(outbox).where(outbox.c.moment_id.in_(their_moments))),
        ("moments", delete(moments).where(moments.c.consumer_id == consumer_id)),
        ("decisions", delete(decisions).where(decisions.c.consumer_id == consumer_id)),
        ("outcomes", delete(outcomes).where(outcomes.c.consumer_id == consumer_id)),
        ("exits", delete(exits).where(exits.c.consumer_id == consumer_id)),
        (
            "would_be_ledger",
            delete(would_be_ledger).where(would_be_ledger.c.consumer_id == consumer_id),
        ),
        ("device_state", delete(device_state).where(device_state.c.device_id.in_(devices))),
        ("raw_pings", delete(raw_pings).where(raw_pings.c.device_id.in_(devices))),
        (
            "consumer_devices",
            delete(consumer_devices).where(consumer_devices.c.consumer_id == consumer_id),
        ),
        ("consumers", delete(consumers_table).where(consumers_table.c.id == consumer_id)),
    ]
    return {table: conn.execute(statement).rowcount for table, statement in steps}


def profile_document(consumer: Consumer) -> dict[str, Any]:
    """The profile as stored: traits, segments, time zone, affinities (base and by daypart)."""
    return {
        "traits": dict(consumer.traits),
        "segments": sorted(consumer.segments),
        "timezone": consumer.timezone,
        "affinities": {
            "base": dict(consumer.affinities.base),
            "by_daypart": {
                part.value: dict(weights)
                for part, weights in consumer.affinities.by_daypart.items()
            },
        },
    }


def _consumer(row: RowMapping, devices: Iterable[str]) -> Consumer:
    """A stored row back to a Consumer, checked like a file's record."""
    profile: Mapping[str, Any] = row["profile"]
    affinities = profile.get("affinities", {})
    record = {
        "id": row["id"],
        "devices": list(devices),
        "timezone": profile.get("timezone"),
        "consent": row["consent"],
        "segments": profile.get("segments", []),
        "traits": profile.get("traits", {}),
        "affinities": affinities.get("base", {}),
        "dayparts": affinities.get("by_daypart", {}),
    }
    consumer, problems = build_consumer(record)
    if consumer is None:
        reasons = "; ".join(p.reason for p in problems)
        raise ConsumerError(
            f"the stored profile is not valid: {reasons}",
            where=Where(source=STORED, item_id=row["id"]),
        )
    return consumer


def _check_devices(conn: Connection, consumer: Consumer) -> None:
    if not consumer.devices:
        return
    devices = sorted(consumer.devices)
    query = select(consumer_devices.c.device_id, consumer_devices.c.consumer_id).where(
        consumer_devices.c.device_id.in_(devices), consumer_devices.c.consumer_id != consumer.id
    )
    for device_id, other in conn.execute(query):
        position = devices.index(device_id)
        raise ConsumerError(
            f"device {position} (in id order) already belongs to consumer {other!r}",
            where=Where(source=STORED, item_id=consumer.id),
        )
