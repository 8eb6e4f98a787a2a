"""OwnTracks in HTTP mode: what the app POSTs, as pings.

The app POSTs one JSON message (some versions a list of them) and reads the reply as a list of
messages for it, so :data:`OWNTRACKS_REPLY` (an empty list) acknowledges everything. Only
``_type: "location"`` is a fix; transitions, waypoints, cards, LWTs, steps, commands and the
rest are acknowledged and give no item. An ``encrypted`` message (the app's payload encryption
is on) gives a rejection, not silence: geotrigger cannot read it, and dropping it quietly
would hide every location of that device.

Fields of a location, as OwnTracks defines them (its JSON omits a field whose value is zero):

- ``lat``, ``lon`` (degrees) and ``tst`` (epoch seconds of the fix) are required. Old
  versions sent them as numeric strings, which are accepted. ``created_at`` (when the message
  was built) is not the fix time and is not read.
- ``acc`` (metres): missing, or zero or less, is *unknown* (None). A real fix never has a zero
  radius of uncertainty, so a zero (or its omission) cannot be told from "not measured".
- ``vel`` (km/h) becomes metres per second; missing or negative is unknown (None).
- ``batt`` (percent), ``alt`` (metres) and ``cog`` (degrees) become the signals
  ``battery_pct``, ``altitude_m`` and ``heading_deg`` when present and in range.

The device id comes from the first of: the ``X-Limit-U`` and ``X-Limit-D`` headers (the app
sends them when Username and Device ID are set), the ``u`` and ``d`` query parameters, the
message's ``topic`` (``owntracks/<user>/<device>``), each giving ``"<user>/<device>"``, and
last the message's ``tid`` (two letters, shown on the map) alone. A pair counts only when both
halves are given. The ping id is ``owntracks:<device>:<tst>``, so a message sent again is a
duplicate rather than a second fix.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from geotrigger.errors import PingError
from geotrigger.model import Ping, Rejection
from geotrigger.pings.fields import (
    client_ping,
    epoch_text,
    malformed,
    number_field,
    required_number_field,
    signals,
    utc_from_epoch,
)

OWNTRACKS_REPLY: Final[list[Any]] = []  # the JSON reply: "nothing for you"; never mutate it

_KMH_TO_MPS = 1 / 3.6
_HOW_TO_NAME_THE_DEVICE = (
    "no device id: set Username and Device ID in the app (it sends them as the X-Limit-U and "
    "X-Limit-D headers), add ?u=<user>&d=<device> to the URL, or send a 'topic' of "
    "owntracks/<user>/<device> or a 'tid'"
)


def parse_owntracks(
    body: Any, *, headers: Mapping[str, str], query: Mapping[str, str]
) -> list[Ping | Rejection]:
    """A Ping or a Rejection per location message of an OwnTracks HTTP POST.

    ``headers`` have lower-cased names. Messages of other types give no item. A body that is
    not an OwnTracks message (or a list of them) at all raises :class:`PingError`.
    """
    request_device = _request_device(headers, query)
    if isinstance(body, Mapping):
        if not isinstance(body.get("_type"), str):
            raise PingError("OwnTracks: the JSON object has no '_type' (not an OwnTracks message)")
        return _items([body], request_device, labelled=False)
    if isinstance(body, list):
        return _items(body, request_device, labelled=True)
    raise PingError(
        f"OwnTracks: expected a JSON object (or a list of them), got {type(body).__name__}"
    )


def _items(
    messages: list[Any], request_device: str | None, *, labelled: bool
) -> list[Ping | Rejection]:
    out: list[Ping | Rejection] = []
    for index, message in enumerate(messages):
        prefix = f"message [{index}]: " if labelled else ""
        if not isinstance(message, Mapping) or not isinstance(message.get("_type"), str):
            out.append(malformed(f"{prefix}expected an OwnTracks object with a '_type'"))
            continue
        kind = message["_type"]
        if kind == "location":
            out.append(_location(message, request_device, prefix))
        elif kind == "encrypted":
            out.append(
                malformed(f"{prefix}the message is encrypted: turn off the app's encryption key")
            )
    return out


def _request_device(headers: Mapping[str, str], query: Mapping[str, str]) -> str | None:
    """The device named by the request (headers, then query), as ``user/device``."""
    return _pair(headers.get("x-limit-u"), headers.get("x-limit-d")) or _pair(
        query.get("u"), query.get("d")
    )


def _pair(user: str | None, device: str | None) -> str | None:
    user, device = (user or "").strip(), (device or "").strip()
    return f"{user}/{device}" if user and device else None


def _message_device(message: Mapping[str, Any]) -> str | None:
    """The device named by the message itself: its topic's user and device, else its tid."""
    topic = message.get("topic")
    if isinstance(topic, str):
        parts = topic.split("/")
        if len(parts) >= 3 and parts[1] and parts[2]:
            return f"{parts[1]}/{parts[2]}"
    tid = message.get("tid")
    return (tid.strip() or None) if isinstance(tid, str) else None


def _location(
    message: Mapping[str, Any], request_device: str | None, prefix: str
) -> Ping | Rejection:
    device = request_device or _message_device(message)
    if device is None:
        return malformed(prefix + _HOW_TO_NAME_THE_DEVICE)
    try:
        return _ping(message, device)
    except PingError as exc:
        return malformed(prefix + exc.reason, device)


def _ping(message: Mapping[str, Any], device: str) -> Ping:
    seconds = required_number_field(message, "tst")
    timestamp = utc_from_epoch(seconds, "tst")
    lat = required_number_field(message, "lat")
    lon = required_number_field(message, "lon")
    velocity = number_field(message, "vel")
    return client_ping(
        device,
        lat,
        lon,
        timestamp,
        timestamp.timestamp(),
        f"owntracks:{device}:{epoch_text(seconds)}",
        number_field(message, "acc"),
        velocity * _KMH_TO_MPS if velocity is not None else None,
        signals(
            number_field(message, "batt"),
            number_field(message, "alt"),
            number_field(message, "cog"),
        ),
    )
