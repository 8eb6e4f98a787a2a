"""``geotrigger explain``: decisions read back from a replay's JSON lines and told in words."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from geotrigger.cli import main
from geotrigger.errors import DecisionError
from geotrigger.moments.decision import Decision, Moment, Outcome, RelevanceScore
from geotrigger.moments.explain import DecisionRecord, read_decisions, select, tally, tell
from geotrigger.rules.model import TriggerKind

HELSINKI = "Europe/Helsinki"
T0 = datetime(2026, 6, 12, 12, 5, 10, tzinfo=UTC)  # 15:05 in Helsinki


def _decision(**changes: Any) -> Decision:
    """A decision of the walker near Théhuone, with ``changes``."""
    fields: dict[str, Any] = {
        "rule_id": "tired-tea-afternoon",
        "consumer_id": "consumer-walker",
        "place_id": "osm-node-1007416273",
        "place_name": "Théhuone",
        "place_zone": HELSINKI,
        "trigger": TriggerKind.SIGNAL,
        "at": T0,
        "evaluated_at": T0,
        "event_key": "walker-0060",
        "outcome": Outcome.NOT_MATCHED,
        "reason": "",
    }
    fields.update(changes)
    return Decision(**fields)


def _fired(parts: dict[str, Any] | None = None) -> Decision:
    moment = Moment(
        id="m1",
        rule_id="tired-tea-afternoon",
        consumer_id="consumer-walker",
        place_id="osm-node-1007416273",
        trigger=TriggerKind.SIGNAL,
        at=T0,
        expires_at=T0 + timedelta(minutes=30),
        channel="push",
        message="Aino, a green tea at Théhuone?",
        priority=5,
        relevance=0.85,
    )
    # the parts as geotrigger.moments.relevance.relevance_score gives them
    parts = (
        parts
        if parts is not None
        else {
            "daypart": "afternoon",
            "considered_tags": ["cafe", "coffee", "green-tea", "tea", "tee"],
            "tags": {
                "coffee": {"weight": -0.5, "from": "afternoon"},
                "green-tea": {"weight": 1.0, "from": "afternoon"},
                "tea": {"weight": 0.5, "from": "base"},
            },
            "affinity": 0.5,
            "weather_fit": None,
            "weather_weight": 0.3,
            "score": 0.85,
        }
    )
    return _decision(
        outcome=Outcome.FIRED,
        reason="fired",
        relevance=RelevanceScore(score=0.85, known=True, parts=parts),
        moment=moment,
    )


def _write(path: Path, decisions: list[Decision], extra: tuple[str, ...] = ()) -> Path:
    """Decisions serialised the way the replay writes them, with other lines first."""
    lines = list(extra)
    lines += [orjson.dumps(d.to_record(), option=orjson.OPT_UTC_Z).decode() for d in decisions]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _explain(
    capsys: pytest.CaptureFixture[str], path: Path, *args: str, consumer: str = "consumer-walker"
) -> tuple[int, str, str]:
    code = main(["explain", "--decisions", str(path), "--consumer", consumer, *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_fired_is_told_with_relevance_and_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A fired moment: local time, place, trigger, score, its strongest reasons, what was sent."""
    transition = '{"type": "transition", "device_id": "walker", "kind": "enter"}'
    path = _write(tmp_path / "d.jsonl", [_fired()], extra=(transition,))
    code, out, _ = _explain(capsys, path)
    assert code == 0
    assert (
        "15:05 near Théhuone (signal): tired-tea-afternoon FIRED — relevance 0.85 "
        "(green-tea 1.00 in the afternoon, coffee -0.50 in the afternoon); sent by push: "
        '"Aino, a green tea at '
        'Théhuone?"'
    ) in out
    assert out.splitlines()[-1] == "In all: fired 1."


def _tags(**weights: tuple[float, str]) -> dict[str, Any]:
    return {tag.replace("_", "-"): {"weight": w, "from": f} for tag, (w, f) in weights.items()}


@pytest.mark.parametrize(
    ("parts", "words"),
    [
        # the strongest like only, from the base weights
        ({"tags": _tags(tea=(0.5, "base"), cafe=(0.2, "base"))}, " (tea 0.50)"),
        # an umbrella in the rain: the like and how well the weather fits
        (
            {"tags": _tags(rain_gear=(0.8, "base")), "weather_fit": 1.0},
            " (rain-gear 0.80, weather fit 1.00)",
        ),
        # nothing to show: no parentheses at all
        ({"tags": {}, "weather_fit": None}, ""),
    ],
)
def test_relevance_told_by_its_strongest_parts(
    parts: dict[str, Any], words: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A fired moment names what its score rests on, from the relevance's parts."""
    code, out, _ = _explain(capsys, _write(tmp_path / "d.jsonl", [_fired(parts)]))
    assert code == 0
    assert f"FIRED — relevance 0.85{words}; sent by push" in out


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        # a condition did not hold: its reason is told
        (
            {
                "rule_id": "coffee-dwell-morning",
                "trigger": TriggerKind.DWELL,
                "at": datetime(2026, 6, 12, 12, 15, tzinfo=UTC),
                "condition": "local_time",
                "reason": "local time 15:15 is outside 07:00-11:00",
            },
            "15:15 dwelt at Théhuone (dwell): coffee-dwell-morning not matched — "
            "local time 15:15 is outside 07:00-11:00",
        ),
        # a gate said no: the gate and its reason
        (
            {
                "rule_id": "cafe-enter-watch",
                "trigger": TriggerKind.ENTER,
                "outcome": Outcome.SUPPRESSED,
                "gate": "speed",
                "reason": "moving at 8.2 m/s (30 km/h): driving past",
            },
            "15:05 entered Théhuone (enter): cafe-enter-watch suppressed by speed: "
            "moving at 8.2 m/s (30 km/h): driving past",
        ),
        # a monitor rule that passed everything else
        (
            {
                "rule_id": "cafe-enter-watch",
                "trigger": TriggerKind.ENTER,
                "outcome": Outcome.SUPPRESSED,
                "gate": "monitor",
                "would_fire": True,
                "reason": "the rule runs in monitor mode",
            },
            "15:05 entered Théhuone (enter): cafe-enter-watch would have fired, "
            "but it runs in monitor mode",
        ),
        # the holdout group: it would have fired
        (
            {"outcome": Outcome.SUPPRESSED, "gate": "holdout", "would_fire": True},
            "tired-tea-afternoon would have fired, but the consumer is in the holdout group",
        ),
        # consent withdrawn; the exit is told as leaving
        (
            {
                "trigger": TriggerKind.EXIT,
                "outcome": Outcome.SUPPRESSED,
                "gate": "consent",
                "reason": "no consent to location_marketing",
            },
            "15:05 left Théhuone (exit): tired-tea-afternoon suppressed by consent: "
            "no consent to location_marketing",
        ),
        # a weather change near a shop, in UTC when the place has no zone
        (
            {
                "rule_id": "umbrella-when-rain",
                "trigger": TriggerKind.WEATHER,
                "place_name": "Halti",
                "place_zone": "UTC",
                "condition": "relevance",
                "reason": "relevance 0.10 is below 0.30",
            },
            "12:05 near Halti (weather): umbrella-when-rain not matched — relevance 0.10 is "
            "below 0.30",
        ),
    ],
)
def test_each_outcome_in_words(
    changes: dict[str, Any], expected: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Every way a candidate can end reads as a sentence."""
    path = _write(tmp_path / "d.jsonl", [_decision(**changes)])
    code, out, _ = _explain(capsys, path)
    assert code == 0
    assert expected in out


def test_events_grouped_in_time_order_and_tallied(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Decisions of one event stay together; events are told in time order, whatever the
    file order; the tally names each gate and condition."""
    enter = T0 + timedelta(minutes=5)
    decisions = [
        _decision(
            rule_id="cafe-enter-watch",
            trigger=TriggerKind.ENTER,
            at=enter,
            event_key="walker-0070",
            outcome=Outcome.SUPPRESSED,
            gate="monitor",
            would_fire=True,
        ),
        _decision(
            rule_id="coffee-dwell-morning",
            trigger=TriggerKind.ENTER,
            at=enter,
            event_key="walker-0070",
            condition="local_time",
            reason="local time 15:10 is outside 07:00-11:00",
        ),
        _fired(),
        # another event at the same time, written between the two of the enter
        _decision(at=enter, event_key="weather@1", outcome=Outcome.SUPPRESSED, gate="consent"),
    ]
    decisions.insert(1, decisions.pop())
    code, out, _ = _explain(capsys, _write(tmp_path / "d.jsonl", decisions))
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == "4 decisions for consumer-walker, in the local time of each place:"
    assert lines[1].startswith("  15:05 near Théhuone (signal): tired-tea-afternoon FIRED")
    assert lines[2] == ""
    assert lines[3].startswith("  15:10 entered Théhuone (enter): cafe-enter-watch would")
    assert lines[4].startswith("  15:10 entered Théhuone (enter): coffee-dwell-morning not")
    assert lines[5] == ""
    assert lines[6].startswith("  15:10 near Théhuone (signal): tired-tea-afternoon suppressed")
    assert lines[7] == (
        "In all: fired 1; suppressed by gate: consent 1, monitor 1; "
        "not matched by condition: local_time 1."
    )


@pytest.mark.parametrize(
    ("at", "window", "shown"),
    [
        # RFC 3339 in UTC, default window of 30 min: only the early decision
        ("2026-06-12T12:00:00Z", None, ["15:05"]),
        # the same instant with an offset, a window wide enough for both
        ("2026-06-12T15:30:00+03:00", "1h", ["15:05", "16:00"]),
        # epoch seconds, a narrow window around the late one
        (str(datetime(2026, 6, 12, 13, 0, tzinfo=UTC).timestamp()), "90s", ["16:00"]),
        # minutes and seconds combined
        ("2026-06-12T12:40:00Z", "20m31s", ["16:00"]),
    ],
)
def test_at_and_window_choose_the_decisions(
    at: str,
    window: str | None,
    shown: list[str],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """--at keeps the decisions within --window either side of it."""
    late = _decision(at=datetime(2026, 6, 12, 13, 0, 30, tzinfo=UTC), event_key="walker-0100")
    path = _write(tmp_path / "d.jsonl", [_decision(), late])
    args = ["--at", at] + (["--window", window] if window else [])
    code, out, _ = _explain(capsys, path, *args)
    assert code == 0
    assert re.findall(r"^  (\d\d:\d\d) ", out, flags=re.MULTILINE) == shown


def test_days_are_named_when_decisions_span_several(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Across local midnight a bare clock time would be ambiguous: the date is added."""
    night = _decision(at=datetime(2026, 6, 12, 21, 30, tzinfo=UTC), event_key="walker-0200")
    _, out, _ = _explain(capsys, _write(tmp_path / "d.jsonl", [_decision(), night]))
    assert "  2026-06-12 15:05 near Théhuone" in out
    assert "  2026-06-13 00:30 near Théhuone" in out


def _record() -> dict[str, Any]:
    """A decision record as a replay writes it, read back as plain JSON."""
    decoded: dict[str, Any] = orjson.loads(
        orjson.dumps(_decision().to_record(), option=orjson.OPT_UTC_Z)
    )
    return decoded


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        # not JSON at all
        ("{not json", "not JSON"),
        # JSON, not an object
        ("[1, 2]", "expected a JSON object, got list"),
        # a decision without its consumer
        ({"consumer_id": None}, "field 'consumer_id': expected a non-empty string, got None"),
        # an outcome nobody writes
        ({"outcome": "exploded"}, "'exploded' is not one of fired, suppressed, not_matched"),
        # a time without an offset
        ({"at": "2026-06-12T12:05:10"}, "'2026-06-12T12:05:10' has no UTC offset"),
        # a zone that does not exist
        ({"place_zone": "Europe/Helsinky"}, "unknown time zone 'Europe/Helsinky'"),
    ],
)
def test_bad_line_names_file_and_line(
    bad: str | dict[str, Any], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A line that cannot be read back stops explain with the file, the line and the reason."""
    line = bad if isinstance(bad, str) else orjson.dumps({**_record(), **bad}).decode()
    path = _write(tmp_path / "d.jsonl", [_decision()], extra=("", line))
    with pytest.raises(DecisionError, match=re.escape(message)) as caught:
        read_decisions(path)
    assert f"in {path} line 2" in str(caught.value)
    code, out, err = _explain(capsys, path)
    assert code == 1
    assert out == ""
    assert "line 2: " in err and message in err


def test_unknown_consumer_says_so(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A consumer with no decision in the file is a clear message and exit code 1."""
    path = _write(tmp_path / "d.jsonl", [_fired()])
    code, out, err = _explain(capsys, path, consumer="consumer-nobody")
    assert code == 1
    assert out == ""
    assert f"no decisions for consumer 'consumer-nobody' in {path}" in err


def test_nothing_in_the_window_says_where_it_looked(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A known consumer but nothing around --at: the message names the window."""
    path = _write(tmp_path / "d.jsonl", [_fired()])
    code, _, err = _explain(capsys, path, "--at", "2026-06-12T09:00:00Z", "--window", "10m")
    assert code == 1
    assert "within 10 min of 2026-06-12 09:00:00 UTC" in err


def test_missing_file_is_a_decision_error(tmp_path: Path) -> None:
    """A file that cannot be opened is named."""
    with pytest.raises(DecisionError, match="cannot read the file"):
        read_decisions(tmp_path / "absent.jsonl")


@pytest.mark.parametrize(
    "value",
    [
        "2026-06-12T12:00:00",  # no offset: ambiguous
        "yesterday",  # neither a time nor a number
    ],
)
def test_bad_at_is_a_usage_error(value: str, tmp_path: Path) -> None:
    """--at must be an instant: argparse refuses it (exit 2)."""
    path = _write(tmp_path / "d.jsonl", [_fired()])
    with pytest.raises(SystemExit) as caught:
        main(["explain", "--decisions", str(path), "--consumer", "c", "--at", value])
    assert caught.value.code == 2


_OUTCOMES = st.sampled_from(
    [
        (Outcome.FIRED, None, None),
        (Outcome.SUPPRESSED, "speed", None),
        (Outcome.SUPPRESSED, "consent", None),
        (Outcome.NOT_MATCHED, None, "local_time"),
    ]
)


@given(st.lists(st.tuples(_OUTCOMES, st.integers(0, 3 * 86_400)), max_size=30))
def test_every_decision_is_told_once_and_counted_once(
    items: list[tuple[tuple[Outcome, str | None, str | None], int]],
) -> None:
    """Whatever the decisions, one line each, in time order, and the tally adds up to them."""
    records = [
        DecisionRecord(
            rule_id="r",
            consumer_id="c",
            place_id="p",
            place_name="P",
            place_zone=HELSINKI,
            trigger=TriggerKind.ENTER,
            at=T0 + timedelta(seconds=offset),
            event_key=f"e{i}",
            outcome=outcome,
            gate=gate,
            condition=condition,
        )
        for i, ((outcome, gate, condition), offset) in enumerate(items)
    ]
    chosen = select(records, consumer_id="c")
    lines = [line for line in tell(chosen) if line]
    assert len(lines) == len(records)
    assert [r.at for r in chosen] == sorted(r.at for r in records)
    counted = sum(int(n) for n in re.findall(r"\b(\d+)\b", tally(chosen).split(":", 1)[1]))
    assert counted == len(records)


@pytest.mark.parametrize(
    "value",
    [
        "inf",  # no window is infinite (it used to crash with an overflow)
        "-5",  # nor negative
        "soon",  # nor a word
    ],
)
def test_bad_window_is_a_usage_error(value: str, tmp_path: Path) -> None:
    """--window takes the durations rules take: argparse refuses anything else (exit 2)."""
    path = _write(tmp_path / "d.jsonl", [_fired()])
    args = ["explain", "--decisions", str(path), "--consumer", "c", "--at", "0"]
    with pytest.raises(SystemExit) as caught:
        main([*args, "--window", value])
    assert caught.value.code == 2


def test_a_window_of_days_is_accepted() -> None:
    """The same units as the rules files: 1d is a day either side."""
    from geotrigger.cli.arguments import duration

    assert duration("1d").total_seconds() == 86_400
    assert duration("1h30m").total_seconds() == 5_400 and duration("45").total_seconds() == 45
