"""Synthetic phone tracks for the example pings: positions along routes, noisy fixes.

Distances use a flat-earth approximation, good to well under a metre over the few hundred
metres of a walk; the examples need plausible, not surveyed, positions.
"""

from __future__ import annotations

import itertools
import json
import math
import random
from datetime import UTC, datetime, timedelta

START = datetime(2026, 6, 12, 6, 0, tzinfo=UTC)  # 09:00 in Helsinki, a Friday
M_PER_DEG = 111_195.0

Point = tuple[float, float]


def move(p: Point, north_m: float, east_m: float) -> Point:
    """The point ``north_m`` metres north and ``east_m`` metres east of ``p``."""
    lat, lon = p
    return lat + north_m / M_PER_DEG, lon + east_m / (M_PER_DEG * math.cos(math.radians(lat)))


def dist(a: Point, b: Point) -> float:
    """Metres between two points."""
    dn = (b[0] - a[0]) * M_PER_DEG
    de = (b[1] - a[1]) * M_PER_DEG * math.cos(math.radians(a[0]))
    return math.hypot(dn, de)


def walk(route: list[Point], speed: float, every: float, t0: float) -> list[tuple[float, Point]]:
    """(seconds, true position) along a route at a steady speed, one every ``every`` s."""
    out: list[tuple[float, Point]] = []
    t = t0
    for a, b in itertools.pairwise(route):
        legs = max(int(dist(a, b) / (speed * every)), 1)
        for i in range(legs):
            f = i / legs
            out.append((t, (a[0] + (b[0] - a[0]) * f, a[1] + (b[1] - a[1]) * f)))
            t += every
    out.append((t, route[-1]))
    return out


def stay(at: Point, seconds: float, every: float, t0: float) -> list[tuple[float, Point]]:
    """(seconds, position) standing still at ``at`` for ``seconds``, one every ``every`` s."""
    return [(t0 + i * every, at) for i in range(int(seconds / every))]


def fix(
    rng: random.Random,
    device: str,
    n: int,
    t: float,
    p: Point,
    acc: tuple[float, float],
    speed: float | None = None,
    *,
    start: datetime = START,
    max_speed: float = math.inf,
) -> dict[str, object]:
    """Fix ``n`` of ``device``: the true position ``p`` blurred by an accuracy drawn from
    ``acc``, at ``t`` seconds after ``start``, with a noisy speed when ``speed`` is given."""
    accuracy = rng.uniform(*acc)
    r, bearing = abs(rng.gauss(0, accuracy / 2)), rng.uniform(0, 2 * math.pi)
    lat, lon = move(p, r * math.cos(bearing), r * math.sin(bearing))
    record: dict[str, object] = {
        "id": f"{device}-{n:04d}",
        "device_id": device,
        "consumer_id": f"consumer-{device}",
        "lat": round(lat, 7),
        "lon": round(lon, 7),
        "timestamp": (start + timedelta(seconds=t)).isoformat(timespec="milliseconds")[:-6] + "Z",
        "accuracy_m": round(accuracy, 1),
    }
    if speed is not None:
        record["speed_mps"] = round(min(max(speed + rng.gauss(0, 0.4), 0.0), max_speed), 1)
    return record


def arrival_order(rng: random.Random, records: list[dict[str, object]]) -> list[str]:
    """Lines sorted by when they would reach the server: 0.5-3 s after their fix."""
    arrivals = []
    for record in records:
        ts = datetime.fromisoformat(str(record["timestamp"])).timestamp()
        arrivals.append((ts + rng.uniform(0.5, 3.0), json.dumps(record, ensure_ascii=False)))
    arrivals.sort()
    return [line for _, line in arrivals]
