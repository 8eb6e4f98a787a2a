"""Invariants: whatever a file holds, checking it reports findings and never crashes; a
template renders whatever values it is given."""

from __future__ import annotations

from pathlib import Path
from tempfile import TemporaryDirectory

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from geotrigger.rules import load_rules
from geotrigger.rules.template import TEMPLATE_VARIABLES, compile_template

# Names of the format (and near misses), so generated documents reach deep into it.
KEYS = [
    "version",
    "moments",
    "defaults",
    "policy",
    "id",
    "trigger",
    "on",
    "places",
    "tags",
    "ids",
    "when",
    "local_time",
    "from",
    "to",
    "days",
    "distance_m",
    "min",
    "max",
    "weather",
    "condition",
    "traits",
    "signals",
    "segments",
    "any_of",
    "suppression",
    "caps",
    "scope",
    "window",
    "rolling",
    "fixed",
    "anchor",
    "quiet_hours",
    "holdout",
    "ttl",
    "action",
    "message",
    "channel",
    "data",
    "relevance",
    "weather_fit",
    "starts",
    "rises_above",
    "field",
    "value",
    "signal",
    "within_m",
    "fresh_for",
    "max_age",
    "open_now",
    "mode",
    "priority",
]
WORDS = [
    "dwell",
    "weather",
    "signal",
    "wet",
    "rain",
    "consumer",
    "calendar_day",
    "10m",
    "07:00",
    "21:00-08:00",
    "{place.name}",
    "{x",
    "live",
    "monitor",
    "mo",
    "r1",
    "cafe",
    "",
]
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 100),
    st.floats(allow_nan=True),
    st.sampled_from(WORDS),
    st.text(max_size=5),
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(KEYS), inner, max_size=4)
    ),
    max_leaves=25,
)
DOCUMENTS = st.fixed_dictionaries(
    {"version": st.sampled_from([1, 2, "1"]), "moments": st.lists(VALUES, max_size=3)},
    optional={"defaults": VALUES, "policy": VALUES},
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(DOCUMENTS)
def test_checking_never_crashes(document: dict) -> None:
    with TemporaryDirectory() as folder:
        path = Path(folder) / "m.yaml"
        path.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
        result = load_rules([path])
    # Either a rule set and no error, or errors and no rule set: never both, never neither.
    assert (result.rule_set is None) == bool(result.errors)


@given(
    st.dictionaries(
        st.sampled_from(TEMPLATE_VARIABLES),
        st.one_of(st.none(), st.floats(), st.text(), st.integers()),
    )
)
def test_render_never_raises(values: dict) -> None:
    text = " ".join(f"{{{name}}}" for name in TEMPLATE_VARIABLES)
    assert isinstance(compile_template(text).render(values), str)


BASE = {
    "id": "r1",
    "trigger": {"on": "weather", "places": {"tags": ["cafe"]}, "starts": "wet", "within_m": 100},
    "when": {
        "distance_m": {"max": 30},
        "local_time": {"from": "07:00", "to": "11:00", "days": ["mo"]},
        "weather": {"condition": ["rain"], "temperature_c": {"max": 15}, "max_age": "45m"},
        "traits": {"tier": {"one_of": ["gold"]}, "age": {"min": 18}},
        "segments": {"any_of": ["regulars"]},
        "signals": {"fatigue": {"min": 0.5}},
    },
    "relevance": {"offer_tags": ["coffee"], "weather_fit": {"rain": 1.0}},
    "suppression": {
        "quiet_hours": "21:00-08:00",
        "cooldown": "4h",
        "caps": [
            {"scope": "rule", "max": 1, "window": {"fixed": "1d", "anchor": "2026-06-01T00:00:00Z"}}
        ],
    },
    "ttl": "15m",
    "action": {"message": "{place.name}", "data": {"x": 1}},
}


def _paths(value: object, prefix: tuple = ()) -> list[tuple]:
    found = [prefix] if prefix else []
    if isinstance(value, dict):
        for key, item in value.items():
            found += _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            found += _paths(item, (*prefix, i))
    return found


def _replaced(value: object, path: tuple, new: object) -> object:
    if not path:
        return new
    if isinstance(value, dict):
        return {**value, path[0]: _replaced(value[path[0]], path[1:], new)}
    assert isinstance(value, list)
    return [_replaced(v, path[1:], new) if i == path[0] else v for i, v in enumerate(value)]


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_one_changed_value_never_crashes(data: st.DataObject) -> None:
    # A valid moment with one value anywhere in it replaced by anything.
    path = data.draw(st.sampled_from(_paths(BASE)))
    moment = _replaced(BASE, path, data.draw(VALUES))
    text = yaml.safe_dump({"version": 1, "moments": [moment]}, allow_unicode=True)
    with TemporaryDirectory() as folder:
        file = Path(folder) / "m.yaml"
        file.write_text(text, encoding="utf-8")
        result = load_rules([file])
    assert (result.rule_set is None) == bool(result.errors)
