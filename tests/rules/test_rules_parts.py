"""Durations, message templates and 'did you mean': the small parts of the moments format."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from geotrigger.errors import RuleError
from geotrigger.rules.durations import format_duration, parse_duration
from geotrigger.rules.template import TEMPLATE_VARIABLES, compile_template
from geotrigger.suggest import did_you_mean


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("90s", 90),  # seconds
        ("15m", 900),  # minutes
        ("2h", 7200),  # hours
        ("1d", 86400),  # days
        ("1w", 604800),  # weeks
        ("1h30m", 5400),  # parts add up
        ("1.5h", 5400),  # a fraction of a unit
        (45, 45),  # a plain number is seconds
        (0, 0),  # zero is a duration (a ttl of 0 is refused by the compiler, not here)
    ],
)
def test_parse_duration(text: object, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize(
    "text",
    [
        "5x",  # unknown unit
        "m5",  # unit before the number
        "",  # nothing
        -3,  # negative seconds
        True,  # YAML's yes is not a duration
        "1 hour",  # words
        [1],  # a list
    ],
)
def test_parse_duration_refuses(text: object) -> None:
    with pytest.raises(ValueError):
        parse_duration(text)


@given(st.integers(min_value=1, max_value=10**7))
def test_format_duration_reads_back(seconds: int) -> None:
    # Whatever format_duration writes, parse_duration reads as the same seconds.
    assert parse_duration(format_duration(seconds)) == seconds


@pytest.mark.parametrize(
    ("text", "values", "expected"),
    [
        # the two most used variables; distance rounded to whole metres
        (
            "{place.name} is {distance_m} m away",
            {"place.name": "Café", "distance_m": 23.6},
            "Café is 24 m away",
        ),
        # escaped braces are literal
        ("{{not a var}} {rule.id}", {"rule.id": "r"}, "{not a var} r"),
        # a missing value renders empty, never raises
        ("Hi {consumer.traits.first_name}!", {}, "Hi !"),
        # None renders empty too
        ("[{place.brand}]", {"place.brand": None}, "[]"),
        # numbers without trailing zeros
        ("{weather.temperature_c}°C", {"weather.temperature_c": 12.0}, "12°C"),
        # spaces inside the braces are allowed
        ("{ daypart }", {"daypart": "morning"}, "morning"),
    ],
)
def test_render(text: str, values: dict, expected: str) -> None:
    assert compile_template(text).render(values) == expected


def test_template_variables() -> None:
    template = compile_template("{place.name} {distance_m} {consumer.traits.tier} {{x}}")
    assert template.text == "{place.name} {distance_m} {consumer.traits.tier} {{x}}"
    assert template.variables == {"place.name", "distance_m", "consumer.traits.tier"}
    assert {"place.id", "local_time", "weather.condition"} <= set(TEMPLATE_VARIABLES)


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        # misspelled variable: did you mean
        ("{place.nme}", "unknown variable {place.nme} (did you mean 'place.name'?)"),
        # a trait needs a name
        ("{consumer.traits.}", "unknown variable {consumer.traits.}"),
        # an open brace never closed
        ("a {place.name", "'{' at character 3 is never closed"),
        # a lone closing brace
        ("a } b", "a lone '}' at character 3"),
    ],
)
def test_template_errors(text: str, fragment: str) -> None:
    with pytest.raises(RuleError) as caught:
        compile_template(text)
    assert fragment in str(caught.value)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("dwel", " (did you mean 'dwell'?)"),  # one letter missing
        ("entr", " (did you mean 'enter'?)"),  # another
        ("xyz", ""),  # nothing close: no guess
    ],
)
def test_did_you_mean(name: str, expected: str) -> None:
    assert did_you_mean(name, ["enter", "dwell", "exit"]) == expected
