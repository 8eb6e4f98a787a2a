"""What every provider shares: the per-cell fetch that never raises, and epoch times."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import pytest
from geotrigger_providers.base import coordinate, epoch_time, fetch_each, json_object

from geotrigger.weather.provider import Cell, ProviderResponseError
from geotrigger.weather.reading import WeatherReading

CELLS = (Cell(key="c-1", lat=1.0, lon=2.0), Cell(key="c-2", lat=3.0, lon=4.0))
SECRET_URL = "https://api.example.org/v1?appid=s3cret"


def read_or_fail(cell: Cell) -> WeatherReading:
    """The first cell reads; the second meets a bug no parser expects."""
    if cell.key == "c-1":
        return WeatherReading(observed_at=datetime(2026, 6, 12, tzinfo=UTC), source="test")
    raise RuntimeError(f"surprise while reading {SECRET_URL}")


def test_an_unexpected_exception_is_a_response_error_for_that_cell_only(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.ERROR, logger="geotrigger.providers"):
        result = fetch_each("test", CELLS, read_or_fail)

    assert set(result.readings) == {"c-1"}
    error = result.errors["c-2"]
    assert isinstance(error, ProviderResponseError)
    assert error.cell == "c-2"
    assert "RuntimeError" in error.reason
    assert "s3cret" not in str(error)
    logged = [r for r in caplog.records if r.exc_info is not None]
    assert len(logged) == 1
    assert "s3cret" not in logged[0].getMessage()


def test_a_recursion_error_is_a_response_error() -> None:
    def too_deep(cell: Cell) -> WeatherReading:
        raise RecursionError("maximum recursion depth exceeded")

    result = fetch_each("test", CELLS, too_deep)

    assert dict(result.readings) == {}
    assert all(isinstance(e, ProviderResponseError) for e in result.errors.values())
    assert "recursion" in result.errors["c-1"].reason


@pytest.mark.parametrize("seconds", [1e20, -1e20, 10**30])
def test_an_epoch_time_past_the_years_a_date_holds_is_a_value_error(seconds: float) -> None:
    with pytest.raises(ValueError, match="is out of range"):
        epoch_time(seconds, "current.dt")


@pytest.mark.parametrize("value", [None, "1781244000", True, float("nan")])
def test_an_epoch_time_that_is_not_a_number_is_a_value_error(value: object) -> None:
    with pytest.raises(ValueError, match="is not a time"):
        epoch_time(value, "current.dt")


def test_an_epoch_time_is_utc() -> None:
    assert epoch_time(1781244000, "dt") == datetime(2026, 6, 12, 6, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (40.712345678, "40.7123"),
        (-74.00598, "-74.006"),
        (10.0, "10"),
        (-0.00001, "0"),
        (0.0, "0"),
        (51.4769, "51.4769"),
        (-180.0, "-180"),
    ],
)
def test_a_coordinate_has_at_most_four_decimals_and_no_trailing_zeros(
    value: float, text: str
) -> None:
    assert coordinate(value) == text


@pytest.mark.parametrize("value", [[], None, "current", 3])
def test_a_part_that_is_not_an_object_is_a_type_error_naming_it(value: object) -> None:
    with pytest.raises(TypeError, match=r"'current\.units' is not an object"):
        json_object(value, "current.units")
