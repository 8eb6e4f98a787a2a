"""Places from a GeoJSON FeatureCollection (RFC 7946), named by feature index.

Polygon and MultiPolygon features are polygonal places; a Point feature is a circle whose radius
is its ``radius_m`` property (or the loader's default radius). The id is the feature ``id`` or
``properties.id``; ``name``, ``brand``, ``tags``, ``opening_hours``, ``timezone`` and
``dwell_s`` come from the properties, and every other property goes to the metadata. Without a
``tags`` property, OpenStreetMap's ``shop``, ``amenity`` and ``cuisine`` values become the tags.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from geotrigger.errors import Where
from geotrigger.places.findings import Finding, error, warning
from geotrigger.places.raw import RawPlace

FIELDS = ("id", "name", "brand", "tags", "opening_hours", "timezone", "dwell_s")
OSM_TAG_KEYS = ("shop", "amenity", "cuisine")
_KINDS = {"Polygon": "polygon", "MultiPolygon": "multipolygon"}


def read_geojson(path: Path, source: str) -> tuple[list[RawPlace], list[Finding]]:
    """Raw places of one GeoJSON file, and the findings about the file and its features."""
    try:
        data = json.loads(path.read_text(encoding="utf-8-sig"))  # a BOM is not content
    except (OSError, UnicodeDecodeError) as exc:
        return [], [error("file-unreadable", Where(source=source), f"cannot read: {exc}")]
    except json.JSONDecodeError as exc:
        where = Where(source=source, line=exc.lineno)
        return [], [error("json-syntax", where, f"not valid JSON: {exc.msg}")]
    if isinstance(data, Mapping) and data.get("type") == "Feature":
        data = {"type": "FeatureCollection", "features": [data]}
    if not isinstance(data, Mapping) or data.get("type") != "FeatureCollection":
        msg = "expected a GeoJSON FeatureCollection"
        return [], [error("geojson-shape", Where(source=source), msg)]
    features = data.get("features")
    if features is not None and not isinstance(features, list):
        msg = "features must be a list of Feature objects"
        return [], [error("geojson-shape", Where(source=source), msg)]
    raws: list[RawPlace] = []
    findings: list[Finding] = []
    for i, feature in enumerate(features or []):  # none at all: the loader says the file is empty
        raw, more = _raw_place(feature, Where(source=source, feature=i))
        findings.extend(more)
        if raw is not None:
            raws.append(raw)
    return raws, findings


def _raw_place(feature: Any, where: Where) -> tuple[RawPlace | None, list[Finding]]:
    if not isinstance(feature, Mapping) or feature.get("type") != "Feature":
        return None, [error("geojson-shape", where, "expected a Feature")]
    props = feature.get("properties") or {}
    if not isinstance(props, Mapping):
        return None, [error("geojson-shape", where, "properties must be an object")]
    fields = {k: props[k] for k in FIELDS if k in props}
    findings: list[Finding] = []
    if feature.get("id") is not None:
        if "id" in props and str(props["id"]) != str(feature["id"]):
            msg = f"feature id {feature['id']!r} and properties.id {props['id']!r} differ"
            findings.append(warning("id-conflict", where, msg + "; using the feature id"))
        fields["id"] = feature["id"]
    if "tags" not in fields:
        fields["tags"] = _osm_tags(props)
    fields["metadata"] = _metadata(props)
    place_id = fields.get("id")
    if isinstance(place_id, str | int) and not isinstance(place_id, bool):
        where = Where(source=where.source, feature=where.feature, item_id=str(place_id))
    geometry, more = _geometry(feature.get("geometry"), props, where)
    raw = RawPlace(
        where=where,
        fields=fields,
        geometry=geometry,
        hours_strict=False,
        findings=(*findings, *more),
    )
    return raw, []


def _geometry(
    geometry: Any, props: Mapping[str, Any], where: Where
) -> tuple[tuple[str, Any] | None, list[Finding]]:
    if not isinstance(geometry, Mapping):
        return None, [error("geometry-missing", where, "feature has no geometry")]
    kind = geometry.get("type")
    coords = geometry.get("coordinates")
    if kind == "Point":
        if not isinstance(coords, list) or len(coords) not in (2, 3):
            return None, [error("geometry-shape", where, "a Point needs [lon, lat]")]
        circle = {"lon": coords[0], "lat": coords[1]}
        if props.get("radius_m") is not None:
            circle["radius_m"] = props["radius_m"]
        return ("circle", circle), []
    if kind in _KINDS:
        return (_KINDS[kind], coords), []
    msg = f"geometry type {kind!r} is not a place: use Point (with radius_m), Polygon, MultiPolygon"
    return None, [error("geometry-type", where, msg)]


def _osm_tags(props: Mapping[str, Any]) -> list[str]:
    tags: list[str] = []
    for key in OSM_TAG_KEYS:
        value = props.get(key)
        if isinstance(value, str):
            tags.extend(v.strip() for v in value.split(";") if v.strip())
    return tags


def _metadata(props: Mapping[str, Any]) -> dict[str, Any]:
    extra = props.get("metadata")
    meta = dict(extra) if isinstance(extra, Mapping) else {}
    skip = {*FIELDS, "radius_m", "metadata"}
    meta.update({k: v for k, v in props.items() if k not in skip})
    return meta
