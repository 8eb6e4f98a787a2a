"""Unit conversions to the units of a reading (°C, m/s), shared by the providers that receive
other units (Open-Meteo's ``current_units``, NWS's ``unitCode``, OpenWeatherMap's Kelvin)."""

from __future__ import annotations

KELVIN_AT_ZERO_C = 273.15
KMH_TO_MPS = 1 / 3.6  # km/h
MPH_TO_MPS = 0.44704  # statute miles per hour
KNOT_TO_MPS = 1852 / 3600  # nautical miles per hour
INCH_TO_MM = 25.4


def fahrenheit_to_celsius(value: float) -> float:
    """°F in °C."""
    return (value - 32.0) * 5.0 / 9.0


def kelvin_to_celsius(value: float) -> float:
    """K in °C."""
    return value - KELVIN_AT_ZERO_C
