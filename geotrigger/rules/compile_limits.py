"""Compiling what limits moments: suppression settings, frequency caps and their windows,
quiet hours and the rule set's policy. Input has passed :mod:`geotrigger.rules.format`."""

from __future__ import annotations

from datetime import UTC, datetime, time
from typing import Any

from geotrigger.places.zones import timezone_problem
from geotrigger.rules.durations import format_duration, parse_duration
from geotrigger.rules.located import Located
from geotrigger.rules.model import (
    Cap,
    Policy,
    QuietHours,
    Reentry,
    Scope,
    Suppression,
    Window,
    WindowKind,
)
from geotrigger.rules.report import Report


def compile_window(
    loc: Located | None, scope: Scope, at: tuple[str, int | None], report: Report
) -> Window | None:
    """The window of a cap; weather-event caps default to forever, the others must say."""
    if loc is None:
        if scope == Scope.WEATHER_EVENT:
            return Window(kind=WindowKind.FOREVER)
        path, line = at
        report.error(line, f"{path}: scope {scope.value} needs a window (e.g. calendar_day)")
        return None
    if isinstance(loc.value, str):
        return Window(kind=WindowKind(loc.value))
    rolling, fixed, anchor = loc.get("rolling"), loc.get("fixed"), loc.get("anchor")
    if rolling is not None:
        if anchor is not None:
            report.error(anchor.line, f"{at[0]}.window: anchor is only for fixed windows")
        return _sized(WindowKind.ROLLING, rolling, None, at[0], report)
    assert fixed is not None  # the format asks for exactly one of rolling, fixed
    return _sized(WindowKind.FIXED, fixed, _anchor(anchor), at[0], report)


def _sized(
    kind: WindowKind, length: Located, anchor: datetime | None, path: str, report: Report
) -> Window | None:
    seconds = parse_duration(length.value)
    if seconds <= 0:
        report.error(length.line, f"{path}.window: a {kind.value} window must be longer than 0s")
        return None
    return Window(kind=kind, length_s=seconds, anchor=anchor)


def _anchor(loc: Located | None) -> datetime | None:
    if loc is None:
        return None
    value = loc.value if isinstance(loc.value, datetime) else datetime.fromisoformat(str(loc.value))
    if value.tzinfo is None:  # YAML gives a naive datetime for "...Z": it is UTC
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def cap_label(scope: Scope, most: int, window: Window) -> str:
    """How traces name a cap: ``"consumer 1 per rolling 1h"``."""
    if window.kind in (WindowKind.ROLLING, WindowKind.FIXED):
        return (
            f"{scope.value} {most} per {window.kind.value} {format_duration(window.length_s or 0)}"
        )
    if window.kind == WindowKind.FOREVER:
        return f"{scope.value} {most} ever"  # for weather_event: once per spell
    return f"{scope.value} {most} per {window.kind.value}"


def compile_caps(loc: Located | None, path: str, report: Report) -> tuple[Cap, ...]:
    """The caps of a list (an empty tuple when absent); bad ones are reported and left out."""
    caps: list[Cap] = []
    for i, item in enumerate(loc.value if loc is not None else []):
        scope = Scope(item.value["scope"].value)
        most = int(item.value["max"].value)
        window = compile_window(item.get("window"), scope, (f"{path}[{i}]", item.line), report)
        if window is not None:
            caps.append(
                Cap(scope=scope, max=most, window=window, label=cap_label(scope, most, window))
            )
    return tuple(caps)


def compile_quiet_hours(loc: Located | None) -> QuietHours | None:
    """``"21:00-08:00"`` as quiet hours; None for null, ``none`` or absent."""
    if loc is None or loc.value is None or loc.value == "none":
        return None
    start, end = (time.fromisoformat(part) for part in str(loc.value).split("-"))
    return QuietHours(start=start, end=end)


def compile_suppression(loc: Located | None, report: Report) -> Suppression:
    """The suppression settings, model defaults for what is not given."""
    if loc is None:
        return Suppression()
    kwargs: dict[str, Any] = {}
    for key in ("max_accuracy_m", "max_speed_mps", "holdout"):
        if (item := loc.get(key)) is not None:
            kwargs[key] = float(item.value)
    if (item := loc.get("cooldown")) is not None:
        kwargs["cooldown_s"] = parse_duration(item.value)
    if (item := loc.get("reentry")) is not None:
        kwargs["reentry"] = Reentry(item.value)
    if (item := loc.get("daily_budget")) is not None:
        kwargs["daily_budget"] = int(item.value)
    quiet = compile_quiet_hours(loc.get("quiet_hours"))
    caps = compile_caps(loc.get("caps"), "suppression.caps", report)
    return Suppression(quiet_hours=quiet, caps=caps, **kwargs)


def compile_policy(loc: Located, report: Report) -> Policy:
    """The policy of a rule set: global caps, the spacing and the budget's time zone."""
    spacing = loc.get("min_spacing")
    zone = loc.get("budget_timezone")
    if zone is not None and (problem := timezone_problem(str(zone.value))) is not None:
        report.error(zone.line, f"policy.budget_timezone: {problem}")
    return Policy(
        caps=compile_caps(loc.get("caps"), "policy.caps", report),
        min_spacing_s=parse_duration(spacing.value) if spacing is not None else 0.0,
        budget_timezone=str(zone.value) if zone is not None else "UTC",
    )
