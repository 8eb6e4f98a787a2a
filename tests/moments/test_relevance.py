"""The relevance score: affinities by daypart, strongest like plus strongest dislike, the
weather fit, and the rule that a consumer we know nothing relevant about gets no moment."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from moments.helpers import T0, make_candidate, make_consumer, make_place

from geotrigger.consumers.profile import Affinities, Daypart
from geotrigger.moments.relevance import relevance_result, relevance_score
from geotrigger.rules.model import Relevance
from geotrigger.weather.reading import WeatherAt, WeatherCondition, WeatherReading

NOON_FRI = T0  # 14:00 in Helsinki: afternoon
MORNING = datetime(2026, 3, 27, 7, 0, tzinfo=UTC)  # 09:00 in Helsinki


def score_of(
    affinities: Affinities | None,
    *,
    offer: set[str] | None = None,
    place_tags: set[str] | None = None,
    at: datetime = NOON_FRI,
    **relevance: Any,
) -> tuple[float, bool, dict[str, Any]]:
    """Score, known, parts for a consumer with ``affinities`` (None: unknown consumer)."""
    consumer = make_consumer(affinities=affinities) if affinities is not None else None
    candidate = make_candidate(
        consumer=consumer,
        consumer_id="c-1",
        at=at,
        place=make_place(tags=frozenset(place_tags or set())),
        **relevance.pop("candidate", {}),
    )
    spec = Relevance(offer_tags=frozenset(offer or {"green-tea"}), **relevance)
    result = relevance_score(spec, candidate)
    return result.score, result.known, dict(result.parts)


TEA_AFTERNOON = Affinities(
    base={"green-tea": 0.4, "coffee": 0.5},
    by_daypart={Daypart.AFTERNOON: {"green-tea": 1.0, "coffee": -0.6}},
)


@pytest.mark.parametrize(
    ("affinities", "offer", "at", "score"),
    [
        # a plain like
        (Affinities(base={"green-tea": 0.9}), {"green-tea"}, NOON_FRI, 0.9),
        # the afternoon override wins over the base
        (TEA_AFTERNOON, {"green-tea"}, NOON_FRI, 1.0),
        # in the morning the base applies
        (TEA_AFTERNOON, {"green-tea"}, MORNING, 0.4),
        # strongest like plus strongest dislike: 1.0 - 0.6
        (TEA_AFTERNOON, {"green-tea", "coffee"}, NOON_FRI, 0.4),
        # only a dislike: affinity negative, score 0 (but known)
        (Affinities(base={"coffee": -0.8}), {"coffee"}, NOON_FRI, 0.0),
        # the largest of two likes, not their sum
        (Affinities(base={"green-tea": 0.3, "tea": 0.7}), {"green-tea", "tea"}, NOON_FRI, 0.7),
    ],
)
def test_affinity_scores(
    affinities: Affinities, offer: set[str], at: datetime, score: float
) -> None:
    """score = max(strongest like, 0) + strongest dislike, floored at 0, by daypart."""
    got, known, _ = score_of(affinities, offer=offer, at=at)
    assert known
    assert got == pytest.approx(score)


def test_place_tags_count_too() -> None:
    """The place's tags are part of what the offer is about."""
    got, known, parts = score_of(
        Affinities(base={"tea": 0.8}), offer={"green-tea"}, place_tags={"tea"}
    )
    assert known and got == pytest.approx(0.8)
    assert parts["tags"] == {"tea": {"weight": 0.8, "from": "base"}}


@pytest.mark.parametrize(
    ("affinities", "why"),
    [
        (None, "unknown consumer"),
        (Affinities(), "nothing known at all"),
        (Affinities(base={"burgers": 0.9}), "known tastes, none about tea"),
    ],
)
def test_nothing_known_fails_whatever_the_minimum(affinities: Affinities | None, why: str) -> None:
    """Nothing known that bears on the offer: score 0, unknown, and the condition fails even
    with min_relevance 0."""
    got, known, _ = score_of(affinities)
    assert (got, known) == (0.0, False), why
    candidate = make_candidate(
        consumer=make_consumer(affinities=affinities) if affinities is not None else None,
        consumer_id="c-1",
    )
    spec = Relevance(offer_tags=frozenset({"green-tea"}), min_relevance=0.0)
    result = relevance_result(spec, relevance_score(spec, candidate))
    assert not result.held
    assert result.name == "relevance"
    assert result.reason == "nothing known about this consumer that bears on green-tea, tea"


def rain(
    age_s: float = 300.0, condition: WeatherCondition | None = WeatherCondition.RAIN, **fields: Any
) -> dict[str, Any]:
    """Candidate overrides with a reading at the place."""
    reading = WeatherReading(
        observed_at=T0 - timedelta(seconds=age_s), condition=condition, **fields
    )
    return {"weather": WeatherAt(key="p-1", reading=reading, spell_id="s")}


@pytest.mark.parametrize(
    ("fit", "candidate", "score", "wf"),
    [
        # rain listed: 0.7 * 0.5 + 0.3 * 1.0
        ({"rain": 1.0}, rain(), 0.65, 1.0),
        # heavy rain not listed, "wet" applies
        ({"wet": 0.8}, rain(condition=WeatherCondition.HEAVY_RAIN), 0.35 + 0.24, 0.8),
        # the condition itself wins over "wet"
        ({"wet": 0.8, "rain": 0.2}, rain(), 0.35 + 0.06, 0.2),
        # no condition, but measured rain: wet
        ({"wet": 1.0}, rain(condition=None, precipitation_mm_h=2.0), 0.65, 1.0),
        # clear, not listed: fit 0
        ({"wet": 1.0}, rain(condition=WeatherCondition.CLEAR), 0.35, 0.0),
        # no reading: fit 0
        ({"wet": 1.0}, {}, 0.35, 0.0),
    ],
)
def test_weather_fit(
    fit: dict[str, float], candidate: dict[str, Any], score: float, wf: float
) -> None:
    """(1 - α)·affinity + α·fit, α = weather_weight 0.3, with affinity 0.5."""
    got, known, parts = score_of(
        Affinities(base={"green-tea": 0.5}), weather_fit=fit, candidate=candidate
    )
    assert known
    assert got == pytest.approx(score)
    assert parts["weather_fit"] == pytest.approx(wf)


def test_no_weather_fit_ignores_the_weather() -> None:
    """Without weather_fit the reading plays no part."""
    got, _, parts = score_of(Affinities(base={"green-tea": 0.5}), candidate=rain())
    assert got == pytest.approx(0.5)
    assert parts["weather_fit"] is None


def test_parts_are_json_ready_and_complete() -> None:
    """Parts name the daypart, each known tag's weight and source, and the pieces of the score."""
    _, _, parts = score_of(TEA_AFTERNOON, offer={"green-tea", "coffee"})
    assert json.loads(json.dumps(parts)) == parts
    assert parts["daypart"] == "afternoon"
    assert parts["tags"]["coffee"] == {"weight": -0.6, "from": "afternoon"}
    assert parts["affinity"] == pytest.approx(0.4)
    assert parts["score"] == pytest.approx(0.4)
    assert {"weather_fit", "weather_weight"} <= set(parts)


@pytest.mark.parametrize(
    ("base", "least", "held", "reason"),
    [
        # above the minimum: the strongest tag named, from the afternoon override
        (None, 0.4, True, "relevance 1.00 >= 0.40 (green-tea 1.00 in the afternoon)"),
        # a base weight below the minimum
        ({"green-tea": 0.12}, 0.4, False, "relevance 0.12 < 0.40 (green-tea 0.12)"),
        # exactly the minimum fires
        ({"green-tea": 0.4}, 0.4, True, "relevance 0.40 >= 0.40 (green-tea 0.40)"),
    ],
)
def test_relevance_result(
    base: dict[str, float] | None, least: float, held: bool, reason: str
) -> None:
    """Held when known and at least min_relevance; the reason names the score and why."""
    affinities = TEA_AFTERNOON if base is None else Affinities(base=base)
    candidate = make_candidate(consumer=make_consumer(affinities=affinities))
    spec = Relevance(offer_tags=frozenset({"green-tea"}), min_relevance=least)
    result = relevance_result(spec, relevance_score(spec, candidate))
    assert (result.held, result.reason) == (held, reason)
