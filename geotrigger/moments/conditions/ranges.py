"""Numbers and ranges as condition reasons tell them."""

from __future__ import annotations

from geotrigger.rules.model import NumberRange


def number(value: float) -> str:
    """A number without noise: ``12``, ``12.5``, ``0.33``."""
    return f"{value:.2f}".rstrip("0").rstrip(".") if value != int(value) else f"{value:.0f}"


def describe_range(bounds: NumberRange, unit: str = "") -> str:
    """A range in words: ``0-200 m``, ``at least 15``, ``at most 7 m/s``."""
    suffix = f" {unit}" if unit else ""
    if bounds.min is not None and bounds.max is not None:
        return f"{number(bounds.min)}-{number(bounds.max)}{suffix}"
    if bounds.min is not None:
        return f"at least {number(bounds.min)}{suffix}"
    assert bounds.max is not None  # a NumberRange has at least one bound
    return f"at most {number(bounds.max)}{suffix}"


def range_seen(bounds: NumberRange) -> dict[str, float | None]:
    """A range as JSON-ready trace values."""
    return {"min": bounds.min, "max": bounds.max}
