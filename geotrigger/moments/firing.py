"""A fired candidate becomes a moment: its deterministic id, its expiry and its message."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from geotrigger.consumers.profile import daypart_of
from geotrigger.moments.decision import Candidate, Moment, RelevanceScore, moment_id


def template_values(candidate: Candidate) -> dict[str, object]:
    """The values a message template may use (see ``geotrigger.rules.template``)."""
    place, local = candidate.place, candidate.at.astimezone(ZoneInfo(candidate.place_zone))
    values: dict[str, object] = {
        "place.id": place.id,
        "place.name": place.name,
        "place.brand": place.brand or "",
        "distance_m": "" if candidate.distance_m is None else round(candidate.distance_m),
        "rule.id": candidate.rule.id,
        "consumer.id": candidate.consumer_id,
        "local_time": local.strftime("%H:%M"),
        "daypart": daypart_of(local).value,
    }
    if candidate.consumer is not None:
        for name, value in candidate.consumer.traits.items():
            values[f"consumer.traits.{name}"] = value
    if candidate.weather is not None:
        reading = candidate.weather.reading
        values["weather.condition"] = reading.condition.value if reading.condition else ""
        for name in ("temperature_c", "feels_like_c", "precipitation_mm_h"):
            value = getattr(reading, name)
            values[f"weather.{name}"] = "" if value is None else f"{value:g}"
    return values


def build_moment(candidate: Candidate, score: RelevanceScore) -> Moment:
    """The moment a candidate fires, with the id every retry and replay of it shares."""
    rule = candidate.rule
    return Moment(
        id=moment_id(rule.id, candidate.consumer_id, candidate.place.id, candidate.event_key),
        rule_id=rule.id,
        consumer_id=candidate.consumer_id,
        place_id=candidate.place.id,
        trigger=candidate.trigger,
        at=candidate.at,
        expires_at=candidate.at + timedelta(seconds=rule.ttl_s),
        channel=rule.action.channel,
        message=rule.action.message.render(template_values(candidate)),
        priority=rule.priority,
        relevance=score.score,
        data=rule.action.data,
    )
