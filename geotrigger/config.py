"""Settings, loaded once at the edge (CLI, service) and passed explicitly.

Domain code never reads the environment: it receives the dataclass it needs. Every setting can
be given as an environment variable ``GEOTRIGGER_<SECTION>_<NAME>`` (for example
``GEOTRIGGER_FILTERS_MAX_ACCURACY_M=150``); :func:`load_settings` validates them all and names
the variable that is wrong.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any, TypeVar

from geotrigger.errors import ConfigError


@dataclass(frozen=True, slots=True, kw_only=True)
class FilterSettings:
    """Which pings are dropped before any matching."""

    max_accuracy_m: float = 200.0  # worse fixes say too little about where the device is
    max_future_s: float = 120.0  # device clocks run ahead; more than this is a bad clock
    max_age_s: float = 7 * 24 * 3600.0  # older pings are history, not a location
    max_speed_mps: float = 90.0  # ~324 km/h from the last accepted fix: a jump, not a move
    recent_ids: int = 256  # ping ids remembered per device for duplicate detection


@dataclass(frozen=True, slots=True, kw_only=True)
class TransitionSettings:
    """Hysteresis of enter / dwell / exit."""

    dwell_s: float = 300.0  # default time inside before a dwell; a place may override it
    # A place is widened by the fix's accuracy up to this cap. 20 m covers what phones report
    # under open sky and in streets (5-20 m), so honest fixes at the edge still count; indoor
    # and Wi-Fi fixes (30-80 m) widen no further, so they cannot reach a small shop whose edge
    # is more than 100 m from the phone (80 m of error + 20 m). With the old 50 m cap a phone
    # lying still entered such neighbours over and over (tests/engine/test_scenarios.py).
    enter_accuracy_cap_m: float = 20.0
    # Outside by this much plus the capped accuracy to count as outside. Lowering the cap alone
    # would narrow the exit band and make visits flap more; 55 + 20 keeps the band for poor
    # fixes (and near_m, what the index is asked for) at the 75 m it was.
    exit_margin_m: float = 55.0
    exit_debounce_s: float = 60.0  # ...and for this long, before an exit
    # One fix is one sample of a noisy receiver: a visit starts only after this many
    # consecutive fixes within the widened place, and ends only after this many consecutive
    # fixes outside by the margin (and the debounce time). 0 and 1 both mean "one fix".
    enter_min_fixes: int = 2
    exit_min_fixes: int = 2
    dwell_max_speed_mps: float = 3.0  # faster than a brisk walk is passing through, not dwelling
    # A device silent for longer than this (between two accepted pings) has lost its signal:
    # its open visits end at its last ping before the silence, and its pending enters and exits
    # are dropped. Without it a phone switched off in a shop stays inside until it reports
    # again, perhaps days later from home, and that visit lasts days. Phones that track a
    # place report every few minutes at most, so half an hour of silence is not a quiet phone
    # standing still. 0 turns it off (visits then end only by leaving or a removed place).
    signal_lost_s: float = 1800.0
    lateness_s: float = 30.0  # pings are re-ordered by timestamp within this window
    default_accuracy_m: float = 0.0  # assumed when a ping carries no accuracy

    @property
    def near_m(self) -> float:
        """The widest distance outside a place that the transitions ever look at."""
        return self.exit_margin_m + self.enter_accuracy_cap_m


@dataclass(frozen=True, slots=True, kw_only=True)
class IndexSettings:
    """Shape of the in-memory place index."""

    cell_m: float = 250.0  # grid cell edge; ~the size of a city block
    rebuild_after: int = 256  # live changes absorbed by the rtree before the grid is rebuilt


@dataclass(frozen=True, slots=True, kw_only=True)
class WeatherSettings:
    """Weather cells and readings."""

    # Edge of a weather cell: places in one cell share one fetch and one reading. Weather
    # varies little over 5 km in a city; rain fronts are tens of kilometres wide.
    cell_m: float = 5000.0


@dataclass(frozen=True, slots=True, kw_only=True)
class DatabaseSettings:
    """Where state is kept: the embedded SQLite file by default, or PostgreSQL with PostGIS."""

    url: str = "sqlite:///data/geotrigger.sqlite3"  # relative to the working directory
    # How often a running engine looks for place changes (geotrigger places apply): one
    # indexed query per look; a changed place is live within this many seconds.
    places_poll_s: float = 5.0


@dataclass(frozen=True, slots=True, kw_only=True)
class PrivacySettings:
    """How identifiers are kept out of what is written."""

    # The key of the digests that stand in for device and ping ids in decisions. Empty: plain
    # SHA-256, fine for development and replays; set a secret in production, or a guessed
    # device id can be checked against a digest.
    pseudonym_key: str = field(default="", repr=False)  # a secret: never shown


@dataclass(frozen=True, slots=True, kw_only=True)
class RetentionSettings:
    """How long what the database keeps about people is kept (``geotrigger db prune``)."""

    # Decisions are the trace behind every moment (explain, audits, funnels); a quarter of a
    # year answers "why did I get this?" and keeps seasonal comparisons. Counted from when
    # the decision was stored.
    decisions_days: float = 90.0
    # Raw pings are exact positions of people: off unless a deployment needs them (debugging
    # matching, re-running a day). Kept at most this long after they were received.
    keep_raw_pings: bool = False
    raw_pings_ttl_s: float = 86400.0
    # The log of place changes that running engines follow; one that has been away longer
    # than this compares every place when it looks again.
    place_changes_days: float = 7.0
    # Weather readings the sweeps stored: rules read the newest, weather triggers compare it
    # with the one before; a week answers "what was the weather then?". Counted from when the
    # reading was observed; a key's newest reading is always kept.
    weather_readings_days: float = 7.0
    # Ingestion receipts (the answer each ping got, so that a ping sent again gets the same):
    # a client re-sends within minutes; a day covers a phone that was offline overnight.
    ping_receipts_s: float = 86400.0


@dataclass(frozen=True, slots=True, kw_only=True)
class ApiSettings:
    """The HTTP API: per-key request limits (a token bucket per key), and how many devices'
    states the ingesting process keeps in memory."""

    # Where the API's workers share their limits (redis://HOST:PORT/DB). Empty: each process
    # limits on its own, which is right for one worker; with N workers a key would get N
    # times its rate.
    redis_url: str = field(default="", repr=False)  # may hold a password: never shown
    # The rate a key without a rate of its own may sustain, and the burst it may send at once
    # after being idle. A phone posts a ping every few seconds; 50/s is a busy gateway.
    rate_per_s: float = 50.0
    burst: float = 100.0
    # Device states kept in memory between requests (the most recently seen; a few KB each):
    # a batch then reads only the devices it does not hold. Every batch still writes its
    # states to the database. 0: read every batch's states from the database.
    devices_in_memory: int = 100_000


@dataclass(frozen=True, slots=True, kw_only=True)
class Settings:
    """All settings of one process."""

    filters: FilterSettings = field(default_factory=FilterSettings)
    transitions: TransitionSettings = field(default_factory=TransitionSettings)
    index: IndexSettings = field(default_factory=IndexSettings)
    weather: WeatherSettings = field(default_factory=WeatherSettings)
    privacy: PrivacySettings = field(default_factory=PrivacySettings)
    database: DatabaseSettings = field(default_factory=DatabaseSettings)
    retention: RetentionSettings = field(default_factory=RetentionSettings)
    api: ApiSettings = field(default_factory=ApiSettings)


_T = TypeVar("_T")

# bool("false") is True: switches are read from these words only (any case), nothing else.
_SWITCH = {"true": True, "1": True, "yes": True, "on": True}
_SWITCH |= {"false": False, "0": False, "no": False, "off": False}


def _coerce(section: str, name: str, default: Any, raw: str) -> Any:
    var = f"GEOTRIGGER_{section.upper()}_{name.upper()}"
    if isinstance(default, bool):
        switch = _SWITCH.get(raw.strip().lower())
        if switch is None:
            raise ConfigError(f"{var}={raw!r}: expected true or false (or 1/0, yes/no, on/off)")
        return switch
    try:
        value: Any = type(default)(raw)
    except ValueError as exc:
        raise ConfigError(f"{var}={raw!r}: expected a {type(default).__name__}") from exc
    if isinstance(value, float) and not (math.isfinite(value) and value >= 0):
        raise ConfigError(f"{var}={raw!r}: expected a finite number >= 0")
    if isinstance(value, int) and value < 0:
        raise ConfigError(f"{var}={raw!r}: expected a whole number >= 0")
    return value


def _section_from_env(section: str, obj: _T, env: Mapping[str, str]) -> _T:
    changes = {}
    for f in fields(obj):  # type: ignore[arg-type]
        raw = env.get(f"GEOTRIGGER_{section.upper()}_{f.name.upper()}")
        if raw is not None:
            changes[f.name] = _coerce(section, f.name, getattr(obj, f.name), raw)
    return replace(obj, **changes)  # type: ignore[type-var]


@dataclass(frozen=True, slots=True)
class NumberRule:
    """What a numeric variable accepts: how its text is read, which values pass, and the words
    for them in an error ("a positive number")."""

    parse: Callable[[str], float | int]
    accepts: Callable[[float], bool]
    expected: str


POSITIVE = NumberRule(float, lambda value: value > 0, "a positive number")
NON_NEGATIVE = NumberRule(float, lambda value: value >= 0, "a number >= 0")
COUNT = NumberRule(int, lambda value: value >= 1, "a whole number >= 1")


def checked_number(variable: str, text: str, rule: NumberRule) -> float | int:
    """``text``, the value of ``variable``, read by ``rule``; ConfigError naming the variable
    and what it expects unless it is a finite number the rule accepts."""
    try:
        value = rule.parse(text.strip())
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and rule.accepts(value)):
        raise ConfigError(f"{variable}={text!r}: expected {rule.expected}")
    return value


def names_list(text: str) -> list[str]:
    """The names of a comma-separated variable (``a, b,,c``), in order, without blanks."""
    return [part.strip() for part in text.split(",") if part.strip()]


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    """Build the settings from defaults and ``GEOTRIGGER_*`` environment variables."""
    env = os.environ if env is None else env
    base = Settings()
    return Settings(
        filters=_section_from_env("filters", base.filters, env),
        transitions=_section_from_env("transitions", base.transitions, env),
        index=_section_from_env("index", base.index, env),
        weather=_section_from_env("weather", base.weather, env),
        privacy=_section_from_env("privacy", base.privacy, env),
        database=_section_from_env("database", base.database, env),
        retention=_section_from_env("retention", base.retention, env),
        api=_section_from_env("api", base.api, env),
    )
