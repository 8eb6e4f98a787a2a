"""Loading places from files and directories: dispatch by extension, build, check across.

:func:`load_places` loads what it can and reports everything; :func:`load_places_strict` is
for callers that need all or nothing (replay, the service) and raises PlaceError on any error.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from geotrigger.errors import PlaceError, Where
from geotrigger.model import Place
from geotrigger.places.build import ASSUMED_ZONE, build_place
from geotrigger.places.csv_source import read_csv
from geotrigger.places.findings import Finding, FindingsBySeverity, Severity, error, warning
from geotrigger.places.geojson_source import read_geojson
from geotrigger.places.lint import Entry, lint
from geotrigger.places.raw import LoadDefaults, RawPlace
from geotrigger.places.yaml_source import read_yaml

Reader = Callable[[Path, str], tuple[list[RawPlace], list[Finding]]]

READERS: dict[str, Reader] = {
    ".yaml": read_yaml,
    ".yml": read_yaml,
    ".geojson": read_geojson,
    ".json": read_geojson,
    ".csv": read_csv,
}


@dataclass(frozen=True, slots=True)
class LoadResult(FindingsBySeverity):
    """The places that loaded and every finding; a place with an error is not among them."""

    places: tuple[Place, ...]
    findings: tuple[Finding, ...]

    @property
    def repaired(self) -> tuple[Finding, ...]:
        """What ``fix`` repaired."""
        return tuple(f for f in self.findings if f.severity == Severity.FIXED)


def load_places(
    paths: Iterable[str | Path], *, fix: bool = False, defaults: LoadDefaults | None = None
) -> LoadResult:
    """Load places from files (.yaml/.yml, .geojson/.json, .csv) and directories of them."""
    files, findings = source_files(paths)
    entries: list[Entry] = []
    for path, source in files:
        raws, more = READERS[path.suffix.lower()](path, source)
        findings.extend(more)
        if not raws and not any(f.severity == Severity.ERROR for f in more):
            findings.append(warning("file-empty", Where(source=source), "no places in the file"))
        built: list[Finding] = []
        for raw in raws:
            place, about = build_place(raw, fix=fix, defaults=defaults)
            built.extend(about)
            if place is not None:
                entries.append(Entry(place, raw.at()))
        findings.extend(_assumed_zones_summed(built, source, defaults))
    kept, more = lint(entries)
    findings.extend(more)
    findings.sort(key=_order)
    return LoadResult(tuple(e.place for e in kept), tuple(findings))


def load_places_strict(
    paths: Iterable[str | Path], *, defaults: LoadDefaults | None = None
) -> LoadResult:
    """Load places, all or nothing: PlaceError listing every error if there is any."""
    result = load_places(paths, defaults=defaults)
    if result.errors:
        lines = "\n".join(f"  {f.format()}" for f in result.errors)
        raise PlaceError(f"{len(result.errors)} error(s) in the places:\n{lines}")
    return result


def _assumed_zones_summed(
    findings: list[Finding], source: str, defaults: LoadDefaults | None
) -> list[Finding]:
    """One warning for the file instead of one per place that took the loader's time zone."""
    assumed = [f for f in findings if f.code == ASSUMED_ZONE]
    if not assumed or defaults is None:
        return findings
    msg = (
        f"{len(assumed)} place(s) with opening hours and no time zone: "
        f"assuming {defaults.timezone} (loader default)"
    )
    summary = warning(ASSUMED_ZONE, Where(source=source), msg)
    return [summary, *(f for f in findings if f.code != ASSUMED_ZONE)]


def source_files(paths: Iterable[str | Path]) -> tuple[list[tuple[Path, str]], list[Finding]]:
    """The files to read, each with its name as the user gave it, and the bad paths."""
    files: list[tuple[Path, str]] = []
    findings: list[Finding] = []
    seen: set[Path] = set()

    def add(path: Path, name: str) -> None:
        # The same file named twice (or a file and its folder) is read once.
        if path.resolve() not in seen:
            seen.add(path.resolve())
            files.append((path, name))

    for given in paths:
        path = Path(given)
        where = Where(source=str(given))
        if path.is_dir():
            found = sorted(p for p in path.iterdir() if _is_place_file(p))
            for p in found:
                if p.is_file():
                    add(p, str(p))
            if not found:
                findings.append(error("path-empty", where, "directory has no place files"))
        elif not path.exists():
            findings.append(error("path-missing", where, "no such file or directory"))
        elif path.suffix.lower() not in READERS:
            kinds = ", ".join(sorted(READERS))
            findings.append(error("path-type", where, f"unknown file type (expected {kinds})"))
        else:
            add(path, str(given))
    return files, findings


def _is_place_file(path: Path) -> bool:
    # JSON Schemas for editors live beside the places: *.schema.json is not a place file.
    return path.suffix.lower() in READERS and not path.name.lower().endswith(".schema.json")


def _order(f: Finding) -> tuple[str, int, int]:
    w = f.where
    return (w.source or "", w.line if w.line is not None else -1, w.feature or 0)
