"""Build rules/places/helsinki.yaml from the OpenStreetMap Helsinki fixture.

Run from the repository root:  .venv/bin/python rules/places/build_helsinki.py

Reads ../shared/fixtures/places/helsinki-osm-pois.geojson (beside the checkout) and writes the
places YAML next to this script. The output is deterministic: running it twice gives the same
file, and a test checks that the committed file is what the script makes.

Data © OpenStreetMap contributors, under the Open Database Licence 1.0; the output is a
derivative and carries the same notice.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import yaml

from geotrigger.errors import HoursError
from geotrigger.places import parse_opening_hours

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
SOURCE = REPO.parent / "shared" / "fixtures" / "places" / "helsinki-osm-pois.geojson"
TARGET = HERE / "helsinki.yaml"
TIMEZONE = "Europe/Helsinki"

# Radius by kind: the building plus a phone's usual 10-30 m urban error, no more, so that a
# walk past the door is not a visit. Unlisted kinds get DEFAULT_RADIUS_M.
DEFAULT_RADIUS_M = 40
RADIUS_M = {
    # counters and small rooms: kiosks, cafés, take-aways, cash machines
    **dict.fromkeys(
        ("kiosk", "cafe", "fast_food", "ice_cream", "atm", "vending_machine", "bakery"), 30
    ),
    **dict.fromkeys(("confectionery", "tea", "bureau_de_change", "convenience"), 30),
    # large floors, queues outside: supermarkets, venues, stations
    **dict.fromkeys(("supermarket", "variety_store", "furniture", "doityourself"), 75),
    **dict.fromkeys(("hardware", "cinema", "theatre", "library", "nightclub"), 75),
    **dict.fromkeys(("events_venue", "conference_centre", "bus_station", "parking"), 75),
    # whole blocks: department stores, malls, terminals
    **dict.fromkeys(("department_store", "mall", "ferry_terminal"), 150),
}

HEADER = """\
# Helsinki example places, built by build_helsinki.py from OpenStreetMap data.
# Do not edit by hand: change the script and run it again.
#
# Data © OpenStreetMap contributors. Available under the Open Database Licence 1.0
# (https://opendatacommons.org/licenses/odbl/1-0/; https://www.openstreetmap.org/copyright).
# This file is a derivative database of that data and is shared under the same licence.
"""


def radius_for(props: dict[str, Any]) -> int:
    """The radius of a place from its OSM kind (shop, then amenity)."""
    for key in ("shop", "amenity"):
        for kind in str(props.get(key, "")).split(";"):
            if kind.strip() in RADIUS_M:
                return RADIUS_M[kind.strip()]
    return DEFAULT_RADIUS_M


def tags_for(props: dict[str, Any]) -> list[str]:
    """Tags from the OSM shop, amenity and cuisine values, in that order, without repeats."""
    tags: list[str] = []
    for key in ("shop", "amenity", "cuisine"):
        for value in str(props.get(key, "")).split(";"):
            value = value.strip().lower()
            if value and value != "yes" and value not in tags:
                tags.append(value)
    return tags


def place_for(feature: dict[str, Any]) -> dict[str, Any]:
    """One YAML place from one GeoJSON point feature."""
    props = feature["properties"]
    lon, lat = feature["geometry"]["coordinates"]
    place: dict[str, Any] = {"id": "osm-" + feature["id"].replace("/", "-"), "name": props["name"]}
    if props.get("brand"):
        place["brand"] = props["brand"]
    tags = tags_for(props)
    if tags:
        place["tags"] = tags
    place["circle"] = {"lat": lat, "lon": lon, "radius_m": radius_for(props)}
    metadata = {"osm_id": props["osm_id"]}
    hours = props.get("opening_hours")
    if hours:
        try:
            parse_opening_hours(hours, TIMEZONE)
            place["opening_hours"] = hours
        except HoursError:
            # Kept verbatim for a person to fix upstream; not loaded as hours.
            metadata["osm_opening_hours_unparsed"] = hours
    place["metadata"] = metadata
    return place


def build(source: Path) -> str:
    """The YAML text for the fixture at ``source``."""
    data = json.loads(source.read_text(encoding="utf-8"))
    doc = {
        "version": 1,
        "description": "Shops, cafés and restaurants of central Helsinki (OpenStreetMap).",
        "attribution": data.get("attribution", "© OpenStreetMap contributors, ODbL 1.0"),
        "defaults": {"timezone": TIMEZONE},
        "places": [place_for(f) for f in sorted(data["features"], key=lambda f: f["id"])],
    }
    body = yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, default_flow_style=None)
    return HEADER + body


def main(argv: list[str] | None = None) -> int:
    """Write the YAML (or check that the committed one is current with ``--check``)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, default=SOURCE)
    parser.add_argument("--out", type=Path, default=TARGET)
    parser.add_argument("--check", action="store_true", help="exit 1 if the output is stale")
    args = parser.parse_args(argv)
    text = build(args.source)
    if args.check:
        current = args.out.read_text(encoding="utf-8") if args.out.exists() else ""
        return 0 if current == text else 1
    args.out.write_text(text, encoding="utf-8")
    print(f"wrote {args.out.relative_to(REPO) if args.out.is_relative_to(REPO) else args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
