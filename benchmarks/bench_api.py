"""The HTTP ingestion path: ``POST /v1/pings`` on a real server against the same pings in process.

The API runs as production runs it, ``python -m geotrigger serve`` (uvicorn, one worker) in a
subprocess, so that the client measuring it competes less for its CPU; it serves a SQLite
file in a temporary folder with the shipped examples applied (places, moments, consumers),
one consenting consumer per benchmark device, and a key whose rate limit is out of the way.
A second group adds 100k synthetic places (those of ``bench_matching``) to the same database.

Devices walk among the places with a fix every 10-30 s; the stream is made when a group starts
and ends a few seconds before then, so that no filter drops a ping as too old or ahead of the
clock. Ping and device ids are UUIDs, as phones make them. Measured with ``requests`` on one
``Session`` (keep-alive): pings/s of batches of 1000 (median of the batches) and the latency of
single-ping requests (p50, p99). Baseline of each group, in the same run: the same pings
through :meth:`Ingestor.ingest` in process, on a copy of the database taken before the server
started (same places, rules, consumers; receipts and state untouched), and the in-memory
moment engine alone (no database: no receipts, no decisions stored).

Run: ``python -m benchmarks api``.
"""

from __future__ import annotations

import math
import random
import sqlite3
import statistics
import tempfile
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import requests

from benchmarks.api_server import api_server
from benchmarks.bench_matching import make_places
from benchmarks.report import Row
from geotrigger.api.ingest import parse_records
from geotrigger.api.service import open_service
from geotrigger.auth import Scope
from geotrigger.cli.serve import REPO, prepare_examples
from geotrigger.config import Settings
from geotrigger.consumers import LOCATION_MARKETING, Affinities, Consumer
from geotrigger.errors import ConfigError
from geotrigger.model import Ping
from geotrigger.moments.pipeline import MomentEngine
from geotrigger.places import load_places_strict
from geotrigger.store import consumers as consumers_repo
from geotrigger.store.api_keys import create_key
from geotrigger.store.consumers import load_consumers
from geotrigger.store.database import shown, transaction
from geotrigger.store.places import apply_places, load_places
from geotrigger.store.rule_sets import active_rule_set, compile_rule_set

SYNTHETIC_PLACES = 100_000
DEVICES = 2_000
BATCH = 1_000
BATCHES = 10  # measured, after one warm-up batch
SINGLES = 1_550  # single-ping requests: the first WARM_SINGLES warm up, p99 is the 15th worst
WARM_SINGLES = 50
FLOOR_REQUESTS = 500  # GET /healthz: the latency of any request to this server and client
CENTRE = (60.1690, 24.9400)  # central Helsinki, where the shipped places are
SPREAD_M = 1_500.0  # std. dev. of where devices start, north and east
WALK_MPS = 1.3
M_PER_DEG = 111_195.0
TAGS = ["cafe", "coffee", "tea", "clothes", "outdoor", "restaurant", "books", "bakery"]
Record = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Stream:
    """The pings of one group, in time order: the batches, then the single pings."""

    warm_batch: list[Record]
    batches: list[list[Record]]
    singles: list[Record]  # the first WARM_SINGLES are the warm-up


def uuid_from(rng: random.Random) -> str:
    """A version-4 UUID drawn from ``rng`` (the same ones on every run)."""
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def walk(rng: random.Random, devices: Sequence[str], count: int, end: datetime) -> list[Record]:
    """``count`` pings of ``devices`` walking (a fix every 10-30 s), in time order, the last
    one at ``end``."""
    per_device = math.ceil(count / len(devices))
    timed: list[tuple[float, Record]] = []
    cos_lat = math.cos(math.radians(CENTRE[0]))
    for device in devices:
        north, east = rng.gauss(0, SPREAD_M), rng.gauss(0, SPREAD_M)
        heading, t = rng.uniform(0, 2 * math.pi), rng.uniform(0, 30)
        for _ in range(per_device):
            step = rng.uniform(10, 30)
            t += step
            heading += rng.gauss(0, 0.3)
            north += WALK_MPS * step * math.cos(heading)
            east += WALK_MPS * step * math.sin(heading)
            record = {
                "id": uuid_from(rng),
                "device_id": device,
                "lat": round(CENTRE[0] + north / M_PER_DEG, 7),
                "lon": round(CENTRE[1] + east / (M_PER_DEG * cos_lat), 7),
                "accuracy_m": round(rng.uniform(5, 40), 1),
            }
            timed.append((t, record))
    timed.sort(key=lambda pair: pair[0])
    timed = timed[:count]
    last = timed[-1][0]
    for t, record in timed:
        at = end - timedelta(seconds=last - t)
        record["timestamp"] = at.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return [record for _, record in timed]


def make_stream(devices: Sequence[str]) -> Stream:
    """The pings of a group, ending now (a second ago)."""
    count = (BATCHES + 1) * BATCH + SINGLES
    end = datetime.now(UTC) - timedelta(seconds=1)
    records = walk(random.Random(17), devices, count, end)
    batches = [records[i : i + BATCH] for i in range(0, (BATCHES + 1) * BATCH, BATCH)]
    return Stream(batches[0], batches[1:], records[(BATCHES + 1) * BATCH :])


def device_consumers(devices: Sequence[str]) -> list[Consumer]:
    """One consenting consumer per device, with two or three affinities."""
    rng = random.Random(11)
    return [
        Consumer(
            id=f"consumer-{n:05d}",
            devices=frozenset({device}),
            consent={LOCATION_MARKETING: True},
            timezone="Europe/Helsinki",
            affinities=Affinities(
                base={t: round(rng.uniform(-0.5, 1.0), 2) for t in rng.sample(TAGS, 3)}
            ),
        )
        for n, device in enumerate(devices)
    ]


def prepare(url: str, devices: Sequence[str], *, synthetic: int) -> str:
    """The database of a group: the shipped examples, a consumer per device, ``synthetic``
    places more; returns an ingest key without a practical rate limit."""
    prepare_examples(url)
    now = datetime.now(UTC)
    with transaction(url) as conn:
        for consumer in device_consumers(devices):
            consumers_repo.save_consumer(conn, consumer=consumer, now=now)
        if synthetic:
            shipped = load_places_strict([REPO / "rules" / "places"]).places
            apply_places(conn, places=[*shipped, *make_places(synthetic)], now=now)
        _, key = create_key(conn, name="benchmark", scopes=[Scope.INGEST], rate_per_s=1e9, now=now)
    return key


def copy_database(source: Path, target: Path) -> None:
    """A consistent copy of a SQLite database in WAL mode (the backup API, not a file copy)."""
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)
    src.close()
    dst.close()


@dataclass(frozen=True, slots=True)
class Measured:
    """Pings/s of the batches (median), single-ping latencies in µs, and what was answered."""

    batch_rate: float
    p50_us: float
    p99_us: float
    accepted: int
    moments: int
    decisions: int = 0  # counted in process only
    floor_p50_us: float = 0.0  # GET /healthz over the same session: the HTTP round trip alone


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q`` quantile (0-1) of ``values``, nearest rank."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(q * len(ordered)) - 1)]


def over_http(base: str, key: str, stream: Stream) -> Measured:
    """The stream through ``POST /v1/pings``: the batches, then the single pings."""
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {key}"
    url = base + "/v1/pings"
    accepted = moments = 0

    def post(body: object) -> float:
        nonlocal accepted, moments
        start = time.perf_counter()
        response = session.post(url, json=body, timeout=60)
        elapsed = time.perf_counter() - start
        if response.status_code != 200:
            raise RuntimeError(f"POST /v1/pings answered {response.status_code}: {response.text}")
        answer = response.json()
        accepted += answer["accepted"]
        moments += answer["moments"]
        return elapsed

    post(stream.warm_batch)
    rates = [len(batch) / post(batch) for batch in stream.batches]
    latencies = [post(record) for record in stream.singles]
    floor = [round_trip(session, base + "/healthz") for _ in range(FLOOR_REQUESTS)]
    session.close()
    measured = summary(rates, latencies[WARM_SINGLES:], accepted, moments)
    return replace(measured, floor_p50_us=percentile(floor, 0.50) * 1e6)


def round_trip(session: requests.Session, url: str) -> float:
    """Seconds of one GET that must answer 200."""
    start = time.perf_counter()
    response = session.get(url, timeout=10)
    elapsed = time.perf_counter() - start
    if response.status_code != 200:
        raise RuntimeError(f"GET {url} answered {response.status_code}")
    return elapsed


def in_process(url: str, stream: Stream, settings: Settings) -> Measured:
    """The same stream through :meth:`Ingestor.ingest` (parsed pings, no HTTP, no JSON)."""
    service = open_service(url, settings)
    ingest = service.ingestor.ingest
    accepted = moments = 0

    def timed(records: list[Record]) -> float:
        nonlocal accepted, moments
        items = parse_records(records)
        start = time.perf_counter()
        answers = ingest(items)
        elapsed = time.perf_counter() - start
        accepted += sum(a.status == "accepted" for a in answers)
        moments += sum(len(a.moments) for a in answers)
        return elapsed

    try:
        timed(stream.warm_batch)
        rates = [len(batch) / timed(batch) for batch in stream.batches]
        latencies = [timed([record]) for record in stream.singles]
        decisions = sum(service.ingestor.stats.decisions.values())
    finally:
        service.close()
    measured = summary(rates, latencies[WARM_SINGLES:], accepted, moments)
    return replace(measured, decisions=decisions)


def summary(rates: list[float], latencies: list[float], accepted: int, moments: int) -> Measured:
    """Median rate, p50 and p99 in µs."""
    return Measured(
        batch_rate=statistics.median(rates),
        p50_us=percentile(latencies, 0.50) * 1e6,
        p99_us=percentile(latencies, 0.99) * 1e6,
        accepted=accepted,
        moments=moments,
    )


def engine_alone(url: str, stream: Stream, settings: Settings) -> float:
    """Median pings/s of the moment engine alone (in memory) on the same batches."""
    with transaction(url) as conn:
        places = load_places(conn)
        version = active_rule_set(conn)
        people = load_consumers(conn)
    if version is None:
        raise ConfigError(
            f"the database {shown(url)} has no moments: prepare_examples applies them"
        )
    engine = MomentEngine(places, compile_rule_set(version), consumers=people, settings=settings)
    batches = [
        [p for p in parse_records(b) if isinstance(p, Ping)]
        for b in [stream.warm_batch, *stream.batches]
    ]
    now = datetime.now(UTC)
    engine.process(batches[0], now=now)
    rates = []
    for pings in batches[1:]:
        start = time.perf_counter()
        engine.process(pings, now=now)
        rates.append(len(pings) / (time.perf_counter() - start))
    return statistics.median(rates)


def group_rows(synthetic: int) -> list[Row]:
    """One group: its database, the server, the measurements and their rows."""
    settings = Settings()
    rng = random.Random(5)
    devices = [uuid_from(rng) for _ in range(DEVICES)]
    with tempfile.TemporaryDirectory(prefix="geotrigger-bench-api-") as tmp:
        folder = Path(tmp)
        served, copied = folder / "served.sqlite3", folder / "in-process.sqlite3"
        key = prepare(f"sqlite:///{served}", devices, synthetic=synthetic)
        copy_database(served, copied)
        places = len(load_places_from(f"sqlite:///{served}"))
        stream = make_stream(devices)
        with api_server(f"sqlite:///{served}", folder) as base:
            http = over_http(base, key, stream)
        local = in_process(f"sqlite:///{copied}", stream, settings)
        alone = engine_alone(f"sqlite:///{copied}", stream, settings)
    return rows(f"HTTP API, {places:,} places", http, local, alone, places >= SYNTHETIC_PLACES)


def load_places_from(url: str) -> list[Any]:
    """The places applied to the database at ``url``."""
    with transaction(url) as conn:
        return list(load_places(conn))


def rows(group: str, http: Measured, local: Measured, alone: float, big: bool) -> list[Row]:
    """The rows of a group; ratios against the in-process ingestion of the same pings."""
    p99_target = "target p99 < 5,000 µs" if big else "shipped rules"
    answered = f"{http.accepted:,} accepted, {http.moments:,} moments over HTTP"
    return [
        Row(
            group=group,
            name=f"Ingestor.ingest in process, {BATCH} per batch",
            value=local.batch_rate,
            unit="pings/s",
            ratio=1.0,
            note=f"baseline; {local.accepted:,} accepted, {local.decisions:,} decisions, "
            f"{local.moments:,} moments",
        ),
        Row(
            group=group,
            name=f"POST /v1/pings, {BATCH} per request",
            value=http.batch_rate,
            unit="pings/s",
            ratio=http.batch_rate / local.batch_rate,
            note=f"target >= 50,000; {answered}",
        ),
        Row(
            group=group,
            name="moment engine alone (in memory, no database)",
            value=alone,
            unit="pings/s",
            ratio=alone / local.batch_rate,
        ),
        Row(
            group=group,
            name="Ingestor.ingest in process, one ping: p50",
            value=local.p50_us,
            unit="µs",
            ratio=1.0,
            note="baseline of the latencies",
        ),
        Row(
            group=group,
            name="Ingestor.ingest in process, one ping: p99",
            value=local.p99_us,
            unit="µs",
            ratio=local.p99_us / local.p50_us,
        ),
        Row(
            group=group,
            name="GET /healthz (no key, no body, no database): p50",
            value=http.floor_p50_us,
            unit="µs",
            ratio=http.floor_p50_us / local.p50_us,
            note="the round trip any request pays here",
        ),
        Row(
            group=group,
            name="POST /v1/pings, one ping per request: p50",
            value=http.p50_us,
            unit="µs",
            ratio=http.p50_us / local.p50_us,
        ),
        Row(
            group=group,
            name="POST /v1/pings, one ping per request: p99",
            value=http.p99_us,
            unit="µs",
            ratio=http.p99_us / local.p50_us,
            note=p99_target,
        ),
    ]


def run() -> list[Row]:
    """The shipped examples alone, then with 100k synthetic places."""
    return [*group_rows(0), *group_rows(SYNTHETIC_PLACES)]
