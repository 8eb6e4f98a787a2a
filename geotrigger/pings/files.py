"""Files of pings, streamed: JSON Lines, CSV and GPX.

:func:`read_pings` yields a :class:`~geotrigger.model.Ping` per good record and a
:class:`~geotrigger.model.Rejection` (reason ``malformed``, with the line) per bad one, so one
broken line never costs the rest of a day's file. A file that cannot be read at all — missing,
not a ping format, a CSV without the required columns, XML that does not parse — raises
:class:`~geotrigger.errors.PingError`.

CSV columns: ``device_id, lat, lon, timestamp`` (required), ``id, accuracy_m, speed_mps,
consumer_id`` (optional; an empty cell is "not given") and ``signal.<name>`` for device signals.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import IO, Any

import orjson

from geotrigger.errors import PingError, Where
from geotrigger.model import Ping, Rejection, RejectReason
from geotrigger.pings.gpx import iter_gpx
from geotrigger.pings.parse import REQUIRED_FIELDS, parse_ping

FORMATS = ("jsonl", "csv", "gpx")
_SUFFIXES = {".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "jsonl", ".csv": "csv", ".gpx": "gpx"}
_CSV_FIELDS = (*REQUIRED_FIELDS, "id", "accuracy_m", "speed_mps", "consumer_id")
_PROGRESS_EVERY = 4096  # records between progress callbacks: rare enough to cost nothing

Progress = Callable[[int], None]  # called with the bytes read so far
Numbered = tuple[int, Ping | Rejection]


def detect_format(path: Path) -> str:
    """The ping format of a file, from its suffix; PingError for an unknown one."""
    fmt = _SUFFIXES.get(path.suffix.lower())
    if fmt is None:
        raise PingError(
            f"cannot tell the format from the suffix {path.suffix!r}; "
            f"use .jsonl, .csv or .gpx (or name the format)",
            where=Where(source=str(path)),
        )
    return fmt


def read_pings(
    path: str | Path,
    *,
    fmt: str | None = None,
    device_id: str | None = None,
    progress: Progress | None = None,
) -> Iterator[Ping | Rejection]:
    """Stream the pings of a file, bad records as ``malformed`` rejections.

    ``fmt`` overrides the format told by the suffix; ``device_id`` names the device of a GPX
    file (default: the file name without its suffix). ``progress`` is called now and then with
    the number of bytes read, for a progress bar.
    """
    for _line, item in read_numbered(path, fmt=fmt, device_id=device_id, progress=progress):
        yield item


def read_numbered(
    path: str | Path,
    *,
    fmt: str | None = None,
    device_id: str | None = None,
    progress: Progress | None = None,
) -> Iterator[Numbered]:
    """Like :func:`read_pings`, each item with its line (CSV, JSON Lines) or fix number (GPX)."""
    path = Path(path)
    fmt = fmt or detect_format(path)
    if fmt not in FORMATS:
        raise PingError(f"unknown ping format {fmt!r}; expected one of {', '.join(FORMATS)}")
    source = str(path)
    try:
        handle = path.open("rb")
    except OSError as exc:
        raise PingError(
            f"cannot read the file: {exc.strerror}", where=Where(source=source)
        ) from exc
    with handle:
        if fmt == "gpx":
            yield from iter_gpx(handle, device_id=device_id or path.stem, source=source)
        elif fmt == "csv":
            yield from iter_csv(_counted(handle, progress), source=source)
        else:
            yield from iter_jsonl(_counted(handle, progress), source=source)


def _counted(handle: IO[bytes], progress: Progress | None) -> Iterator[bytes]:
    if progress is None:
        yield from handle
        return
    done = 0
    for n, raw in enumerate(handle, 1):
        done += len(raw)
        if n % _PROGRESS_EVERY == 0:
            progress(done)
        yield raw
    progress(done)


def iter_jsonl(lines: Iterable[bytes | str], *, source: str | None = None) -> Iterator[Numbered]:
    """Pings from JSON Lines (one object per line; blank lines are skipped)."""
    loads = orjson.loads
    for number, raw in enumerate(lines, 1):
        try:
            record = loads(raw)
        except orjson.JSONDecodeError as exc:
            if not raw.strip():
                continue
            if number == 1 and _has_bom(raw):
                # a byte-order mark, as some Windows tools write: not part of the record
                for _n, item in iter_jsonl([_strip_bom(raw)]):
                    yield number, item
                continue
            yield number, _malformed(f"not valid JSON: {exc.args[0]}", number)
            continue
        try:
            yield number, parse_ping(record)
        except PingError as exc:
            yield number, _malformed(exc.reason, number, record)


def _has_bom(raw: bytes | str) -> bool:
    return raw.startswith(b"\xef\xbb\xbf") if isinstance(raw, bytes) else raw.startswith("\ufeff")


def _strip_bom(raw: bytes | str) -> bytes | str:
    return raw[3:] if isinstance(raw, bytes) else raw[1:]


def iter_csv(lines: Iterable[bytes], *, source: str | None = None) -> Iterator[Numbered]:
    """Pings from CSV with a header row; PingError when required columns are missing."""
    reader = csv.reader(_decoded(lines, source))
    header = [name.strip() for name in next(reader, [])]
    missing = [name for name in REQUIRED_FIELDS if name not in header]
    if missing:
        raise PingError(
            f"CSV header lacks the column(s) {', '.join(missing)} "
            f"(found: {', '.join(header) or 'nothing'})",
            where=Where(source=source, line=1),
        )
    plain = [(i, name) for i, name in enumerate(header) if name in _CSV_FIELDS]
    signals = [(i, name[7:]) for i, name in enumerate(header) if name.startswith("signal.")]
    width = len(header)
    for row in reader:
        if not row:
            continue
        if len(row) != width:
            yield (
                reader.line_num,
                _malformed(f"expected {width} cells, got {len(row)}", reader.line_num),
            )
            continue
        record: dict[str, Any] = {name: row[i] for i, name in plain}
        if signals:
            record["signals"] = {name: row[i] for i, name in signals if row[i] != ""}
        try:
            yield reader.line_num, parse_ping(record)
        except PingError as exc:
            yield reader.line_num, _malformed(exc.reason, reader.line_num, record)


def _decoded(lines: Iterable[bytes], source: str | None) -> Iterator[str]:
    for number, raw in enumerate(lines, 1):
        try:
            yield raw.decode("utf-8-sig" if number == 1 else "utf-8")
        except UnicodeDecodeError as exc:
            # csv keeps no per-line state we could resume from safely, so the file stops here
            raise PingError("not valid UTF-8", where=Where(source=source, line=number)) from exc


def _malformed(detail: str, line: int, record: object = None) -> Rejection:
    device_id = ping_id = None
    if isinstance(record, dict):
        device_id = record.get("device_id") if isinstance(record.get("device_id"), str) else None
        ping_id = record.get("id") if isinstance(record.get("id"), str) else None
    return Rejection(
        reason=RejectReason.MALFORMED,
        detail=detail,
        device_id=device_id,
        ping_id=ping_id,
        line=line,
    )
