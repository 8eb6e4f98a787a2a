"""The relay's retry policy: what one attempt at a webhook delivery comes to.

* a 2xx answer: ``sent``;
* a timeout, a connection failure, 408, 429 or a 5xx: a retry after an exponential backoff
  with full jitter (``Retry-After`` when it asks for longer), unless that would be at or after
  the moment's ``expires_at`` (``expired``: a moment is never sent late) or this was the
  destination's last attempt (``dead``);
* any other answer (a 4xx, a redirect): ``dead`` at once: a receiver that refuses a moment
  will not change its mind.

Nothing here sends or stores: :mod:`geotrigger.delivery.relay` makes the attempt and records
the :class:`~geotrigger.store.deliveries.Outcome` judged here.
"""

from __future__ import annotations

import email.utils
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from geotrigger.delivery.destinations import Destination
from geotrigger.store.deliveries import DEAD, EXPIRED, PENDING, SENT, Outcome

RETRY_STATUSES = frozenset({408, 429})


@dataclass(frozen=True, slots=True)
class Answer:
    """One attempt's result before it is judged: an HTTP status, or a transport failure."""

    status: int | None = None
    error: str | None = None
    retry_after: str | None = None


def backoff_s(attempts: int, destination: Destination, jitter: Callable[[], float]) -> float:
    """The wait before the next attempt after ``attempts`` failed ones: full jitter over
    ``backoff_s * 2**(attempts - 1)``, capped at ``max_backoff_s``."""
    exponent = min(max(attempts - 1, 0), 60)  # 2**60 s is already far past any cap
    ceiling = min(destination.max_backoff_s, destination.backoff_s * 2.0**exponent)
    return ceiling * min(max(jitter(), 0.0), 1.0)


def retry_after_s(value: str | None, now: datetime) -> float | None:
    """Seconds a ``Retry-After`` header asks to wait (seconds or an HTTP date), or None."""
    if not value or not value.strip():
        return None
    text = value.strip()
    if text.isdigit():
        return float(text)
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max((when - now).total_seconds(), 0.0)


def judge(
    answer: Answer,
    *,
    attempts_before: int,
    destination: Destination,
    expires_at: datetime,
    now: datetime,
    jitter: Callable[[], float],
) -> Outcome:
    """What an attempt that got ``answer`` comes to, ``attempts_before`` attempts having been
    made before it (see the module)."""
    status = answer.status

    def attempted(final: str, error: str | None, next_at: datetime | None = None) -> Outcome:
        return Outcome(
            status=final,
            attempted=True,
            at=now,
            next_attempt_at=next_at,
            http_status=status,
            error=error,
        )

    if status is not None and 200 <= status < 300:
        return attempted(SENT, None)
    reason = answer.error or f"HTTP {status}"
    retryable = status is None or status in RETRY_STATUSES or status >= 500
    if not retryable:
        return attempted(DEAD, f"refused: {reason}")
    attempts = attempts_before + 1
    if attempts >= destination.max_attempts:
        return attempted(DEAD, f"gave up after {attempts} attempts: {reason}")
    wait_s = backoff_s(attempts, destination, jitter)
    asked = retry_after_s(answer.retry_after, now)
    if asked is not None and asked > wait_s:
        wait_s = asked
    next_at = now + timedelta(seconds=wait_s)
    if next_at >= expires_at:
        return attempted(EXPIRED, f"expires before the next attempt: {reason}")
    return attempted(PENDING, reason, next_at)
