"""The whole engine with rules: parse, order, filter, match, transitions, rules, decisions.

The places and pings of ``bench_replay`` (10k circles around Helsinki, 5,000 walking devices,
200k pings), with tags drawn like a city's (cafés, tea, clothes, restaurants...), the shipped
moments of ``rules/moments/``, one consumer per device (consenting, with affinities), and a
weather timeline in which rain starts over the whole area eight minutes in (every fresh device
near a shop becomes a candidate at once). Baseline of the group: the same replay without rules
(location only), measured in the same run.
"""

from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

from benchmarks.bench_replay import DEVICES, LAT0, LON0, PLACES, make_lines, make_places
from benchmarks.report import Row, median_rate
from geotrigger.cli.heap import settle_heap
from geotrigger.config import Settings
from geotrigger.consumers import LOCATION_MARKETING, Affinities, Consumer, ConsumerDirectory
from geotrigger.engine import Engine
from geotrigger.engine.replay import replay
from geotrigger.model import Place
from geotrigger.moments.decision import Decision, Outcome
from geotrigger.moments.pipeline import MomentEngine
from geotrigger.pings.files import iter_jsonl
from geotrigger.places import parse_opening_hours
from geotrigger.rules import load_rules_strict
from geotrigger.weather import WeatherCondition, WeatherReading, WeatherTimeline, cell_of

RULES = Path(__file__).resolve().parents[1] / "rules" / "moments"
TAGS = ["cafe", "coffee", "tea", "clothes", "outdoor", "restaurant", "books", "bakery"]
GROUP = f"whole engine, {PLACES // 1000}k places"


def tagged(places: list[Place], rng: random.Random) -> list[Place]:
    """The same places with one or two tags each, Helsinki's zone and opening hours."""
    hours = parse_opening_hours("Mo-Sa 08:00-21:00; Su 10:00-18:00", "Europe/Helsinki")
    return [
        Place(
            id=p.id,
            name=p.name,
            geometry=p.geometry,
            tags=frozenset(rng.sample(TAGS, rng.randint(1, 2))),
            timezone="Europe/Helsinki",
            opening_hours=hours,
        )
        for p in places
    ]


def consumers(rng: random.Random) -> ConsumerDirectory:
    """One consenting consumer per device, with two or three affinities."""
    return ConsumerDirectory(
        Consumer(
            id=f"consumer-{d:05d}",
            devices=frozenset({f"device-{d:05d}"}),
            consent={LOCATION_MARKETING: True},
            timezone="Europe/Helsinki",
            affinities=Affinities(
                base={t: round(rng.uniform(-0.5, 1.0), 2) for t in rng.sample(TAGS, 3)}
            ),
        )
        for d in range(DEVICES)
    )


def rain(cell_m: float) -> WeatherTimeline:
    """Cloudy, then rain eight minutes into the stream, in every cell of the area."""
    timeline = WeatherTimeline(cell_m=cell_m)
    t0 = datetime(2026, 6, 12, 8, 0, tzinfo=UTC)
    step = cell_m / 111_195
    for i in range(-8, 9):
        for j in range(-16, 17):
            key = cell_of(LAT0 + i * step, LON0 + j * step, cell_m)
            for minutes, condition in ((0, "cloudy"), (8, "rain")):
                reading = WeatherReading(
                    observed_at=t0 + timedelta(minutes=minutes),
                    condition=WeatherCondition(condition),
                )
                timeline.add(key, reading)
    return timeline


def run() -> list[Row]:
    """Median pings/s of the replay without and with the shipped rules, in one run."""
    rng = random.Random(7)
    settings = Settings()
    places = tagged(make_places(rng), rng)
    lines = make_lines(rng)
    rules = load_rules_strict([RULES])
    people = consumers(random.Random(11))
    weather = rain(settings.weather.cell_m)
    settle_heap()
    outcomes: Counter[str] = Counter()

    def location_only() -> None:
        replay(Engine(places, settings=settings), iter_jsonl(lines))

    def with_rules() -> None:
        engine = MomentEngine(places, rules, consumers=people, weather=weather, settings=settings)
        outcomes.clear()

        def sink(items: list[object]) -> None:
            outcomes.update(d.outcome.value for d in items if isinstance(d, Decision))

        replay(engine, iter_jsonl(lines), sink=sink)
        sink(list(engine.finish()))

    base = median_rate(location_only, len(lines), repeat=3)
    rate = median_rate(with_rules, len(lines), repeat=3)
    decided = sum(outcomes.values())
    note = (
        f"{decided:,} decisions, {outcomes[Outcome.FIRED.value]:,} fired "
        f"({len(rules.rules)} rules, index built per run)"
    )
    return [
        Row(
            group=GROUP,
            name="location only: parse, order, filter, match, transitions",
            value=base,
            unit="pings/s",
            ratio=1.0,
            note="index built per run",
        ),
        Row(
            group=GROUP,
            name="with rules: + candidates, conditions, gates, decisions",
            value=rate,
            unit="pings/s",
            ratio=rate / base,
            note=note,
        ),
    ]
