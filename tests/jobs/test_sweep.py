"""Weather sweeps: the cells rules care about, readings decided as weather moments with no new
ping, outages that degrade to no moments, one sweep at a time across processes, and sweeps
inside a replay (a backtest) — with the file provider playing the shipped weather."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from moments.helpers import T0, make_consumer, make_place, make_rule
from sqlalchemy import Engine

from geotrigger.config import Settings
from geotrigger.consumers import ConsumerDirectory
from geotrigger.jobs.sweep import Sweep, Sweeping, weather_cells
from geotrigger.model import Circle, Ping
from geotrigger.moments.decision import Outcome
from geotrigger.moments.pipeline import MomentEngine
from geotrigger.rules.model import (
    Conditions,
    PlaceSelector,
    PlaceTrigger,
    Policy,
    RuleSet,
    TriggerKind,
    WeatherTest,
    WeatherTrigger,
)
from geotrigger.store.weather_readings import load_readings
from geotrigger.weather import (
    WeatherChangeKind,
    WeatherCondition,
    WeatherReading,
    WeatherTimeline,
    cell_of,
    cell_of_place,
)
from geotrigger.weather.provider import (
    Cell,
    FetchResult,
    ProviderConfig,
    ProviderUnavailableError,
    WeatherProvider,
)
from geotrigger.weather.registry import create_provider

REPO = Path(__file__).resolve().parents[2]
SHIPPED_WEATHER = REPO / "examples" / "weather" / "helsinki-2026-06-12.jsonl"
SETTINGS = Settings()
CELL_M = SETTINGS.weather.cell_m
SHOP = make_place()  # p-1, tagged "tea", in Helsinki
RAIN_STARTS = WeatherTrigger(
    places=PlaceSelector(tags=frozenset({"tea"})),
    change=WeatherChangeKind.STARTS,
    condition="wet",
    within_m=200.0,
    fresh_s=900.0,
)
M = 1 / 111_195


def _reading(minute: int, condition: WeatherCondition) -> WeatherReading:
    at = T0 + timedelta(minutes=minute)
    return WeatherReading(
        observed_at=at,
        valid_until=at + timedelta(hours=1),
        condition=condition,
        temperature_c=12.0,
        source="scripted",
    )


class Scripted:
    """A provider that answers from a script: the reading of the sweep number n per cell."""

    name = "scripted"

    def __init__(self, readings: Sequence[WeatherReading | None]) -> None:
        self.readings, self.calls = list(readings), 0
        self.cells_asked: list[list[str]] = []

    def fetch(self, cells: Sequence[Cell]) -> FetchResult:
        reading = self.readings[min(self.calls, len(self.readings) - 1)]
        self.calls += 1
        self.cells_asked.append([c.key for c in cells])
        if reading is None:
            error = ProviderUnavailableError(self.name, "HTTP 503 after 4 attempts")
            return FetchResult(errors={c.key: error for c in cells})
        return FetchResult(readings={c.key: reading for c in cells})

    def close(self) -> None:
        return None


def _moments(weather: WeatherTimeline | None = None) -> MomentEngine:
    rule = make_rule(id="rain", trigger=RAIN_STARTS)
    return MomentEngine(
        [SHOP],
        RuleSet(rules=(rule,), policy=Policy()),
        consumers=ConsumerDirectory([make_consumer(devices=frozenset({"d-1"}))]),
        weather=weather if weather is not None else WeatherTimeline(CELL_M),
        settings=SETTINGS,
    )


def _standing(minutes: Sequence[int], north_m: float = 0.0) -> list[Ping]:
    return [
        Ping(
            device_id="d-1",
            id=f"d-1-{m}",
            lat=60.1699 + north_m * M,
            lon=24.9384,
            timestamp=T0 + timedelta(minutes=m),
            accuracy_m=5.0,
            speed_mps=0.5,
        )
        for m in minutes
    ]


def test_the_cells_are_those_of_places_chosen_by_weather_rules_or_conditions() -> None:
    elsewhere = make_place(
        id="p-2", tags=frozenset({"bakery"}), geometry=Circle(lat=61.0, lon=25.0, radius_m=30.0)
    )
    unrelated = make_place(
        id="p-3", tags=frozenset({"bank"}), geometry=Circle(lat=62.0, lon=26.0, radius_m=30.0)
    )
    enter_bakery_if_snowing = make_rule(
        id="snow",
        trigger=PlaceTrigger(
            kind=TriggerKind.ENTER, places=PlaceSelector(tags=frozenset({"bakery"}))
        ),
        conditions=Conditions(weather=WeatherTest(conditions=frozenset({"snow"}))),
    )
    rules = (make_rule(id="rain", trigger=RAIN_STARTS), enter_bakery_if_snowing)
    engine = MomentEngine(
        [SHOP, elsewhere, unrelated],
        RuleSet(rules=rules, policy=Policy()),
        consumers=ConsumerDirectory([]),
        weather=WeatherTimeline(CELL_M),
    )
    cells = weather_cells(engine.book, CELL_M)
    wanted = {cell_of_place(SHOP, CELL_M), cell_of_place(elsewhere, CELL_M)}
    assert [c.key for c in cells] == sorted(wanted)
    for cell in cells:  # each is read at its centre, which lies in the cell
        assert cell_of(cell.lat, cell.lon, CELL_M) == cell.key


def test_rain_in_a_sweep_fires_for_a_fresh_device_without_a_new_ping() -> None:
    moments = _moments()
    moments.process(_standing([0, 1, 2, 3]))
    provider = Scripted([_reading(0, WeatherCondition.CLOUDY), _reading(5, WeatherCondition.RAIN)])
    clock = iter([T0 + timedelta(minutes=4), T0 + timedelta(minutes=5)] * 2)
    sweep = Sweep(provider, moments, settings=SETTINGS, clock=lambda: next(clock))
    first = sweep.run()
    assert first.readings and not first.fired  # cloudy: nothing starts
    second = sweep.run()
    [fired] = second.fired
    assert fired.rule_id == "rain" and fired.place_id == "p-1"
    assert second.summary().endswith("1 fired")
    again = sweep.run()  # the same reading again (a cached answer): no change, no decision
    assert again.decisions == []
    assert sweep.counts[("weather_moments", "scripted")] == 1
    assert provider.cells_asked[0] == [cell_of_place(SHOP, CELL_M)]


def test_a_device_last_seen_too_long_before_the_rain_is_not_asked() -> None:
    moments = _moments()
    moments.process(_standing([0, 1, 2, 3]))
    provider = Scripted([_reading(0, WeatherCondition.CLOUDY), _reading(30, WeatherCondition.RAIN)])
    sweep = Sweep(provider, moments, settings=SETTINGS, clock=lambda: T0)
    sweep.run()
    assert sweep.run().decisions == []  # 27 minutes after the last fix: not fresh (15 m)


def test_an_outage_degrades_to_no_weather_moments_and_a_metric() -> None:
    moments = _moments()
    moments.process(_standing([0, 1, 2, 3]))
    sweep = Sweep(Scripted([None]), moments, settings=SETTINGS, clock=lambda: T0)
    report = sweep.run()
    assert report.outage and report.decisions == [] and not report.readings
    assert "provider outage" in report.summary()
    assert sweep.counts[("outages", "scripted")] == 1
    assert sweep.counts[("fetch_errors", "scripted", "unavailable")] == 1


def test_a_provider_that_raises_does_not_stop_the_sweep() -> None:
    class Broken(Scripted):
        def fetch(self, cells: Sequence[Cell]) -> FetchResult:
            raise RuntimeError("a plug-in bug")

    sweep = Sweep(Broken([None]), _moments(), settings=SETTINGS, clock=lambda: T0)
    report = sweep.run()
    assert report.outage
    assert all("RuntimeError" in e.reason for e in report.errors.values())


def _file_provider() -> WeatherProvider:
    return create_provider(ProviderConfig(name="file", options={"path": str(SHIPPED_WEATHER)}))


def test_sweeps_store_their_readings_once(engine: Engine) -> None:
    moments = _moments()
    at = datetime(2026, 6, 12, 6, 15, tzinfo=UTC)
    provider = _file_provider()
    sweep = Sweep(provider, moments, settings=SETTINGS, database=engine, clock=lambda: at)
    first, second = sweep.run(), sweep.run()
    assert first.stored == 1 and second.stored == 0
    with engine.connect() as conn:
        [(key, reading)] = load_readings(conn)
    assert key == cell_of_place(SHOP, CELL_M)
    assert reading.condition is WeatherCondition.RAIN and reading.observed_at == at


class Held(Scripted):
    """A provider whose fetch waits until the test lets it go."""

    def __init__(self) -> None:
        super().__init__([_reading(0, WeatherCondition.CLOUDY)])
        self.inside = threading.Event()
        self.release = threading.Event()

    def fetch(self, cells: Sequence[Cell]) -> FetchResult:
        self.inside.set()
        assert self.release.wait(10)
        return super().fetch(cells)


def test_two_schedulers_never_run_the_same_sweep_at_once(engine: Engine) -> None:
    first_provider, second_provider = Held(), Scripted([_reading(0, WeatherCondition.CLOUDY)])
    first = Sweep(first_provider, _moments(), settings=SETTINGS, database=engine, clock=lambda: T0)
    second = Sweep(
        second_provider, _moments(), settings=SETTINGS, database=engine, clock=lambda: T0
    )
    reports = []
    runner = threading.Thread(target=lambda: reports.append(first.run()))
    runner.start()
    assert first_provider.inside.wait(10)
    skipped = second.run()  # same provider name: the lock is held by the first
    first_provider.release.set()
    runner.join(10)
    assert skipped.skipped and second_provider.calls == 0
    assert reports[0].skipped is None and first_provider.calls == 1
    assert second.counts[("sweeps_skipped", "scripted")] == 1
    assert second.run().skipped is None  # free again once the first is done


def test_a_replay_with_sweeps_fires_what_the_recorded_timeline_fires(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from geotrigger.cli import build_parser
    from geotrigger.cli import replay as cli_replay
    from geotrigger.engine.replay import replay
    from geotrigger.pings import read_numbered

    monkeypatch.setenv("GEOTRIGGER_WEATHER_FILE_PATH", str(SHIPPED_WEATHER))
    common = [
        "replay",
        "--places",
        str(REPO / "rules" / "places"),
        "--rules",
        str(REPO / "rules" / "moments"),
        "--consumers",
        str(REPO / "examples" / "consumers"),
        "--pings",
        str(REPO / "examples" / "pings" / "helsinki-morning.jsonl"),
    ]
    fired: dict[str, list[tuple[str, str, str]]] = {}
    for mode, extra in {
        "timeline": ["--weather", str(SHIPPED_WEATHER)],
        "sweeps": ["--sweep", "file", "--sweep-every", "5m"],
    }.items():
        args = build_parser().parse_args([*common, *extra])
        places, _ = cli_replay.replay_places(args, None)
        processor = cli_replay.build_processor(args, places, SETTINGS)
        sweeps = cli_replay.replay_sweeps(args, processor, SETTINGS)
        assert isinstance(processor, MomentEngine)
        items: list[object] = []
        fed = Sweeping(processor, sweeps, 300.0) if sweeps else processor
        replay(fed, read_numbered(args.pings), sink=items.extend)
        items += processor.finish()
        fired[mode] = sorted(
            (d.rule_id, d.place_id, d.at.isoformat())  # type: ignore[attr-defined]
            for d in items
            if getattr(d, "outcome", None) is Outcome.FIRED
        )
    assert ("umbrella-when-rain", "osm-node-6049453034", "2026-06-12T06:15:00+00:00") in fired[
        "sweeps"
    ]
    assert fired["sweeps"] == fired["timeline"]


def test_a_device_that_pinged_after_the_observation_is_asked_when_the_sweep_sees_it() -> None:
    moments = _moments()
    moments.process(_standing([3, 4, 5, 6, 7]))  # still pinging after the 5-minute reading
    provider = Scripted([_reading(0, WeatherCondition.CLOUDY), _reading(5, WeatherCondition.RAIN)])
    clock = iter([T0 + timedelta(minutes=2), T0 + timedelta(minutes=10)])
    sweep = Sweep(provider, moments, settings=SETTINGS, clock=lambda: next(clock))
    sweep.run()
    [fired] = sweep.run().fired  # seen at 10 minutes: the 7-minute fix is fresh
    assert fired.rule_id == "rain"


def test_a_weather_change_whose_decision_failed_is_decided_when_it_comes_again() -> None:
    moments = _moments()
    moments.process(_standing([0, 1, 2, 3]))
    provider = Scripted([_reading(0, WeatherCondition.CLOUDY), _reading(5, WeatherCondition.RAIN)])
    sweep = Sweep(provider, moments, settings=SETTINGS, clock=lambda: T0 + timedelta(minutes=5))
    sweep.run()
    decide = moments.decider.decide

    def failing(*args: object, **kwargs: object) -> object:
        raise RuntimeError("the database went away")

    moments.decider.decide = failing  # type: ignore[method-assign]
    with pytest.raises(RuntimeError):
        sweep.run()
    moments.decider.decide = decide  # type: ignore[method-assign]
    [fired] = sweep.run().fired  # the same reading again: still a change, decided now
    assert fired.rule_id == "rain"


def test_a_sweep_another_process_has_just_made_is_skipped(engine: Engine) -> None:
    first = Sweep(
        Scripted([_reading(0, WeatherCondition.CLOUDY)]),
        _moments(),
        settings=SETTINGS,
        database=engine,
        clock=lambda: T0,
        min_gap_s=300.0,
    )
    other_provider = Scripted([_reading(0, WeatherCondition.CLOUDY)])
    second = Sweep(
        other_provider,
        _moments(),
        settings=SETTINGS,
        database=engine,
        clock=lambda: T0,
        min_gap_s=300.0,
    )
    assert first.run().skipped is None
    report = second.run()
    assert report.skipped is not None and "ago" in report.skipped
    assert other_provider.calls == 0
