"""Candidates: one rule, one consumer, one place, one event — with what gates may look at.

A candidate is built from a transition (enter, dwell, exit), a signal crossing at a ping, or a
weather change near the consumer's last location. The consumer is resolved from the ping (its
consumer id, else the consumer listing the device, else a pseudonymous id: a raw device id is
never written to a decision). The event key names what made the candidate without a device id:
a digest of the ping's id (clients often build ping ids from the device id), else of device
and time; both keyed as :mod:`geotrigger.privacy` says.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import NamedTuple

from geotrigger.consumers.directory import ConsumerDirectory
from geotrigger.consumers.profile import Consumer
from geotrigger.model import Ping, Place, Transition, ping_key
from geotrigger.moments.decision import Candidate
from geotrigger.pings.filters import implied_speed_mps
from geotrigger.privacy import pseudonym
from geotrigger.rules.model import Rule, TriggerKind
from geotrigger.weather.reading import WeatherChange
from geotrigger.weather.timeline import WeatherTimeline


def utc(ts: float) -> datetime:
    """Epoch seconds as an aware UTC datetime."""
    return datetime.fromtimestamp(ts, UTC)


def event_key(ping_id: str | None, device_id: str, at: datetime, key: str = "") -> str:
    """What made a candidate: a digest of the ping id, else of device and time."""
    return pseudonym(ping_key(device_id, ping_id, at), key=key, prefix="ping-", digits=16)


def speed_of(ping: Ping | None, prev: Ping | None) -> float | None:
    """The ping's own speed, else the speed implied from the device's previous fix (the
    distance their accuracies explain not counted), else unknown."""
    if ping is None:
        return None
    if ping.speed_mps is not None:
        return ping.speed_mps
    if prev is None:
        return None
    return implied_speed_mps(
        prev, prev.epoch_s, ping, ping.epoch_s, prev.accuracy_m or 0.0, ping.accuracy_m or 0.0
    )


class Fix(NamedTuple):
    """An accepted ping with the device's accepted ping before it (a tuple: one is built for
    every accepted ping, on the hot path)."""

    ping: Ping
    prev: Ping | None


class CandidateFactory:
    """Builds candidates with the consumer resolved and the weather at the place looked up."""

    def __init__(
        self, consumers: ConsumerDirectory, weather: WeatherTimeline | None, *, key: str = ""
    ) -> None:
        """``key`` keys the pseudonyms of devices and pings (the privacy setting)."""
        self.consumers = consumers
        self.weather = weather
        self.key = key

    def consumer(self, consumer_id: str | None, device_id: str) -> tuple[str, Consumer | None]:
        """The consumer a device's event belongs to (see the module docstring)."""
        return self.consumers.resolve(consumer_id, device_id, key=self.key)

    def build(
        self,
        rule: Rule,
        place: Place,
        *,
        trigger: TriggerKind,
        device_id: str,
        consumer_id: str | None,
        at: datetime,
        now: datetime,
        key: str,
        fix: Fix | None,
        distance_m: float | None,
        visit_started: datetime | None = None,
        weather_event: WeatherChange | None = None,
    ) -> Candidate:
        """One candidate; ``key`` is its event key, ``fix`` the ping of the event (the last
        one, for weather)."""
        cid, consumer = self.consumer(consumer_id, device_id)
        own_zone = consumer.timezone if consumer is not None else None
        ping = fix.ping if fix is not None else None
        return Candidate(
            rule=rule,
            consumer_id=cid,
            consumer=consumer,
            place=place,
            trigger=trigger,
            at=at,
            now=now,
            event_key=key,
            ping=ping,
            speed_mps=speed_of(ping, fix.prev if fix is not None else None),
            distance_m=distance_m,
            visit_started=visit_started,
            weather=self.weather.at(place, at) if self.weather is not None else None,
            weather_event=weather_event,
            place_zone=place.timezone or own_zone or "UTC",
            consumer_zone=own_zone or place.timezone or "UTC",
        )

    def for_transition(
        self, rule: Rule, place: Place, t: Transition, fix: Fix | None, now: datetime
    ) -> Candidate:
        """The candidate of a place-triggered rule at an enter, dwell or exit."""
        return self.build(
            rule,
            place,
            trigger=TriggerKind(t.kind.value),
            device_id=t.device_id,
            consumer_id=t.consumer_id,
            at=t.at,
            now=now,
            key=event_key(t.ping_id, t.device_id, t.at, self.key),
            fix=fix,
            distance_m=t.distance_m,
            visit_started=t.entered_at,
        )
