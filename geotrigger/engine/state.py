"""What the engine remembers per device, behind a small store interface.

A :class:`DeviceState` holds the last accepted ping (for the out-of-order and speed filters and
the implied speed of a dwell), the ids and timestamps of recently accepted pings (duplicates),
the open :class:`Visit` per place and the :class:`PendingEnter` per place its fixes have only
started to fall within. :class:`StateStore` is the contract a persistent store
(Redis, SQL) implements later; :class:`MemoryStateStore` is the embedded default. The engine
loads the states of a whole batch at once and saves them back after it, so a networked store
pays one round trip per batch, not per ping.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from itertools import islice

from geotrigger.model import Ping


@dataclass(slots=True, kw_only=True)
class Visit:
    """One device inside one place, from its enter until its exit.

    Times are those of the fixes kept here, so nothing is stored twice.
    """

    entered_fix: Ping  # the first fix of the visit: its start, and the start of the mean speed
    dwell_due_ts: float  # entered_ts + the place's dwell time, fixed at the enter
    dwell_fired: bool = False
    left_fix: Ping | None = None  # first fix outside by the margin, while an exit is pending
    outside_fixes: int = 0  # consecutive fixes outside by the margin, since left_fix

    @property
    def entered_at(self) -> datetime:
        """When the visit started."""
        return self.entered_fix.timestamp

    @property
    def entered_ts(self) -> float:
        """When the visit started, in epoch seconds (the unit the hysteresis compares in)."""
        return self.entered_fix.epoch_s

    def duration_s(self, end_ts: float) -> float:
        """The visit's length if it ends at ``end_ts``; with an exit pending, the device left
        at its first fix outside, so the visit ended there."""
        end = end_ts if self.left_fix is None else self.left_fix.epoch_s
        return max(end - self.entered_fix.epoch_s, 0.0)


@dataclass(slots=True, kw_only=True)
class PendingEnter:
    """A place the device's last fixes fell within, not yet often enough to be a visit."""

    first_fix: Ping  # the first of the consecutive fixes within: the visit starts here
    fixes: int = 1  # consecutive accepted fixes within the widened place so far


@dataclass(slots=True)
class DeviceState:
    """Everything the filters and transitions need to know about one device."""

    last: Ping | None = None  # last accepted ping
    last_ts: float = -math.inf
    recent: dict[object, None] = field(default_factory=dict)  # ordered set: ids and epoch times
    visits: dict[str, Visit] = field(default_factory=dict)  # by place id
    pending: dict[str, PendingEnter] = field(default_factory=dict)  # by place id, no visit yet

    def remember(self, ping: Ping, ts: float, keep: int) -> None:
        """Record an accepted ping as the last one and among the recent ids and times."""
        self.last = ping
        self.last_ts = ts
        recent = self.recent
        if ping.id is not None:
            recent[ping.id] = None
        recent[ts] = None
        excess = len(recent) - 2 * keep  # each ping adds up to two keys
        if excess > 0:
            for key in list(islice(recent, excess)):  # the oldest, in insertion order
                del recent[key]


class StateStore(ABC):
    """Where device states live. Implementations must be usable from one thread at a time."""

    @abstractmethod
    def load_many(self, device_ids: Iterable[str]) -> dict[str, DeviceState]:
        """The states of these devices; a device never seen gets a fresh state."""

    @abstractmethod
    def save_many(self, states: Mapping[str, DeviceState]) -> None:
        """Store these states (after the engine has changed them)."""

    @abstractmethod
    def devices_inside(self, place_id: str) -> Iterator[tuple[str, DeviceState]]:
        """Devices with an open visit or a pending enter at this place (for reconciling a
        removed place)."""

    def last_pings(self) -> Iterator[Ping]:
        """Every device's last accepted ping (where a restarted process learns where devices
        were, e.g. for weather moments before they report again)."""
        return iter(())


class MemoryStateStore(StateStore):
    """Device states in a dict: the states handed out are the stored objects themselves."""

    def __init__(self) -> None:
        self._states: dict[str, DeviceState] = {}

    def __len__(self) -> int:
        return len(self._states)

    def load_many(self, device_ids: Iterable[str]) -> dict[str, DeviceState]:
        """The live state objects; new devices are added on first sight."""
        states = self._states
        out: dict[str, DeviceState] = {}
        for device_id in device_ids:
            state = states.get(device_id)
            if state is None:
                state = states[device_id] = DeviceState()
            out[device_id] = state
        return out

    def save_many(self, states: Mapping[str, DeviceState]) -> None:
        """Nothing to do: the objects handed out are the stored ones."""

    def last_pings(self) -> Iterator[Ping]:
        """Every device's last accepted ping."""
        return (s.last for s in list(self._states.values()) if s.last is not None)

    def devices_inside(self, place_id: str) -> Iterator[tuple[str, DeviceState]]:
        """A scan of every device; place removal is rare enough not to need a reverse index."""
        for device_id, state in list(self._states.items()):
            if place_id in state.visits or place_id in state.pending:
                yield device_id, state
