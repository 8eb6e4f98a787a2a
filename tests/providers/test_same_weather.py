"""The same weather is the same condition whichever provider reports it (the policy written at
:data:`geotrigger.weather.reading.WET`): a rule on ``sleet`` or ``rain`` must not depend on
the provider it reads."""

from __future__ import annotations

from collections.abc import Mapping

import pytest
from geotrigger_providers.metno import symbol_condition
from geotrigger_providers.nws_conditions import observation_condition
from geotrigger_providers.openweathermap import CONDITIONS as OWM_CONDITIONS
from geotrigger_providers.wmo import wmo_condition

from geotrigger.weather.reading import WET, WeatherCondition

_C = WeatherCondition


def nws(icon: str | None, text: str | None = None) -> WeatherCondition | None:
    """NWS's condition of an icon name and a text description."""
    url = None if icon is None else f"https://api.weather.gov/icons/land/day/{icon}?size=medium"
    return observation_condition(url, text)


# Each kind of weather: the condition every provider must give, and what each gives for it.
SAME_WEATHER: Mapping[str, tuple[WeatherCondition, Mapping[str, WeatherCondition | None]]] = {
    "freezing drizzle": (
        _C.SLEET,
        {
            "Open-Meteo WMO 56": wmo_condition(56),
            "Open-Meteo WMO 57": wmo_condition(57),
            "NWS rain icon, 'Light Freezing Drizzle'": nws("rain", "Light Freezing Drizzle"),
            "NWS text 'Freezing Drizzle'": nws(None, "Freezing Drizzle"),
        },
    ),
    "freezing rain": (
        _C.SLEET,
        {
            "Open-Meteo WMO 66": wmo_condition(66),
            "Open-Meteo WMO 67": wmo_condition(67),
            "OpenWeatherMap 511": OWM_CONDITIONS[511],
            "NWS fzra icon": nws("fzra"),
            "NWS rain icon, 'Freezing Rain'": nws("rain", "Freezing Rain"),
        },
    ),
    "sleet": (
        _C.SLEET,
        {
            "OpenWeatherMap 611": OWM_CONDITIONS[611],
            "MET Norway sleet": symbol_condition("sleet"),
            "NWS sleet icon": nws("sleet"),
        },
    ),
    "rain showers": (
        _C.RAIN,
        {
            "Open-Meteo WMO 80": wmo_condition(80),
            "Open-Meteo WMO 81": wmo_condition(81),
            "OpenWeatherMap 521": OWM_CONDITIONS[521],
            "OpenWeatherMap 531 ragged shower rain": OWM_CONDITIONS[531],
            "MET Norway rainshowers": symbol_condition("rainshowers_day"),
            "NWS rain_showers icon": nws("rain_showers"),
        },
    ),
    "heavy rain": (
        _C.HEAVY_RAIN,
        {
            "Open-Meteo WMO 65": wmo_condition(65),
            "Open-Meteo WMO 82": wmo_condition(82),
            "OpenWeatherMap 502": OWM_CONDITIONS[502],
            "OpenWeatherMap 522": OWM_CONDITIONS[522],
            "MET Norway heavyrain": symbol_condition("heavyrain"),
            "NWS rain icon, 'Heavy Rain'": nws("rain", "Heavy Rain"),
        },
    ),
    "snow": (
        _C.SNOW,
        {
            "Open-Meteo WMO 73": wmo_condition(73),
            "OpenWeatherMap 601": OWM_CONDITIONS[601],
            "MET Norway snow": symbol_condition("snow"),
            "NWS snow icon": nws("snow"),
        },
    ),
    "thunderstorm": (
        _C.THUNDERSTORM,
        {
            "Open-Meteo WMO 95": wmo_condition(95),
            "OpenWeatherMap 211": OWM_CONDITIONS[211],
            "MET Norway rainandthunder": symbol_condition("rainandthunder"),
            "NWS tsra icon": nws("tsra"),
        },
    ),
    "fog": (
        _C.FOG,
        {
            "Open-Meteo WMO 45": wmo_condition(45),
            "OpenWeatherMap 741": OWM_CONDITIONS[741],
            "MET Norway fog": symbol_condition("fog"),
            "NWS fog icon": nws("fog"),
        },
    ),
}


@pytest.mark.parametrize("weather", list(SAME_WEATHER))
def test_the_same_weather_is_the_same_condition_across_providers(weather: str) -> None:
    expected, by_provider = SAME_WEATHER[weather]

    differing = {
        source: None if got is None else got.value
        for source, got in by_provider.items()
        if got is not expected
    }

    assert differing == {}, f"{weather} should be {expected.value}"


def test_freezing_precipitation_is_wet_everywhere() -> None:
    _, freezing = SAME_WEATHER["freezing drizzle"]
    assert all(condition in WET for condition in freezing.values())
