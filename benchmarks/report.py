"""Rows of a benchmark report and how they are printed."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True, kw_only=True)
class Row:
    """One measured line: what, how fast, and how that compares with the baseline of its group."""

    group: str  # e.g. "matching, 10k places"
    name: str  # e.g. "index.match (batch)"
    value: float  # the median measurement
    unit: str  # e.g. "pings/s", "bytes/place"
    ratio: float | None = None  # value / the group's baseline, measured in the same run
    note: str = ""


def median_rate(fn: Callable[[], object], items: int, *, repeat: int = 5) -> float:
    """Median items per second of ``fn`` over ``repeat`` runs (one warm-up run first)."""
    fn()
    rates = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        rates.append(items / (time.perf_counter() - start))
    return statistics.median(rates)


def print_table(rows: list[Row]) -> None:
    """Print rows as a fixed-width table, grouped."""
    header = f"{'group':<34} {'measurement':<54} {'median':>14} {'unit':<12} {'ratio':>8}  note"
    print(header)
    print("-" * len(header))
    last_group = None
    for row in rows:
        group = row.group if row.group != last_group else ""
        last_group = row.group
        ratio = f"{row.ratio:.2f}x" if row.ratio is not None else ""
        print(
            f"{group:<34} {row.name:<54} {row.value:>14,.0f} {row.unit:<12} {ratio:>8}  {row.note}"
        )
