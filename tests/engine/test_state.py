"""Device state: the memory of recent pings stays bounded."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from geotrigger.engine import DeviceState, MemoryStateStore
from geotrigger.model import Ping

T0 = datetime(2026, 6, 12, 10, 0, tzinfo=UTC)


def test_recent_ids_and_times_are_bounded() -> None:
    """Only the newest ``keep`` pings are remembered (an id and a time each)."""
    state = DeviceState()
    for n in range(1000):
        at = T0 + timedelta(seconds=n)
        ping = Ping(device_id="d", lat=60.0, lon=25.0, timestamp=at, id=f"p{n}")
        state.remember(ping, at.timestamp(), keep=10)
    assert len(state.recent) == 20
    assert "p999" in state.recent and "p989" not in state.recent
    assert state.last is not None and state.last.id == "p999"


def test_memory_store_hands_out_the_same_state() -> None:
    """A device's state is created once and found again; devices inside are listed."""
    store = MemoryStateStore()
    first = store.load_many(["a", "b"])
    assert store.load_many(["a"])["a"] is first["a"]
    assert len(store) == 2
    assert list(store.devices_inside("cafe")) == []
