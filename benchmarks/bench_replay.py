"""The whole replay path in process: JSON Lines → parse → order → filter → match → transitions.

10k synthetic circle places around Helsinki and 5,000 devices walking among them, 200k pings
in time order as a live stream would deliver them. Baseline of the group: parsing alone (the
floor any ingestion pays); matching alone is shown too, on the same pings in batches of 1000.
The garbage collector is set up as ``geotrigger replay`` sets it (:func:`settle_heap`).
"""

from __future__ import annotations

import math
import random
from datetime import UTC, datetime, timedelta

import numpy as np
import orjson

from benchmarks.report import Row, median_rate
from geotrigger.cli.heap import settle_heap
from geotrigger.config import Settings
from geotrigger.engine import Engine
from geotrigger.engine.replay import replay
from geotrigger.model import Circle, Place
from geotrigger.pings.files import iter_jsonl
from geotrigger.spatial import PlaceIndex

PLACES = 10_000
DEVICES = 5_000
PINGS = 200_000
LAT0, LON0 = 60.17, 24.94  # central Helsinki; places and devices spread over the metro area
SPREAD_M = 3800.0  # std. dev. north and east: ~0.7 covering places per ping, the density
# performance.md assumes (~7 per ping at 100k places in one metro area)
M_PER_DEG = 111_195.0
GROUP = f"replay path, {PLACES // 1000}k places"


def make_places(rng: random.Random) -> list[Place]:
    """Circles of 20-100 m (shops, cafés), denser towards the centre like a real city."""
    places = []
    for i in range(PLACES):
        north, east = rng.gauss(0, SPREAD_M), rng.gauss(0, SPREAD_M)  # a 2-D normal
        lat = LAT0 + north / M_PER_DEG
        lon = LON0 + east / (M_PER_DEG * math.cos(math.radians(LAT0)))
        geometry = Circle(lat=lat, lon=lon, radius_m=rng.uniform(20, 100))
        places.append(Place(id=f"place-{i:05d}", name=f"Place {i}", geometry=geometry))
    return places


def make_lines(rng: random.Random) -> list[bytes]:
    """JSON Lines of devices walking (1.3 m/s) with a fix every 10-30 s, merged in time order."""
    t0 = datetime(2026, 6, 12, 8, 0, tzinfo=UTC)
    per_device = PINGS // DEVICES
    records = []
    for d in range(DEVICES):
        north, east = rng.gauss(0, SPREAD_M), rng.gauss(0, SPREAD_M)
        t = rng.uniform(0, 30)
        heading = rng.uniform(0, 2 * math.pi)
        for n in range(per_device):
            step = rng.uniform(10, 30)
            t += step
            heading += rng.gauss(0, 0.3)
            north += 1.3 * step * math.cos(heading)
            east += 1.3 * step * math.sin(heading)
            records.append(
                (
                    t,
                    {
                        "id": f"d{d}-{n}",
                        "device_id": f"device-{d:05d}",
                        "lat": round(LAT0 + north / M_PER_DEG, 7),
                        "lon": round(LON0 + east / (M_PER_DEG * math.cos(math.radians(LAT0))), 7),
                        "timestamp": (t0 + timedelta(seconds=t)).isoformat().replace("+00:00", "Z"),
                        "accuracy_m": round(rng.uniform(5, 40), 1),
                    },
                )
            )
    records.sort(key=lambda r: r[0])
    return [orjson.dumps(rec) for _, rec in records]


def run() -> list[Row]:
    """Median pings/s of parsing, matching, and the whole replay path, in one run."""
    rng = random.Random(7)
    settings = Settings()
    index = PlaceIndex(
        make_places(rng), near_m=settings.transitions.near_m, settings=settings.index
    )
    lines = make_lines(rng)
    settle_heap()  # the collector set up as `geotrigger replay` has it
    pings = [p for _, p in iter_jsonl(lines)]
    lats = np.array([p.lat for p in pings])
    lons = np.array([p.lon for p in pings])
    near_m = settings.transitions.near_m

    def parse() -> None:
        for _ in iter_jsonl(lines):
            pass

    def match() -> None:
        for start in range(0, len(lats), 1000):
            index.near(lats[start : start + 1000], lons[start : start + 1000], near_m)

    def engine_only() -> None:
        engine = Engine(settings=settings, index=index)
        for start in range(0, len(pings), 1000):
            engine.process(pings[start : start + 1000])

    transitions = 0

    def whole() -> None:
        nonlocal transitions
        engine = Engine(settings=settings, index=index)
        summary = replay(engine, iter_jsonl(lines))
        transitions = sum(summary.transitions.values())

    base = median_rate(parse, len(lines), repeat=3)
    matched = median_rate(match, len(lines), repeat=3)
    engine_rate = median_rate(engine_only, len(lines), repeat=3)
    total = median_rate(whole, len(lines), repeat=3)
    note = f"{DEVICES:,} devices, {transitions:,} transitions"
    return [
        Row(
            group=GROUP,
            name="parse only (orjson + parse_ping)",
            value=base,
            unit="pings/s",
            ratio=1.0,
        ),
        Row(
            group=GROUP,
            name="match only (index.near, 1000 per batch)",
            value=matched,
            unit="pings/s",
            ratio=matched / base,
        ),
        Row(
            group=GROUP,
            name="engine only: filter, match, transitions",
            value=engine_rate,
            unit="pings/s",
            ratio=engine_rate / base,
            note="parsed pings, in time order, 1000 per batch",
        ),
        Row(
            group=GROUP,
            name="whole path: parse, order, filter, match, transitions",
            value=total,
            unit="pings/s",
            ratio=total / base,
            note=note,
        ),
    ]
