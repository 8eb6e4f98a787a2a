"""Every kind of mistake in a moments file is reported with file, line, rule id, the reason
and, for a misspelled name, the intended one; and all of them in one run."""

from __future__ import annotations

from pathlib import Path

import pytest

from geotrigger.errors import RuleError
from geotrigger.model import Circle, Place
from geotrigger.rules import load_rules, load_rules_strict
from geotrigger.rules.report import format_finding

TRIGGER = "    trigger: {on: dwell, places: {tags: [cafe]}}"
ACTION = '    action: {message: "hi"}'
CAPS = "      caps: [{scope: consumer_rule, max: 1, window: calendar_day}]"


def rule(*lines: str, rule_id: str = "r1") -> str:
    """A file with one moment whose id is on line 3; ``lines`` start on line 4."""
    body = "\n".join(lines)
    return f"version: 1\nmoments:\n  - id: {rule_id}\n{body}\n"


def write(tmp_path: Path, text: str, name: str = "m.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


CASES = [
    # misspelled trigger kind
    (
        rule("    trigger: {on: dwel, places: {tags: [cafe]}}", ACTION),
        4,
        "r1",
        "trigger.on: 'dwel' is not one of enter, dwell, exit, weather, signal"
        " (did you mean 'dwell'?)",
    ),
    # unknown key at the top of a rule
    (
        rule(TRIGGER, ACTION, "    whn: {open_now: true}"),
        6,
        "r1",
        "whn: unknown key (did you mean 'when'?)",
    ),
    # unknown key deep inside
    (
        rule(TRIGGER, ACTION, "    suppression: {cooldwn: 4h}"),
        6,
        "r1",
        "suppression.cooldwn: unknown key (did you mean 'cooldown'?)",
    ),
    # missing trigger
    (rule(ACTION), 3, "r1", "'trigger' is required"),
    # missing action message
    (rule(TRIGGER, "    action: {channel: push}"), 5, "r1", "action: 'message' is required"),
    # wrong type
    (
        rule(TRIGGER, ACTION, "    priority: high"),
        6,
        "r1",
        "priority: must be a whole number, got 'high'",
    ),
    # a bad enum value
    (
        rule(TRIGGER, ACTION, "    mode: monitr"),
        6,
        "r1",
        "mode: 'monitr' is not one of live, monitor (did you mean 'monitor'?)",
    ),
    # a bad duration
    (rule(TRIGGER, ACTION, "    ttl: 10 minutes"), 6, "r1", "ttl: '10 minutes' is not a duration"),
    # a zero ttl
    (
        rule(TRIGGER, ACTION, "    ttl: 0s"),
        6,
        "r1",
        "ttl: a moment needs a time to live longer than 0s",
    ),
    # a bad time of day
    (
        rule(TRIGGER, ACTION, "    when:", '      local_time: {from: "7am", to: "11:00"}'),
        7,
        "r1",
        "when.local_time.from: '7am' is not a time of day HH:MM",
    ),
    # min above max
    (
        rule(TRIGGER, ACTION, "    when:", "      distance_m: {min: 50, max: 10}"),
        7,
        "r1",
        "when.distance_m: range min 50 is above max 10",
    ),
    # negative distance
    (
        rule(TRIGGER, ACTION, "    when:", "      distance_m: {max: -5}"),
        7,
        "r1",
        "when.distance_m.max: must be at least 0, got -5",
    ),
    # a weather condition that does not exist
    (
        rule(TRIGGER, ACTION, "    when:", "      weather: {condition: [rainy]}"),
        7,
        "r1",
        "when.weather.condition[0]: 'rainy' is not one of clear,",
    ),
    # a weather field that does not exist
    (
        rule(TRIGGER, ACTION, "    when:", "      weather: {temprature_c: {max: 3}}"),
        7,
        "r1",
        "when.weather.temprature_c: unknown key (did you mean 'temperature_c'?)",
    ),
    # the weather field of a threshold trigger
    (
        rule(
            "    trigger: {on: weather, places: {tags: [cafe]},"
            " rises_above: {field: temp_c, value: 25}}",
            ACTION,
        ),
        4,
        "r1",
        "trigger.rises_above.field: 'temp_c' is not one of",
    ),
    # a weather trigger needs exactly one change
    (
        rule("    trigger: {on: weather, places: {tags: [cafe]}, starts: wet, ends: wet}", ACTION),
        4,
        "r1",
        "trigger: needs exactly one of starts, ends, rises_above, falls_below; got starts, ends",
    ),
    # a signal trigger needs exactly one crossing
    (
        rule("    trigger: {on: signal, signal: fatigue, places: {tags: [tea]}}", ACTION),
        4,
        "r1",
        "trigger: needs exactly one of rises_above, falls_below; got none",
    ),
    # an empty place selector
    (
        rule("    trigger: {on: enter, places: {tags: []}}", ACTION),
        4,
        "r1",
        "trigger.places: give at least one of ids, tags, brands",
    ),
    # holdout outside [0, 1)
    (
        rule(TRIGGER, ACTION, "    suppression: {holdout: 1}"),
        6,
        "r1",
        "suppression.holdout: must be below 1, got 1",
    ),
    # a misspelled cap scope
    (
        rule(
            TRIGGER,
            ACTION,
            "    suppression:",
            "      caps: [{scope: consumr, max: 1, window: calendar_day}]",
        ),
        7,
        "r1",
        "(did you mean 'consumer'?)",
    ),
    # a cap with no window (only weather_event caps default to forever)
    (
        rule(TRIGGER, ACTION, "    suppression:", "      caps: [{scope: consumer, max: 1}]"),
        7,
        "r1",
        "suppression.caps[0]: scope consumer needs a window",
    ),
    # a misspelled window
    (
        rule(
            TRIGGER,
            ACTION,
            "    suppression:",
            "      caps: [{scope: rule, max: 1, window: calender_day}]",
        ),
        7,
        "r1",
        "(did you mean 'calendar_day'?)",
    ),
    # a misspelled template variable
    (
        rule(TRIGGER, '    action: {message: "{place.nme} is near"}'),
        5,
        "r1",
        "action.message: unknown variable {place.nme} (did you mean 'place.name'?)",
    ),
    # a bad rule id
    (
        rule(TRIGGER, ACTION, rule_id="Coffee Rule"),
        3,
        "Coffee Rule",
        "id: 'Coffee Rule' is not valid",
    ),
    # a fixed window's anchor needs a time and an offset, not a date
    (
        rule(
            TRIGGER,
            ACTION,
            "    suppression:",
            "      caps: [{scope: rule, max: 1, window: {fixed: 1d, anchor: 2026-06-01}}]",
        ),
        7,
        "r1",
        "suppression.caps[0].window.anchor: '2026-06-01' is not a date and time with an offset",
    ),
    # a missing version
    ("moments:\n  - id: r1\n" + TRIGGER + "\n" + ACTION + "\n", 1, None, "'version' is required"),
    # a version that is not 1
    (
        rule(TRIGGER, ACTION).replace("version: 1", "version: 2"),
        1,
        None,
        "version: must be 1, got 2",
    ),
    # YAML syntax error, with its line
    (rule("    trigger: {on: dwell", ACTION), 5, None, "YAML syntax error"),
    # a key written twice
    (rule(TRIGGER, ACTION, "    ttl: 5m", "    ttl: 6m"), 7, None, "this key is written twice"),
    # an unknown policy key
    (
        "version: 1\npolicy:\n  min_spacng: 5m\n",
        3,
        None,
        "policy.min_spacng: unknown key (did you mean 'min_spacing'?)",
    ),
    # a misspelled time zone
    (
        "version: 1\npolicy:\n  budget_timezone: Europe/Helsinky\n",
        3,
        None,
        "(did you mean 'Europe/Helsinki'?)",
    ),
]


@pytest.mark.parametrize(("text", "line", "rule_id", "fragment"), CASES)
def test_error(tmp_path: Path, text: str, line: int, rule_id: str | None, fragment: str) -> None:
    path = write(tmp_path, text)
    result = load_rules([path])
    assert result.rule_set is None
    matching = [f for f in result.errors if fragment in f.message]
    assert matching, [f.message for f in result.errors]
    where = matching[0].where
    assert (where.source, where.line, where.item_id) == (str(path), line, rule_id)


def test_unreadable_and_missing(tmp_path: Path) -> None:
    bad = write(tmp_path, "", name="bad.yaml")
    bad.write_bytes(b"\xff\xfe version")
    result = load_rules([bad, tmp_path / "nope.yaml"])
    messages = [format_finding(f) for f in result.errors]
    assert messages[0].startswith(f"{bad}: cannot read the file")
    assert messages[1] == f"{tmp_path / 'nope.yaml'}: no such file or folder"


def test_every_error_of_every_file_is_reported(tmp_path: Path) -> None:
    first = write(
        tmp_path, rule("    trigger: {on: dwel, places: {tags: [cafe]}}", ACTION), "a.yaml"
    )
    second = write(tmp_path, rule(TRIGGER, ACTION, "    ttl: 5x", rule_id="r2"), "b.yaml")
    result = load_rules([tmp_path])
    assert [(f.where.source, f.where.item_id) for f in result.errors] == [
        (str(first), "r1"),
        (str(second), "r2"),
    ]


def test_every_error_of_one_moment_is_reported(tmp_path: Path) -> None:
    # A misspelled key beside a range upside down, a bad channel beside a bad variable: the
    # parts with the right shape are still compiled for their own errors.
    text = rule(
        TRIGGER,
        '    action: {channel: pushh, message: "{place.nme}"}',
        "    when:",
        '      local_time: {from: "7am", to: "11:00"}',
        "      distance_m: {min: 50, max: 10}",
    )
    errors = load_rules([write(tmp_path, text)]).errors
    assert [(f.where.line, f.message.split(":")[0]) for f in errors] == [
        (5, "action.channel"),
        (5, "action.message"),
        (7, "when.local_time.from"),
        (8, "when.distance_m"),
    ]


def test_duplicate_ids_name_both_places(tmp_path: Path) -> None:
    write(tmp_path, rule(TRIGGER, ACTION, "    suppression:", CAPS), "a.yaml")
    write(tmp_path, rule(TRIGGER, ACTION), "b.yaml")
    errors = load_rules([tmp_path]).errors
    assert sorted(format_finding(f) for f in errors) == [
        f"{tmp_path / 'a.yaml'} line 3: rule 'r1': id is also used in {tmp_path / 'b.yaml'} line 3",
        f"{tmp_path / 'b.yaml'} line 3: rule 'r1': id is also used in {tmp_path / 'a.yaml'} line 3",
    ]


def test_one_policy_per_rule_set(tmp_path: Path) -> None:
    write(tmp_path, "version: 1\npolicy: {min_spacing: 5m}\n", "a.yaml")
    write(tmp_path, "version: 1\n\npolicy: {min_spacing: 6m}\n", "b.yaml")
    (error,) = load_rules([tmp_path]).errors
    assert (error.where.source, error.where.line) == (str(tmp_path / "b.yaml"), 3)
    assert error.message == f"a rule set has one policy; another is in {tmp_path / 'a.yaml'} line 2"


WARNINGS = [
    # a live rule with no caps and no policy caps could flood consumers
    (rule(TRIGGER, ACTION), 3, "a live moment with no caps"),
    # relevance 0 lets everyone through
    (
        rule(TRIGGER, ACTION, "    relevance: {min_relevance: 0}", "    suppression:", CAPS),
        6,
        "relevance.min_relevance is 0",
    ),
    # a holdout in monitor mode does nothing
    (
        rule(TRIGGER, ACTION, "    mode: monitor", "    suppression: {holdout: 0.1}"),
        7,
        "suppression.holdout does nothing in monitor mode",
    ),
    # settings that silence a live moment for good
    (
        rule(TRIGGER, ACTION, "    suppression:", CAPS, "      daily_budget: 0"),
        3,
        "daily_budget is 0: this moment can never fire",
    ),
    (
        rule(
            TRIGGER,
            ACTION,
            "    suppression:",
            "      caps: [{scope: consumer, max: 0, window: calendar_day}]",
        ),
        3,
        "a cap has max 0: this moment can never fire",
    ),
    (
        rule(TRIGGER, ACTION, "    suppression:", CAPS, '      quiet_hours: "08:00-08:00"'),
        3,
        "the whole day: this moment can never fire",
    ),
]


@pytest.mark.parametrize(("text", "line", "fragment"), WARNINGS)
def test_warning(tmp_path: Path, text: str, line: int, fragment: str) -> None:
    result = load_rules([write(tmp_path, text)])
    assert result.rule_set is not None and not result.errors  # warnings do not fail the load
    (warning,) = result.warnings
    assert (warning.where.line, warning.where.item_id) == (line, "r1")
    assert fragment in warning.message


def test_a_file_without_moments_or_policy_is_a_warning(tmp_path: Path) -> None:
    path = write(tmp_path, "version: 1\ndescription: nothing yet\n")
    result = load_rules([path])
    assert [format_finding(f) for f in result.findings] == [
        f"{path}: warning: no moments in the file"
    ]
    assert result.rule_set is not None and result.rule_set.rules == ()


def place(place_id: str, tags: frozenset[str] = frozenset(), brand: str | None = None) -> Place:
    circle = Circle(lat=60.17, lon=24.94, radius_m=30)
    return Place(id=place_id, name=place_id, geometry=circle, tags=tags, brand=brand)


def test_places_checked_when_given(tmp_path: Path) -> None:
    places = {"cafe-17": place("cafe-17", frozenset({"cafe"}), "Fazer")}
    selector = "    trigger: {on: dwell, places: {ids: [cafe-71], tags: [caffe], brands: [Fazr]}}"
    result = load_rules([write(tmp_path, rule(selector, ACTION))], places=places)
    (error,) = result.errors
    assert (
        error.message
        == "trigger.places.ids: no place has the id 'cafe-71' (did you mean 'cafe-17'?)"
    )
    assert sorted(w.message for w in result.warnings if w.code == "place") == [
        "trigger.places.brands: no place has the brand 'Fazr' (did you mean 'Fazer'?)",
        "trigger.places.tags: no place has the tag 'caffe' (did you mean 'cafe'?)",
    ]


def test_strict_lists_every_error(tmp_path: Path) -> None:
    path = write(
        tmp_path, rule("    trigger: {on: dwel, places: {tags: [cafe]}}", "    ttl: 5x", ACTION)
    )
    with pytest.raises(RuleError) as caught:
        load_rules_strict([path])
    text = str(caught.value)
    assert "2 error(s) in the moments" in text
    assert f"{path} line 4: rule 'r1': trigger.on:" in text
    assert f"{path} line 5: rule 'r1': ttl:" in text


def test_unquoted_on_and_times_read_as_written(tmp_path: Path) -> None:
    # YAML 1.1 reads a plain `on` as true and 11:00 as 660; the format means the words.
    text = rule(
        TRIGGER,
        ACTION,
        "    when:",
        "      local_time: {from: 11:00, to: 13:30}",
        "    suppression:",
        CAPS,
    )
    rule_set = load_rules_strict([write(tmp_path, text)])
    window = rule_set.rules[0].conditions.local_time
    assert window is not None and (str(window.start), str(window.end)) == ("11:00:00", "13:30:00")


def test_defaults_merge_under_each_rule(tmp_path: Path) -> None:
    text = (
        "version: 1\n"
        "defaults:\n"
        "  ttl: 7m\n"
        "  suppression: {quiet_hours: '22:00-07:00', cooldown: 1h}\n"
        "moments:\n"
        "  - id: r1\n" + TRIGGER + "\n" + ACTION + "\n"
        "    suppression: {cooldown: 2h, caps: [{scope: rule, max: 5, window: calendar_day}]}\n"
    )
    (compiled,) = load_rules_strict([write(tmp_path, text)]).rules
    assert compiled.ttl_s == 420  # from the defaults
    assert compiled.suppression.cooldown_s == 7200  # the rule wins
    assert compiled.suppression.quiet_hours is not None  # merged inside suppression
    assert compiled.suppression.caps[0].label == "rule 5 per calendar_day"
