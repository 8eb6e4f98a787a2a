"""The one exception tree of geotrigger.

::

    GeotriggerError                 anything geotrigger raises on purpose
    ├── ConfigError                 a setting is missing, malformed or refused
    │   └── DatabaseError           the database failed or cannot be reached (HTTP 503)
    ├── InputError                  bad input named by where it came from (file, line, feature, id)
    │   ├── PlaceError              a place that cannot be loaded (geometry, hours, fields)
    │   ├── PingError               a ping that cannot be parsed at all
    │   ├── HoursError              an opening-hours expression that does not parse
    │   ├── RuleError               a moments (rules) file that cannot be compiled
    │   ├── ConsumerError           a consumer profile that cannot be loaded
    │   ├── WeatherError            a weather reading or timeline record that cannot be loaded
    │   └── DecisionError           a decisions file that cannot be read back (explain)
    ├── IndexUsageError             misuse of the place index (unknown id, bad arguments)
    └── NotFoundError               what a request names by its id is not there (a moment)

Messages are built from identifiers, never from raw coordinates of devices: a place's own
coordinates may be quoted (they are public), a device's never.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True, kw_only=True)
class Where:
    """Where a piece of input came from, for error messages."""

    source: str | None = None  # file path or "<stdin>", as the user gave it
    line: int | None = None  # 1-based line in a text file (YAML, CSV, JSONL)
    feature: int | None = None  # 0-based feature index in a GeoJSON FeatureCollection
    item_id: str | None = None  # the place or ping id, when known

    def __str__(self) -> str:
        parts: list[str] = []
        if self.item_id is not None:
            parts.append(repr(self.item_id))
        if self.source is not None:
            loc = self.source
            if self.line is not None:
                loc += f" line {self.line}"
            if self.feature is not None:
                loc += f" feature {self.feature}"
            parts.append(f"in {loc}")
        elif self.line is not None:
            parts.append(f"line {self.line}")
        elif self.feature is not None:
            parts.append(f"feature {self.feature}")
        return " ".join(parts)


class GeotriggerError(Exception):
    """Base of every error geotrigger raises on purpose."""

    http_status: int = 500


class ConfigError(GeotriggerError):
    """A setting is missing, malformed or refused."""

    http_status = 500


class DatabaseError(ConfigError):
    """The database failed or cannot be reached; the message names it (never its password)."""

    http_status = 503


class InputError(GeotriggerError):
    """Bad input; the message names what it is, where it is and what is wrong."""

    http_status = 400
    noun = "input"

    def __init__(self, reason: str, *, where: Where | None = None) -> None:
        self.reason = reason
        self.where = where or Where()
        prefix = str(self.where)
        super().__init__(f"{self.noun} {prefix}: {reason}" if prefix else f"{self.noun}: {reason}")


class PlaceError(InputError):
    """A place that cannot be loaded."""

    noun = "place"


class PingError(InputError):
    """A ping that cannot be parsed at all (as opposed to one that is filtered out)."""

    noun = "ping"


class HoursError(InputError):
    """An opening-hours expression that does not parse."""

    noun = "opening hours"


class IndexUsageError(GeotriggerError):
    """Misuse of the place index (unknown id, arguments of the wrong shape)."""


class NotFoundError(GeotriggerError):
    """What a request names by its id is not there (a moment an outcome is reported for).

    The message names the kind of thing and its id: ``moment 'abc123' not found``."""

    http_status = 404

    def __init__(self, noun: str, item_id: str) -> None:
        self.noun = noun
        self.item_id = item_id
        super().__init__(f"{noun} {item_id!r} not found")


class RuleError(InputError):
    """A moments (rules) file, or one rule in it, that cannot be compiled."""

    noun = "rule"


class ConsumerError(InputError):
    """A consumer profile that cannot be loaded."""

    noun = "consumer"


class WeatherError(InputError):
    """A weather reading or a record of a weather timeline that cannot be loaded."""

    noun = "weather"


class DecisionError(InputError):
    """A record of a decisions file that cannot be read back."""

    noun = "decision"
