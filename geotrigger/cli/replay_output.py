"""What ``geotrigger replay`` (and ``demo``) write: the lines of the events file, and the
summary for people on standard error.

The events file is data (one JSON line per transition, rejected ping or decision); the summary
names places and counts, never a device or a position: it is the part that ends up in logs.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

import orjson

from geotrigger.consumers import pseudonymous_id
from geotrigger.engine import Event
from geotrigger.engine.replay import ReplaySummary, event_record
from geotrigger.errors import ConfigError
from geotrigger.jobs.sweep import Sweep
from geotrigger.model import Transition
from geotrigger.moments.candidates import event_key
from geotrigger.moments.decision import Decision

DUMP_OPTIONS = orjson.OPT_UTC_Z | orjson.OPT_APPEND_NEWLINE


def record_of(item: Event | Decision, pseudonym_key: str | None = None) -> dict[str, Any]:
    """One line of the events file: a transition, a rejection or a decision.

    With ``pseudonym_key`` (a replay with rules) the device and ping ids of transitions and
    rejections are replaced by the same keyed digests the decisions use, so that the file
    never pairs a pseudonymous consumer with the raw device id it stands for, while a
    decision can still be matched to its transition by the ping's digest.
    """
    if isinstance(item, Decision):
        return item.to_record()
    record = event_record(item)
    if pseudonym_key is not None:
        if record.get("device_id") is not None:
            record["device_id"] = pseudonymous_id(record["device_id"], pseudonym_key)
        if record.get("ping_id") is not None:
            record["ping_id"] = event_key(record["ping_id"], "", item_time(item), pseudonym_key)
    return record


def item_time(item: Event) -> datetime:
    """When an event happened (a rejection of a record without a time: the epoch)."""
    at = item.at if isinstance(item, Transition) else item.timestamp
    return at if at is not None else datetime.fromtimestamp(0, UTC)


@contextmanager
def events_output(path: Path | None) -> Iterator[IO[bytes]]:
    """The events file at ``path``, or standard output; a file that cannot be opened is a
    ConfigError naming it."""
    if path is None:
        yield sys.stdout.buffer
        sys.stdout.buffer.flush()
        return
    try:
        handle = path.open("wb")
    except OSError as exc:
        raise ConfigError(f"cannot write {path}: {exc.strerror}") from exc
    with handle:
        yield handle


def format_summary(summary: ReplaySummary, *, source: str, places: int, top: int = 10) -> str:
    """The summary table: pings read, accepted, rejected by reason, transitions by kind/place."""
    rate = summary.records / summary.elapsed_s if summary.elapsed_s > 0 else 0.0
    lines = [
        f"replay of {source} against {places:,} places: "
        f"{summary.elapsed_s:.2f} s, {rate:,.0f} pings/s",
        _row("pings read", summary.records),
        _row("accepted", summary.accepted),
        _row("rejected", summary.rejected_total),
    ]
    lines += [_row(reason.value, n, 4) for reason, n in sorted(summary.rejected.items())]
    lines.append(_row("transitions", sum(summary.transitions.values())))
    lines += [_row(kind.value, n, 4) for kind, n in sorted(summary.transitions.items())]
    if summary.by_place:
        lines.append(f"  transitions by place (top {top})")
        ranked = sorted(summary.by_place.items(), key=lambda kv: (-kv[1], kv[0]))[:top]
        lines += [_row(place_id, n, 4) for place_id, n in ranked]
    return "\n".join(lines)


def _row(label: str, n: int, indent: int = 2) -> str:
    return f"{' ' * indent}{label:<{40 - indent}} {n:>12,}"


def format_sweeps(sweep: Sweep) -> str:
    """One line on a provider's sweeps in a replay: runs, readings, cells without one."""
    name, counts = sweep.provider.name, sweep.counts
    failed = sum(n for key, n in counts.items() if key[0] == "fetch_errors" and key[1] == name)
    return (
        f"weather sweeps of {name}: {counts[('sweeps', name)]} runs, "
        f"{counts[('readings', name)]} readings, {failed} cells without a reading, "
        f"{counts[('weather_moments', name)]} weather moments fired"
    )
