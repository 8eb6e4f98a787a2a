"""GPX tracks (1.0 and 1.1) as pings, streamed with ``xml.etree.ElementTree.iterparse``.

Every track point (``trkpt``) is a fix of one device, named by the caller (by default the
file name). Waypoints (``wpt``) and route points (``rtept``) are not read: they are places a
person marked or a route they planned, not where the device was. GPX carries no horizontal
accuracy in metres, so ``accuracy_m`` stays None and the engine's ``default_accuracy_m``
applies. A ``speed`` element (GPX 1.0, or Garmin's
TrackPointExtension) becomes ``speed_mps``. A fix without a ``time`` is a ``malformed``
rejection whose ``line`` is the fix's 1-based position among the fixes of the file (the
stdlib parser does not report source lines). Ping ids are ``<device>:<position>``, so a fix
replayed twice is recognised as a duplicate.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterator
from typing import IO

from geotrigger.errors import PingError, Where
from geotrigger.model import Ping, Rejection, RejectReason
from geotrigger.pings.parse import parse_ping

_FIX_TAG = "trkpt"


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


def iter_gpx(
    handle: IO[bytes], *, device_id: str, source: str | None = None
) -> Iterator[tuple[int, Ping | Rejection]]:
    """Pings from the track points of a GPX document; PingError when the XML does not parse."""
    position = 0
    try:
        for _event, elem in ET.iterparse(handle, events=("end",)):
            if _local(elem.tag) != _FIX_TAG:
                continue
            position += 1
            yield position, _fix(elem, device_id, position)
            elem.clear()  # keep memory flat on long tracks
    except ET.ParseError as exc:
        line = exc.position[0] if exc.position else None
        raise PingError(f"not valid GPX/XML: {exc}", where=Where(source=source, line=line)) from exc


def _fix(elem: ET.Element, device_id: str, position: int) -> Ping | Rejection:
    record: dict[str, object] = {
        "device_id": device_id,
        "id": f"{device_id}:{position}",
        "lat": elem.get("lat"),
        "lon": elem.get("lon"),
    }
    for child in elem.iter():
        name = _local(child.tag)
        if name == "time" and child.text:
            record["timestamp"] = child.text.strip()
        elif name == "speed" and child.text:
            record["speed_mps"] = child.text.strip()
    if "timestamp" not in record:
        return _malformed(device_id, position, "has no time")
    try:
        return parse_ping(record)
    except PingError as exc:
        return _malformed(device_id, position, exc.reason)


def _malformed(device_id: str, position: int, why: str) -> Rejection:
    """A track point that is no ping, named by its position among the track points."""
    return Rejection(
        reason=RejectReason.MALFORMED,
        detail=f"GPX {_FIX_TAG} number {position}: {why}",
        device_id=device_id,
        ping_id=f"{device_id}:{position}",
        line=position,
    )
