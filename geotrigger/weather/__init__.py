"""Weather: the normalised reading (the provider contract), weather cells, timelines of
readings per place or cell, and the changes between readings that weather moments react to."""

from geotrigger.weather.reading import (
    NUMERIC_FIELDS,
    WET,
    WeatherAt,
    WeatherChange,
    WeatherChangeKind,
    WeatherCondition,
    WeatherReading,
)

__all__ = [
    "NUMERIC_FIELDS",
    "WET",
    "WeatherAt",
    "WeatherChange",
    "WeatherChangeKind",
    "WeatherCondition",
    "WeatherReading",
]
