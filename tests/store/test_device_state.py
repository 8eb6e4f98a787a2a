"""Device states in the database: the compact form round-trips every field, rows of the earlier
form are still read, unchanged states are not written again, and deferred saves are written in
the caller's transaction or not at all."""

from __future__ import annotations

from datetime import UTC, datetime
from types import MappingProxyType

import pytest
from sqlalchemy import Engine, insert, select

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
