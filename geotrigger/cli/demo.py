"""``geotrigger demo``: replay the shipped example day in Helsinki and tell what happened.

This is what ``make run`` does until the HTTP service exists. It loads the places of
``rules/places/`` and the moments of ``rules/moments/``, the consumers of
``examples/consumers/`` and the weather timeline of ``examples/weather/``, runs
``examples/pings/*.jsonl`` through the location engine and the rules, and prints the replay
summary, each rule's funnel, the moments that fired and why others did not, and a short account
in plain words of a few visits. Phones are named by letter, never by their device id.
"""

from __future__ import annotations

import argparse
import itertools
import sys
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import orjson

from geotrigger.cli.heap import settle_heap
from geotrigger.cli.replay import build_processor, load_places
from geotrigger.cli.replay_output import DUMP_OPTIONS, format_summary, record_of
from geotrigger.config import load_settings
from geotrigger.engine import SIGNAL_LOST, Event
from geotrigger.engine.replay import replay
from geotrigger.errors import ConfigError
from geotrigger.model import Place, Rejection, Transition, TransitionKind
from geotrigger.moments.decision import Decision, Outcome
from geotrigger.moments.pipeline import MomentEngine
from geotrigger.moments.summary import MomentSummary, format_funnels
from geotrigger.pings import read_numbered

REPO = Path(__file__).resolve().parents[2]


def register(subparsers: Any) -> None:
    """Add the ``demo`` command."""
    parser = subparsers.add_parser(
        "demo", help="replay the shipped Helsinki example pings and explain the events"
    )
    parser.add_argument("--places", nargs="+", type=Path, default=[REPO / "rules" / "places"])
    parser.add_argument("--pings", nargs="+", type=Path, help="default: examples/pings/*.jsonl")
    parser.add_argument("--rules", nargs="+", type=Path, default=[REPO / "rules" / "moments"])
    parser.add_argument(
        "--consumers", nargs="+", type=Path, default=[REPO / "examples" / "consumers"]
    )
    parser.add_argument(
        "--weather", type=Path, help="default: examples/weather/*.jsonl (the first)"
    )
    parser.add_argument(
        "--out", type=Path, metavar="FILE", help="also write every event and decision here"
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Handler of ``geotrigger demo``."""
    files = args.pings or sorted((REPO / "examples" / "pings").glob("*.jsonl"))
    if not files:
        raise ConfigError("no example pings found (examples/pings/*.jsonl in a source checkout)")
    files = sorted(files, key=_first_time)  # one stream: the morning before the afternoon
    if args.weather is None:
        args.weather = next(iter(sorted((REPO / "examples" / "weather").glob("*.jsonl"))), None)
    places = load_places(args.places)
    engine = build_processor(args, places, load_settings())
    assert isinstance(engine, MomentEngine)
    settle_heap()
    items: list[Event | Decision] = []
    records = itertools.chain.from_iterable(read_numbered(f) for f in files)
    summary = replay(engine, records, sink=items.extend)
    items += engine.finish()
    decisions = [d for d in items if isinstance(d, Decision)]
    moments = MomentSummary()
    moments.count(decisions)
    source = ", ".join(f.name for f in files)
    print(format_summary(summary, source=source, places=len(places), top=5))
    print()
    print(format_funnels(moments, [r.id for r in engine.book.rule_set.rules]))
    print()
    print("Moments, in plain words:")
    for line in tell_moments(decisions):
        print(f"  - {line}")
    print()
    print("What the phones did:")
    events = [e for e in items if not isinstance(e, Decision)]
    for line in account(events, {p.id: p for p in places}):
        print(f"  - {line}")
    if args.out is not None:
        _write(args.out, items, engine.settings.privacy.pseudonym_key)
    print()
    print("This is the embedded engine replaying example files; the HTTP service that takes")
    print("live pings comes in a later release. Try, for one consumer's story:")
    print("  geotrigger demo --out decisions.jsonl")
    print("  geotrigger explain --decisions decisions.jsonl --consumer consumer-walker")
    sys.stdout.flush()
    return 0


def _first_time(path: Path) -> float:
    """The time of a ping file's first ping (files without one go last)."""
    for _line, record in read_numbered(path):
        if not isinstance(record, Rejection):
            return record.epoch_s
    return float("inf")


def _write(path: Path, items: list[Event | Decision], key: str) -> None:
    try:
        with path.open("wb") as out:
            out.write(b"".join(orjson.dumps(record_of(i, key), option=DUMP_OPTIONS) for i in items))
    except OSError as exc:
        raise ConfigError(f"cannot write {path}: {exc.strerror}") from exc


def tell_moments(decisions: list[Decision]) -> list[str]:
    """Every fired moment, then one example of each way a moment was held back."""
    lines = [
        f"{_local(d.at, d.place_zone)} {d.consumer_id} at {d.place_name} ({d.trigger.value}): "
        f"{d.rule_id} fired: {d.moment.message!r}"
        for d in decisions
        if d.outcome is Outcome.FIRED and d.moment is not None
    ]
    if not lines:
        lines.append("no moment fired")
    seen: set[str] = set()
    for d in decisions:
        why = d.gate if d.outcome is Outcome.SUPPRESSED else d.condition
        if d.outcome is Outcome.FIRED or why is None or why in seen:
            continue
        seen.add(why)
        verb = "suppressed by" if d.outcome is Outcome.SUPPRESSED else "not matched:"
        lines.append(
            f"{_local(d.at, d.place_zone)} {d.consumer_id} at {d.place_name}: {d.rule_id} "
            f"{verb} {why} ({d.reason})"
        )
    return lines


def account(events: list[Event], places: dict[str, Place]) -> list[str]:
    """A few sentences about the events: the longest visit per phone, passing-by, rejections."""
    transitions = [e for e in events if isinstance(e, Transition)]
    alias: dict[str, str] = {}
    for t in transitions:
        alias.setdefault(t.device_id, f"phone {chr(ord('A') + len(alias) % 26)}")
    lines = [_story(alias[d], d, transitions, places) for d in alias]
    rejected = Counter(e.reason.value for e in events if isinstance(e, Rejection))
    if rejected:
        parts = ", ".join(f"{n} {reason.replace('_', ' ')}" for reason, n in rejected.most_common())
        lines.append(f"{sum(rejected.values())} pings were set aside before matching: {parts}.")
    return lines


def _story(
    name: str, device_id: str, transitions: list[Transition], places: dict[str, Place]
) -> str:
    mine = [t for t in transitions if t.device_id == device_id]
    dwells = {t.place_id: t for t in mine if t.kind is TransitionKind.DWELL}
    exits = [t for t in mine if t.kind is TransitionKind.EXIT]
    entered = {t.place_id for t in mine if t.kind is TransitionKind.ENTER}
    if dwells:
        end = max(t.at for t in mine)
        best = max(dwells.values(), key=lambda d: _stay_of(d, exits, end))
        place = places.get(best.place_id)
        where = place.name if place else best.place_id
        text = f"{name} entered {where} at {_local(best.entered_at, place)}"
        text += f" and was dwelling there by {_local(best.at, place)}"
        leave = _exit_after(best, exits)
        if leave is not None and leave.duration_s is not None:
            when, stay = _local(leave.at, place), f"{leave.duration_s / 60:.0f} min"
            if leave.reason == SIGNAL_LOST:
                text += f"; it was last seen there at {when} after {stay}, then fell silent"
            else:
                text += f"; it left at {when} after {stay}"
        else:
            text += "; it was still there when the file ended"
        others = len(entered) - 1
        return text + (f" ({others} other places also saw it enter)." if others else ".")
    longest = max((x.duration_s or 0.0 for x in exits), default=0.0)
    return (
        f"{name} passed {len(entered)} places without dwelling anywhere "
        f"(its longest stay was {longest:.0f} s): moving, not visiting."
    )


def _exit_after(dwell: Transition, exits: list[Transition]) -> Transition | None:
    # a signal-lost exit may carry the very time of the dwell: the last ping before the silence
    return next((x for x in exits if x.place_id == dwell.place_id and x.at >= dwell.at), None)


def _stay_of(dwell: Transition, exits: list[Transition], end: datetime) -> float:
    """How long the dwelling visit lasted: to its exit, or to the phone's last event."""
    leave = _exit_after(dwell, exits)
    if leave is not None:
        return leave.duration_s or 0.0
    start = dwell.entered_at or dwell.at
    return (end - start).total_seconds()


def _local(at: datetime | None, place: Place | str | None) -> str:
    if at is None:
        return "?"
    if isinstance(place, str):
        zone = place
    else:
        zone = place.timezone if place is not None and place.timezone else "UTC"
    return at.astimezone(ZoneInfo(zone)).strftime("%H:%M") + ("" if zone != "UTC" else " UTC")
