"""Places from a CSV store list: a header ``id,name,lat,lon,radius_m,...``, one store per row.

Optional columns ``brand``, ``tags`` (``;``-separated), ``opening_hours``, ``timezone`` and
``dwell_s`` fill those fields; every other column goes to the metadata (empty cells are left
out). A missing or empty ``radius_m`` takes the loader's default radius. Errors name the line.
"""

from __future__ import annotations

import csv
import math
from pathlib import Path
from typing import Any

from geotrigger.errors import Where
from geotrigger.places.findings import Finding, error
from geotrigger.places.raw import RawPlace

REQUIRED = ("id", "lat", "lon")
FIELDS = ("id", "name", "brand", "tags", "opening_hours", "timezone", "dwell_s")
_NUMBERS = ("lat", "lon", "radius_m", "dwell_s")
_CIRCLE = ("lat", "lon", "radius_m")


def read_csv(path: Path, source: str) -> tuple[list[RawPlace], list[Finding]]:
    """Raw places of one CSV file, and the findings about its header and rows."""
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            return _read_rows(csv.reader(handle), source)
    except (OSError, UnicodeDecodeError) as exc:
        return [], [error("file-unreadable", Where(source=source), f"cannot read: {exc}")]
    except csv.Error as exc:
        return [], [error("csv-syntax", Where(source=source), f"not valid CSV: {exc}")]


def _read_rows(reader: Any, source: str) -> tuple[list[RawPlace], list[Finding]]:
    header = [h.strip() for h in next(reader, [])]
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        msg = f"header lacks {', '.join(missing)} (expected id,name,lat,lon,radius_m,...)"
        return [], [error("csv-header", Where(source=source, line=1), msg)]
    repeated = sorted({c for c in header if header.count(c) > 1 and c})
    if repeated:
        names = ", ".join(repr(c) for c in repeated)
        msg = f"header repeats the column(s) {names}: which one is meant?"
        return [], [error("csv-header", Where(source=source, line=1), msg)]
    raws: list[RawPlace] = []
    findings: list[Finding] = []
    next_line = 2
    for row in reader:
        line, next_line = next_line, reader.line_num + 1  # a quoted cell may span lines
        if not any(cell.strip() for cell in row):
            continue
        where = Where(source=source, line=line)
        if len(row) != len(header):
            msg = f"row has {len(row)} cells, the header {len(header)}"
            findings.append(error("csv-shape", where, msg))
            continue
        raws.append(_raw_place(dict(zip(header, row, strict=True)), where))
    return raws, findings


def _raw_place(row: dict[str, str], where: Where) -> RawPlace:
    cells = {k: v.strip() for k, v in row.items() if v.strip()}
    findings: list[Finding] = []
    values: dict[str, Any] = dict(cells)
    if cells.get("id"):
        where = Where(source=where.source, line=where.line, item_id=cells["id"])
    for key in _NUMBERS:
        if key in cells:
            number = _number(cells[key])
            if number is None:
                msg = f"{key} must be a number, got {cells[key]!r}"
                findings.append(error("field-type", where, msg))
            values[key] = number
    fields = {k: values[k] for k in FIELDS if k in values}
    fields["metadata"] = {k: v for k, v in cells.items() if k not in {*FIELDS, *_NUMBERS}}
    circle = {k: values[k] for k in _CIRCLE if values.get(k) is not None}
    # A circle number that is not one was reported above; a circle without it would be
    # reported again as missing.
    unusable = any(k in cells and values[k] is None for k in _CIRCLE)
    return RawPlace(
        where=where,
        fields=fields,
        geometry=None if unusable else ("circle", circle),
        hours_strict=False,
        findings=tuple(findings),
    )


def _number(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None
