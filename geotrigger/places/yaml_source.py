"""Places from marketer-written YAML (``version: 1``), with the line of every field.

The document is composed once into nodes, whose ``start_mark`` gives each place and field its
line, and the values are constructed from those same nodes (safe types only).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from geotrigger.errors import PlaceError, Where
from geotrigger.model import MAX_RADIUS_M, MIN_RADIUS_M
from geotrigger.places.findings import Finding, error
from geotrigger.places.raw import Key, RawPlace
from geotrigger.places.yaml_nodes import as_number, child, key_line, line_of, parse, scalar_text
from geotrigger.places.zones import timezone_problem
from geotrigger.suggest import did_you_mean

VERSION = 1
TOP_KEYS = ("version", "defaults", "places", "description", "attribution")
DEFAULT_KEYS = ("timezone", "radius_m", "dwell_s", "brand", "tags")
PLACE_KEYS = (
    *("id", "name", "brand", "tags", "circle", "polygon", "multipolygon"),
    *("opening_hours", "timezone", "dwell_s", "metadata"),
)
GEOMETRY_KEYS = ("circle", "polygon", "multipolygon")
_CIRCLE_NUMBERS = ("lat", "lon", "radius_m")


def read_yaml(path: Path, source: str) -> tuple[list[RawPlace], list[Finding]]:
    """Raw places of one YAML file, and the findings about the file and its keys."""
    try:
        data, root = parse(path.read_text(encoding="utf-8"), source)
    except (OSError, UnicodeDecodeError) as exc:
        return [], [error("file-unreadable", Where(source=source), f"cannot read: {exc}")]
    except PlaceError as exc:
        return [], [error("yaml-aliases", exc.where, exc.reason)]
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = Where(source=source, line=mark.line + 1 if mark else None)
        problem = getattr(exc, "problem", None) or str(exc)
        return [], [error("yaml-syntax", where, f"not valid YAML: {problem}")]
    findings = _check_top(data, root, source)
    if findings:
        return [], findings
    defaults = data.get("defaults") or {}
    defaults_node = child(root, "defaults")
    defaults = _numbers(defaults, defaults_node, ("radius_m", "dwell_s"))
    findings.extend(_check_defaults(defaults, defaults_node, source))
    if findings:
        return [], findings  # one error for the file, not one per place that inherits it
    places_node = child(root, "places")
    raws: list[RawPlace] = []
    for i, item in enumerate(data.get("places") or []):
        node = places_node.value[i] if isinstance(places_node, yaml.SequenceNode) else None
        raw, more = _raw_place(item, node, source, defaults)
        findings.extend(more)
        if raw is not None:
            raws.append(raw)
    return raws, findings


def _check_top(data: Any, root: yaml.Node | None, source: str) -> list[Finding]:
    where = Where(source=source, line=1)
    if not isinstance(data, Mapping):
        return [error("yaml-shape", where, "expected a mapping with version and places")]
    findings = _unknown_keys(data, root, TOP_KEYS, source)
    if data.get("version") != VERSION:
        at = line_of(child(root, "version")) or 1
        msg = f"version must be {VERSION}, got {data.get('version')!r}"
        findings.append(error("yaml-version", Where(source=source, line=at), msg))
    if not isinstance(data.get("places"), list):
        here = Where(source=source, line=key_line(root, "places"))
        findings.append(error("yaml-shape", here, "places must be a list of places"))
    if not isinstance(data.get("defaults") or {}, Mapping):
        here = Where(source=source, line=key_line(root, "defaults"))
        findings.append(error("yaml-shape", here, "defaults must be a mapping"))
    return findings


def _check_defaults(
    defaults: Mapping[str, Any], node: yaml.Node | None, source: str
) -> list[Finding]:
    findings = _unknown_keys(defaults, node, DEFAULT_KEYS, source)
    problems = {
        "timezone": timezone_problem(defaults["timezone"]) if "timezone" in defaults else None,
        "radius_m": _number_problem(defaults.get("radius_m"), MIN_RADIUS_M, MAX_RADIUS_M),
        "dwell_s": _number_problem(defaults.get("dwell_s"), 0.0, math.inf),
        "brand": None if isinstance(defaults.get("brand", ""), str) else "must be text",
        "tags": None if _is_words(defaults.get("tags", [])) else "must be a list of words",
    }
    for key, problem in problems.items():
        if problem is not None:
            where = Where(source=source, line=key_line(node, key))
            findings.append(error("defaults-invalid", where, f"defaults {key}: {problem}"))
    return findings


def _number_problem(value: Any, low: float, high: float) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or math.isnan(value):
        return f"must be a number, got {value!r}"
    return None if low <= value <= high else f"{value:g} is outside [{low:g}, {high:g}]"


def _is_words(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, str | int) for v in value)


def _raw_place(
    item: Any, node: yaml.Node | None, source: str, defaults: Mapping[str, Any]
) -> tuple[RawPlace | None, list[Finding]]:
    where = Where(source=source, line=line_of(node))
    if not isinstance(item, Mapping) or not isinstance(node, yaml.MappingNode):
        return None, [error("yaml-shape", where, "a place must be a mapping of fields")]
    fields = _as_written(item, node)
    if isinstance(fields.get("id"), str | int) and not isinstance(fields.get("id"), bool):
        where = Where(source=source, line=where.line, item_id=str(fields["id"]))
    findings = _unknown_keys(item, node, PLACE_KEYS, source, where.item_id)
    given = [k for k in GEOMETRY_KEYS if k in fields]
    geometry = (given[0], fields[given[0]]) if given else None
    if len(given) > 1:
        msg = f"give exactly one of circle, polygon, multipolygon (found {', '.join(given)})"
        findings.append(error("geometry-ambiguous", where, msg))
    raw = RawPlace(
        where=where,
        fields=fields,
        geometry=geometry,
        lines=_collect_lines(node),
        file_defaults=defaults,
        findings=tuple(findings),
    )
    return raw, []


def _as_written(item: Mapping[str, Any], node: yaml.MappingNode) -> dict[str, Any]:
    """The fields, with a numeric-looking id as written and YAML 1.2 floats as numbers.

    YAML 1.1 reads ``id: 0123`` as 83 and ``12:30`` as 750; an id is a name, so it keeps its
    text. It reads ``5e3`` as text; a number field takes it as the number it is.
    """
    fields = dict(_numbers(item, node, ("dwell_s",)))
    text = scalar_text(child(node, "id"))
    if text is not None:
        fields["id"] = text
    if "circle" in fields:
        fields["circle"] = _numbers(fields["circle"], child(node, "circle"), _CIRCLE_NUMBERS)
    for key in ("polygon", "multipolygon"):
        if key in fields:
            fields[key] = _positions(fields[key], child(node, key))
    return fields


def _unknown_keys(
    data: Mapping[str, Any],
    node: yaml.Node | None,
    allowed: tuple[str, ...],
    source: str,
    item_id: str | None = None,
) -> list[Finding]:
    findings = []
    for key in data:
        if key in allowed:
            continue
        hint = did_you_mean(key, allowed) or f" (expected one of {', '.join(allowed)})"
        where = Where(source=source, line=key_line(node, str(key)), item_id=item_id)
        findings.append(error("unknown-key", where, f"unknown key {key!r}{hint}"))
    findings.extend(_duplicate_keys(node, source, item_id))
    return findings


def _duplicate_keys(node: yaml.Node | None, source: str, item_id: str | None) -> list[Finding]:
    """PyYAML keeps the last of repeated keys silently; a repeated key is almost a typo."""
    if not isinstance(node, yaml.MappingNode):
        return []
    seen: set[str] = set()
    findings = []
    for key_node, _ in node.value:
        if key_node.value in seen:
            where = Where(source=source, line=line_of(key_node), item_id=item_id)
            findings.append(error("duplicate-key", where, f"key {key_node.value!r} is repeated"))
        seen.add(key_node.value)
    return findings


def _collect_lines(node: yaml.MappingNode) -> dict[Key, int]:
    """Lines of a place's own keys and of its geometry, the only lines findings point at.

    Metadata and other values are not walked, and a node met twice (an alias) only once.
    """
    lines: dict[Key, int] = {}
    seen: set[int] = set()
    for key_node, value_node in node.value:
        key = (str(key_node.value),)
        if key[0] in GEOMETRY_KEYS:
            _walk_lines(value_node, key, lines, seen)
        lines[key] = key_node.start_mark.line + 1
    return lines


def _walk_lines(node: yaml.Node, key: Key, lines: dict[Key, int], seen: set[int]) -> None:
    lines[key] = node.start_mark.line + 1
    if id(node) in seen:
        return
    seen.add(id(node))
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            _walk_lines(value_node, (*key, str(key_node.value)), lines, seen)
            lines[(*key, str(key_node.value))] = key_node.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _walk_lines(item, (*key, i), lines, seen)


def _numbers(data: Mapping[str, Any], node: yaml.Node | None, keys: tuple[str, ...]) -> Any:
    """``data`` with the plain scalars at ``keys`` that YAML 1.2 reads as numbers made floats."""
    if not isinstance(data, Mapping) or not any(isinstance(data.get(k), str) for k in keys):
        return data
    return {k: as_number(v, child(node, k)) if k in keys else v for k, v in data.items()}


def _positions(value: Any, node: yaml.Node | None) -> Any:
    """Polygon coordinates with YAML 1.2 floats (``6.01e1``) read as numbers."""
    if isinstance(value, list) and isinstance(node, yaml.SequenceNode):
        return [_positions(v, n) for v, n in zip(value, node.value, strict=False)]
    return as_number(value, node)
