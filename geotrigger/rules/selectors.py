"""Checking a trigger's place selector against the places that will be loaded with it.

An unknown place id is an error (the rule could never fire there); a tag or brand no place
has is a warning (places may come later), each with the closest known name.
"""

from __future__ import annotations

from collections.abc import Mapping

from geotrigger.model import Place
from geotrigger.rules.located import Located
from geotrigger.rules.report import Report
from geotrigger.suggest import did_you_mean


def check_selector(loc: Located, places: Mapping[str, Place], report: Report) -> None:
    """Report ids, tags and brands of the selector at ``loc`` that no place has."""
    tags = {t for p in places.values() for t in p.tags}
    brands = {p.brand for p in places.values() if p.brand is not None}
    for key, known, error in (
        ("ids", places.keys(), True),
        ("tags", tags, False),
        ("brands", brands, False),
    ):
        for item in _items(loc.get(key)):
            name = item.value
            if name in known:
                continue
            hint = did_you_mean(str(name), known)
            if error:
                report.error(
                    item.line,
                    f"trigger.places.ids: no place has the id {name!r}{hint}",
                    code="place",
                )
            else:
                noun = key[:-1]
                report.warning(
                    item.line,
                    f"trigger.places.{key}: no place has the {noun} {name!r}{hint}",
                    code="place",
                )


def _items(loc: Located | None) -> list[Located]:
    if loc is None:
        return []
    return loc.value if isinstance(loc.value, list) else [loc]
