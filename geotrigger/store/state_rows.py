"""A device's state as a row of ``device_state``, and back.

The row of a device is read and written whole for every batch it is in, so its form is compact
(every device of a batch pays for it). ``last_ping`` holds the state's pings once each, as
arrays (:func:`~geotrigger.store.pings.fix_row`), and which of them is the last accepted one:
``{"fixes": [...], "last": 0}``. A device's open visits and pending enters often start at the
same fix (places overlap), so ``visits`` (``{place: [entered, dwell_due_ts, dwell_fired, left,
outside_fixes]}``) and ``pending`` (``{place: [first, fixes]}``) name their fixes by their
position in that list. Rows written in the earlier form (a ping document per fix, with its
time in RFC 3339 too) are still read; they are rewritten in the compact form when saved.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from geotrigger.engine.state import DeviceState, PendingEnter, Visit
from geotrigger.model import Ping
from geotrigger.store.pings import fix_row, ping_from_document, ping_from_fix_row


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


def stored_last_ping(device_id: str, stored: Mapping[str, Any]) -> Ping | None:
    """The last accepted ping of a ``last_ping`` column, in either form."""
    if "fixes" not in stored:
        return ping_from_document(stored)
    last = stored["last"]
    return None if last is None else ping_from_fix_row(stored["fixes"][last], device_id)
