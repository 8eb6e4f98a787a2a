"""Admin and read-only views of what the engine holds: reload places and moments (from the
database, or from the ``rules/`` files, applied to the database first), list and get places and
rules."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from starlette.concurrency import run_in_threadpool

from geotrigger.api.bodies import json_response
from geotrigger.api.security import AdminKey, ReadKey
from geotrigger.api.service import Service, service_of
from geotrigger.model import Circle, Place
from geotrigger.places import load_places_strict
from geotrigger.rules.loading import load_rules_texts, read_rule_files
from geotrigger.rules.report import format_finding
from geotrigger.store.places import apply_places
from geotrigger.store.rule_sets import save_rule_set

router = APIRouter(tags=["admin"])
RULES = Path(__file__).resolve().parents[2] / "rules"


@router.post("/v1/admin/reload", summary="Read places and moments again")
async def reload(request: Request, key: AdminKey, source: str = "database") -> Any:
    """``source=database`` (default): what the database holds now. ``source=files``: the
    ``rules/places`` and ``rules/moments`` of the installation are applied to the database
    first (as ``geotrigger places apply`` and ``rules apply`` would), then read."""
    service = service_of(request)
    if source not in ("database", "files"):
        raise HTTPException(400, f"source must be 'database' or 'files', not {source!r}")
    return json_response(await run_in_threadpool(_reload, service, source))


def _reload(service: Service, source: str) -> dict[str, Any]:
    applied: dict[str, Any] = {}
    if source == "files":
        places = load_places_strict([RULES / "places"]).places
        texts, findings = read_rule_files([RULES / "moments"])
        checked = load_rules_texts(texts, places={p.id: p for p in places}, findings=findings)
        if checked.errors:
            told = "; ".join(format_finding(f) for f in checked.errors[:5])
            raise HTTPException(400, f"the moments files have errors, nothing applied: {told}")
        sources = {Path(name).name: text for name, text in texts}
        with service.durable.engine.begin() as conn:
            diff = apply_places(conn, places=places, now=datetime.now(UTC))
            save_rule_set(conn, sources=sources, now=datetime.now(UTC))
        applied = {
            "places": {
                "added": len(diff.added),
                "changed": len(diff.changed),
                "removed": len(diff.removed),
            }
        }
    service.ingestor.refresh()
    moments = service.ingestor.live.moments
    return {
        "places": len(moments.book.places),
        "rules": len(moments.book.rule_set.rules),
        "rule_set_version": service.ingestor.live.version,
        **applied,
    }


def place_document(place: Place) -> dict[str, Any]:
    """A place as JSON (its own coordinates are public data, not a person's)."""
    geometry: dict[str, Any]
    if isinstance(place.geometry, Circle):
        g = place.geometry
        geometry = {"type": "circle", "lat": g.lat, "lon": g.lon, "radius_m": g.radius_m}
    else:
        geometry = {"type": place.geometry.geom_type, "wkt": place.geometry.wkt}
    return {
        "id": place.id,
        "name": place.name,
        "brand": place.brand,
        "tags": sorted(place.tags),
        "timezone": place.timezone,
        "opening_hours": None if place.opening_hours is None else place.opening_hours.expression,
        "dwell_s": place.dwell_s,
        "geometry": geometry,
    }


@router.get("/v1/places", summary="The places the engine holds (ids and names)")
async def list_places(request: Request, key: ReadKey, limit: int = 100, offset: int = 0) -> Any:
    if not (1 <= limit <= 1000) or offset < 0:
        raise HTTPException(400, "limit must be within 1..1000 and offset at least 0")
    places = service_of(request).ingestor.live.moments.book.places
    ids = sorted(places)
    page = ids[offset : offset + limit]
    return json_response(
        {
            "total": len(ids),
            "places": [
                {"id": i, "name": places[i].name, "tags": sorted(places[i].tags)} for i in page
            ],
        }
    )


@router.get("/v1/places/{place_id}", summary="One place")
async def get_place(place_id: str, request: Request, key: ReadKey) -> Any:
    place = service_of(request).ingestor.live.moments.place(place_id)
    if place is None:
        raise HTTPException(404, f"no place {place_id!r}")
    return json_response(place_document(place))


@router.get("/v1/rules", summary="The moments (rules) the engine holds")
async def list_rules(request: Request, key: ReadKey) -> Any:
    live = service_of(request).ingestor.live
    book = live.moments.book
    return json_response(
        {
            "rule_set_version": live.version,
            "rules": [
                {
                    "id": rule.id,
                    "description": rule.description,
                    "mode": rule.mode.value,
                    "trigger": rule.trigger.kind.value,
                    "places": len(book.chosen.get(rule.id, ())),
                }
                for rule in book.rule_set.rules
            ],
        }
    )


@router.get("/v1/rules/{rule_id}", summary="One moment (rule)")
async def get_rule(rule_id: str, request: Request, key: ReadKey) -> Any:
    book = service_of(request).ingestor.live.moments.book
    rule = next((r for r in book.rule_set.rules if r.id == rule_id), None)
    if rule is None:
        raise HTTPException(404, f"no rule {rule_id!r}")
    return json_response(
        {
            "id": rule.id,
            "description": rule.description,
            "priority": rule.priority,
            "mode": rule.mode.value,
            "trigger": rule.trigger.kind.value,
            "places": sorted(book.chosen.get(rule.id, ())),
            "ttl_s": rule.ttl_s,
            "channel": rule.action.channel,
        }
    )
