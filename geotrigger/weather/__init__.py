"""Weather: the normalised reading (the provider contract), weather cells, timelines of
readings per place or cell, and the changes between readings that weather moments react to."""

from geotrigger.weather.cells import cell_of, cell_of_place, parse_cell, place_point
from geotrigger.weather.files import load_weather_timeline
from geotrigger.weather.reading import (
    NUMERIC_FIELDS,
    WET,
    WeatherAt,
    WeatherChange,
    WeatherChangeKind,
    WeatherCondition,
    WeatherReading,
)
from geotrigger.weather.timeline import WeatherTimeline, spell_id

__all__ = [
    "NUMERIC_FIELDS",
    "WET",
    "WeatherAt",
    "WeatherChange",
    "WeatherChangeKind",
    "WeatherCondition",
    "WeatherReading",
    "WeatherTimeline",
    "cell_of",
    "cell_of_place",
    "load_weather_timeline",
    "parse_cell",
    "place_point",
    "spell_id",
]
