"""The engine: device state, re-ordering, enter / dwell / exit with hysteresis, replay."""

from geotrigger.engine.engine import PLACE_REMOVED, Engine, Event
from geotrigger.engine.ordering import Reorderer
from geotrigger.engine.state import DeviceState, MemoryStateStore, StateStore, Visit
from geotrigger.engine.transitions import SIGNAL_LOST, Hysteresis

__all__ = [
    "PLACE_REMOVED",
    "SIGNAL_LOST",
    "DeviceState",
    "Engine",
    "Event",
    "Hysteresis",
    "MemoryStateStore",
    "Reorderer",
    "StateStore",
    "Visit",
]
