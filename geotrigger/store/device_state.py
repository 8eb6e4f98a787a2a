"""Device state in the database: what the engine remembers per device survives a restart.

:class:`DatabaseStateStore` implements the engine's ``StateStore``: it loads the states of a
batch's devices in one query and writes them back in one statement after the batch, so a
replay or service restarted mid-stream continues with every open visit, pending enter and exit,
the last accepted ping (out-of-order and speed filters) and the recent ping ids (duplicates).
Between the two calls the engine works on ordinary in-memory objects.

The row of a device is read and written whole for every batch it is in, so its form is compact
(every device of a batch pays for it). ``last_ping`` holds the state's pings once each, as
arrays (:func:`~geotrigger.store.pings.fix_row`), and which of them is the last accepted one:
``{"fixes": [...], "last": 0}``. A device's open visits and pending enters often start at the
same fix (places overlap), so ``visits`` (``{place: [entered, dwell_due_ts, dwell_fired, left,
outside_fixes]}``) and ``pending`` (``{place: [first, fixes]}``) name their fixes by their
position in that list. Rows written in the earlier form (a ping document per fix, with its
time in RFC 3339 too) are still read; they are rewritten in the compact form when saved.

A state that a batch did not change (every ping of the device rejected before touching it) is
not written again. :meth:`DatabaseStateStore.deferred` holds the writes of a block instead, so
that the caller writes them in its own transaction (:meth:`DatabaseStateStore.write_held`) with
what else belongs to the batch.
"""

from __future__ import annotations

import gc
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import cache
from operator import itemgetter
from typing import Any

from sqlalchemy import Connection, Engine, bindparam, select
from sqlalchemy.dialects import postgresql, sqlite

from geotrigger.engine.state import DeviceState, PendingEnter, StateStore, Visit
from geotrigger.model import Ping
from geotrigger.store.database import in_lists
from geotrigger.store.pings import fix_row, ping_from_document, ping_from_fix_row
from geotrigger.store.tables import device_state

# The JSON columns of a row: what decides whether a state changed since it was loaded.
_DOCUMENT_COLUMNS = ("last_ping", "last_s", "visits", "pending", "recent_ids")
_STATE_COLUMNS = (*_DOCUMENT_COLUMNS, "updated_at")
_documents = itemgetter(*_DOCUMENT_COLUMNS)  # a row's documents, as a tuple
# Devices per SELECT: a request's batch (at most 1000 pings) is one query.
# Statements built once: building them costs more than running them for a single ping.
_LOAD = select(device_state).where(
    device_state.c.device_id.in_(bindparam("device_ids", expanding=True))
)


@cache
def _upsert(dialect_name: str) -> postgresql.Insert | sqlite.Insert:
    """The upsert of whole rows on this database (an upsert: no window without the row)."""
    insert = (postgresql if dialect_name == "postgresql" else sqlite).insert(device_state)
    replace = {c: insert.excluded[c] for c in _STATE_COLUMNS}
    return insert.on_conflict_do_update(index_elements=["device_id"], set_=replace)


class _FixTable:
    """The pings of one state, each once (by identity), in the order they are first named."""

    def __init__(self, device_id: str) -> None:
        self.device_id = device_id
        self.rows: list[list[Any]] = []
        self._positions: dict[int, int] = {}  # id(ping) -> its row; the pings outlive the table

    def position(self, ping: Ping) -> int:
        """Where ``ping`` is in the table (added on first sight)."""
        found = self._positions.get(id(ping))
        if found is None:
            found = self._positions[id(ping)] = len(self.rows)
            self.rows.append(fix_row(ping, self.device_id))
        return found


def state_row(device_id: str, state: DeviceState, now: datetime) -> dict[str, Any]:
    """A device's state as a row of ``device_state``, in the compact form."""
    fixes = _FixTable(device_id)
    last = None if state.last is None else fixes.position(state.last)
    visits = {
        place: [
            fixes.position(v.entered_fix),
            v.dwell_due_ts,
            v.dwell_fired,
            None if v.left_fix is None else fixes.position(v.left_fix),
            v.outside_fixes,
        ]
        for place, v in state.visits.items()
    }
    pending = {place: [fixes.position(e.first_fix), e.fixes] for place, e in state.pending.items()}
    return {
        "device_id": device_id,
        "last_ping": {"fixes": fixes.rows, "last": last} if fixes.rows else None,
        "last_s": None if state.last is None else state.last_ts,
        "visits": visits,
        "pending": pending,
        "recent_ids": list(state.recent),  # ping ids (strings) and epoch times (numbers)
        "updated_at": now,
    }


def state_from_row(row: Mapping[Any, Any]) -> DeviceState:
    """The state a row of ``device_state`` holds, in either form."""
    stored = row["last_ping"]
    if stored is not None and "fixes" in stored:
        state = _compact_state(row["device_id"], stored, row["visits"], row["pending"])
    else:
        state = _documented_state(stored, row["visits"], row["pending"])
    state.recent = dict.fromkeys(row["recent_ids"])
    if state.last is not None:
        state.last_ts = row["last_s"]
    return state


def _compact_state(
    device_id: str,
    stored: Mapping[str, Any],
    visits: Mapping[str, list[Any]],
    pending: Mapping[str, list[Any]],
) -> DeviceState:
    """A state of the compact form (its pings shared, as they were in memory)."""
    fixes = [ping_from_fix_row(fix, device_id) for fix in stored["fixes"]]
    last = stored["last"]
    return DeviceState(
        last=None if last is None else fixes[last],
        visits={
            place: Visit(
                entered_fix=fixes[entered],
                dwell_due_ts=dwell_due_ts,
                dwell_fired=dwell_fired,
                left_fix=None if left is None else fixes[left],
                outside_fixes=outside_fixes,
            )
            for place, (entered, dwell_due_ts, dwell_fired, left, outside_fixes) in visits.items()
        },
        pending={
            place: PendingEnter(first_fix=fixes[first], fixes=count)
            for place, (first, count) in pending.items()
        },
    )


def _documented_state(
    last: Mapping[str, Any] | None,
    visits: Mapping[str, Mapping[str, Any]],
    pending: Mapping[str, Mapping[str, Any]],
) -> DeviceState:
    """A state of the earlier form: a ping document per fix."""
    return DeviceState(
        last=None if last is None else ping_from_document(last),
        visits={place: _documented_visit(v) for place, v in visits.items()},
        pending={
            place: PendingEnter(first_fix=ping_from_document(e["first_fix"]), fixes=e["fixes"])
            for place, e in pending.items()
        },
    )


def _documented_visit(doc: Mapping[str, Any]) -> Visit:
    left = doc["left_fix"]
    return Visit(
        entered_fix=ping_from_document(doc["entered_fix"]),
        dwell_due_ts=doc["dwell_due_ts"],
        dwell_fired=doc["dwell_fired"],
        left_fix=None if left is None else ping_from_document(left),
        outside_fixes=doc["outside_fixes"],
    )


@contextmanager
def collector_paused() -> Iterator[None]:
    """The cyclic garbage collector paused while a batch's states are decoded or encoded.

    They are thousands of new lists, dicts, pings and visits, none of them garbage and without
    cycles; allocating them sets off collections that walk every older object too (a live
    engine's place index: most of the time of building the states at 100k places). The
    collector runs again as usual once the block ends (nested blocks: the outermost).
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def stored_last_ping(device_id: str, stored: Mapping[str, Any]) -> Ping | None:
    """The last accepted ping of a ``last_ping`` column, in either form."""
    if "fixes" not in stored:
        return ping_from_document(stored)
    last = stored["last"]
    return None if last is None else ping_from_fix_row(stored["fixes"][last], device_id)


class DatabaseStateStore(StateStore):
    """Device states in the ``device_state`` table: one read and one write per batch."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        # the documents of the states handed out by the last load, to skip unchanged writes
        self._as_loaded: dict[str, tuple[Any, ...]] = {}
        self._held: dict[str, DeviceState] | None = None  # saves held by deferred()

    def load_many(self, device_ids: Iterable[str]) -> dict[str, DeviceState]:
        """The stored states of these devices; a device never seen gets a fresh state. Within
        :meth:`deferred`, a state saved there is handed out again as it was saved."""
        wanted = list(dict.fromkeys(device_ids))
        held = self._held or {}
        found: dict[str, DeviceState] = {d: held[d] for d in wanted if d in held}
        missing = [d for d in wanted if d not in found]
        if self._held is None:
            self._as_loaded = {}
        with self.engine.connect() as conn, collector_paused():
            for chunk in in_lists(missing):
                for row in conn.execute(_LOAD, {"device_ids": chunk}).mappings():
                    found[row["device_id"]] = state_from_row(row)
                    self._as_loaded[row["device_id"]] = _documents(row)
        return {d: found.get(d) or DeviceState() for d in wanted}

    def save_many(self, states: Mapping[str, DeviceState]) -> None:
        """Write these states back, in one statement and transaction (within
        :meth:`deferred`: hold them for :meth:`write_held`). A state whose row would be the
        one loaded is not written again."""
        if self._held is not None:
            self._held.update(states)
            return
        if states:
            with self.engine.begin() as conn:
                self._write(conn, states)

    @contextmanager
    def deferred(self) -> Iterator[None]:
        """Hold the states saved inside the block, for :meth:`write_held` to write in the
        caller's transaction; if the block fails, what it held is forgotten (not written: the
        batch runs again)."""
        self._held, self._as_loaded = {}, {}
        try:
            yield
        finally:
            self._held = None

    def write_held(self, conn: Connection) -> None:
        """Write the states held since :meth:`deferred` began, on ``conn`` (the caller's
        transaction), and hold nothing more."""
        if self._held:
            self._write(conn, self._held)
            self._held = {}

    def _write(self, conn: Connection, states: Mapping[str, DeviceState]) -> None:
        now = datetime.now(UTC)
        loaded, self._as_loaded = self._as_loaded, {}
        with collector_paused():
            rows = [
                row
                for row in (state_row(d, s, now) for d, s in states.items())
                if loaded.get(row["device_id"]) != _documents(row)
            ]
            if rows:
                conn.execute(_upsert(conn.dialect.name), rows)

    def last_pings(self) -> Iterator[Ping]:
        """Every device's last accepted ping, as stored."""
        query = select(device_state.c.device_id, device_state.c.last_ping).where(
            device_state.c.last_s.is_not(None)
        )
        with self.engine.connect() as conn:
            rows = list(conn.execute(query))
        pings = (stored_last_ping(device_id, stored) for device_id, stored in rows)
        return (ping for ping in pings if ping is not None)

    def devices_inside(self, place_id: str) -> Iterator[tuple[str, DeviceState]]:
        """Devices with an open visit or a pending enter at this place (a scan: place removal
        is rare)."""
        with self.engine.connect() as conn:
            rows = list(conn.execute(select(device_state)).mappings())
        for row in rows:
            if place_id in row["visits"] or place_id in row["pending"]:
                yield row["device_id"], state_from_row(row)
