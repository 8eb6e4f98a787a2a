"""The shipped example data: reproducible, loadable, and telling the stories it is there for.

The moments in ``rules/moments/`` are tried against these files (a dwell at a café, rain near
clothes shops, a tired walker near a tea house); these tests hold the data to those stories so
that a change of the builder cannot quietly take one away.
"""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from geotrigger.config import WeatherSettings
from geotrigger.consumers import LOCATION_MARKETING, Daypart, load_consumers
from geotrigger.model import Circle, Ping, Place
from geotrigger.pings import read_numbered
from geotrigger.places import load_places_strict
from geotrigger.spatial.geodesy import haversine_m
from geotrigger.weather.files import load_weather_timeline
from geotrigger.weather.reading import WeatherCondition

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = REPO / "examples"
GENERATED = (
    "pings/helsinki-morning.jsonl",
    "pings/helsinki-afternoon.jsonl",
    "weather/helsinki-2026-06-12.jsonl",
)
WEATHER = EXAMPLES / "weather" / "helsinki-2026-06-12.jsonl"
CONSUMERS = EXAMPLES / "consumers" / "helsinki.jsonl"
THEHUONE = "osm-node-1007416273"
WHITE_DRESS = "osm-node-6049453034"  # a clothes shop open from 09:00
WELL_COFFEE = "osm-node-4754875491"


def _lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def _pings(name: str, device: str) -> list[Ping]:
    """One device's pings of an example file, in time order."""
    items = [item for _, item in read_numbered(EXAMPLES / "pings" / name)]
    pings = [p for p in items if isinstance(p, Ping) and p.device_id == device]
    return sorted(pings, key=lambda p: p.timestamp)


def _time(ping: Ping) -> datetime:
    return ping.timestamp


def _from_centre(ping: Ping, place: Place) -> float:
    """Metres from the centre of a circular place (the example places near the stories)."""
    circle = place.geometry
    assert isinstance(circle, Circle)
    return float(haversine_m(ping.lat, ping.lon, circle.lat, circle.lon))


@pytest.fixture(scope="module")
def places() -> dict[str, Place]:
    """The centres of the shipped Helsinki places, by id."""
    loaded = load_places_strict([REPO / "rules" / "places" / "helsinki.yaml"]).places
    return {p.id: p for p in loaded}


def test_builder_reproduces_the_committed_files(tmp_path: Path) -> None:
    """Running the builder into an empty folder gives the committed files, byte for byte."""
    builder = EXAMPLES / "pings" / "build_examples.py"
    done = subprocess.run(
        [sys.executable, str(builder), str(tmp_path)],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    built = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*.jsonl"))
    assert built == sorted(GENERATED)
    for name in GENERATED:
        assert (tmp_path / name).read_bytes() == (EXAMPLES / name).read_bytes(), name


def test_consumers_load_with_the_story_of_each() -> None:
    """Every consumer loads; consent, devices and affinities are those the stories need."""
    directory = load_consumers(CONSUMERS)
    assert sorted(c.id for c in directory) == [
        f"consumer-{name}"
        for name in ("barista", "commuter", "jogger", "shopper", "visitor", "walker")
    ]
    for consumer in directory:
        device = consumer.id.removeprefix("consumer-")
        assert directory.for_device(device) is consumer
        assert consumer.timezone == "Europe/Helsinki"
        assert consumer.consents_to(LOCATION_MARKETING) is (device != "barista")
    walker = directory.get("consumer-walker")
    assert walker is not None
    assert walker.affinities.weight("green-tea", Daypart.AFTERNOON) == (1.0, "afternoon")
    assert walker.affinities.weight("coffee", Daypart.AFTERNOON) == (-0.5, "afternoon")
    assert walker.affinities.weight("coffee", Daypart.MORNING) == (0.4, "base")
    assert "tea-lovers" in walker.segments and "first_name" in walker.traits
    jogger = directory.get("consumer-jogger")
    assert jogger is not None and dict(jogger.affinities.base) == {"sports": 0.9}


def test_weather_file_fields_and_cadence() -> None:
    """One reading of the cell every 15 minutes, 05:45-13:00 UTC, with every field, valid
    for an hour, conditions from the vocabulary."""
    rows = _lines(WEATHER)
    first = datetime(2026, 6, 12, 5, 45, tzinfo=UTC)
    expected = [first + timedelta(minutes=15 * i) for i in range(30)]
    assert [datetime.fromisoformat(r["observed_at"]) for r in rows] == expected
    fields = {
        "lat",
        "lon",
        "observed_at",
        "valid_until",
        "condition",
        "temperature_c",
        "feels_like_c",
        "precipitation_mm_h",
        "precipitation_probability_pct",
        "wind_speed_mps",
        "uv_index",
        "humidity_pct",
        "source",
    }
    for row in rows:
        assert set(row) == fields
        assert (row["lat"], row["lon"], row["source"]) == (60.1699, 24.9384, "file")
        assert row["observed_at"].endswith("Z") and row["valid_until"].endswith("Z")
        observed = datetime.fromisoformat(row["observed_at"])
        assert datetime.fromisoformat(row["valid_until"]) - observed == timedelta(hours=1)
        assert row["condition"] in {c.value for c in WeatherCondition}


def test_weather_rain_spell_while_the_shopper_is_among_the_shops(places: dict[str, Place]) -> None:
    """The weather loads; its one wet spell starts at a quarter hour when the shopper has been
    on Aleksanterinkatu for a few minutes, within 200 m of an open clothes shop, and lasts
    45 minutes; the afternoon is dry and mild."""
    timeline = load_weather_timeline(WEATHER, cell_m=WeatherSettings().cell_m)
    assert len(timeline) == 30
    wet = [r for r in _lines(WEATHER) if r["precipitation_mm_h"] > 0]
    starts = [datetime.fromisoformat(r["observed_at"]) for r in wet]
    assert starts == [datetime(2026, 6, 12, 6, m, tzinfo=UTC) for m in (15, 30, 45)]
    rain = starts[0]
    shopper = _pings("helsinki-morning.jsonl", "shopper")
    assert _time(shopper[0]) <= rain - timedelta(minutes=3)
    assert _time(shopper[-1]) >= rain
    last = [p for p in shopper if _time(p) <= rain][-1]
    shop = places[WHITE_DRESS]
    assert shop.opening_hours is not None and shop.opening_hours.is_open(rain)
    assert _from_centre(last, shop) < 200
    afternoon = [r for r in _lines(WEATHER) if r["observed_at"] >= "2026-06-12T11:00"]
    assert {r["condition"] for r in afternoon} == {"partly_cloudy"}
    assert all(18 <= r["temperature_c"] <= 20 for r in afternoon)


@pytest.mark.parametrize(
    ("device", "crossing_local", "max_speed"),
    [
        # walks up, window-shops, fatigue past 0.7 at 15:05 local
        ("walker", "15:05", 1.5),
        # runs past at about 3 m/s, fatigue past 0.7 as it passes
        ("jogger", "15:03", 4.5),
    ],
)
def test_fatigue_crosses_once_near_the_tea_house(
    device: str, crossing_local: str, max_speed: float, places: dict[str, Place]
) -> None:
    """Each afternoon phone's fatigue rises above 0.7 exactly once, within 150 m of
    Théhuone, at the time of its story; fixes are accurate and carry the speed."""
    pings = _pings("helsinki-afternoon.jsonl", device)
    fatigue = [p.signals["fatigue"] for p in pings]
    crossings = [i for i in range(1, len(pings)) if fatigue[i - 1] <= 0.7 < fatigue[i]]
    assert len(crossings) == 1
    at = pings[crossings[0]]
    assert _from_centre(at, places[THEHUONE]) < 150
    local = _time(at).astimezone(ZoneInfo("Europe/Helsinki"))
    assert local.strftime("%H:%M") == crossing_local
    assert all(p.accuracy_m is not None and 5 <= p.accuracy_m <= 15 for p in pings)
    assert all(p.speed_mps is not None and p.speed_mps <= max_speed for p in pings)
    assert fatigue[0] <= 0.45


def test_walker_reports_every_20_to_30_seconds() -> None:
    """The wearable walker's fixes come every 20-30 s, from 14:40 to 15:30 local."""
    times = [_time(p) for p in _pings("helsinki-afternoon.jsonl", "walker")]
    gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(times)]
    assert all(15 <= gap <= 35 for gap in gaps)
    assert sum(gaps) / len(gaps) == pytest.approx(25, abs=1.5)
    assert times[0].strftime("%H:%M") == "11:40" and times[-1].strftime("%H:%M") == "12:29"


def test_commuter_crosses_a_cafe_at_tram_speed(places: dict[str, Place]) -> None:
    """The tram's first two fixes are in Well Coffee's circle (widened by 20 m at most) at
    over 7 m/s: an enter that the speed gate stops as driving past."""
    first, second = _pings("helsinki-morning.jsonl", "commuter")[:2]
    for ping in (first, second):
        assert _from_centre(ping, places[WELL_COFFEE]) < 30 + 20
        assert ping.speed_mps is not None and ping.speed_mps > 7
