"""``geotrigger serve``: the HTTP API on a database (``--examples``: with the shipped places,
moments and consumers applied and a key to try it with, as ``make run`` does).

One API process per database (the second refuses to start): the engine holds device state
between batches. Request logs are off: a URL can carry an API key (``?key=``, as Traccar
Client sends it) and the bodies carry positions. The metrics (``/metrics``) count requests by
route and status.
"""

from __future__ import annotations

import argparse
import logging
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from geotrigger.auth import Scope
from geotrigger.cli.arguments import add_database_url
from geotrigger.cli.db import database_url
from geotrigger.cli.heap import settle_heap
from geotrigger.config import load_settings
from geotrigger.consumers import load_consumers
from geotrigger.jobs.ingest import sole_ingester
from geotrigger.places import load_places_strict
from geotrigger.rules.loading import read_rule_files
from geotrigger.store import api_keys, migrations
from geotrigger.store import consumers as consumers_repo
from geotrigger.store.database import shown, transaction
from geotrigger.store.places import apply_places, load_places
from geotrigger.store.rule_sets import save_rule_set

REPO = Path(__file__).resolve().parents[2]
EXAMPLE_KEY_NAME = "examples (geotrigger serve --examples)"


def register(subparsers: Any) -> None:
    """Add ``serve``."""
    parser = subparsers.add_parser("serve", help="run the HTTP API (OpenAPI at /docs)")
    parser.add_argument("--host", default="127.0.0.1", help="default 127.0.0.1")
    parser.add_argument("--port", type=int, default=8080, help="default 8080")
    add_database_url(parser)
    parser.add_argument(
        "--examples",
        action="store_true",
        help="migrate the database and apply the shipped places, moments and consumers, and "
        "print a new API key to try the API with",
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Handler of ``geotrigger serve``."""
    import uvicorn

    from geotrigger.api.app import create_app
    from geotrigger.api.service import open_service

    url = database_url(args)
    settings = load_settings()
    key = prepare_examples(url) if args.examples else None
    service = open_service(url, settings)
    settle_heap()  # the places, index and rules live as long as the process
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    base = f"http://{args.host}:{args.port}"
    print(f"geotrigger: serving {shown(url)} on {base} (OpenAPI: {base}/docs)", flush=True)
    if key is not None:
        print(example_text(base, key), flush=True)
    try:
        with sole_ingester(service.durable):
            uvicorn.run(
                create_app(service),
                host=args.host,
                port=args.port,
                access_log=False,
                log_level="warning",
            )
    finally:
        service.close()
    return 0


def prepare_examples(url: str) -> str:
    """Migrate, apply the shipped places, moments (and the API demo moment) and consumers,
    and make a new key for trying the API (earlier example keys are revoked)."""
    migrations.upgrade(url)
    now = datetime.now(UTC)
    places = load_places_strict([REPO / "rules" / "places"]).places
    texts, _ = read_rule_files([REPO / "rules" / "moments", REPO / "examples" / "moments"])
    directory = load_consumers([REPO / "examples" / "consumers"])
    with transaction(url) as conn:
        if not load_places(conn):
            apply_places(conn, places=places, now=now)
        save_rule_set(conn, sources={Path(n).name: t for n, t in texts}, now=now)
        for consumer in directory:
            if consumers_repo.load_consumer(conn, consumer_id=consumer.id) is None:
                consumers_repo.save_consumer(conn, consumer=consumer, now=now)
        for old in api_keys.list_keys(conn):
            if old.name == EXAMPLE_KEY_NAME and old.revoked_at is None:
                api_keys.revoke_key(conn, old.id, now=now)
        _, full_key = api_keys.create_key(
            conn,
            name=EXAMPLE_KEY_NAME,
            scopes=frozenset(Scope),
            now=now,
        )
    return full_key


def example_text(base: str, key: str) -> str:
    """How to try it: a consumer, two pings walking into Stockmann, the moment it fires."""
    auth = '-H "Authorization: Bearer $GEOTRIGGER_KEY"'
    profile = (
        '{"devices": ["\'$id\'-phone"], "consent": {"location_marketing": true}, '
        '"affinities": {"clothes": 0.8}}'
    )
    ping = (
        '{"id": "%s", "device_id": "\'$id\'-phone", "lat": %s, "lon": %s, '
        '"accuracy_m": 8, "timestamp": \'%s\'}'
    )
    first = ping % ("p1", "60.1686", "24.9412", "$((now-20))")
    second = ping % ("p2", "60.1687", "24.9413", "$now")
    return f"""
An API key for trying it (shown once; every scope):

  export GEOTRIGGER_KEY={key}

Make a consumer who likes clothes, then post two pings walking into Stockmann:

  id=demo-$(date +%s); now=$(date -u +%s)
  curl -s -X PUT {base}/v1/consumers/$id {auth} -d '{profile}'
  curl -s {base}/v1/pings {auth} -d '[{first}, {second}]'

The answer lists, per ping, its transitions and the moments it fired (api-demo-welcome).
"""
