"""The example afternoon: two phones whose wearables report a ``fatigue`` signal near Théhuone.

Friday 2026-06-12 from 14:40 local (11:40 UTC). ``walker`` walks along Esplanadi towards
Théhuone (osm-node-1007416273, a tea house), window-shops within 100 m of it while its fatigue
rises past 0.7 at 15:05 local, then goes in and sits down, and its fatigue eases. ``jogger``
runs past Théhuone at 3 m/s; its fatigue crosses 0.7 as it passes. Both phones report their
speed; the walker's fixes come every 20-30 s, the jogger's every 15 s.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime

from tracks import Point, arrival_order, dist, fix, move, stay, walk

START = datetime(2026, 6, 12, 11, 40, tzinfo=UTC)  # 14:40 in Helsinki
THEHUONE = (60.167166, 24.9353956)
THRESHOLD = 0.7  # what the tired-tea rule watches for
CROSSING_S = 25 * 60.0  # the walker's fatigue crosses the threshold at 15:05 local
NEAR_M = 150.0  # the rule's distance: the crossing must happen this close to Théhuone

Track = list[tuple[float, Point, float]]  # (seconds after START, true position, speed m/s)


def _legs(*parts: tuple[list[tuple[float, Point]], float]) -> Track:
    return [(t, p, speed) for points, speed in parts for t, p in points]


def walker_track(rng: random.Random) -> Track:
    """Esplanadi westwards, a slow stroll by the shop windows near Théhuone, then inside."""
    to_tea = [(60.16790, 24.95550), (60.16710, 24.94500), (60.16745, 24.93900)]
    window = [move(THEHUONE, dn, de) for dn, de in ((40, 70), (70, 10), (30, -60), (55, 45))]
    track = _legs((walk([*to_tea, window[0]], 1.2, 25, 0), 1.2))
    track += _legs((walk([*window, window[0], window[1]], 0.5, 25, track[-1][0] + 25), 0.5))
    track += _legs((stay(window[1], 240, 25, track[-1][0] + 25), 0.0))
    track += _legs((walk([window[1], THEHUONE], 0.8, 25, track[-1][0] + 25), 0.8))
    track += _legs((stay(THEHUONE, 1200, 25, track[-1][0] + 25), 0.0))
    # a phone's fixes never come on the dot: shift each by a few seconds
    return [(t + rng.uniform(-4, 4), p, s) for t, p, s in track if t < 50 * 60]


def fatigue_curve(times: list[float], crossing: int, start: float, peak: float) -> list[float]:
    """Fatigue per fix: rising from ``start`` to just under the threshold before fix
    ``crossing``, above it from that fix on up to ``peak``; it crosses exactly once."""
    t0, tc = times[0], times[crossing]
    values = []
    for t in times[:crossing]:
        values.append(min(start + (THRESHOLD - 0.01 - start) * (t - t0) / (tc - t0), 0.69))
    for t in times[crossing:]:
        values.append(min(THRESHOLD + 0.01 + (t - tc) / 6000, peak))
    return values


def _eased(values: list[float], times: list[float], sat_down: float) -> list[float]:
    """After sitting down with a cup, fatigue eases by 0.01 a minute (never rising again)."""
    return [v - max(t - sat_down, 0.0) / 6000 for v, t in zip(values, times, strict=True)]


def _fixes(
    rng: random.Random, device: str, track: Track, fatigue: list[float], max_speed: float
) -> list[dict[str, object]]:
    out = []
    for n, ((t, p, speed), level) in enumerate(zip(track, fatigue, strict=True)):
        record = fix(rng, device, n, t, p, (5, 15), speed, start=START, max_speed=max_speed)
        record["signals"] = {"fatigue": round(level, 2)}  # from the wearable, with each fix
        out.append(record)
    return out


def walker(rng: random.Random) -> list[dict[str, object]]:
    """The walker's fixes; its fatigue crosses 0.7 at 15:05 local within 150 m of Théhuone."""
    track = walker_track(rng)
    times = [t for t, _, _ in track]
    crossing = next(i for i, t in enumerate(times) if t >= CROSSING_S)
    if dist(track[crossing][1], THEHUONE) > NEAR_M - 30:
        raise AssertionError("the walker is not near Théhuone when its fatigue crosses 0.7")
    sat_down = next(t for t, p, _ in track if p == THEHUONE)
    fatigue = _eased(fatigue_curve(times, crossing, 0.35, 0.78), times, sat_down)
    return _fixes(rng, "walker", track, fatigue, max_speed=1.5)


def jogger(rng: random.Random) -> list[dict[str, object]]:
    """The jogger's fixes: past Théhuone at 3 m/s, fatigue crossing 0.7 at the nearest fix."""
    route = [(60.16400, 24.92700), (60.16650, 24.93350), move(THEHUONE, 45, 20)]
    route += [(60.16900, 24.94400), (60.17000, 24.95200)]
    track = _legs((walk(route, 3.0, 15, 20 * 60), 3.0))
    track = [(t + rng.uniform(-2, 2), p, s) for t, p, s in track]
    crossing = min(range(len(track)), key=lambda i: dist(track[i][1], THEHUONE))
    return _fixes(
        rng,
        "jogger",
        track,
        fatigue_curve([t for t, _, _ in track], crossing, 0.45, 0.8),
        max_speed=4.5,
    )


def afternoon() -> list[str]:
    """All lines of the afternoon file, in arrival order."""
    rng = random.Random(20260612_1440)
    return arrival_order(rng, walker(rng) + jogger(rng))
