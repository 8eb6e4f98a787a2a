"""A timeline of weather readings per key, a key being a place id or a weather cell.

Readings are kept sorted by ``observed_at`` per key; a second reading at the same key and time
replaces the first (the later added wins: a corrected observation). A place's weather is the
reading recorded for the place itself when there is one at or before the time asked, else the
reading of its weather cell (:mod:`geotrigger.weather.cells`). Whether a reading is too old to
use is for the rules to judge (they know the staleness limit); the timeline only says which
reading is the latest.

Spells: consecutive readings at a key with the same wetness form a spell, named
``"<key>:<wet|dry>:<start>"`` where start is the first reading's ``observed_at`` in ISO form.
A weather-event cap ("once per rain spell") counts in spells, and :meth:`WeatherTimeline.at`
and :meth:`WeatherTimeline.changes` both carry the same id for the same reading.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable
from datetime import UTC, datetime

from geotrigger.model import Place
from geotrigger.weather.cells import cell_of_place, parse_cell
from geotrigger.weather.reading import WeatherAt, WeatherChange, WeatherReading


class _Series:
    """The readings at one key, sorted by time, with the start of each reading's spell."""

    __slots__ = ("_starts", "readings", "times")

    def __init__(self) -> None:
        self.times: list[datetime] = []
        self.readings: list[WeatherReading] = []
        self._starts: list[datetime] | None = None

    def add(self, reading: WeatherReading) -> bool:
        """Insert in time order; True if the reading is new, False if it replaced one."""
        self._starts = None
        i = bisect_left(self.times, reading.observed_at)
        if i < len(self.times) and self.times[i] == reading.observed_at:
            self.readings[i] = reading
            return False
        self.times.insert(i, reading.observed_at)
        self.readings.insert(i, reading)
        return True

    def discard(self, observed_at: datetime) -> bool:
        """Remove the reading observed at ``observed_at``; True if there was one."""
        i = bisect_left(self.times, observed_at)
        if i < len(self.times) and self.times[i] == observed_at:
            self._starts = None
            del self.times[i]
            del self.readings[i]
            return True
        return False

    def latest(self, when: datetime) -> int | None:
        """The index of the latest reading observed at or before ``when``, if any."""
        i = bisect_right(self.times, when) - 1
        return i if i >= 0 else None

    def spell_start(self, i: int) -> datetime:
        """When the run of same wetness that reading ``i`` belongs to began."""
        if self._starts is None:
            starts: list[datetime] = []
            for j, reading in enumerate(self.readings):
                same = j > 0 and self.readings[j - 1].is_wet == reading.is_wet
                starts.append(starts[-1] if same else reading.observed_at)
            self._starts = starts
        return self._starts[i]


def spell_id(key: str, reading: WeatherReading, start: datetime) -> str:
    """The id of the spell that ``reading`` at ``key`` belongs to, begun at ``start``."""
    return f"{key}:{'wet' if reading.is_wet else 'dry'}:{start.isoformat()}"


_END_OF_TIME = datetime.max.replace(tzinfo=UTC)


class WeatherTimeline:
    """Weather readings per place id or weather cell (of ``cell_m`` metres), over time."""

    __slots__ = ("_count", "_series", "cell_m")

    def __init__(self, cell_m: float) -> None:
        if not cell_m > 0:
            raise ValueError(f"cell size must be a positive number of metres, got {cell_m!r}")
        self.cell_m = cell_m
        self._series: dict[str, _Series] = {}
        self._count = 0

    def add(self, key: str, reading: WeatherReading) -> None:
        """Record a reading for a place id or a cell key; one at the same key and time is
        replaced."""
        if not key:
            raise ValueError("weather key must be a non-empty place id or cell key")
        if self._series.setdefault(key, _Series()).add(reading):
            self._count += 1

    def discard(self, key: str, observed_at: datetime) -> None:
        """Forget the reading at ``key`` observed at ``observed_at`` (if held): a reading
        added for a decision that failed, so that it is a change again when it comes back."""
        series = self._series.get(key)
        if series is not None and series.discard(observed_at):
            self._count -= 1

    def add_arrived(
        self, readings: Iterable[tuple[str, WeatherReading]]
    ) -> tuple[list[WeatherChange], list[tuple[str, WeatherReading]]]:
        """Record readings as they arrive (a sweep), by key; returns the changes (each reading
        newer than the newest held at its key, with the one it follows) in order of time,
        then key, and the readings that were new to the timeline (for :meth:`discard`, if
        deciding the changes fails). A reading already held, or older than the newest at its
        key, only fills the history."""
        changes: list[WeatherChange] = []
        added: list[tuple[str, WeatherReading]] = []
        for key, reading in readings:
            at = reading.observed_at
            newest = self.at_key(key, _END_OF_TIME)
            known = self.at_key(key, at)
            if known is None or known.reading.observed_at != at:
                added.append((key, reading))
            self.add(key, reading)
            if newest is not None and newest.reading.observed_at >= at:
                continue  # known, or late: history only
            current = self.at_key(key, at)
            assert current is not None
            before = newest.reading if newest is not None else None
            changes.append(
                WeatherChange(
                    key=key, at=at, before=before, after=reading, spell_id=current.spell_id
                )
            )
        changes.sort(key=lambda c: (c.at, c.key))
        return changes, added

    def at_key(self, key: str, when: datetime) -> WeatherAt | None:
        """The latest reading at ``key`` observed at or before ``when``, with its spell."""
        if when.tzinfo is None:
            raise ValueError(f"'when' must be timezone-aware, got {when!r}")
        series = self._series.get(key)
        i = series.latest(when) if series is not None else None
        if series is None or i is None:
            return None
        reading = series.readings[i]
        return WeatherAt(
            key=key, reading=reading, spell_id=spell_id(key, reading, series.spell_start(i))
        )

    def at(self, place: Place, when: datetime) -> WeatherAt | None:
        """The weather at a place at ``when``: the place's own latest reading at or before
        ``when`` if it has one, else its cell's; None if neither has one yet."""
        found = self.at_key(place.id, when)
        if found is None:
            found = self.at_key(cell_of_place(place, self.cell_m), when)
        return found

    def changes(self) -> list[WeatherChange]:
        """Every reading with the one before it at its key (None for a key's first), in
        order of time, then key."""
        changes: list[WeatherChange] = []
        for key, series in self._series.items():
            before: WeatherReading | None = None
            for i, reading in enumerate(series.readings):
                spell = spell_id(key, reading, series.spell_start(i))
                changes.append(
                    WeatherChange(
                        key=key,
                        at=reading.observed_at,
                        before=before,
                        after=reading,
                        spell_id=spell,
                    )
                )
                before = reading
        changes.sort(key=lambda c: (c.at, c.key))
        return changes

    def keys(self) -> list[str]:
        """The keys (place ids and cell keys) that have readings, sorted."""
        return sorted(self._series)

    def places_in(self, key: str, places: Iterable[Place]) -> list[Place]:
        """The places a key's weather applies to: the place with that id, or else, for a cell
        key of this timeline's size, the places whose point is in that cell."""
        places = list(places)
        own = [p for p in places if p.id == key]
        if own:
            return own
        cell = parse_cell(key)
        if cell is None or cell[0] != self.cell_m:
            return []
        return [p for p in places if cell_of_place(p, self.cell_m) == key]

    def __len__(self) -> int:
        """The number of readings held (a replaced reading counts once)."""
        return self._count

    def __repr__(self) -> str:
        keys, count = len(self._series), self._count
        return f"WeatherTimeline({self.cell_m:g} m cells, {keys} keys, {count} readings)"
