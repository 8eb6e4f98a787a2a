"""A normalised weather reading: what every provider returns and every rule reads.

Units are explicit in the field names: degrees Celsius, millimetres per hour, metres per
second, per cent. A field a provider did not give is ``None`` (a partial reading), never a
guess. Raw provider JSON never travels past the provider; this is the contract.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum


class WeatherCondition(StrEnum):
    """The small fixed vocabulary of sky conditions every provider's codes are mapped to."""

    CLEAR = "clear"
    PARTLY_CLOUDY = "partly_cloudy"
    CLOUDY = "cloudy"
    FOG = "fog"
    DRIZZLE = "drizzle"
    RAIN = "rain"
    HEAVY_RAIN = "heavy_rain"
    SLEET = "sleet"
    SNOW = "snow"
    THUNDERSTORM = "thunderstorm"


# Conditions in which water falls from the sky: "it is raining" for rules and rain spells.
WET = frozenset(
    {
        WeatherCondition.DRIZZLE,
        WeatherCondition.RAIN,
        WeatherCondition.HEAVY_RAIN,
        WeatherCondition.SLEET,
        WeatherCondition.THUNDERSTORM,
    }
)
"""Conditions in which water falls from the sky: "it is raining" for rules and rain spells.

Every provider maps its codes to conditions by one policy, so that a rule on ``sleet`` or
``rain`` means the same weather whichever provider is read:

* freezing drizzle and freezing rain (WMO 56, 57, 66, 67; OpenWeatherMap 511; NWS ``fzra``
  and "Freezing Drizzle"/"Freezing Rain"), ice pellets and rain mixed with snow are ``sleet``;
* drizzle is ``drizzle``; rain and rain showers are ``rain`` (ragged shower rain too), and
  heavy or violent rain or showers are ``heavy_rain``;
* snow, snow grains, snow showers and blizzards are ``snow``, which is not wet;
* anything with thunder (and tornadoes, tropical storms) is ``thunderstorm``;
* mist and fog are ``fog``; haze, smoke, dust, sand, ash and squalls have no condition.
"""

# The numeric fields of a reading that rules may test and thresholds may cross.
NUMERIC_FIELDS = (
    "temperature_c",
    "feels_like_c",
    "precipitation_mm_h",
    "precipitation_probability_pct",
    "wind_speed_mps",
    "wind_gust_mps",
    "uv_index",
    "humidity_pct",
)


def _utc(name: str, value: datetime) -> None:
    if value.tzinfo is None or value.utcoffset() != timedelta(0):
        raise ValueError(f"{name} must be timezone-aware UTC, got {value!r}")


@dataclass(frozen=True, slots=True, kw_only=True)
class WeatherReading:
    """The weather at one place or weather cell, as observed (or forecast) at one time."""

    observed_at: datetime  # UTC: when the values were true
    valid_until: datetime | None = None  # UTC: after this the reading says nothing
    condition: WeatherCondition | None = None
    temperature_c: float | None = None
    feels_like_c: float | None = None
    precipitation_mm_h: float | None = None
    precipitation_probability_pct: float | None = None
    wind_speed_mps: float | None = None
    wind_gust_mps: float | None = None
    uv_index: float | None = None
    humidity_pct: float | None = None
    source: str = "unknown"  # provider name, e.g. "open-meteo", "file"

    def __post_init__(self) -> None:
        _utc("observed_at", self.observed_at)
        if self.valid_until is not None:
            _utc("valid_until", self.valid_until)
            if self.valid_until < self.observed_at:
                raise ValueError("valid_until is before observed_at")
        for name in NUMERIC_FIELDS:
            value = getattr(self, name)
            if value is not None and not math.isfinite(value):
                raise ValueError(f"{name} must be a finite number, got {value!r}")
        for name in ("precipitation_mm_h", "wind_speed_mps", "wind_gust_mps", "uv_index"):
            value = getattr(self, name)
            if value is not None and value < 0:
                raise ValueError(f"{name} must not be negative, got {value!r}")
        for name in ("precipitation_probability_pct", "humidity_pct"):
            value = getattr(self, name)
            if value is not None and not 0 <= value <= 100:
                raise ValueError(f"{name} must be within [0, 100], got {value!r}")

    @property
    def is_wet(self) -> bool:
        """Whether it is raining (or drizzling, sleeting, storming) by the condition, or by a
        measured precipitation above zero when the condition is unknown."""
        if self.condition is not None:
            return self.condition in WET
        return bool(self.precipitation_mm_h)

    def age_s(self, at: datetime) -> float:
        """Seconds from the observation to ``at`` (negative if ``at`` is before it)."""
        return (at - self.observed_at).total_seconds()

    def value(self, name: str) -> float | None:
        """A numeric field by name (one of :data:`NUMERIC_FIELDS`)."""
        if name not in NUMERIC_FIELDS:
            raise KeyError(name)
        value: float | None = getattr(self, name)
        return value


@dataclass(frozen=True, slots=True, kw_only=True)
class WeatherAt:
    """The reading that applies at a place at a time, with the spell it belongs to.

    ``key`` is the place id or weather cell the reading was recorded for. ``spell_id`` names
    the current run of consecutive readings at that key with the same wetness (the "rain
    spell" a weather-event frequency cap counts in): ``"<key>:<wet|dry>:<start ISO time>"``.
    """

    key: str
    reading: WeatherReading
    spell_id: str


class WeatherChangeKind(StrEnum):
    """What changed between two consecutive readings at one key."""

    STARTS = "starts"  # a condition (or "wet") began
    ENDS = "ends"  # a condition (or "wet") ended
    RISES_ABOVE = "rises_above"  # a numeric field crossed a threshold upwards
    FALLS_BELOW = "falls_below"  # a numeric field crossed a threshold downwards


@dataclass(frozen=True, slots=True, kw_only=True)
class WeatherChange:
    """Two consecutive readings at one key (place id or cell): a weather event happened at
    ``at`` (the newer reading's ``observed_at``). Which triggers it satisfies (rain starts,
    temperature rises above 25) is for the rules to say, from ``before`` and ``after``."""

    key: str
    at: datetime
    before: WeatherReading | None  # None: the first reading at this key
    after: WeatherReading
    spell_id: str  # the spell ``after`` starts or continues

    @property
    def event_id(self) -> str:
        """A stable id of this change, for decisions and weather-event caps."""
        return f"{self.key}@{self.at.isoformat()}"
