"""The answer each ping of a request gets, and what of it is kept as its receipt.

A ping is ``accepted`` (with the transitions it made and the moments it fired) or
``rejected`` (with the reason: a filter, or a record that did not parse); a ping sent again is
answered with its first answer, marked ``repeated``. The answer never carries coordinates or
the device id; the receipt keeps less still (see :meth:`PingAnswer.receipt`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from geotrigger.model import Ping, Rejection, Transition, ping_key
from geotrigger.moments.candidates import event_key
from geotrigger.moments.decision import Decision, Outcome
from geotrigger.timestamps import rfc3339

# What a receipt keeps of a moment: enough for the client to know it was this moment.
RECEIPT_MOMENT_FIELDS = ("id", "rule_id", "channel", "expires_at")


@dataclass(frozen=True, slots=True, kw_only=True)
class PingAnswer:
    """What became of one ping of a request."""

    status: str  # accepted, rejected
    id: str | None = None
    reason: str | None = None
    detail: str | None = None
    transitions: list[dict[str, Any]] = field(default_factory=list)
    moments: list[dict[str, Any]] = field(default_factory=list)
    repeated: bool = False  # the same ping again: this is the first answer

    def document(self) -> dict[str, Any]:
        """The answer as JSON-ready data (no coordinates, no device id)."""
        doc: dict[str, Any] = {"status": self.status}
        if self.id is not None:
            doc["id"] = self.id
        if self.reason is not None:
            doc["reason"] = self.reason
        if self.detail is not None:
            doc["detail"] = self.detail
        if self.status == "accepted":
            doc["transitions"] = self.transitions
            doc["moments"] = self.moments
        if self.repeated:
            doc["repeated"] = True
        return doc

    def receipt(self) -> dict[str, Any]:
        """What is kept to answer the same ping again: its status and reason, and the ids of
        the moments it fired — not where the person was (transitions, places) nor the
        messages, which erasure could not find by the receipt's digest."""
        doc = self.document()
        doc.pop("transitions", None)
        if self.moments:
            doc["moments"] = [
                {key: m[key] for key in RECEIPT_MOMENT_FIELDS if key in m} for m in self.moments
            ]
        return doc

    @classmethod
    def from_document(cls, doc: dict[str, Any]) -> PingAnswer:
        return cls(
            status=doc["status"],
            id=doc.get("id"),
            reason=doc.get("reason"),
            detail=doc.get("detail"),
            transitions=list(doc.get("transitions", ())),
            moments=list(doc.get("moments", ())),
            repeated=True,
        )


def answers_for(
    fresh: Sequence[tuple[int, Ping]], events: Sequence[object], pseudonym_key: str
) -> dict[int, PingAnswer]:
    """The answer of each ping of ``fresh`` (its position in the request, the ping) from the
    events its batch made: its rejection, or its transitions and the moments it fired."""
    by_ping = {(ping.device_id, ping.key): i for i, ping in fresh}
    rejected: dict[int, Rejection] = {}
    transitions: dict[int, list[dict[str, Any]]] = {}
    fired: list[Decision] = []
    times = _Rfc3339()
    for event in events:
        if type(event) is Rejection:
            if event.device_id and (event.ping_id is not None or event.timestamp is not None):
                index = by_ping.get(
                    (event.device_id, ping_key(event.device_id, event.ping_id, event.timestamp))
                )
                if index is not None:
                    rejected[index] = event
        elif type(event) is Transition:
            index = by_ping.get(
                (event.device_id, ping_key(event.device_id, event.ping_id, event.at))
            )
            if index is not None:
                transitions.setdefault(index, []).append(_transition(event, times))
        elif type(event) is Decision and event.outcome is Outcome.FIRED and event.moment:
            fired.append(event)
    moments = _moments(fresh, fired, pseudonym_key)
    answers: dict[int, PingAnswer] = {}
    for i, ping in fresh:
        if i in rejected:
            answers[i] = rejected_answer(rejected[i])
        else:
            answers[i] = PingAnswer(
                status="accepted",
                id=ping.id,
                transitions=transitions.get(i, []),
                moments=moments.get(i, []),
            )
    return answers


def _moments(
    fresh: Sequence[tuple[int, Ping]], fired: Sequence[Decision], pseudonym_key: str
) -> dict[int, list[dict[str, Any]]]:
    """The fired moments by the ping they fired for (its event key is a keyed digest: made
    only when something fired)."""
    if not fired:
        return {}
    by_event = {
        event_key(ping.id, ping.device_id, ping.timestamp, pseudonym_key): i for i, ping in fresh
    }
    moments: dict[int, list[dict[str, Any]]] = {}
    for decision in fired:
        index = by_event.get(decision.event_key)
        if index is not None:
            moments.setdefault(index, []).append(_moment(decision))
    return moments


class _Rfc3339(dict[datetime, str]):
    """Times as RFC 3339 text in UTC, each written once (a ping's transitions share its time)."""

    def __missing__(self, at: datetime) -> str:
        text = self[at] = rfc3339(at)
        return text


def rejected_answer(rejection: Rejection) -> PingAnswer:
    """The answer of a ping that a filter or the parser rejected."""
    return PingAnswer(
        status="rejected",
        id=rejection.ping_id,
        reason=rejection.reason.value,
        detail=rejection.detail,
    )


def _transition(event: Transition, times: _Rfc3339) -> dict[str, Any]:
    return {"kind": event.kind.value, "place_id": event.place_id, "at": times[event.at]}


def _moment(decision: Decision) -> dict[str, Any]:
    moment = decision.moment
    assert moment is not None
    return {
        "id": moment.id,
        "rule_id": moment.rule_id,
        "place_id": moment.place_id,
        "channel": moment.channel,
        "message": moment.message,
        "expires_at": rfc3339(moment.expires_at),
    }
