"""The relevance score: how much what we know about the consumer says this offer is for them.

With ``daypart`` the daypart of the event time on the place's wall clock and the tags
``T = offer_tags ∪ place.tags``::

    w(t)      = consumer.affinities.weight(t, daypart)   the daypart's override, else the base;
                                                         tags with no weight are skipped
    affinity  = max(0, max_t w(t)) + min(0, min_t w(t))  strongest like plus strongest dislike,
                                                         in [-1, 1]
    wf        = weather_fit[condition]                   only when weather_fit is given: the
                or weather_fit["wet"] if the reading     fit of the reading's condition, "wet"
                is wet and its condition is not listed,  when that is not listed; 0 with no
                else 0                                   reading
    score     = (1 - α)·max(affinity, 0) + α·wf          with weather fit (α = weather_weight)
              = max(affinity, 0)                         without
    score     clamped to [0, 1]

With no consumer, or no weight known for any tag of ``T``, the score is 0 and *unknown*:
nothing known about the consumer bears on the offer, and :func:`relevance_result` fails
whatever ``min_relevance`` is. A consumer we know nothing relevant about gets no moment.
"""

from __future__ import annotations

from typing import Any

from geotrigger.consumers.profile import Consumer, Daypart, daypart_of
from geotrigger.moments.decision import Candidate, ConditionResult, RelevanceScore
from geotrigger.moments.windows import local_time
from geotrigger.rules.model import Relevance
from geotrigger.weather.reading import WeatherAt

WET = "wet"


def relevance_score(relevance: Relevance, candidate: Candidate) -> RelevanceScore:
    """The relevance of the candidate to its consumer, with its parts (JSON-ready)."""
    daypart = daypart_of(local_time(candidate.at, candidate.place_zone))
    tags = sorted(relevance.offer_tags | candidate.place.tags)
    weights = _weights(candidate.consumer, tags, daypart)
    known = bool(weights)
    affinity = _affinity([weight for weight, _ in weights.values()])
    fit = _weather_fit(relevance, candidate.weather)
    positive = max(affinity, 0.0)
    if fit is None:
        score = positive
    else:
        alpha = relevance.weather_weight
        score = (1 - alpha) * positive + alpha * fit
    score = min(max(score, 0.0), 1.0) if known else 0.0
    parts: dict[str, Any] = {
        "daypart": daypart.value,
        "considered_tags": tags,
        "tags": {tag: {"weight": w, "from": source} for tag, (w, source) in weights.items()},
        "affinity": affinity,
        "weather_fit": fit,
        "weather_weight": relevance.weather_weight,
        "score": score,
    }
    return RelevanceScore(score=score, known=known, parts=parts)


def relevance_result(relevance: Relevance, score: RelevanceScore) -> ConditionResult:
    """The ``relevance`` condition: held when the score is known and at least
    ``min_relevance``."""
    least = relevance.min_relevance
    seen = {"score": score.score, "known": score.known, "min_relevance": least}
    if not score.known:
        tags = ", ".join(score.parts.get("considered_tags", ())) or "no tags"
        reason = f"nothing known about this consumer that bears on {tags}"
        return ConditionResult(name="relevance", held=False, reason=reason, seen=seen)
    held = score.score >= least
    sign = ">=" if held else "<"
    reason = f"relevance {score.score:.2f} {sign} {least:.2f}{_strongest(score)}"
    return ConditionResult(name="relevance", held=held, reason=reason, seen=seen)


def _weights(
    consumer: Consumer | None, tags: list[str], daypart: Daypart
) -> dict[str, tuple[float, str]]:
    if consumer is None:
        return {}
    found = ((tag, consumer.affinities.weight(tag, daypart)) for tag in tags)
    return {tag: weight for tag, weight in found if weight is not None}


def _affinity(weights: list[float]) -> float:
    if not weights:
        return 0.0
    return max(0.0, max(weights)) + min(0.0, min(weights))


def _weather_fit(relevance: Relevance, weather: WeatherAt | None) -> float | None:
    fits = relevance.weather_fit
    if not fits:
        return None
    if weather is None:
        return 0.0
    reading = weather.reading
    condition = reading.condition.value if reading.condition is not None else None
    if condition is not None and condition in fits:
        return fits[condition]
    if reading.is_wet and WET in fits:
        return fits[WET]
    return 0.0


def _strongest(score: RelevanceScore) -> str:
    """The strongest like and the strongest dislike: together they make the affinity."""
    tags: dict[str, dict[str, Any]] = score.parts.get("tags", {})
    if not tags:
        return ""
    ordered = sorted(tags.items(), key=lambda item: (item[1]["weight"], item[0]))
    parts = []
    if ordered[-1][1]["weight"] > 0:
        parts.append(_told(*ordered[-1]))
    if ordered[0][1]["weight"] < 0:
        parts.append(_told(*ordered[0]))
    if not parts:
        parts.append(_told(*ordered[-1]))
    return f" ({', '.join(parts)})"


def _told(tag: str, part: dict[str, Any]) -> str:
    when = "" if part["from"] == "base" else f" in the {part['from']}"
    return f"{tag} {part['weight']:.2f}{when}"
