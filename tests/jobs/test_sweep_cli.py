"""The weather commands on a real database (SQLite and PostGIS), as an operator runs them:
places, moments and consumers applied; pings replayed into the database; then ``geotrigger
sweep --once`` with the file provider playing the shipped weather fires the environmental
moment with no new ping, and ``geotrigger scheduler`` runs sweeps until it is stopped."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from geotrigger.cli import main
from geotrigger.config import Settings
from geotrigger.consumers.profile import LOCATION_MARKETING
from geotrigger.jobs.live import LiveEngine
from geotrigger.store.consumers import set_consent
from geotrigger.store.database import connect, transaction
from geotrigger.store.durable import Durable
from geotrigger.store.tables import decisions, moments

REPO = Path(__file__).resolve().parents[2]
WEATHER = REPO / "examples" / "weather" / "helsinki-2026-06-12.jsonl"
RAIN_AT = "2026-06-12T06:15:00Z"


@pytest.fixture
def applied(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A database with the shipped places, moments and consumers, and the morning's pings
    before the rain replayed into it."""
    monkeypatch.setenv("GEOTRIGGER_DATABASE_URL", database_url)
    monkeypatch.setenv("GEOTRIGGER_WEATHER_FILE_PATH", str(WEATHER))
    assert main(["db", "upgrade"]) == 0
    assert main(["places", "apply", str(REPO / "rules" / "places")]) == 0
    moments_dir, places_dir = str(REPO / "rules" / "moments"), str(REPO / "rules" / "places")
    assert main(["rules", "apply", moments_dir, "--places", places_dir]) == 0
    assert main(["consumers", "apply", str(REPO / "examples" / "consumers")]) == 0
    before = tmp_path / "before-rain.jsonl"
    lines = (REPO / "examples" / "pings" / "helsinki-morning.jsonl").read_text().splitlines()
    before.write_text(  # the deliberately bad lines (a timestamp of 0, say) go along
        "".join(line + "\n" for line in lines if str(json.loads(line)["timestamp"]) < RAIN_AT)
    )
    rules = ["--rules", moments_dir, "--consumers", str(REPO / "examples" / "consumers")]
    replay = ["replay", "--database-url", database_url, *rules, "--pings", str(before)]
    assert main([*replay, "--out", str(tmp_path / "out.jsonl")]) == 0
    return database_url


def test_a_sweep_fires_the_rain_moment_without_a_new_ping(
    applied: str, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    assert main(["sweep", "--once", "--provider", "file", "--at", "2026-06-12T06:00:00Z"]) == 0
    dry = capsys.readouterr().out
    assert "1 readings (1 new)" in dry and "cloudy" in dry and "fired" not in dry.split("\n", 1)[1]
    assert main(["sweep", "--once", "--provider", "file", "--at", RAIN_AT]) == 0
    wet = capsys.readouterr().out
    assert "rain, 13°C, 2.4 mm/h" in wet
    assert "fired umbrella-when-rain at osm-node-6049453034" in wet
    engine = connect(applied)
    try:
        with engine.connect() as conn:
            stored = conn.execute(select(moments.c.rule_id, moments.c.consumer_id)).all()
            kept = conn.execute(select(decisions.c.rule_id)).scalars().all()
    finally:
        engine.dispose()
    assert ("umbrella-when-rain", "consumer-shopper") in [tuple(r) for r in stored]
    assert kept.count("umbrella-when-rain") >= 1  # the decisions are kept, for explain
    # the same sweep again: the reading is known, nothing is decided twice
    assert main(["sweep", "--once", "--provider", "file", "--at", RAIN_AT, "--json"]) == 0
    [report] = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert report["stored"] == 0 and report["decisions"] == 0 and report["fired"] == []
    assert {e["kind"] for e in report["errors"].values()} == {"bad_response"}  # the other cell


def test_consent_withdrawn_between_sweeps_is_in_force_at_the_next(applied: str) -> None:
    durable = Durable(applied, Settings())
    try:
        live = LiveEngine(durable, Settings(), now=datetime(2026, 6, 12, 6, 0, tzinfo=UTC))
        shopper = live.moments.factory.consumers.get("consumer-shopper")
        assert shopper is not None and shopper.consent[LOCATION_MARKETING]
        with transaction(applied) as conn:
            set_consent(
                conn,
                consumer_id="consumer-shopper",
                purpose=LOCATION_MARKETING,
                given=False,
                now=datetime.now(UTC),
            )
        current = live.current(datetime(2026, 6, 12, 6, 15, tzinfo=UTC))
        withdrawn = current.factory.consumers.get("consumer-shopper")
        assert withdrawn is not None and not withdrawn.consent[LOCATION_MARKETING]
    finally:
        durable.close()


def test_a_sweep_needs_a_provider_and_names_the_setting(
    applied: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GEOTRIGGER_WEATHER_PROVIDERS", raising=False)
    capsys.readouterr()
    assert main(["sweep", "--once"]) == 1
    assert "GEOTRIGGER_WEATHER_PROVIDERS" in capsys.readouterr().err


def test_the_scheduler_runs_sweeps_until_its_duration_is_over(
    applied: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GEOTRIGGER_WEATHER_PROVIDERS", "file")
    monkeypatch.setenv("GEOTRIGGER_WEATHER_FILE_INTERVAL_S", "0.2")
    capsys.readouterr()
    assert main(["scheduler", "--duration", "1s"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "scheduler: file every 0.2 s" and out[-1] == "scheduler: stopped"
    sweeps = [line for line in out if line.startswith("sweep file at ")]
    assert len(sweeps) >= 2
    assert "1 readings (1 new)" in sweeps[0] and "1 readings (0 new)" in sweeps[-1]


def test_the_scheduler_does_not_close_visits_of_a_removed_place(applied: str) -> None:
    from geotrigger.store.places import delete_place

    durable = Durable(applied, Settings())
    try:
        live = LiveEngine(durable, Settings(), now=datetime(2026, 6, 12, 6, 0, tzinfo=UTC))
        inside = {
            device: sorted(state.visits)
            for device, state in durable.state.load_many(["visitor", "shopper", "barista"]).items()
        }
        place_id = next(p for visits in inside.values() for p in visits)
        with transaction(applied) as conn:
            assert delete_place(conn, place_id=place_id)
        moments = live.current(datetime(2026, 6, 12, 6, 15, tzinfo=UTC))
        assert moments.place(place_id) is None  # the scheduler's index follows
        after = {
            device: sorted(state.visits)
            for device, state in durable.state.load_many(list(inside)).items()
        }
        assert after == inside  # but the visits are the ingesting process's to close
    finally:
        durable.close()
