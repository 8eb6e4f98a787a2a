"""The shipped moments compile into the intended specs, agree with the committed JSON Schema,
and the schema is the one the code generates."""

from __future__ import annotations

import json
import re
from datetime import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from geotrigger.places import load_places_strict
from geotrigger.rules import (
    Mode,
    PlaceTrigger,
    RuleSet,
    Scope,
    SignalTrigger,
    TriggerKind,
    WeatherTrigger,
    WindowKind,
    load_rules,
    load_rules_strict,
    moments_schema,
)
from geotrigger.rules.schema import schema_text
from geotrigger.weather.reading import WeatherChangeKind


@pytest.fixture(scope="module")
def shipped(repo_root: Path) -> RuleSet:
    return load_rules_strict([repo_root / "rules" / "moments"])


def test_shipped_pass_the_check_against_the_real_places(repo_root: Path) -> None:
    places = load_places_strict([repo_root / "rules" / "places"]).places
    result = load_rules([repo_root / "rules" / "moments"], places={p.id: p for p in places})
    assert result.errors == ()
    assert result.warnings == ()


def test_policy(shipped: RuleSet) -> None:
    policy = shipped.policy
    assert policy.min_spacing_s == 1200
    assert policy.budget_timezone == "Europe/Helsinki"
    assert [c.label for c in policy.caps] == [
        "consumer 3 per calendar_day",
        "consumer 1 per rolling 1h",
    ]
    assert policy.caps[1].window.length_s == 3600


def test_coffee_dwell_morning(shipped: RuleSet) -> None:
    rule = shipped.get("coffee-dwell-morning")
    assert rule is not None
    assert rule.trigger == PlaceTrigger(kind=TriggerKind.DWELL, places=rule.trigger.places)
    assert rule.trigger.places.tags == {"cafe"}
    window = rule.conditions.local_time
    assert window is not None
    assert (window.start, window.end, window.days) == (time(7), time(11), frozenset(range(5)))
    assert rule.relevance.offer_tags == {"coffee"} and rule.relevance.min_relevance == 0.4
    assert [c.label for c in rule.suppression.caps] == ["consumer_rule 1 per calendar_day"]
    assert rule.ttl_s == 600 and rule.mode == Mode.LIVE
    assert rule.suppression.max_accuracy_m == 65  # from the file's defaults
    values = {"place.name": "Café Regatta", "distance_m": 12.4}
    assert rule.action.message.render(values).startswith("While you are at Café Regatta,")
    assert rule.action.data == {"offer_code": "COFFEE-AM"}


def test_cafe_enter_watch_is_monitor(shipped: RuleSet) -> None:
    rule = shipped.get("cafe-enter-watch")
    assert rule is not None and rule.mode == Mode.MONITOR
    assert isinstance(rule.trigger, PlaceTrigger) and rule.trigger.kind == TriggerKind.ENTER


def test_umbrella_when_rain(shipped: RuleSet) -> None:
    rule = shipped.get("umbrella-when-rain")
    assert rule is not None
    trigger = rule.trigger
    assert isinstance(trigger, WeatherTrigger)
    assert (trigger.change, trigger.condition) == (WeatherChangeKind.STARTS, "wet")
    assert trigger.places.tags == {"outdoor", "clothes", "department_store"}
    assert (trigger.within_m, trigger.fresh_s) == (200, 900)
    assert rule.conditions.open_now is True
    assert rule.relevance.offer_tags == {"umbrella", "rain-gear"}
    assert rule.relevance.weather_fit == {"rain": 1.0, "drizzle": 0.8, "heavy_rain": 1.0}
    (cap,) = rule.suppression.caps
    assert (cap.scope, cap.max, cap.window.kind) == (Scope.WEATHER_EVENT, 1, WindowKind.FOREVER)
    assert rule.ttl_s == 600


def test_tired_tea_afternoon(shipped: RuleSet) -> None:
    rule = shipped.get("tired-tea-afternoon")
    assert rule is not None
    trigger = rule.trigger
    assert isinstance(trigger, SignalTrigger)
    assert (trigger.signal, trigger.change, trigger.threshold) == (
        "fatigue",
        WeatherChangeKind.RISES_ABOVE,
        0.7,
    )
    assert trigger.within_m == 150 and trigger.places.tags == {"tea"}
    window = rule.conditions.local_time
    assert window is not None and (window.start, window.end) == (time(14), time(17))
    assert rule.relevance.offer_tags == {"green-tea", "tea"} and rule.relevance.min_relevance == 0.5
    assert rule.ttl_s == 900
    assert {"place.name", "distance_m"} <= rule.action.message.variables


def test_committed_schema_is_current(repo_root: Path) -> None:
    committed = (repo_root / "rules" / "schema" / "moments.schema.json").read_text(encoding="utf-8")
    assert committed == schema_text(), (
        "run: geotrigger rules schema --out rules/schema/moments.schema.json"
    )


def test_shipped_files_start_with_the_schema_line(repo_root: Path) -> None:
    for path in sorted((repo_root / "rules" / "moments").glob("*.yaml")):
        first = path.read_text(encoding="utf-8").splitlines()[0]
        assert first == "# yaml-language-server: $schema=../schema/moments.schema.json", path


def validate(value: Any, schema: dict[str, Any], path: str = "$") -> list[str]:
    """The problems of ``value`` under the subset of JSON Schema that moments_schema uses."""
    problems: list[str] = []
    types = {
        "string": str,
        "number": (int, float),
        "integer": int,
        "boolean": bool,
        "object": dict,
        "array": list,
        "null": type(None),
    }
    kind = schema.get("type")
    if kind is not None:
        kinds = kind if isinstance(kind, list) else [kind]
        ok = any(
            isinstance(value, types[k])
            and not (k in ("number", "integer") and isinstance(value, bool))
            for k in kinds
        )
        if not ok:
            return [f"{path}: not {kind}"]
    if "const" in schema and value != schema["const"]:
        problems.append(f"{path}: not {schema['const']!r}")
    if "enum" in schema and value not in schema["enum"]:
        problems.append(f"{path}: {value!r} not in enum")
    if isinstance(value, str) and "pattern" in schema and not re.search(schema["pattern"], value):
        problems.append(f"{path}: {value!r} does not match")
    if isinstance(value, int | float) and not isinstance(value, bool):
        if "minimum" in schema and value < schema["minimum"]:
            problems.append(f"{path}: below minimum")
        if "maximum" in schema and value > schema["maximum"]:
            problems.append(f"{path}: above maximum")
        if "exclusiveMaximum" in schema and value >= schema["exclusiveMaximum"]:
            problems.append(f"{path}: not below exclusiveMaximum")
    if isinstance(value, dict):
        problems += _object(value, schema, path)
    if isinstance(value, list):
        problems += [
            p
            for i, item in enumerate(value)
            for p in validate(item, schema.get("items", {}), f"{path}[{i}]")
        ]
    if "anyOf" in schema and all(validate(value, s, path) for s in schema["anyOf"]):
        problems.append(f"{path}: matches none of anyOf")
    if "oneOf" in schema and sum(not validate(value, s, path) for s in schema["oneOf"]) != 1:
        problems.append(f"{path}: does not match exactly one of oneOf")
    for case in schema.get("allOf", []):
        if "if" in case and not validate(value, case["if"], path):
            problems += validate(value, case["then"], path)
    return problems


def _object(value: dict[str, Any], schema: dict[str, Any], path: str) -> list[str]:
    problems = [f"{path}: {key} missing" for key in schema.get("required", []) if key not in value]
    properties = schema.get("properties", {})
    extra = schema.get("additionalProperties", True)
    for key, item in value.items():
        if "propertyNames" in schema:
            problems += validate(key, schema["propertyNames"], f"{path}.{key} (name)")
        if key in properties:
            problems += validate(item, properties[key], f"{path}.{key}")
        elif extra is False:
            problems.append(f"{path}: {key} not allowed")
        elif isinstance(extra, dict):
            problems += validate(item, extra, f"{path}.{key}")
    return problems


def test_shipped_files_are_valid_under_the_schema(repo_root: Path) -> None:
    schema = moments_schema()
    for path in sorted((repo_root / "rules" / "moments").glob("*.yaml")):
        # The editors read YAML 1.2, where `on` is a word: read it as they do.
        text = re.sub(r"\bon:", '"on":', path.read_text(encoding="utf-8"))
        assert validate(yaml.safe_load(text), schema) == [], path


MOMENT = "version: 1\nmoments: [{{id: a, trigger: {trigger}, action: {{message: m}}{extra}}}]"
WET_TWICE = "{'on': weather, places: {tags: [x]}, starts: wet, ends: wet}"


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        # the validator is not vacuous: an unknown key is caught by the schema too
        (
            MOMENT.format(trigger="{'on': dwell, places: {tags: [x]}}", extra=", whn: 1"),
            "whn not allowed",
        ),
        # a trigger kind that does not exist
        (
            MOMENT.format(trigger="{'on': dwel, places: {tags: [x]}}", extra=""),
            "not in enum",
        ),
        # a weather trigger with two changes
        (
            MOMENT.format(trigger=WET_TWICE, extra=""),
            "oneOf",
        ),
        # a wrong version
        ("version: 2\n", "not 1"),
    ],
)
def test_schema_refuses_what_the_checker_refuses(text: str, fragment: str) -> None:
    problems = validate(yaml.safe_load(text), moments_schema())
    assert any(fragment in p for p in problems), problems


def test_schema_is_json_draft_2020_12() -> None:
    schema = moments_schema()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert json.loads(json.dumps(schema)) == schema
