"""Device state in the database: what the engine remembers per device survives a restart.

:class:`DatabaseStateStore` implements the engine's ``StateStore``: it loads the states of a
batch's devices in one query and writes them back in one transaction after the batch, so a
replay or service restarted mid-stream continues with every open visit, pending enter and exit,
the last accepted ping (out-of-order and speed filters) and the recent ping ids (duplicates).
Between the two calls the engine works on ordinary in-memory objects.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.dialects import postgresql, sqlite

from geotrigger.engine.state import DeviceState, PendingEnter, StateStore, Visit
from geotrigger.model import Ping
from geotrigger.store.pings import ping_document, ping_from_document
from geotrigger.store.tables import device_state


def _visit_document(visit: Visit) -> dict[str, Any]:
    return {
        "entered_fix": ping_document(visit.entered_fix),
        "dwell_due_ts": visit.dwell_due_ts,
        "dwell_fired": visit.dwell_fired,
        "left_fix": None if visit.left_fix is None else ping_document(visit.left_fix),
        "outside_fixes": visit.outside_fixes,
    }


def _visit(doc: Mapping[str, Any]) -> Visit:
    left = doc["left_fix"]
    return Visit(
        entered_fix=ping_from_document(doc["entered_fix"]),
        dwell_due_ts=doc["dwell_due_ts"],
        dwell_fired=doc["dwell_fired"],
        left_fix=None if left is None else ping_from_document(left),
        outside_fixes=doc["outside_fixes"],
    )


def state_row(device_id: str, state: DeviceState, now: datetime) -> dict[str, Any]:
    """A device's state as a row of ``device_state``."""
    return {
        "device_id": device_id,
        "last_ping": None if state.last is None else ping_document(state.last),
        "last_s": None if state.last is None else state.last_ts,
        "visits": {p: _visit_document(v) for p, v in state.visits.items()},
        "pending": {
            p: {"first_fix": ping_document(e.first_fix), "fixes": e.fixes}
            for p, e in state.pending.items()
        },
        "recent_ids": list(state.recent),  # ping ids (strings) and epoch times (numbers)
        "updated_at": now,
    }


def state_from_row(row: Mapping[Any, Any]) -> DeviceState:
    """The state a row of ``device_state`` holds."""
    last = row["last_ping"]
    state = DeviceState(
        last=None if last is None else ping_from_document(last),
        recent=dict.fromkeys(row["recent_ids"]),
        visits={p: _visit(v) for p, v in row["visits"].items()},
        pending={
            p: PendingEnter(first_fix=ping_from_document(e["first_fix"]), fixes=e["fixes"])
            for p, e in row["pending"].items()
        },
    )
    if state.last is not None:
        state.last_ts = row["last_s"]
    return state


_STATE_COLUMNS = ("last_ping", "last_s", "visits", "pending", "recent_ids", "updated_at")


class DatabaseStateStore(StateStore):
    """Device states in the ``device_state`` table: one read and one write per batch."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def load_many(self, device_ids: Iterable[str]) -> dict[str, DeviceState]:
        """The stored states of these devices; a device never seen gets a fresh state."""
        wanted = list(dict.fromkeys(device_ids))
        found: dict[str, DeviceState] = {}
        with self.engine.connect() as conn:
            for start in range(0, len(wanted), 500):  # bound the IN list
                chunk = wanted[start : start + 500]
                rows = conn.execute(
                    select(device_state).where(device_state.c.device_id.in_(chunk))
                ).mappings()
                found.update((row["device_id"], state_from_row(row)) for row in rows)
        return {d: found.get(d) or DeviceState() for d in wanted}

    def save_many(self, states: Mapping[str, DeviceState]) -> None:
        """Write these states back, in one transaction."""
        if not states:
            return
        now = datetime.now(UTC)
        rows = [state_row(d, s, now) for d, s in states.items()]
        dialect = postgresql if self.engine.dialect.name == "postgresql" else sqlite
        upsert = dialect.insert(device_state)
        replace = {c: upsert.excluded[c] for c in _STATE_COLUMNS}
        with self.engine.begin() as conn:  # an upsert: no window without the row
            conn.execute(
                upsert.on_conflict_do_update(index_elements=["device_id"], set_=replace), rows
            )

    def last_pings(self) -> Iterator[Ping]:
        """Every device's last accepted ping, as stored."""
        query = select(device_state.c.last_ping).where(device_state.c.last_ping.is_not(None))
        with self.engine.connect() as conn:
            documents = list(conn.execute(query).scalars())
        return (ping_from_document(doc) for doc in documents)

    def devices_inside(self, place_id: str) -> Iterator[tuple[str, DeviceState]]:
        """Devices with an open visit or a pending enter at this place (a scan: place removal
        is rare)."""
        with self.engine.connect() as conn:
            rows = list(conn.execute(select(device_state)).mappings())
        for row in rows:
            if place_id in row["visits"] or place_id in row["pending"]:
                yield row["device_id"], state_from_row(row)
