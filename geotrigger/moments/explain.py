"""Why did (or didn't) a moment fire for this consumer? Decisions read back and told in words.

A replay (or the service) writes one JSON line per decision, the record of
:meth:`~geotrigger.moments.decision.Decision.to_record`; other lines of the same file
(transitions, rejections) are skipped here. :func:`read_decisions` reads the records back,
:func:`select` keeps one consumer's around a time, :func:`tell` says what happened, one line per
decision in the local time of its place, grouped by the event that made them, and
:func:`tally` sums them up in one line.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from types import MappingProxyType
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import orjson

from geotrigger.errors import DecisionError, Where
from geotrigger.moments.decision import CONDITION_ORDER, GATE_ORDER, Outcome
from geotrigger.places.zones import timezone_problem
from geotrigger.rules.model import TriggerKind

DEFAULT_WINDOW = timedelta(minutes=30)
_REQUIRED = ("rule_id", "consumer_id", "place_id", "trigger", "at", "outcome", "event_key")
E = TypeVar("E", bound=StrEnum)


@dataclass(frozen=True, slots=True, kw_only=True)
class DecisionRecord:
    """One decision as read back from a decisions file: what the story needs of it."""

    rule_id: str
    consumer_id: str
    place_id: str
    place_name: str
    place_zone: str
    trigger: TriggerKind
    at: datetime  # aware UTC
    event_key: str
    outcome: Outcome
    reason: str = ""
    gate: str | None = None
    condition: str | None = None
    would_fire: bool = False
    relevance: float | None = None
    relevance_parts: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    channel: str | None = None
    message: str | None = None


def read_decisions(path: str | Path) -> list[DecisionRecord]:
    """Every decision record of a JSON Lines file, in file order; lines of another ``type``
    are skipped. Raises :class:`DecisionError` naming the file and line of a bad record."""
    source = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        detail = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise DecisionError(f"cannot read the file: {detail}", where=Where(source=source)) from exc
    records = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        record = _parse_line(line, Where(source=source, line=number))
        if record is not None:
            records.append(record)
    return records


def _parse_line(line: str, where: Where) -> DecisionRecord | None:
    try:
        raw = orjson.loads(line)
    except orjson.JSONDecodeError as exc:
        raise DecisionError(f"not JSON ({exc})", where=where) from exc
    if not isinstance(raw, dict):
        raise DecisionError(f"expected a JSON object, got {type(raw).__name__}", where=where)
    if raw.get("type") != "decision":
        return None
    rule_id = raw.get("rule_id")
    where = Where(source=where.source, line=where.line, item_id=str(rule_id) if rule_id else None)
    try:
        return _record(raw)
    except (KeyError, TypeError, ValueError) as exc:
        raise DecisionError(str(exc).strip("'\""), where=where) from exc


def _text(raw: Mapping[str, Any], name: str) -> str:
    value = raw.get(name)
    if not isinstance(value, str) or (name in _REQUIRED and not value):
        raise ValueError(f"field {name!r}: expected a non-empty string, got {value!r}")
    return value


def _time(raw: Mapping[str, Any], name: str) -> datetime:
    value = datetime.fromisoformat(_text(raw, name))
    if value.tzinfo is None:
        raise ValueError(f"field {name!r}: {raw[name]!r} has no UTC offset")
    return value.astimezone(UTC)


def _choice(raw: Mapping[str, Any], name: str, kind: type[E]) -> E:
    value = _text(raw, name)
    try:
        return kind(value)
    except ValueError:
        known = ", ".join(item.value for item in kind)
        raise ValueError(f"field {name!r}: {value!r} is not one of {known}") from None


def _record(raw: Mapping[str, Any]) -> DecisionRecord:
    zone = raw.get("place_zone") or "UTC"
    problem = timezone_problem(zone)
    if problem is not None:
        raise ValueError(f"field 'place_zone': {problem}")
    moment = raw.get("moment") or {}
    if not isinstance(moment, Mapping):
        raise ValueError(f"field 'moment': expected an object, got {moment!r}")
    relevance = raw.get("relevance")
    return DecisionRecord(
        rule_id=_text(raw, "rule_id"),
        consumer_id=_text(raw, "consumer_id"),
        place_id=_text(raw, "place_id"),
        place_name=str(raw.get("place_name") or ""),
        place_zone=zone,
        trigger=_choice(raw, "trigger", TriggerKind),
        at=_time(raw, "at"),
        event_key=_text(raw, "event_key"),
        outcome=_choice(raw, "outcome", Outcome),
        reason=str(raw.get("reason") or ""),
        gate=raw.get("gate"),
        condition=raw.get("condition"),
        would_fire=bool(raw.get("would_fire")),
        relevance=None if relevance is None else float(relevance),
        relevance_parts=MappingProxyType(dict(raw.get("relevance_parts") or {})),
        channel=moment.get("channel"),
        message=moment.get("message"),
    )


def select(
    records: Iterable[DecisionRecord],
    *,
    consumer_id: str,
    at: datetime | None = None,
    window: timedelta = DEFAULT_WINDOW,
) -> list[DecisionRecord]:
    """The consumer's decisions, within ``window`` either side of ``at`` if given, in time
    order; simultaneous events apart, the decisions of one event in file order."""
    chosen = [r for r in records if r.consumer_id == consumer_id]
    if at is not None:
        chosen = [r for r in chosen if abs(r.at - at) <= window]
    return sorted(chosen, key=lambda r: (r.at, r.event_key))


_DOING = {
    TriggerKind.ENTER: "entered",
    TriggerKind.DWELL: "dwelt at",
    TriggerKind.EXIT: "left",
    TriggerKind.WEATHER: "near",
    TriggerKind.SIGNAL: "near",
}


def tell(records: Sequence[DecisionRecord]) -> list[str]:
    """One line per decision, in the place's local time; the decisions of one event are
    together, and events are separated by an empty line."""
    dated = len({r.at.astimezone(ZoneInfo(r.place_zone)).date() for r in records}) > 1
    lines: list[str] = []
    for _, group in itertools.groupby(records, key=lambda r: (r.at, r.event_key)):
        if lines:
            lines.append("")
        lines.extend(_line(r, dated=dated) for r in group)
    return lines


def _line(record: DecisionRecord, *, dated: bool) -> str:
    local = record.at.astimezone(ZoneInfo(record.place_zone))
    when = local.strftime("%Y-%m-%d %H:%M" if dated else "%H:%M")
    place = record.place_name or record.place_id
    doing = _DOING[record.trigger]
    return f"{when} {doing} {place} ({record.trigger.value}): {record.rule_id} {_verdict(record)}"


def _verdict(record: DecisionRecord) -> str:
    if record.outcome is Outcome.FIRED:
        parts = _relevance_words(record.relevance_parts)
        score = "" if record.relevance is None else f" — relevance {record.relevance:.2f}"
        sent = f'; sent by {record.channel or "?"}: "{record.message or ""}"'
        return f"FIRED{score}{f' ({parts})' if parts else ''}{sent}"
    if record.outcome is Outcome.NOT_MATCHED:
        return f"not matched — {record.reason or f'{record.condition} did not hold'}"
    if record.would_fire and record.gate == "monitor":
        return "would have fired, but it runs in monitor mode"
    if record.would_fire and record.gate == "holdout":
        return "would have fired, but the consumer is in the holdout group (nothing is sent)"
    prefix = "would have fired, but " if record.would_fire else f"suppressed by {record.gate}: "
    return prefix + (record.reason or f"the {record.gate} gate said no")


def _relevance_words(parts: Mapping[str, Any]) -> str:
    """What the score rests on, from the parts of :func:`~geotrigger.moments.relevance.
    relevance_score`: the strongest like, the strongest dislike, the weather's fit, e.g.
    ``green-tea 1.00 in the afternoon, coffee -0.50 in the afternoon``."""
    tags = parts.get("tags")
    weights = [
        (float(part["weight"]), tag, str(part.get("from") or "base"))
        for tag, part in (tags.items() if isinstance(tags, Mapping) else ())
        if isinstance(part, Mapping) and isinstance(part.get("weight"), int | float)
    ]
    weights.sort(key=lambda item: (item[0], item[1]))
    chosen = [w for w in weights[-1:] if w[0] > 0] + [w for w in weights[:1] if w[0] < 0]
    words = [
        f"{tag} {weight:.2f}" + ("" if source == "base" else f" in the {source}")
        for weight, tag, source in chosen
    ]
    fit = parts.get("weather_fit")
    if isinstance(fit, int | float) and not isinstance(fit, bool):
        words.append(f"weather fit {fit:.2f}")
    return ", ".join(words)


def tally(records: Sequence[DecisionRecord]) -> str:
    """One line: how many fired, were suppressed by each gate, were not matched by each
    condition (gates and conditions in the order they run)."""
    fired = sum(r.outcome is Outcome.FIRED for r in records)
    gates = Counter(r.gate or "?" for r in records if r.outcome is Outcome.SUPPRESSED)
    conditions = Counter(r.condition or "?" for r in records if r.outcome is Outcome.NOT_MATCHED)
    text = f"In all: fired {fired}"
    if gates:
        text += f"; suppressed by gate: {_counts(gates, GATE_ORDER)}"
    if conditions:
        text += f"; not matched by condition: {_counts(conditions, CONDITION_ORDER)}"
    return text + "."


def _counts(counts: Counter[str], order: Sequence[str]) -> str:
    rank = {name: i for i, name in enumerate(order)}
    names = sorted(counts, key=lambda name: (rank.get(name, len(order)), name))
    return ", ".join(f"{name} {counts[name]}" for name in names)
