"""Places from marketer-written YAML (``version: 1``), with the line of every field.

The document is composed once into nodes, whose ``start_mark`` gives each place and field its
line, and the values are constructed from those same nodes (safe types only).
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from geotrigger.errors import Where
from geotrigger.model import MAX_RADIUS_M, MIN_RADIUS_M
from geotrigger.places.build import timezone_problem
from geotrigger.places.findings import Finding, error
from geotrigger.places.raw import Key, RawPlace

VERSION = 1
TOP_KEYS = ("version", "defaults", "places", "description", "attribution")
DEFAULT_KEYS = ("timezone", "radius_m", "dwell_s", "brand", "tags")
PLACE_KEYS = (
    *("id", "name", "brand", "tags", "circle", "polygon", "multipolygon"),
    *("opening_hours", "timezone", "dwell_s", "metadata"),
)
GEOMETRY_KEYS = ("circle", "polygon", "multipolygon")
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml is ~10x faster when built


def read_yaml(path: Path, source: str) -> tuple[list[RawPlace], list[Finding]]:
    """Raw places of one YAML file, and the findings about the file and its keys."""
    try:
        data, root = _parse(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        return [], [error("file-unreadable", Where(source=source), f"cannot read: {exc}")]
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = Where(source=source, line=mark.line + 1 if mark else None)
        problem = getattr(exc, "problem", None) or str(exc)
        return [], [error("yaml-syntax", where, f"not valid YAML: {problem}")]
    findings = _check_top(data, root, source)
    if findings:
        return [], findings
    defaults = data.get("defaults") or {}
    findings.extend(_check_defaults(defaults, _child(root, "defaults"), source))
    if findings:
        return [], findings  # one error for the file, not one per place that inherits it
    places_node = _child(root, "places")
    raws: list[RawPlace] = []
    for i, item in enumerate(data.get("places") or []):
        node = places_node.value[i] if isinstance(places_node, yaml.SequenceNode) else None
        raw, more = _raw_place(item, node, source, defaults)
        findings.extend(more)
        if raw is not None:
            raws.append(raw)
    return raws, findings


def _parse(text: str) -> tuple[Any, yaml.Node | None]:
    """The values and the node tree of one document, with libyaml when it is there."""
    loader = _LOADER(text)
    try:
        root = loader.get_single_node()
        return (loader.construct_document(root) if root is not None else None), root
    finally:
        loader.dispose()


def _check_top(data: Any, root: yaml.Node | None, source: str) -> list[Finding]:
    where = Where(source=source, line=1)
    if not isinstance(data, Mapping):
        return [error("yaml-shape", where, "expected a mapping with version and places")]
    findings = _unknown_keys(data, root, TOP_KEYS, source)
    if data.get("version") != VERSION:
        at = _line_of(_child(root, "version")) or 1
        msg = f"version must be {VERSION}, got {data.get('version')!r}"
        findings.append(error("yaml-version", Where(source=source, line=at), msg))
    if not isinstance(data.get("places"), list):
        findings.append(error("yaml-shape", where, "places must be a list of places"))
    if not isinstance(data.get("defaults") or {}, Mapping):
        findings.append(error("yaml-shape", where, "defaults must be a mapping"))
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
            where = Where(source=source, line=_key_line(node, key))
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
    where = Where(source=source, line=_line_of(node))
    if not isinstance(item, Mapping):
        return None, [error("yaml-shape", where, "a place must be a mapping of fields")]
    if isinstance(item.get("id"), str | int) and not isinstance(item.get("id"), bool):
        where = Where(source=source, line=where.line, item_id=str(item["id"]))
    findings = _unknown_keys(item, node, PLACE_KEYS, source, where.item_id)
    given = [k for k in GEOMETRY_KEYS if k in item]
    geometry = (given[0], item[given[0]]) if given else None
    if len(given) > 1:
        msg = f"give exactly one of circle, polygon, multipolygon (found {', '.join(given)})"
        findings.append(error("geometry-ambiguous", where, msg))
    lines: dict[Key, int] = {}
    if node is not None:
        _collect_lines(node, (), lines)
    raw = RawPlace(
        where=where,
        fields=item,
        geometry=geometry,
        lines=lines,
        file_defaults=defaults,
        findings=tuple(findings),
    )
    return raw, []


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
        guess = difflib.get_close_matches(str(key), allowed, n=1)
        expected = f" (expected one of {', '.join(allowed)})"
        hint = f" (did you mean {guess[0]!r}?)" if guess else expected
        where = Where(source=source, line=_key_line(node, str(key)), item_id=item_id)
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
            where = Where(source=source, line=_line_of(key_node), item_id=item_id)
            findings.append(error("duplicate-key", where, f"key {key_node.value!r} is repeated"))
        seen.add(key_node.value)
    return findings


def _collect_lines(node: yaml.Node, key: Key, lines: dict[Key, int]) -> None:
    lines[key] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            _collect_lines(value_node, (*key, str(key_node.value)), lines)
            lines[(*key, str(key_node.value))] = key_node.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for i, child in enumerate(node.value):
            _collect_lines(child, (*key, i), lines)


def _child(node: yaml.Node | None, key: str) -> yaml.Node | None:
    if not isinstance(node, yaml.MappingNode):
        return None
    return next((v for k, v in node.value if k.value == key), None)


def _key_line(node: yaml.Node | None, key: str) -> int | None:
    if not isinstance(node, yaml.MappingNode):
        return _line_of(node)
    return next((_line_of(k) for k, _ in node.value if k.value == key), _line_of(node))


def _line_of(node: yaml.Node | None) -> int | None:
    return node.start_mark.line + 1 if node is not None else None
