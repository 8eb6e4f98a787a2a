"""Settings: defaults, environment overrides, and errors that name the variable."""

from __future__ import annotations

import pytest

from geotrigger.config import load_settings
from geotrigger.errors import ConfigError


def test_defaults_without_environment() -> None:
    settings = load_settings({})
    assert settings.transitions.dwell_s == 300.0
    assert settings.transitions.near_m == (
        settings.transitions.exit_margin_m + settings.transitions.enter_accuracy_cap_m
    )


def test_fix_counts_default_to_two_and_can_be_set() -> None:
    """Two consecutive fixes to enter and to exit, unless the environment says otherwise."""
    assert load_settings({}).transitions.enter_min_fixes == 2
    assert load_settings({}).transitions.exit_min_fixes == 2
    settings = load_settings({"GEOTRIGGER_TRANSITIONS_ENTER_MIN_FIXES": "3"})
    assert settings.transitions.enter_min_fixes == 3
    with pytest.raises(ConfigError, match="GEOTRIGGER_TRANSITIONS_EXIT_MIN_FIXES"):
        load_settings({"GEOTRIGGER_TRANSITIONS_EXIT_MIN_FIXES": "two"})


def test_environment_overrides_one_setting() -> None:
    settings = load_settings(
        {"GEOTRIGGER_TRANSITIONS_DWELL_S": "600", "GEOTRIGGER_FILTERS_RECENT_IDS": "10"}
    )
    assert settings.transitions.dwell_s == 600.0
    assert settings.filters.recent_ids == 10
    assert settings.filters.max_accuracy_m == 200.0  # untouched


@pytest.mark.parametrize(
    ("env", "named"),
    [
        # not a number at all
        ({"GEOTRIGGER_FILTERS_MAX_ACCURACY_M": "wide"}, "GEOTRIGGER_FILTERS_MAX_ACCURACY_M"),
        # negative durations make no sense
        ({"GEOTRIGGER_TRANSITIONS_DWELL_S": "-5"}, "GEOTRIGGER_TRANSITIONS_DWELL_S"),
        # infinity is not a setting
        ({"GEOTRIGGER_INDEX_CELL_M": "inf"}, "GEOTRIGGER_INDEX_CELL_M"),
        # a count must be whole
        ({"GEOTRIGGER_INDEX_REBUILD_AFTER": "2.5"}, "GEOTRIGGER_INDEX_REBUILD_AFTER"),
    ],
)
def test_bad_values_name_the_variable(env: dict[str, str], named: str) -> None:
    with pytest.raises(ConfigError, match=named):
        load_settings(env)


@pytest.mark.parametrize(
    ("raw", "keep"),
    [
        ("true", True),  # the words
        ("False", False),  # any case
        ("1", True),  # digits
        ("0", False),
        (" yes ", True),  # surrounding blanks ignored
        ("no", False),
        ("on", True),
        ("off", False),
    ],
)
def test_switches_read_strictly(raw: str, keep: bool) -> None:
    settings = load_settings({"GEOTRIGGER_RETENTION_KEEP_RAW_PINGS": raw})
    assert settings.retention.keep_raw_pings is keep


# bool() would take "2", "nope" and "enabled" for True, and the empty text for False
@pytest.mark.parametrize("raw", ["", "2", "nope", "enabled"])
def test_a_switch_that_is_no_word_names_the_variable(raw: str) -> None:
    with pytest.raises(ConfigError, match=r"GEOTRIGGER_RETENTION_KEEP_RAW_PINGS.*true or false"):
        load_settings({"GEOTRIGGER_RETENTION_KEEP_RAW_PINGS": raw})


def test_retention_defaults_keep_no_raw_pings() -> None:
    retention = load_settings({}).retention
    assert (retention.decisions_days, retention.keep_raw_pings) == (90.0, False)
    assert retention.raw_pings_ttl_s == 86400.0
    days = load_settings({"GEOTRIGGER_RETENTION_DECISIONS_DAYS": "30.5"}).retention
    assert days.decisions_days == 30.5
