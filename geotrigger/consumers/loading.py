"""Consumer profiles from files, for replay and tests: JSON Lines or YAML, files or folders.

JSON Lines (``.jsonl``): one consumer object per line; blank lines and lines starting with
``#`` are skipped. YAML (``.yaml``, ``.yml``): ``version: 1`` and ``consumers:`` a list of the
same objects. The fields are described in :mod:`geotrigger.consumers.record`.

Loading is all or nothing: :func:`load_consumers` raises one ConsumerError listing every bad
record (file, line, consumer id and what is wrong), including ids given twice and devices
claimed by two consumers, so that one run shows everything to fix.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from geotrigger.consumers.directory import ConsumerDirectory
from geotrigger.consumers.profile import Consumer
from geotrigger.consumers.record import build_consumer
from geotrigger.errors import ConsumerError, PlaceError, Where
from geotrigger.places.yaml_nodes import child, key_line, line_of, parse
from geotrigger.suggest import did_you_mean

SUFFIXES = (".jsonl", ".yaml", ".yml")
VERSION = 1
TOP_KEYS = ("version", "consumers", "description")


@dataclass(frozen=True, slots=True, kw_only=True)
class _Record:
    """One consumer object as read, with where it is and the lines of its fields."""

    source: str
    line: int
    data: Any
    field_lines: Mapping[str, int] = field(default_factory=dict)

    def at(self, field_name: str | None = None) -> Where:
        line = self.field_lines.get(field_name, self.line) if field_name else self.line
        return Where(source=self.source, line=line, item_id=_id_of(self))


def load_consumers(paths: str | Path | Iterable[str | Path]) -> ConsumerDirectory:
    """The consumers of files (``.jsonl``, ``.yaml``, ``.yml``) and folders of them;
    ConsumerError listing every bad record if there is any."""
    errors: list[ConsumerError] = []
    records: list[_Record] = []
    for path, source in _files(paths, errors):
        reader = _read_jsonl if path.suffix.lower() == ".jsonl" else _read_yaml
        records.extend(reader(path, source, errors))
    built: list[tuple[Consumer, _Record]] = []
    for record in records:
        consumer, problems = build_consumer(record.data)
        errors.extend(ConsumerError(p.reason, where=record.at(p.field)) for p in problems)
        if consumer is not None:
            built.append((consumer, record))
    duplicates = _duplicate_ids(records, errors)
    named = [r for r in records if _id_of(r) is not None and id(r) not in duplicates]
    errors.extend(_shared_devices(named))
    if errors:
        errors.sort(key=lambda e: (e.where.source or "", e.where.line or 0))
        listed = "\n".join(f"  {e}" for e in errors)
        raise ConsumerError(f"{len(errors)} error(s) in the consumer files:\n{listed}")
    return ConsumerDirectory(consumer for consumer, _ in built)


def _files(
    paths: str | Path | Iterable[str | Path], errors: list[ConsumerError]
) -> list[tuple[Path, str]]:
    """The files to read, each with its name as the user gave it."""
    given = [paths] if isinstance(paths, str | Path) else list(paths)
    files: list[tuple[Path, str]] = []
    for name in given:
        path = Path(name)
        where = Where(source=str(name))
        if path.is_dir():
            found = sorted(p for p in path.iterdir() if p.suffix.lower() in SUFFIXES)
            files.extend((p, str(p)) for p in found if p.is_file())
            if not found:
                errors.append(ConsumerError("folder has no consumer files", where=where))
        elif not path.exists():
            errors.append(ConsumerError("no such file or folder", where=where))
        elif path.suffix.lower() not in SUFFIXES:
            kinds = ", ".join(SUFFIXES)
            errors.append(ConsumerError(f"unknown file type (expected {kinds})", where=where))
        else:
            files.append((path, str(name)))
    return files


def _text(path: Path, source: str, errors: list[ConsumerError]) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        errors.append(ConsumerError(f"cannot read: {exc}", where=Where(source=source)))
        return None


def _read_jsonl(path: Path, source: str, errors: list[ConsumerError]) -> list[_Record]:
    """One record per non-blank, non-comment line."""
    text = _text(path, source, errors)
    records: list[_Record] = []
    for number, line in enumerate((text or "").splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        try:
            data = json.loads(line)
        except json.JSONDecodeError as exc:
            where = Where(source=source, line=number)
            reason = f"not valid JSON: {exc.msg} (column {exc.colno})"
            errors.append(ConsumerError(reason, where=where))
            continue
        records.append(_Record(source=source, line=number, data=data))
    return records


def _read_yaml(path: Path, source: str, errors: list[ConsumerError]) -> list[_Record]:
    """The records of ``consumers:``, each with the lines of its fields."""
    text = _text(path, source, errors)
    if text is None:
        return []
    try:
        data, root = parse(text, source)
    except PlaceError as exc:  # the shared YAML reader's alias budget speaks of places
        errors.append(ConsumerError(exc.reason, where=exc.where))
        return []
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = Where(source=source, line=mark.line + 1 if mark else None)
        problem = getattr(exc, "problem", None) or str(exc)
        errors.append(ConsumerError(f"not valid YAML: {problem}", where=where))
        return []
    problems = _top_problems(data, root, source)
    if problems:
        errors.extend(problems)
        return []
    nodes = child(root, "consumers")
    if not isinstance(nodes, yaml.SequenceNode):
        return []  # none given (``consumers:`` empty or missing)
    items = zip(data["consumers"], nodes.value, strict=True)
    return [_yaml_record(item, node, source) for item, node in items]


def _yaml_record(item: Any, node: yaml.Node, source: str) -> _Record:
    lines: dict[str, int] = {}
    if isinstance(node, yaml.MappingNode):
        lines = {str(k.value): line_of(k) or 0 for k, _ in node.value}
    return _Record(source=source, line=line_of(node) or 0, data=item, field_lines=lines)


def _top_problems(data: Any, root: yaml.Node | None, source: str) -> list[ConsumerError]:
    """What is wrong with the document around the consumers: its shape and version."""
    if not isinstance(data, Mapping):
        where = Where(source=source, line=line_of(root))
        return [ConsumerError("expected a mapping with 'version' and 'consumers'", where=where)]
    problems = [
        ConsumerError(
            f"unknown key {key!r}{did_you_mean(key, TOP_KEYS)}",
            where=Where(source=source, line=key_line(root, str(key))),
        )
        for key in data
        if key not in TOP_KEYS
    ]
    version = data.get("version")
    if type(version) is not int or version != VERSION:  # ``true`` is not 1
        where = Where(source=source, line=key_line(root, "version"))
        found = repr(data["version"]) if "version" in data else "none"
        problems.append(ConsumerError(f"'version' must be {VERSION}, got {found}", where=where))
    if not isinstance(data.get("consumers", []), list | None):
        where = Where(source=source, line=key_line(root, "consumers"))
        problems.append(ConsumerError("'consumers' must be a list", where=where))
    return problems


def _id_of(record: _Record) -> str | None:
    consumer_id = record.data.get("id") if isinstance(record.data, Mapping) else None
    return consumer_id if isinstance(consumer_id, str) else None


def _duplicate_ids(records: list[_Record], errors: list[ConsumerError]) -> set[int]:
    """An error on every record whose id an earlier one has; the ``id()`` of those records."""
    first: dict[str, _Record] = {}
    duplicates: set[int] = set()
    for record in records:
        consumer_id = _id_of(record)
        if consumer_id is None:
            continue
        earlier = first.setdefault(consumer_id, record)
        if earlier is not record:
            duplicates.add(id(record))
            reason = f"duplicate consumer id (first at {earlier.source} line {earlier.line})"
            errors.append(ConsumerError(reason, where=record.at("id")))
    return duplicates


def _shared_devices(records: list[_Record]) -> list[ConsumerError]:
    """An error on every record listing a device an earlier record (of another id) listed.

    Records with other errors take part too, so that one run shows every clash. The device is
    named by its position in the list, never by its id (see the record module).
    """
    owners: dict[str, _Record] = {}
    errors: list[ConsumerError] = []
    for record in records:
        devices = record.data.get("devices") if isinstance(record.data, Mapping) else None
        for i, device in enumerate(devices if isinstance(devices, list) else []):
            if not isinstance(device, str):
                continue
            owner = owners.setdefault(device, record)
            if owner.data["id"] != record.data["id"]:
                reason = (
                    f"field 'devices': item {i} is also claimed by consumer {owner.data['id']!r} "
                    f"({owner.source} line {owner.line})"
                )
                errors.append(ConsumerError(reason, where=record.at("devices")))
    return errors
