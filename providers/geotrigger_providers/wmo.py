"""WMO weather interpretation codes (WW, as Open-Meteo sends them in ``weather_code``) mapped to
the fixed vocabulary of :class:`~geotrigger.weather.reading.WeatherCondition`.

The table holds every code Open-Meteo documents, by the policy written at
:data:`~geotrigger.weather.reading.WET`: freezing drizzle and freezing rain are sleet, as every
provider has them; snow grains and snow showers are snow, which is not wet. Any other code
has no condition.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from geotrigger.weather.reading import WeatherCondition

_C = WeatherCondition

WMO_CONDITIONS: Mapping[int, WeatherCondition] = MappingProxyType(
    {
        0: _C.CLEAR,  # clear sky
        1: _C.CLEAR,  # mainly clear
        2: _C.PARTLY_CLOUDY,  # partly cloudy
        3: _C.CLOUDY,  # overcast
        45: _C.FOG,  # fog
        48: _C.FOG,  # depositing rime fog
        51: _C.DRIZZLE,  # drizzle: light
        53: _C.DRIZZLE,  # drizzle: moderate
        55: _C.DRIZZLE,  # drizzle: dense
        56: _C.SLEET,  # freezing drizzle: light
        57: _C.SLEET,  # freezing drizzle: dense
        61: _C.RAIN,  # rain: slight
        63: _C.RAIN,  # rain: moderate
        65: _C.HEAVY_RAIN,  # rain: heavy
        66: _C.SLEET,  # freezing rain: light
        67: _C.SLEET,  # freezing rain: heavy
        71: _C.SNOW,  # snow fall: slight
        73: _C.SNOW,  # snow fall: moderate
        75: _C.SNOW,  # snow fall: heavy
        77: _C.SNOW,  # snow grains
        80: _C.RAIN,  # rain showers: slight
        81: _C.RAIN,  # rain showers: moderate
        82: _C.HEAVY_RAIN,  # rain showers: violent
        85: _C.SNOW,  # snow showers: slight
        86: _C.SNOW,  # snow showers: heavy
        95: _C.THUNDERSTORM,  # thunderstorm: slight or moderate
        96: _C.THUNDERSTORM,  # thunderstorm with slight hail
        99: _C.THUNDERSTORM,  # thunderstorm with heavy hail
    }
)


def wmo_condition(code: Any) -> WeatherCondition | None:
    """The condition of a WMO code; None for a missing, non-integral or undocumented code."""
    if isinstance(code, bool) or not isinstance(code, int | float):
        return None
    if isinstance(code, float) and not code.is_integer():
        return None
    return WMO_CONDITIONS.get(int(code))
