"""Build the example data: ``python examples/pings/build_examples.py [EXAMPLES_DIR]``.

Deterministic (seeded): running it again gives the same files. It writes, under
``EXAMPLES_DIR`` (default: the ``examples`` folder this script lives in),
``pings/helsinki-morning.jsonl``, ``pings/helsinki-afternoon.jsonl`` and
``weather/helsinki-2026-06-12.jsonl``. The phones move among real places of central Helsinki
(positions of OpenStreetMap shops and cafés, the same ones as ``rules/places/helsinki.yaml``),
with the noise and glitches real phones have. The morning (from 09:00 local, 06:00 UTC):

* ``visitor`` walks up Mannerheimintie to the Music Centre café, stays 20 minutes, leaves;
  its phone re-sends three fixes (duplicates);
* ``shopper`` strolls the length of Aleksanterinkatu past dozens of shops without stopping,
  from 06:09 to 06:16 UTC; the rain starts at 06:15, 160 m from White Dress (a clothes shop
  open from 09:00); one fix is the GPS default (0, 0) and one a 1.5 km cell-tower fix;
* ``commuter`` rides a tram through the circle of Well Coffee and up Mannerheimintie at up
  to 9 m/s, stopping at three stops; one fix arrives 20 s late (re-ordered) and one three
  minutes late (out of order);
* ``barista`` leaves a phone on the counter of Hima Organic Café for 90 minutes, with fixes
  30-80 m off (indoors, no GPS) that often land outside the café's 30 m circle.

One line of the morning file is deliberately malformed. The afternoon (14:40-15:30 local) has
two phones with a wearable's ``fatigue`` signal, both crossing 0.7 near Théhuone (a tea house):

* ``walker`` walks along Esplanadi towards Théhuone, window-shops within 100 m of it (fatigue
  crosses 0.7 at 15:05 local), then goes in and sits for a quarter of an hour;
* ``jogger`` runs past Théhuone at 3 m/s; its fatigue crosses 0.7 as it passes.

Lines are in arrival order, not time order.
"""

from __future__ import annotations

import json
import math
import random
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from afternoon import afternoon
from tracks import Point, fix, move, stay, walk

EXAMPLES = Path(__file__).resolve().parents[1]


def visitor(rng: random.Random) -> list[dict[str, object]]:
    """Walk to the Music Centre café (osm-node-2270234283), 20 minutes inside, walk away."""
    cafe = (60.1735667, 24.9356748)
    to_cafe = [(60.1712, 24.9384), (60.1728, 24.9372), move(cafe, 0, 25), cafe]
    track = walk(to_cafe, 1.3, 10, 0)
    track += stay(cafe, 1200, 30, track[-1][0] + 30)
    track += walk(
        [cafe, move(cafe, 0, 60), (60.1745, 24.9340), (60.1770, 24.9310)],
        1.3,
        10,
        track[-1][0] + 30,
    )
    fixes = [fix(rng, "visitor", n, t, p, (6, 18)) for n, (t, p) in enumerate(track)]
    return fixes + fixes[20:23]  # the phone's outbox re-sends three fixes


def shopper(rng: random.Random) -> list[dict[str, object]]:
    """Aleksanterinkatu from Senate Square to Mannerheimintie, never stopping."""
    track = walk([(60.16895, 24.9521), (60.16890, 24.9475), (60.16880, 24.9428)], 1.2, 10, 540)
    fixes = [fix(rng, "shopper", n, t, p, (5, 15)) for n, (t, p) in enumerate(track)]
    fixes[10].update(lat=0.0, lon=0.0)  # a GPS that has no fix yet
    fixes[25]["accuracy_m"] = 1500.0  # a cell-tower fallback
    return fixes


def commuter(rng: random.Random) -> list[dict[str, object]]:
    """A tram up Mannerheimintie with three 30 s stops; the phone reports its speed."""
    stops = [(60.1707, 24.9378), (60.1738, 24.9343), (60.1790, 24.9290)]
    track: list[tuple[float, Point, float]] = []
    t, prev = 900.0, (60.1691, 24.9410)  # through Well Coffee at tram speed
    for stop in [*stops, (60.1830, 24.9262)]:
        track += [(when, p, 8.5) for when, p in walk([prev, stop], 8.5, 5, t)]
        track += [(when, p, 0.0) for when, p in stay(stop, 30, 5, track[-1][0] + 5)]
        t, prev = track[-1][0] + 5, stop
    return [
        fix(rng, "commuter", n, when, p, (8, 25), speed=speed)
        for n, (when, p, speed) in enumerate(track)
    ]


def barista(rng: random.Random) -> list[dict[str, object]]:
    """A phone lying still in Hima Organic Café (osm-node-3681883933), poor fixes around it."""
    stall = (60.1763801, 24.9531577)
    fixes = []
    for n, (t, _p) in enumerate(stay(stall, 5400, 60, 0)):
        r, bearing = rng.uniform(30, 80), rng.uniform(0, 2 * math.pi)
        lat, lon = move(stall, r * math.cos(bearing), r * math.sin(bearing))
        record = fix(rng, "barista", n, t, stall, (30, 80))
        record.update(lat=round(lat, 7), lon=round(lon, 7))
        fixes.append(record)
    return fixes


def build() -> list[str]:
    """All lines of the example file, in arrival order."""
    rng = random.Random(20260612)
    arrivals: list[tuple[float, str]] = []
    for make in (visitor, shopper, commuter, barista):
        for record in make(rng):
            ts = datetime.fromisoformat(str(record["timestamp"])).timestamp()
            arrivals.append((ts + rng.uniform(0.5, 3.0), json.dumps(record, ensure_ascii=False)))
    late = {"commuter-0040": 20.0, "commuter-0060": 180.0}  # delivered late by the network
    arrivals = [
        (a + next((d for k, d in late.items() if f'"{k}"' in line), 0.0), line)
        for a, line in arrivals
    ]
    arrivals.sort()
    lines = [line for _, line in arrivals]
    lines.insert(100, '{"device_id": "shopper", "lat": "n/a", "lon": 24.95, "timestamp": 0}')
    return lines


CELL = (60.1699, 24.9384)  # the central Helsinki weather cell (Helsinki railway station)
# The rain spell: it starts at 06:15 UTC (09:15 local), while the shopper is on
# Aleksanterinkatu among clothes and outdoor shops, and is over by 07:00.
WET = {(6, 15): ("rain", 2.4), (6, 30): ("rain", 3.1), (6, 45): ("drizzle", 0.6)}


def _reading(at: datetime) -> dict[str, object]:
    """The synthetic reading of the cell at ``at``: a grey morning, the rain, a mild afternoon."""
    hour = at.hour + at.minute / 60
    condition, rain = WET.get(
        (at.hour, at.minute), ("cloudy" if hour < 8 else "partly_cloudy", 0.0)
    )
    wet = rain > 0
    temperature = 13.0 if wet else min(13.6 + 0.9 * max(hour - 6, 0), 19.4)
    sun = 0.3 if condition != "partly_cloudy" else 1.0
    chance = 100 if wet else (60 if hour < 6.25 else max(10, 45 - 5 * (hour - 7) * 4))
    return {
        "lat": CELL[0],
        "lon": CELL[1],
        "observed_at": at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "valid_until": (at + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "condition": condition,
        "temperature_c": round(temperature, 1),
        "feels_like_c": round(temperature - (1.4 if wet else 0.5), 1),
        "precipitation_mm_h": rain,
        "precipitation_probability_pct": round(chance),
        "wind_speed_mps": 5.8 if wet else 3.4,
        "uv_index": round(min(5.0, max(0.5, (hour - 3) * 0.8)) * sun, 1),
        "humidity_pct": 94 if wet else round(max(55, 85 - 4 * (hour - 6))),
        "source": "file",
    }


def weather_timeline() -> list[str]:
    """The cell's readings every 15 minutes from 05:45 to 13:00 UTC, in time order."""
    first = datetime(2026, 6, 12, 5, 45, tzinfo=UTC)
    return [json.dumps(_reading(first + timedelta(minutes=15 * i))) for i in range(30)]


def write_all(examples: Path) -> list[Path]:
    """Write every generated example file under ``examples``; the paths written."""
    files = {
        examples / "pings" / "helsinki-morning.jsonl": build(),
        examples / "pings" / "helsinki-afternoon.jsonl": afternoon(),
        examples / "weather" / "helsinki-2026-06-12.jsonl": weather_timeline(),
    }
    for path, lines in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return list(files)


if __name__ == "__main__":
    for written in write_all(Path(sys.argv[1]) if len(sys.argv) > 1 else EXAMPLES):
        print(f"wrote {written.parent.name}/{written.name}")
