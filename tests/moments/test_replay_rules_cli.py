"""``geotrigger replay --rules --consumers --weather`` over the shipped examples, and
``geotrigger explain`` on what it wrote: the issue's "done when", end to end."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from geotrigger.cli import main

ROOT = Path(__file__).resolve().parents[2]
WEATHER = ROOT / "examples" / "weather" / "helsinki-2026-06-12.jsonl"
DEVICES = ("visitor", "commuter", "shopper", "barista", "walker", "jogger")


def replay(
    tmp_path: Path, pings: str, capsys: pytest.CaptureFixture[str]
) -> tuple[list[dict], str]:  # type: ignore[type-arg]
    out = tmp_path / "out.jsonl"
    args = [
        "replay",
        "--places", str(ROOT / "rules" / "places"),
        "--rules", str(ROOT / "rules" / "moments"),
        "--consumers", str(ROOT / "examples" / "consumers"),
        "--weather", str(WEATHER),
        "--pings", str(ROOT / "examples" / "pings" / pings),
        "--out", str(out),
    ]  # fmt: skip
    assert main(args) == 0
    err = capsys.readouterr().err
    records = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    return [r for r in records if r["type"] == "decision"], err


def fired(decisions: list[dict]) -> set[tuple[str, str]]:  # type: ignore[type-arg]
    return {(d["rule_id"], d["consumer_id"]) for d in decisions if d["outcome"] == "fired"}


def test_the_morning_fires_the_locational_and_the_environmental_moment(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    decisions, err = replay(tmp_path, "helsinki-morning.jsonl", capsys)
    assert fired(decisions) == {
        ("coffee-dwell-morning", "consumer-visitor"),  # dwell at the Music Centre café
        ("umbrella-when-rain", "consumer-shopper"),  # rain starts near an open clothes shop
    }
    gates = {(d["consumer_id"], d["gate"]) for d in decisions if d["outcome"] == "suppressed"}
    assert ("consumer-barista", "consent") in gates  # withdrew consent
    assert ("consumer-commuter", "speed") in gates  # the tram passes a café at 32 km/h
    assert any(d["gate"] == "monitor" and d["would_fire"] for d in decisions)
    rain = next(d for d in decisions if d["rule_id"] == "umbrella-when-rain" and d["moment"])
    assert rain["trigger"] == "weather" and rain["moment"]["expires_at"] > rain["at"]
    # the funnel of every rule is in the summary, and no phone is named by its device id
    for rule in ("coffee-dwell-morning", "umbrella-when-rain", "cafe-enter-watch"):
        assert rule in err
    assert "suppressed by consent" in err
    for device in DEVICES:
        assert re.search(rf"(?<!consumer-){device}", err) is None
    assert all("device_id" not in d and "lat" not in d for d in decisions)
    # ping ids are built from device ids by clients: events are named by digests instead, and
    # with rules the transition lines carry the same digests, never a raw device or ping id
    text = (tmp_path / "out.jsonl").read_text(encoding="utf-8")
    for device in DEVICES:
        assert re.search(rf"(?<!consumer-){device}", text) is None


def test_the_afternoon_fires_the_device_responsive_moment_for_the_tea_lover_only(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    decisions, _ = replay(tmp_path, "helsinki-afternoon.jsonl", capsys)
    assert fired(decisions) == {("tired-tea-afternoon", "consumer-walker")}
    jogger = [d for d in decisions if d["consumer_id"] == "consumer-jogger"]
    assert jogger and {d["condition"] for d in jogger} == {"relevance"}
    walker = next(d for d in decisions if d["outcome"] == "fired")
    assert walker["relevance_parts"]["daypart"] == "afternoon"
    assert "Théhuone" in walker["moment"]["message"]


def test_explain_tells_the_story_of_the_replay(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    replay(tmp_path, "helsinki-morning.jsonl", capsys)
    args = ["explain", "--decisions", str(tmp_path / "out.jsonl"), "--consumer", "consumer-shopper"]
    assert main(args) == 0
    out = capsys.readouterr().out
    fired_lines = [line for line in out.splitlines() if "FIRED" in line]
    assert len(fired_lines) == 1 and "umbrella-when-rain" in fired_lines[0]
    assert "(weather)" in fired_lines[0] and "White Dress" in fired_lines[0]


def test_without_consumers_nobody_has_consented_and_the_summary_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pings = ROOT / "examples" / "pings" / "helsinki-morning.jsonl"
    args = ["replay", "--places", str(ROOT / "rules" / "places"), "--pings", str(pings)]
    out = tmp_path / "out.jsonl"
    assert main([*args, "--rules", str(ROOT / "rules" / "moments"), "--out", str(out)]) == 0
    err = capsys.readouterr().err
    assert "no --consumers given" in err
    records = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    gates = {r["gate"] for r in records if r["type"] == "decision"}
    assert gates == {"consent"}


def test_weather_without_rules_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pings = ROOT / "examples" / "pings" / "helsinki-morning.jsonl"
    args = ["replay", "--places", str(ROOT / "rules" / "places"), "--pings", str(pings)]
    assert main([*args, "--weather", str(WEATHER)]) == 1
    assert "add --rules" in capsys.readouterr().err


def test_a_broken_rules_file_stops_the_replay_with_file_and_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text(
        "version: 1\nmoments:\n  - id: x\n    trigger: {on: dwel, places: {tags: [cafe]}}\n"
        "    action: {channel: push, message: hi}\n",
        encoding="utf-8",
    )
    pings = ROOT / "examples" / "pings" / "helsinki-morning.jsonl"
    args = ["replay", "--places", str(ROOT / "rules" / "places"), "--pings", str(pings)]
    assert main([*args, "--rules", str(broken)]) == 1
    err = capsys.readouterr().err
    assert "broken.yaml" in err and "line 4" in err and "dwell" in err
