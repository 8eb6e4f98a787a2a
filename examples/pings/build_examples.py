"""Build the example pings of a Helsinki morning: ``python examples/pings/build_examples.py``.

Deterministic (seeded): running it again gives the same ``helsinki-morning.jsonl``. Four phones
move among real places of central Helsinki (positions of OpenStreetMap shops and cafés, the
same ones as ``rules/places/helsinki.yaml``), with the noise and glitches real phones have:

* ``visitor`` walks up Mannerheimintie to the Music Centre café, stays 20 minutes, leaves;
  its phone re-sends three fixes (duplicates);
* ``shopper`` strolls the length of Aleksanterinkatu past dozens of shops without stopping;
  one fix is the GPS default (0, 0) and one a 1.5 km cell-tower fix;
* ``commuter`` rides a tram up Mannerheimintie at up to 9 m/s, stopping at three stops; one
  fix arrives 20 s late (re-ordered) and one three minutes late (out of order);
* ``barista`` leaves a phone on the counter of Hima Organic Café for 90 minutes, with fixes
  30-80 m off (indoors, no GPS) that often land outside the café's 30 m circle.

One line of the file is deliberately malformed. Lines are in arrival order, not time order.
"""

from __future__ import annotations

import itertools
import json
import math
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

OUT = Path(__file__).with_name("helsinki-morning.jsonl")
START = datetime(2026, 6, 12, 6, 0, tzinfo=UTC)  # 09:00 in Helsinki, a Friday
M_PER_DEG = 111_195.0

Point = tuple[float, float]


def _move(p: Point, north_m: float, east_m: float) -> Point:
    lat, lon = p
    return lat + north_m / M_PER_DEG, lon + east_m / (M_PER_DEG * math.cos(math.radians(lat)))


def _dist(a: Point, b: Point) -> float:
    dn = (b[0] - a[0]) * M_PER_DEG
    de = (b[1] - a[1]) * M_PER_DEG * math.cos(math.radians(a[0]))
    return math.hypot(dn, de)


def _walk(route: list[Point], speed: float, every: float, t0: float) -> list[tuple[float, Point]]:
    """(seconds, true position) along a route at a steady speed, one every ``every`` s."""
    out: list[tuple[float, Point]] = []
    t = t0
    for a, b in itertools.pairwise(route):
        legs = max(int(_dist(a, b) / (speed * every)), 1)
        for i in range(legs):
            f = i / legs
            out.append((t, (a[0] + (b[0] - a[0]) * f, a[1] + (b[1] - a[1]) * f)))
            t += every
    out.append((t, route[-1]))
    return out


def _stay(at: Point, seconds: float, every: float, t0: float) -> list[tuple[float, Point]]:
    return [(t0 + i * every, at) for i in range(int(seconds / every))]


def _fix(
    rng: random.Random,
    device: str,
    n: int,
    t: float,
    p: Point,
    acc: tuple[float, float],
    speed: float | None = None,
) -> dict[str, object]:
    accuracy = rng.uniform(*acc)
    r, bearing = abs(rng.gauss(0, accuracy / 2)), rng.uniform(0, 2 * math.pi)
    lat, lon = _move(p, r * math.cos(bearing), r * math.sin(bearing))
    record: dict[str, object] = {
        "id": f"{device}-{n:04d}",
        "device_id": device,
        "consumer_id": f"consumer-{device}",
        "lat": round(lat, 7),
        "lon": round(lon, 7),
        "timestamp": (START + timedelta(seconds=t)).isoformat(timespec="milliseconds")[:-6] + "Z",
        "accuracy_m": round(accuracy, 1),
    }
    if speed is not None:
        record["speed_mps"] = round(max(speed + rng.gauss(0, 0.4), 0.0), 1)
    return record


def visitor(rng: random.Random) -> list[dict[str, object]]:
    """Walk to the Music Centre café (osm-node-2270234283), 20 minutes inside, walk away."""
    cafe = (60.1735667, 24.9356748)
    to_cafe = [(60.1712, 24.9384), (60.1728, 24.9372), _move(cafe, 0, 25), cafe]
    track = _walk(to_cafe, 1.3, 10, 0)
    track += _stay(cafe, 1200, 30, track[-1][0] + 30)
    track += _walk(
        [cafe, _move(cafe, 0, 60), (60.1745, 24.9340), (60.1770, 24.9310)],
        1.3,
        10,
        track[-1][0] + 30,
    )
    fixes = [_fix(rng, "visitor", n, t, p, (6, 18)) for n, (t, p) in enumerate(track)]
    return fixes + fixes[20:23]  # the phone's outbox re-sends three fixes


def shopper(rng: random.Random) -> list[dict[str, object]]:
    """Aleksanterinkatu from Senate Square to Mannerheimintie, never stopping."""
    track = _walk([(60.16895, 24.9521), (60.16890, 24.9475), (60.16880, 24.9428)], 1.2, 10, 300)
    fixes = [_fix(rng, "shopper", n, t, p, (5, 15)) for n, (t, p) in enumerate(track)]
    fixes[10].update(lat=0.0, lon=0.0)  # a GPS that has no fix yet
    fixes[25]["accuracy_m"] = 1500.0  # a cell-tower fallback
    return fixes


def commuter(rng: random.Random) -> list[dict[str, object]]:
    """A tram up Mannerheimintie with three 30 s stops; the phone reports its speed."""
    stops = [(60.1707, 24.9378), (60.1738, 24.9343), (60.1790, 24.9290)]
    track: list[tuple[float, Point, float]] = []
    t, prev = 900.0, (60.1690, 24.9400)
    for stop in [*stops, (60.1830, 24.9262)]:
        track += [(when, p, 8.5) for when, p in _walk([prev, stop], 8.5, 5, t)]
        track += [(when, p, 0.0) for when, p in _stay(stop, 30, 5, track[-1][0] + 5)]
        t, prev = track[-1][0] + 5, stop
    return [
        _fix(rng, "commuter", n, when, p, (8, 25), speed=speed)
        for n, (when, p, speed) in enumerate(track)
    ]


def barista(rng: random.Random) -> list[dict[str, object]]:
    """A phone lying still in Hima Organic Café (osm-node-3681883933), poor fixes around it."""
    stall = (60.1763801, 24.9531577)
    fixes = []
    for n, (t, _p) in enumerate(_stay(stall, 5400, 60, 0)):
        r, bearing = rng.uniform(30, 80), rng.uniform(0, 2 * math.pi)
        lat, lon = _move(stall, r * math.cos(bearing), r * math.sin(bearing))
        fix = _fix(rng, "barista", n, t, stall, (30, 80))
        fix.update(lat=round(lat, 7), lon=round(lon, 7))
        fixes.append(fix)
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


if __name__ == "__main__":
    OUT.write_text("\n".join(build()) + "\n", encoding="utf-8")
    print(f"wrote {OUT.name}")
