"""What the API serves from: one database, the live engine fed by requests, the API keys, the
rate limiter and the metrics of this process."""

from __future__ import annotations

from dataclasses import dataclass, field

from starlette.requests import Request

from geotrigger.api.metrics import Metrics
from geotrigger.config import Settings
from geotrigger.jobs.ingest import Ingestor
from geotrigger.ratelimit import MemoryRateLimiter, RateLimiter, rate_limiter
from geotrigger.store.api_keys import KeyCache
from geotrigger.store.durable import Durable

# The most pings one request may carry, and the largest body read (413 beyond either).
MAX_BATCH = 1000
MAX_BODY_BYTES = 4 * 1024 * 1024


@dataclass(slots=True, kw_only=True)
class Service:
    """The parts a request reaches."""

    settings: Settings
    durable: Durable
    ingestor: Ingestor
    keys: KeyCache
    limiter: RateLimiter
    # Key ids never seen cost a database read each: at most so many per client address
    # (in this process; see api/security.py).
    lookups: RateLimiter = field(default_factory=MemoryRateLimiter)
    metrics: Metrics
    max_batch: int = MAX_BATCH
    max_body_bytes: int = MAX_BODY_BYTES
    closers: list[object] = field(default_factory=list)

    def close(self) -> None:
        self.durable.close()


def service_of(request: Request) -> Service:
    """The service a request reaches (the application's state holds it)."""
    service: Service = request.app.state.service
    return service


def open_service(url: str, settings: Settings) -> Service:
    """The service of the database at ``url`` (migrated, with places and moments applied)."""
    durable = Durable(url, settings, owns_state=True)
    ingestor = Ingestor(durable, settings)
    return Service(
        settings=settings,
        durable=durable,
        ingestor=ingestor,
        keys=KeyCache(durable.engine),
        limiter=rate_limiter(settings),
        metrics=Metrics(ingestor.stats, lambda: len(ingestor.live.moments.book.places)),
    )
