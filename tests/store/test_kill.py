"""Kill the replay at any point and start it again: no double fire, no lost moment.

A real ``geotrigger replay --database-url`` runs in a subprocess over a busy morning (hundreds
of phones dwelling at the shipped Helsinki cafés); it is killed with SIGKILL at several moments
of its run, then started again on the same file until it finishes. The moments stored must be
exactly those of an uninterrupted run, each with exactly one outbox row, and so must the
decisions (each candidate's once). On SQLite and PostGIS.
"""

from __future__ import annotations

import json
import math
import os
import random
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from geotrigger.places import load_places_strict
from geotrigger.store import migrations
from geotrigger.store.database import connect
from geotrigger.store.tables import decisions, moments, outbox

ROOT = Path(__file__).resolve().parents[2]
DEVICES = 120
START = datetime(2026, 6, 12, 5, 0, tzinfo=UTC)  # 08:00 in Helsinki, a Friday
M_PER_DEG = 111_195.0


def _write_inputs(folder: Path) -> tuple[Path, Path]:
    """Pings of phones that each visit three cafés for six minutes, and their consumers."""
    cafes = [
        p
        for p in load_places_strict([ROOT / "rules" / "places" / "helsinki.yaml"]).places
        if "cafe" in p.tags and p.is_circle
    ]
    rng = random.Random(5)
    lines: list[tuple[float, str]] = []
    consumers = []
    for d in range(DEVICES):
        device = f"phone-{d:03d}"
        consumers.append(
            {
                "id": f"consumer-{d:03d}",
                "devices": [device],
                "timezone": "Europe/Helsinki",
                "consent": {"location_marketing": True},
                "affinities": {"coffee": 0.9, "cafe": 0.6},
            }
        )
        t = rng.uniform(0, 600)
        n = 0
        for cafe in rng.sample(cafes, 3):
            lat, lon = cafe.geometry.lat, cafe.geometry.lon  # type: ignore[union-attr]
            for _step in range(14):  # 7 minutes at the café, a fix every 30 s
                jitter = rng.gauss(0, 3) / M_PER_DEG
                record = {
                    "id": f"{device}-{n}",
                    "device_id": device,
                    "lat": round(lat + jitter, 7),
                    "lon": round(lon + jitter / math.cos(math.radians(lat)), 7),
                    "timestamp": (START + timedelta(seconds=t)).isoformat(),
                    "accuracy_m": 8.0,
                    "speed_mps": 0.3,
                }
                lines.append((t, json.dumps(record)))
                t += 30
                n += 1
            t += 900  # a quarter of an hour to the next café (no fixes on the way)
    lines.sort()
    pings = folder / "morning.jsonl"
    pings.write_text("\n".join(line for _, line in lines) + "\n", encoding="utf-8")
    people = folder / "consumers.jsonl"
    people.write_text("\n".join(json.dumps(c) for c in consumers) + "\n", encoding="utf-8")
    return pings, people


def _command(url: str, pings: Path, people: Path) -> list[str]:
    return [
        sys.executable, "-m", "geotrigger", "replay",
        "--places", str(ROOT / "rules" / "places" / "helsinki.yaml"),
        "--rules", str(ROOT / "rules" / "moments"),
        "--consumers", str(people),
        "--pings", str(pings),
        "--database-url", url,
        "--out", os.devnull,
    ]  # fmt: skip


def _stored(url: str) -> tuple[set[str], int, set[str]]:
    """The moments' ids, the outbox rows, and the decisions' keys."""
    engine = connect(url)
    with engine.connect() as conn:
        ids = set(conn.execute(select(moments.c.id)).scalars())
        rows = conn.execute(select(func.count()).select_from(outbox)).scalar() or 0
        keys = list(conn.execute(select(decisions.c.key)).scalars())
    engine.dispose()
    return ids, int(rows), set(keys)


def _run(command: list[str]) -> None:
    done = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-2000:]


def _fresh(database_url: str, name: str) -> str:
    if database_url.startswith("sqlite"):
        return database_url.replace("geotrigger.sqlite3", f"{name}.sqlite3")
    return database_url


@pytest.mark.slow
def test_killed_at_any_point_nothing_is_lost_or_doubled(database_url: str, tmp_path: Path) -> None:
    pings, people = _write_inputs(tmp_path)
    reference = f"sqlite:///{tmp_path / 'reference.sqlite3'}"
    migrations.upgrade(reference)
    started = time.monotonic()
    _run(_command(reference, pings, people))
    full_run_s = time.monotonic() - started
    expected, outbox_rows, decided = _stored(reference)
    assert len(expected) > 50 and outbox_rows == len(expected)  # about one coffee per phone

    url = _fresh(database_url, "killed")
    migrations.upgrade(url)
    command = _command(url, pings, people)
    for share in (0.35, 0.55, 0.75, 0.9):  # kill later and later into what is left
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(full_run_s * share)
        if process.poll() is None:
            os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=60)
    _run(command)  # and once more, to the end
    stored, rows, keys = _stored(url)
    assert stored == expected  # nothing lost, nothing extra
    assert rows == len(stored)  # one outbox row per moment
    assert keys == decided  # every candidate's decision, once
