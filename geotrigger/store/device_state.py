"""Device state in the database: what the engine remembers per device survives a restart.

:class:`DatabaseStateStore` implements the engine's ``StateStore``: it loads the states of a
batch's devices in one query and writes them back in one statement after the batch, so a
replay or service restarted mid-stream continues with every open visit, pending enter and exit,
the last accepted ping (out-of-order and speed filters) and the recent ping ids (duplicates).
Between the two calls the engine works on ordinary in-memory objects.

The row of a device is in a compact form (``store/state_rows.py``): every device of a batch
pays for writing it.

A state that a batch did not change (every ping of the device rejected before touching it) is
not written again. :meth:`DatabaseStateStore.deferred` holds the writes of a block instead, so
that the caller writes them in its own transaction (:meth:`DatabaseStateStore.write_held`) with
what else belongs to the batch.
"""

from __future__ import annotations

import gc
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from operator import itemgetter
from typing import Any

from sqlalchemy import Connection, Engine, bindparam, select

from geotrigger.engine.state import DeviceState, StateStore
from geotrigger.model import Ping
from geotrigger.store.bulk import BulkInsert
from geotrigger.store.database import dump_json, in_lists
from geotrigger.store.state_rows import state_from_row, state_row, stored_last_ping
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


# Every batch writes its devices' rows: documents serialised here, the rows given to the driver
# as they are (see store/bulk.py).
_WRITE = BulkInsert(
    device_state, ("device_id", *_STATE_COLUMNS), key=("device_id",), update=_STATE_COLUMNS
)


def _stored_row(row: Mapping[str, Any]) -> tuple[Any, ...]:
    """A :func:`state_row` as :data:`_WRITE` takes it: the documents as JSON text."""
    return (
        row["device_id"],
        dump_json(row["last_ping"]),  # JSON null when none, as SQLAlchemy's JSON type writes
        row["last_s"],
        dump_json(row["visits"]),
        dump_json(row["pending"]),
        dump_json(row["recent_ids"]),
        row["updated_at"],
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


class DatabaseStateStore(StateStore):
    """Device states in the ``device_state`` table: one read and one write per batch.

    ``keep_devices``: the process owns the devices' states (the API service, the one process
    that ingests into its database), so the states of up to this many devices, the most
    recently seen, stay in memory between batches; a batch then reads only the devices it
    does not hold. Writes still go to the database with every batch (write-through): the
    table is always what memory holds, so a restart loses nothing. If a :meth:`deferred`
    block fails, everything held in memory is dropped (the block may have changed the
    objects), and the next batch reads the states again. 0: nothing is kept (a replay, the
    scheduler)."""

    def __init__(self, engine: Engine, *, keep_devices: int = 0) -> None:
        self.engine = engine
        self.keep_devices = keep_devices
        # the states kept between batches, least recently seen first
        self._kept: OrderedDict[str, DeviceState] = OrderedDict()
        # the documents of the stored row of each state handed out (of each kept one, when
        # keeping), to skip writing a state that did not change
        self._as_loaded: dict[str, tuple[Any, ...]] = {}
        self._held: dict[str, DeviceState] | None = None  # saves held by deferred()

    def load_many(self, device_ids: Iterable[str]) -> dict[str, DeviceState]:
        """The stored states of these devices; a device never seen gets a fresh state. Within
        :meth:`deferred`, a state saved there is handed out again as it was saved."""
        wanted = list(dict.fromkeys(device_ids))
        held = self._held or {}
        kept = self._kept
        found: dict[str, DeviceState] = {}
        missing: list[str] = []
        for device_id in wanted:
            state = held.get(device_id) or kept.get(device_id)
            if state is None:
                missing.append(device_id)
            else:
                found[device_id] = state
                if device_id in kept:
                    kept.move_to_end(device_id)
        if self._held is None and not self.keep_devices:
            self._as_loaded = {}
        if missing:
            with self.engine.connect() as conn, collector_paused():
                for chunk in in_lists(missing):
                    for row in conn.execute(_LOAD, {"device_ids": chunk}).mappings():
                        found[row["device_id"]] = state_from_row(row)
                        self._as_loaded[row["device_id"]] = _documents(row)
        states = {d: found.get(d) or DeviceState() for d in wanted}
        if self.keep_devices:
            for device_id in missing:
                self._keep(device_id, states[device_id])
        return states

    def _keep(self, device_id: str, state: DeviceState) -> None:
        """Hold ``state`` in memory, forgetting the least recently seen beyond the limit."""
        kept = self._kept
        kept[device_id] = state
        while len(kept) > self.keep_devices:
            gone, _ = kept.popitem(last=False)
            self._as_loaded.pop(gone, None)

    def forget(self, device_ids: Iterable[str]) -> None:
        """Drop these devices' states from memory (their rows were deleted: erasure)."""
        for device_id in device_ids:
            self._kept.pop(device_id, None)
            self._as_loaded.pop(device_id, None)
            if self._held is not None:
                self._held.pop(device_id, None)

    def save_many(self, states: Mapping[str, DeviceState]) -> None:
        """Write these states back, in one statement and transaction (within
        :meth:`deferred`: hold them for :meth:`write_held`). A state whose row would be the
        one loaded is not written again."""
        if self._held is not None:
            self._held.update(states)
            return
        if states:
            try:
                with self.engine.begin() as conn:
                    self._write(conn, states)
            except BaseException:
                self._drop_memory()
                raise

    @contextmanager
    def deferred(self) -> Iterator[None]:
        """Hold the states saved inside the block, for :meth:`write_held` to write in the
        caller's transaction; if the block fails, what it held is forgotten (not written: the
        batch runs again), and so is every state kept in memory."""
        self._held = {}
        if not self.keep_devices:
            self._as_loaded = {}
        try:
            yield
        except BaseException:
            self._drop_memory()
            raise
        finally:
            self._held = None

    def _drop_memory(self) -> None:
        self._kept.clear()
        self._as_loaded = {}

    @property
    def holds_states(self) -> bool:
        """Whether states saved within :meth:`deferred` wait to be written."""
        return bool(self._held)

    def write_held(self, conn: Connection) -> None:
        """Write the states held since :meth:`deferred` began, on ``conn`` (the caller's
        transaction), and hold nothing more."""
        if self._held:
            self._write(conn, self._held)
            self._held = {}

    def _write(self, conn: Connection, states: Mapping[str, DeviceState]) -> None:
        now = datetime.now(UTC)
        known = self._as_loaded
        if not self.keep_devices:
            self._as_loaded = {}
        kept = self._kept
        with collector_paused():
            rows = []
            for device_id, state in states.items():
                row = state_row(device_id, state, now)
                documents = _documents(row)
                if known.get(device_id) != documents:
                    rows.append(row)
                    if device_id in kept:
                        known[device_id] = documents
            if rows:
                _WRITE.execute(conn, [_stored_row(row) for row in rows])

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
        held = self._held or {}
        in_memory = {**self._kept, **held}  # a held state is newer than a kept one
        for row in rows:
            device_id = row["device_id"]
            state = in_memory.pop(device_id, None)  # the object the next batch is handed
            if state is None and (place_id in row["visits"] or place_id in row["pending"]):
                yield device_id, state_from_row(row)
            elif state is not None and (place_id in state.visits or place_id in state.pending):
                yield device_id, state
        for device_id, state in in_memory.items():  # held, never written yet
            if place_id in state.visits or place_id in state.pending:
                yield device_id, state
