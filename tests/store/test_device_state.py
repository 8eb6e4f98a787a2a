"""Device states in the database: the compact form round-trips every field, rows of the earlier
form are still read, unchanged states are not written again, deferred saves are written in
the caller's transaction or not at all, and states kept in memory are read once, written
through, bounded, and dropped when a batch fails."""

from __future__ import annotations

from datetime import UTC, datetime
from types import MappingProxyType

import pytest
from sqlalchemy import Engine, delete, event, insert, select

from geotrigger.engine.state import DeviceState, PendingEnter, Visit
from geotrigger.model import Ping
from geotrigger.store.device_state import DatabaseStateStore
from geotrigger.store.pings import ping_document
from geotrigger.store.tables import device_state

DEVICE = "phone-1"


def _ping(second: float, ping_id: str | None, **extra: object) -> Ping:
    at = datetime.fromtimestamp(1_781_254_800 + second, UTC)
    return Ping(device_id=DEVICE, lat=60.1686, lon=24.9412, timestamp=at, id=ping_id, **extra)  # type: ignore[arg-type]


def _state() -> DeviceState:
    entered = _ping(0.123456, "p1", accuracy_m=8.5, consumer_id="anna", signals={"wifi": -61.0})
    left = _ping(40.5, None, speed_mps=1.25)
    last = _ping(60.000001, "p3", accuracy_m=12.0)
    state = DeviceState(
        visits={
            "cafe": Visit(
                entered_fix=entered, dwell_due_ts=entered.epoch_s + 300, dwell_fired=True
            ),
            "shop": Visit(
                entered_fix=entered,
                dwell_due_ts=entered.epoch_s + 600,
                left_fix=left,
                outside_fixes=1,
            ),
        },
        pending={"kiosk": PendingEnter(first_fix=last, fixes=1)},
    )
    for ping in (entered, left, last):
        state.remember(ping, ping.epoch_s, keep=10)
    return state


def _updated_at(engine: Engine) -> datetime:
    with engine.connect() as conn:
        query = select(device_state.c.updated_at).where(device_state.c.device_id == DEVICE)
        return conn.execute(query).scalar_one()  # type: ignore[no-any-return]


def test_a_state_reads_back_equal_with_its_pings_shared(engine: Engine) -> None:
    store = DatabaseStateStore(engine)
    state = _state()
    store.save_many({DEVICE: state})
    loaded = DatabaseStateStore(engine).load_many([DEVICE, "never-seen"])
    back = loaded[DEVICE]
    assert back == state
    assert back.last_ts == state.last_ts and list(back.recent) == list(state.recent)
    assert back.visits["cafe"].entered_fix.timestamp == state.visits["cafe"].entered_fix.timestamp
    assert back.visits["cafe"].entered_fix.epoch_s == state.visits["cafe"].entered_fix.epoch_s
    assert back.visits["cafe"].entered_fix is back.visits["shop"].entered_fix  # stored once
    assert isinstance(back.visits["cafe"].entered_fix.signals, MappingProxyType)
    assert loaded["never-seen"] == DeviceState()
    with engine.connect() as conn:
        stored = conn.execute(select(device_state.c.last_ping)).scalar_one()
    assert len(stored["fixes"]) == 3 and "timestamp" not in str(stored)


def test_a_row_of_the_earlier_form_is_still_read(engine: Engine) -> None:
    state = _state()
    visits = {
        place: {
            "entered_fix": ping_document(v.entered_fix),
            "dwell_due_ts": v.dwell_due_ts,
            "dwell_fired": v.dwell_fired,
            "left_fix": None if v.left_fix is None else ping_document(v.left_fix),
            "outside_fixes": v.outside_fixes,
        }
        for place, v in state.visits.items()
    }
    pending = {
        place: {"first_fix": ping_document(e.first_fix), "fixes": e.fixes}
        for place, e in state.pending.items()
    }
    assert state.last is not None
    with engine.begin() as conn:
        conn.execute(
            insert(device_state).values(
                device_id=DEVICE,
                last_ping=ping_document(state.last),
                last_s=state.last_ts,
                visits=visits,
                pending=pending,
                recent_ids=list(state.recent),
                updated_at=datetime.now(UTC),
            )
        )
    store = DatabaseStateStore(engine)
    assert store.load_many([DEVICE])[DEVICE] == state
    assert list(store.last_pings()) == [state.last]
    assert [d for d, _ in store.devices_inside("kiosk")] == [DEVICE]


def test_last_pings_and_devices_inside_read_the_compact_form(engine: Engine) -> None:
    store = DatabaseStateStore(engine)
    state = _state()
    store.save_many({DEVICE: state, "quiet": DeviceState()})
    assert list(store.last_pings()) == [state.last]
    assert [(d, s) for d, s in store.devices_inside("shop")] == [(DEVICE, state)]
    assert list(store.devices_inside("nowhere")) == []


def test_an_unchanged_state_is_not_written_again(engine: Engine) -> None:
    store = DatabaseStateStore(engine)
    store.save_many({DEVICE: _state()})
    first = _updated_at(engine)
    states = store.load_many([DEVICE])
    store.save_many(states)  # nothing changed since the load
    assert _updated_at(engine) == first
    states = store.load_many([DEVICE])
    states[DEVICE].visits["cafe"].outside_fixes = 1
    store.save_many(states)
    assert _updated_at(engine) > first
    assert DatabaseStateStore(engine).load_many([DEVICE])[DEVICE].visits["cafe"].outside_fixes == 1


def test_deferred_saves_are_written_in_the_callers_transaction(engine: Engine) -> None:
    store = DatabaseStateStore(engine)
    state = _state()
    with store.deferred():
        store.save_many({DEVICE: state})
        assert DatabaseStateStore(engine).load_many([DEVICE])[DEVICE] == DeviceState()
        assert store.load_many([DEVICE])[DEVICE] is state  # the held state, not the stored one
        with engine.begin() as conn:
            store.write_held(conn)
    assert DatabaseStateStore(engine).load_many([DEVICE])[DEVICE] == state


def test_deferred_saves_of_a_failed_block_are_never_written(engine: Engine) -> None:
    store = DatabaseStateStore(engine)
    with pytest.raises(RuntimeError), store.deferred():
        store.save_many({DEVICE: _state()})
        raise RuntimeError("the batch failed")
    store.save_many({})
    assert DatabaseStateStore(engine).load_many([DEVICE])[DEVICE] == DeviceState()


class _Selects:
    """Counts the SELECTs of device states an engine runs."""

    def __init__(self, engine: Engine) -> None:
        self.count = 0
        event.listen(engine, "before_cursor_execute", self._seen)

    def _seen(self, _conn: object, _cursor: object, statement: str, *_rest: object) -> None:
        if statement.lstrip().upper().startswith("SELECT") and "device_state" in statement:
            self.count += 1


def _stored(engine: Engine, device_id: str = DEVICE) -> DeviceState:
    return DatabaseStateStore(engine).load_many([device_id])[device_id]


def test_kept_states_are_read_once_and_written_through(engine: Engine) -> None:
    store = DatabaseStateStore(engine, keep_devices=10)
    selects = _Selects(engine)
    state = store.load_many([DEVICE])[DEVICE]
    assert selects.count == 1
    for second, ping_id in ((1.0, "a"), (2.0, "b")):
        with store.deferred():
            again = store.load_many([DEVICE])[DEVICE]
            assert again is state  # the object kept in memory, not read again
            ping = _ping(second, ping_id)
            again.remember(ping, ping.epoch_s, keep=10)
            store.save_many({DEVICE: again})
            with engine.begin() as conn:
                store.write_held(conn)
        assert _stored(engine) == state  # every batch is written: the table is what memory is
    assert selects.count == 1 + 2  # only the two checks above read the table


def test_a_failed_block_drops_the_kept_states_and_they_are_read_again(engine: Engine) -> None:
    store = DatabaseStateStore(engine, keep_devices=10)
    store.save_many({DEVICE: _state()})
    before = _stored(engine)
    with pytest.raises(RuntimeError), store.deferred():
        state = store.load_many([DEVICE])[DEVICE]
        state.visits.clear()  # the batch changed the object, then failed
        store.save_many({DEVICE: state})
        raise RuntimeError("the batch failed")
    reloaded = store.load_many([DEVICE])[DEVICE]
    assert reloaded is not state and reloaded == before


def test_at_most_keep_devices_are_kept_the_least_recently_seen_go(engine: Engine) -> None:
    store = DatabaseStateStore(engine, keep_devices=2)
    selects = _Selects(engine)
    first = store.load_many(["a", "b"])
    store.load_many(["a"])  # b is now the least recently seen
    store.load_many(["c"])
    assert selects.count == 2
    assert store.load_many(["a"])["a"] is first["a"] and selects.count == 2
    assert store.load_many(["b"])["b"] is not first["b"] and selects.count == 3


def test_forgotten_and_removed_place_states_follow_memory(engine: Engine) -> None:
    store = DatabaseStateStore(engine, keep_devices=10)
    store.save_many({DEVICE: _state()})
    kept = store.load_many([DEVICE])[DEVICE]
    assert [s for _, s in store.devices_inside("shop")] == [kept]
    assert next(iter(store.devices_inside("shop")))[1] is kept  # the object the engine holds
    with engine.begin() as conn:
        conn.execute(delete(device_state))  # erasure deletes the row...
    store.forget([DEVICE])  # ...and the state held in memory
    assert store.load_many([DEVICE])[DEVICE] == DeviceState()


def test_devices_inside_sees_states_held_but_not_written_yet(engine: Engine) -> None:
    store = DatabaseStateStore(engine)
    with store.deferred():
        state = _state()
        store.save_many({DEVICE: state})  # held for the caller's transaction
        assert [(d, s) for d, s in store.devices_inside("kiosk")] == [(DEVICE, state)]
        assert next(iter(store.devices_inside("kiosk")))[1] is state
