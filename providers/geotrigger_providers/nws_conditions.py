"""The condition of a US NWS observation: from its icon (its name, e.g. ``rain`` in
``/icons/land/day/rain,40?size=medium``) by :data:`ICON_CONDITIONS` (or the older names of
:data:`LEGACY_ICON_CONDITIONS`); the text description (``Light Drizzle``, ``Heavy Rain``,
``Freezing Drizzle``) narrows a ``rain`` icon to drizzle, heavy rain or sleet, and is the
fallback when the icon is missing or says nothing about the sky (haze, hot, cold). Freezing
drizzle and freezing rain are sleet, as with every provider (see
:data:`geotrigger.weather.reading.WET`)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from geotrigger.weather.reading import WeatherCondition

_C = WeatherCondition

# Every icon name api.weather.gov documents (GET /icons), by condition. ``wind_*`` is the sky
# with wind; mixed precipitation with ice is sleet; tornadoes and tropical storms are storms;
# haze, smoke, dust, hot and cold say nothing about the sky (None: the text decides).
ICON_CONDITIONS: Mapping[str, WeatherCondition | None] = {
    "skc": _C.CLEAR,
    "few": _C.PARTLY_CLOUDY,
    "sct": _C.PARTLY_CLOUDY,
    "bkn": _C.CLOUDY,
    "ovc": _C.CLOUDY,
    "wind_skc": _C.CLEAR,
    "wind_few": _C.PARTLY_CLOUDY,
    "wind_sct": _C.PARTLY_CLOUDY,
    "wind_bkn": _C.CLOUDY,
    "wind_ovc": _C.CLOUDY,
    "snow": _C.SNOW,
    "rain_snow": _C.SLEET,
    "rain_sleet": _C.SLEET,
    "snow_sleet": _C.SLEET,
    "fzra": _C.SLEET,
    "rain_fzra": _C.SLEET,
    "snow_fzra": _C.SLEET,
    "sleet": _C.SLEET,
    "rain": _C.RAIN,
    "rain_showers": _C.RAIN,
    "rain_showers_hi": _C.RAIN,
    "tsra": _C.THUNDERSTORM,
    "tsra_sct": _C.THUNDERSTORM,
    "tsra_hi": _C.THUNDERSTORM,
    "tornado": _C.THUNDERSTORM,
    "hurricane": _C.THUNDERSTORM,
    "tropical_storm": _C.THUNDERSTORM,
    "dust": None,
    "smoke": None,
    "haze": None,
    "hot": None,
    "cold": None,
    "blizzard": _C.SNOW,
    "fog": _C.FOG,
}

# The older icon names (the forecast.weather.gov image set; ``n`` prefix: night) still found in
# archived responses.
LEGACY_ICON_CONDITIONS: Mapping[str, WeatherCondition | None] = {
    "nskc": _C.CLEAR,
    "nfew": _C.PARTLY_CLOUDY,
    "nsct": _C.PARTLY_CLOUDY,
    "nbkn": _C.CLOUDY,
    "novc": _C.CLOUDY,
    "ra": _C.RAIN,
    "nra": _C.RAIN,
    "minus_ra": _C.RAIN,
    "shra": _C.RAIN,
    "nshra": _C.RAIN,
    "hi_shwrs": _C.RAIN,
    "hi_nshwrs": _C.RAIN,
    "ntsra": _C.THUNDERSTORM,
    "scttsra": _C.THUNDERSTORM,
    "nscttsra": _C.THUNDERSTORM,
    "hi_tsra": _C.THUNDERSTORM,
    "hi_ntsra": _C.THUNDERSTORM,
    "sn": _C.SNOW,
    "nsn": _C.SNOW,
    "ip": _C.SLEET,
    "nip": _C.SLEET,
    "nfzra": _C.SLEET,
    "mix": _C.SLEET,
    "nmix": _C.SLEET,
    "ra_sn": _C.SLEET,
    "nra_sn": _C.SLEET,
    "raip": _C.SLEET,
    "nraip": _C.SLEET,
    "ra_fzra": _C.SLEET,
    "nra_fzra": _C.SLEET,
    "fg": _C.FOG,
    "nfg": _C.FOG,
    "du": None,
    "fu": None,
    "hz": None,
}

# Words of NWS text descriptions ("Light Rain Fog/Mist", "Partly Cloudy"), first match wins:
# the wettest and most specific words come first.
TEXT_CONDITIONS: tuple[tuple[str, WeatherCondition], ...] = (
    ("thunder", _C.THUNDERSTORM),
    ("tornado", _C.THUNDERSTORM),
    ("funnel cloud", _C.THUNDERSTORM),
    ("freezing rain", _C.SLEET),
    ("freezing drizzle", _C.SLEET),
    ("sleet", _C.SLEET),
    ("ice pellets", _C.SLEET),
    ("rain and snow", _C.SLEET),
    ("snow and rain", _C.SLEET),
    ("wintry mix", _C.SLEET),
    ("heavy rain", _C.HEAVY_RAIN),
    ("drizzle", _C.DRIZZLE),
    ("snow", _C.SNOW),
    ("blizzard", _C.SNOW),
    ("rain", _C.RAIN),
    ("showers", _C.RAIN),
    ("fog", _C.FOG),
    ("mist", _C.FOG),
    ("overcast", _C.CLOUDY),
    ("mostly cloudy", _C.CLOUDY),
    ("partly sunny", _C.CLOUDY),
    ("partly cloudy", _C.PARTLY_CLOUDY),
    ("a few clouds", _C.PARTLY_CLOUDY),
    ("mostly clear", _C.PARTLY_CLOUDY),
    ("mostly sunny", _C.PARTLY_CLOUDY),
    ("cloudy", _C.CLOUDY),
    ("clear", _C.CLEAR),
    ("fair", _C.CLEAR),
    ("sunny", _C.CLEAR),
)

_ICON_PATH = re.compile(r"/icons/[^/]+/(?:day|night)/([^/?]+)")


def icon_name(icon: Any) -> str | None:
    """The condition name of an icon URL (``.../icons/land/day/rain,40?size=medium`` ->
    ``rain``; of a split icon ``sct,0/rain,40``, the first half) or of a bare name."""
    if not isinstance(icon, str) or not icon:
        return None
    match = _ICON_PATH.search(urlsplit(icon).path)
    if match is not None:
        token = match.group(1)
    elif "/" in icon or "?" in icon:
        return None
    else:
        token = icon
    return token.split(",", 1)[0].lower() or None


def icon_condition(icon: Any) -> WeatherCondition | None:
    """The condition an icon names; None for an unknown name or one without a sky."""
    name = icon_name(icon)
    if name is None:
        return None
    if name in ICON_CONDITIONS:
        return ICON_CONDITIONS[name]
    return LEGACY_ICON_CONDITIONS.get(name)


def text_condition(text: Any) -> WeatherCondition | None:
    """The condition a text description names, by :data:`TEXT_CONDITIONS`."""
    if not isinstance(text, str):
        return None
    lowered = text.lower()
    return next((condition for word, condition in TEXT_CONDITIONS if word in lowered), None)


def observation_condition(icon: Any, text: Any) -> WeatherCondition | None:
    """The icon's condition; the text narrows rain (drizzle, heavy rain, and freezing drizzle
    or rain, which are sleet) and stands in when the icon gives none."""
    by_icon, by_text = icon_condition(icon), text_condition(text)
    if by_icon is None:
        return by_text
    if by_icon is _C.RAIN and by_text in (_C.DRIZZLE, _C.HEAVY_RAIN, _C.SLEET):
        return by_text
    return by_icon
