"""Retention: raw pings kept only when switched on and pruned after their time to live,
decisions pruned after their days, weather readings after theirs, ``geotrigger db prune``,
and a replay with ``--database-url`` storing exactly the decisions of its events file. On
SQLite and on real PostGIS."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from geotrigger.cli import main
from geotrigger.config import RetentionSettings
from geotrigger.model import Ping
from geotrigger.moments.decision import Decision, Outcome
from geotrigger.pings import read_numbered
from geotrigger.rules.model import TriggerKind
from geotrigger.store.decisions import load_decisions, save_decisions
from geotrigger.store.raw_pings import count_raw_pings, prune_raw_pings, save_raw_pings
from geotrigger.store.retention import prune
from geotrigger.store.tables import decisions, raw_pings
from geotrigger.store.weather_readings import load_readings, save_readings
from geotrigger.weather.reading import WeatherReading

ROOT = Path(__file__).resolve().parents[2]
PINGS = ROOT / "examples" / "pings" / "helsinki-morning.jsonl"
NOW = dt.datetime(2026, 11, 25, 12, 0, tzinfo=dt.UTC)
T0 = dt.datetime(2026, 6, 12, 6, 0, 0, 500, tzinfo=dt.UTC)

FULL = Ping(
    device_id="dev-1",
    id="p-1",
    lat=60.1758538,
    lon=24.9532515,
    timestamp=T0,
    accuracy_m=35.2,
    speed_mps=1.25,
    consumer_id="anna",
    signals={"battery": 0.5},
)
BARE = Ping(device_id="dev-2", lat=-33.9, lon=151.2, timestamp=T0.replace(microsecond=0))


def _decision(consumer_id: str) -> Decision:
    return Decision(
        rule_id="r",
        consumer_id=consumer_id,
        place_id="p",
        trigger=TriggerKind.ENTER,
        at=T0,
        evaluated_at=T0,
        event_key="k",
        outcome=Outcome.NOT_MATCHED,
        condition="distance",
        reason="too far",
    )


@pytest.mark.parametrize(
    ("ping", "payload"),
    [
        (  # every field, a time with microseconds
            FULL,
            {
                "device_id": "dev-1",
                "id": "p-1",
                "timestamp": "2026-06-12T06:00:00.000500Z",
                "epoch_s": FULL.epoch_s,
                "lat": 60.1758538,
                "lon": 24.9532515,
                "accuracy_m": 35.2,
                "speed_mps": 1.25,
                "consumer_id": "anna",
                "signals": {"battery": 0.5},
            },
        ),
        (  # only what a ping must have
            BARE,
            {
                "device_id": "dev-2",
                "id": None,
                "timestamp": "2026-06-12T06:00:00Z",
                "epoch_s": BARE.epoch_s,
                "lat": -33.9,
                "lon": 151.2,
                "accuracy_m": None,
                "speed_mps": None,
                "consumer_id": None,
                "signals": {},
            },
        ),
    ],
)
def test_raw_ping_payload_has_every_field(engine: Engine, ping: Ping, payload: dict) -> None:  # type: ignore[type-arg]
    with engine.begin() as conn:
        assert save_raw_pings(conn, pings=[ping], received_at=NOW) == 1
    with engine.connect() as conn:
        row = conn.execute(select(raw_pings)).mappings().one()
        assert count_raw_pings(conn) == 1
    assert row["payload"] == payload
    assert row["device_id"] == ping.device_id


@pytest.mark.parametrize(
    ("before", "left"),
    [
        (NOW - dt.timedelta(microseconds=1), 2),  # nothing is older
        (NOW, 2),  # received exactly at the cutoff: kept
        (NOW + dt.timedelta(microseconds=1), 0),  # just after it: both gone
    ],
)
def test_raw_pings_pruned_before_the_cutoff(engine: Engine, before: dt.datetime, left: int) -> None:
    with engine.begin() as conn:
        save_raw_pings(conn, pings=[FULL, BARE], received_at=NOW)
        save_raw_pings(conn, pings=[], received_at=NOW)  # nothing to store: no error
    with engine.begin() as conn:
        assert prune_raw_pings(conn, before=before) == 2 - left
    with engine.connect() as conn:
        assert count_raw_pings(conn) == left


DECISION_AGES = {  # consumer -> how long ago its decision was stored
    "at-cutoff": dt.timedelta(days=90),
    "older": dt.timedelta(days=90, seconds=1),
    "month": dt.timedelta(days=30),
}
PING_AGES = {  # device -> how long ago its ping was received
    "dev-old": dt.timedelta(days=1, seconds=1),
    "dev-2h": dt.timedelta(hours=2),
    "dev-new": dt.timedelta(seconds=1),
}


@pytest.mark.parametrize(
    ("settings", "decisions_left", "pings_left"),
    [
        # defaults (90 days, a day): one stored exactly 90 days ago stays, a second older goes
        (RetentionSettings(), ["at-cutoff", "month"], ["dev-2h", "dev-new"]),
        # sixty days of decisions: only the month-old one stays
        (RetentionSettings(decisions_days=60.0), ["month"], ["dev-2h", "dev-new"]),
        # an hour's time to live for raw pings: the 2-hour-old one goes too
        (RetentionSettings(raw_pings_ttl_s=3600.0), ["at-cutoff", "month"], ["dev-new"]),
        # switched off, raw pings are still pruned by their time to live
        (RetentionSettings(keep_raw_pings=False, raw_pings_ttl_s=0.0), ["at-cutoff", "month"], []),
        # no retention at all: everything goes
        (RetentionSettings(decisions_days=0.0, raw_pings_ttl_s=0.0), [], []),
        # longer than all of time: nothing goes
        (
            RetentionSettings(decisions_days=1e12, raw_pings_ttl_s=1e20),
            ["at-cutoff", "month", "older"],
            ["dev-2h", "dev-new", "dev-old"],
        ),
    ],
)
def test_prune_applies_the_settings(
    engine: Engine, settings: RetentionSettings, decisions_left: list[str], pings_left: list[str]
) -> None:
    with engine.begin() as conn:
        for name, age in DECISION_AGES.items():
            save_decisions(conn, decisions=[_decision(name)], now=NOW - age)
        for device, age in PING_AGES.items():
            ping = Ping(device_id=device, lat=60.0, lon=25.0, timestamp=T0)
            save_raw_pings(conn, pings=[ping], received_at=NOW - age)
    with engine.begin() as conn:
        deleted = prune(conn, settings=settings, now=NOW)
    with engine.connect() as conn:
        consumers = conn.execute(select(decisions.c.consumer_id)).scalars().all()
        devices = conn.execute(select(raw_pings.c.device_id)).scalars().all()
    assert sorted(consumers) == decisions_left
    assert sorted(devices) == pings_left
    assert deleted == {
        "decisions": 3 - len(decisions_left),
        "raw_pings": 3 - len(pings_left),
        "place_changes": 0,
        "weather_readings": 0,
        "ping_receipts": 0,
    }


def test_db_prune_deletes_what_is_past_its_retention(
    engine: Engine,
    database_url: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("GEOTRIGGER_RETENTION_DECISIONS_DAYS", "10")
    monkeypatch.setenv("GEOTRIGGER_RETENTION_RAW_PINGS_TTL_S", "600")
    monkeypatch.setenv("GEOTRIGGER_RETENTION_WEATHER_READINGS_DAYS", "2")
    wall = dt.datetime.now(dt.UTC)
    ages = [dt.timedelta(days=3), dt.timedelta(days=1)]  # the older one of the cell goes
    readings = [WeatherReading(observed_at=wall - age, temperature_c=4.0) for age in ages]
    with engine.begin() as conn:
        save_decisions(conn, decisions=[_decision("old")], now=wall - dt.timedelta(days=11))
        save_decisions(conn, decisions=[_decision("recent")], now=wall - dt.timedelta(days=9))
        save_raw_pings(conn, pings=[FULL, BARE], received_at=wall - dt.timedelta(seconds=700))
        save_raw_pings(conn, pings=[FULL], received_at=wall)
        for reading in readings:
            save_readings(conn, readings={"5000m:1203:448": reading}, fetched_at=wall)
    assert main(["db", "prune", "--database-url", database_url]) == 0
    out = capsys.readouterr().out.splitlines()
    assert [line.split(": ", 1)[1] for line in out] == [
        "decisions: 1 deleted",
        "raw_pings: 2 deleted",
        "place_changes: 0 deleted",
        "weather_readings: 1 deleted",
        "ping_receipts: 0 deleted",
    ]
    with engine.connect() as conn:
        assert load_decisions(conn, consumer_id="old") == []
        assert len(load_decisions(conn, consumer_id="recent")) == 1
        assert count_raw_pings(conn) == 1
        assert [r for _key, r in load_readings(conn)] == readings[1:]


def test_db_prune_needs_a_schema(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite:///{tmp_path / 'empty.sqlite3'}"
    assert main(["db", "prune", "--database-url", url]) == 1
    assert "run geotrigger db upgrade" in capsys.readouterr().err


def _replay(url: str, out: Path) -> list[dict]:  # type: ignore[type-arg]
    args = [
        "replay",
        "--places", str(ROOT / "rules" / "places"),
        "--rules", str(ROOT / "rules" / "moments"),
        "--consumers", str(ROOT / "examples" / "consumers"),
        "--pings", str(PINGS),
        "--database-url", url,
        "--out", str(out),
    ]  # fmt: skip
    assert main(args) == 0
    lines = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    return [line for line in lines if line["type"] == "decision"]


@pytest.mark.parametrize("keep", ["0", "false", "1", "yes"])
def test_replay_stores_the_decisions_of_its_events_file(
    engine: Engine,
    database_url: str,
    tmp_path: Path,
    keep: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("GEOTRIGGER_RETENTION_KEEP_RAW_PINGS", keep)
    written = _replay(database_url, tmp_path / "events.jsonl")
    capsys.readouterr()
    assert {d["outcome"] for d in written} >= {"fired", "suppressed"}
    by_consumer: dict[str, list[dict]] = {}  # type: ignore[type-arg]
    for line in written:
        by_consumer.setdefault(line["consumer_id"], []).append(line)
    with engine.connect() as conn:
        for consumer_id, lines in by_consumer.items():
            in_time_order = sorted(lines, key=lambda d: dt.datetime.fromisoformat(d["at"]))
            assert load_decisions(conn, consumer_id=consumer_id) == in_time_order
        stored = conn.execute(select(decisions.c.consumer_id)).scalars().all()
        kept = count_raw_pings(conn)
    assert len(stored) == len(written)
    parsed = sum(isinstance(record, Ping) for _line, record in read_numbered(PINGS))
    assert kept == (parsed if keep in ("1", "yes") else 0)
