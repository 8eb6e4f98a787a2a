"""The outbox relay: fired moments POSTed to their webhook destinations, signed, retried,
never late, and given up on when a receiver refuses them.

Each run (:meth:`Relay.run_once`) queues a delivery per destination for the moments whose
outbox row is pending (``store/deliveries.py``), claims the due deliveries (several relays may
run at once: a claimed row is no other relay's until its lease runs out), and makes one attempt
for each:

* the body is the moment as JSON with ``"type": "moment.fired"``, signed the Standard Webhooks
  way (:mod:`geotrigger.delivery.signing`); ``webhook-id`` is the moment's id, the same on every
  attempt, so a receiver deduplicates retries (and the rare second send after a lease ran out);
* the answer is judged by the retry policy (:mod:`geotrigger.delivery.retry`): ``sent``, a
  retry after a backoff, ``expired`` (a moment is never sent late) or ``dead``;
* a moment already expired when its turn comes: ``expired``, not sent.

Logs name moment ids, destinations and statuses only: never a URL (its query string may hold a
token), a secret or a body (it carries the consumer's id).
"""

from __future__ import annotations

import json
import logging
import math
import random
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

import requests

from geotrigger import __version__
from geotrigger.delivery.destinations import Destination
from geotrigger.delivery.retry import Answer, judge
from geotrigger.delivery.signing import sign
from geotrigger.errors import ConfigError
from geotrigger.moments.decision import Moment
from geotrigger.store.deliveries import (
    DEAD,
    EXPIRED,
    PENDING,
    SENT,
    Claim,
    Outcome,
    claim_due,
    queue_pending,
    record_outcome,
)
from geotrigger.timestamps import rfc3339, wall_clock

if TYPE_CHECKING:
    from geotrigger.store.database import Engine

log = logging.getLogger("geotrigger.delivery.relay")

Clock = Callable[[], datetime]
EVENT_TYPE = "moment.fired"
USER_AGENT = f"geotrigger/{__version__} (webhooks)"
DEFAULT_LEASE_S = 300.0  # a dead worker's deliveries come back after this
# Less time than this before a moment expires: it is not sent (it could only arrive late).
MIN_SEND_S = 1.0


@dataclass(frozen=True, slots=True, kw_only=True)
class RelayReport:
    """What one run did: deliveries queued (and moments no destination takes), then the
    outcome of each attempt; ``lost`` counts claims another relay took over meanwhile."""

    queued: int = 0
    unrouted: int = 0
    sent: int = 0
    retried: int = 0
    expired: int = 0
    dead: int = 0
    lost: int = 0

    @property
    def busy(self) -> bool:
        """Whether the run found anything to do."""
        return any((self.queued, self.unrouted, self.attempted, self.lost))

    @property
    def attempted(self) -> int:
        """Deliveries the run settled (sent, retried, expired or dead)."""
        return self.sent + self.retried + self.expired + self.dead

    def summary(self) -> str:
        """One line for logs and the command line: counts only."""
        line = (
            f"relay: {self.sent} sent, {self.retried} retried, {self.expired} expired, "
            f"{self.dead} dead; {self.queued} queued"
        )
        if self.unrouted:
            line += f", {self.unrouted} moments for no destination"
        if self.lost:
            line += f", {self.lost} taken over by another relay"
        return line


def moment_document(moment: Moment) -> dict[str, Any]:
    """The webhook's JSON document of a fired moment."""
    return {
        "type": EVENT_TYPE,
        "id": moment.id,
        "rule_id": moment.rule_id,
        "consumer_id": moment.consumer_id,
        "place_id": moment.place_id,
        "trigger": moment.trigger.value,
        "at": rfc3339(moment.at),
        "expires_at": rfc3339(moment.expires_at),
        "channel": moment.channel,
        "message": moment.message,
        "priority": moment.priority,
        "relevance": moment.relevance,
        "data": dict(moment.data),
    }


def moment_body(moment: Moment) -> bytes:
    """The body POSTed for a moment: its document as compact UTF-8 JSON."""
    document = moment_document(moment)
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


class Relay:
    """Delivers fired moments from the outbox to webhook destinations (see the module)."""

    def __init__(
        self,
        engine: Engine,
        destinations: Sequence[Destination],
        *,
        clock: Clock = wall_clock,
        session: requests.Session | None = None,
        lease_s: float = DEFAULT_LEASE_S,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        """``clock`` is the relay's now (for due times, expiry, backoff and the signatures'
        timestamps); ``session`` is closed by :meth:`close` only when the relay made it;
        ``jitter`` draws the fraction of the backoff to wait, in [0, 1]."""
        if not destinations:
            raise ConfigError("no webhook destination: set GEOTRIGGER_WEBHOOKS (e.g. crm,push)")
        names = [d.name for d in destinations]
        if len(set(names)) != len(names):
            raise ConfigError(f"a webhook destination is given twice: {', '.join(names)}")
        if not lease_s > 0:
            raise ValueError(f"lease_s must be positive, got {lease_s!r}")
        self.engine = engine
        self.destinations: Mapping[str, Destination] = {d.name: d for d in destinations}
        self.clock, self.jitter, self.lease_s = clock, jitter, lease_s
        self._own_session = session is None
        self.session = session if session is not None else requests.Session()
        # Claims are taken in batches small enough to be attempted well inside their lease.
        slowest = max(d.timeout_s for d in destinations)
        self.claim_batch = max(1, int(lease_s // (2 * slowest)))

    def close(self) -> None:
        """Close the HTTP session, if the relay made it."""
        if self._own_session:
            self.session.close()

    def __enter__(self) -> Relay:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def run_once(self, limit: int = 100) -> RelayReport:
        """Queue deliveries for up to ``limit`` new moments, then attempt up to ``limit`` due
        deliveries; what was done."""
        queued = queue_pending(
            self.engine, list(self.destinations.values()), now=self.clock(), limit=limit
        )
        counts = {SENT: 0, PENDING: 0, EXPIRED: 0, DEAD: 0}
        lost = 0
        remaining = limit
        while remaining > 0:
            claims = claim_due(
                self.engine,
                now=self.clock(),
                lease_s=self.lease_s,
                limit=min(remaining, self.claim_batch),
                destinations=self.destinations,
            )
            if not claims:
                break
            remaining -= len(claims)
            for claim in claims:
                outcome = self.attempt(claim)
                if record_outcome(self.engine, claim, outcome):
                    counts[outcome.status] += 1
                else:
                    lost += 1
                    log.warning(
                        "moment %s to %s: %s, but another relay had taken it over",
                        claim.moment.id,
                        claim.destination,
                        outcome.status,
                    )
        return RelayReport(
            queued=queued.created,
            unrouted=queued.unrouted,
            sent=counts[SENT],
            retried=counts[PENDING],
            expired=counts[EXPIRED],
            dead=counts[DEAD],
            lost=lost,
        )

    def run(
        self,
        stop: threading.Event,
        idle_s: float = 1.0,
        on_report: Callable[[RelayReport], None] | None = None,
    ) -> None:
        """Run until ``stop`` is set: at once again while there is work, else after
        ``idle_s``. A failed run is logged (its kind only) and the next one comes."""
        while not stop.is_set():
            try:
                report = self.run_once()
            except Exception as exc:  # the database went away: try again after a pause
                log.error("relay run failed: %s", type(exc).__name__)
                stop.wait(idle_s)
                continue
            if report.busy:
                log.info("%s", report.summary())
                if on_report is not None:
                    on_report(report)
            else:
                stop.wait(idle_s)

    def attempt(self, claim: Claim) -> Outcome:
        """One attempt at a claimed delivery, judged (nothing is stored here)."""
        destination = self.destinations[claim.destination]
        moment = claim.moment
        now = self.clock()
        left_s = (moment.expires_at - now).total_seconds()
        if left_s < MIN_SEND_S:  # it could only arrive late: perishable, so never
            outcome = Outcome(
                status=EXPIRED, attempted=False, at=now, error="expired before it was sent"
            )
        else:
            answer = self._post(destination, moment, now, min(destination.timeout_s, left_s))
            outcome = judge(
                answer,
                attempts_before=claim.attempts,
                destination=destination,
                expires_at=moment.expires_at,
                now=self.clock(),
                jitter=self.jitter,
            )
        self._log(claim, outcome)
        return outcome

    def _post(
        self, destination: Destination, moment: Moment, now: datetime, timeout_s: float
    ) -> Answer:
        """POST the moment, waiting at most ``timeout_s`` for each of connecting and the
        answer's first bytes (no later than the moment's expiry); the answer's body is never
        read (``stream``), so a receiver that trickles a body cannot hold the relay."""
        body = moment_body(moment)
        headers = {
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            **sign(destination.secret, moment.id, math.floor(now.timestamp()), body),
        }
        try:
            response = self.session.post(
                destination.url,
                data=body,
                headers=headers,
                timeout=timeout_s,
                allow_redirects=False,
                stream=True,
            )
        except requests.Timeout:
            return Answer(error=f"no answer within {timeout_s:g} s")
        except requests.ConnectionError:
            return Answer(error="connection failed")
        except requests.RequestException as exc:  # its text may quote the URL: the kind only
            return Answer(error=f"request failed ({type(exc).__name__})")
        with response:
            return Answer(
                status=response.status_code, retry_after=response.headers.get("Retry-After")
            )

    def _log(self, claim: Claim, outcome: Outcome) -> None:
        detail = f" (HTTP {outcome.http_status})" if outcome.http_status is not None else ""
        status = "retry" if outcome.status == PENDING else outcome.status
        level = logging.INFO if outcome.status == SENT else logging.WARNING
        log.log(level, "moment %s to %s: %s%s", claim.moment.id, claim.destination, status, detail)
