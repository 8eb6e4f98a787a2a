"""What keeps a provider's client within bounds: a token bucket for its request rate, a
circuit breaker that stops asking a provider that keeps failing, and a block that honours a
``Retry-After`` the client would not wait for."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Literal

from geotrigger.weather.provider import ProviderRateLimitedError, ProviderUnavailableError

log = logging.getLogger("geotrigger.providers.http")

BreakerState = Literal["closed", "open", "half-open"]


class TokenBucket:
    """At most ``rate_per_s`` tokens taken per second on average, bursts up to the capacity. A
    take without enough tokens borrows them and sleeps until they are paid back, so it never
    loops on a clock that a fake ``sleep`` does not move. Clients of one provider may share
    one, so that together they keep to its rate."""

    def __init__(
        self, rate_per_s: float, clock: Callable[[], float], sleep: Callable[[float], None]
    ) -> None:
        self._rate, self._clock, self._sleep = rate_per_s, clock, sleep
        self._capacity = max(1.0, rate_per_s)
        self._tokens = self._capacity
        self._updated = clock()

    def take(self, cost: float = 1.0) -> None:
        """Take ``cost`` tokens, waiting until they are there."""
        now = self._clock()
        elapsed = max(0.0, now - self._updated)
        self._tokens = min(self._capacity, self._tokens + elapsed * self._rate)
        self._updated = now
        self._tokens -= cost
        if self._tokens < 0:
            self._sleep(-self._tokens / self._rate)


class CircuitBreaker:
    """Consecutive failed requests open the circuit for ``reset_s``; then one trial request
    closes it again or re-opens it."""

    def __init__(
        self, provider: str, failures: int, reset_s: float, clock: Callable[[], float]
    ) -> None:
        self._provider, self._threshold, self._reset_s, self._clock = (
            provider,
            failures,
            reset_s,
            clock,
        )
        self._state: BreakerState = "closed"
        self._failures = 0
        self._opened_at = 0.0

    @property
    def state(self) -> BreakerState:
        """The state now: an open circuit whose time is up reads as half-open."""
        if self._state == "open" and self._remaining_s() <= 0:
            return "half-open"
        return self._state

    def admit(self, cell: str | None) -> None:
        """Let a request through, or fail fast while the circuit is open."""
        if self._state != "open":
            return
        remaining = self._remaining_s()
        if remaining > 0:
            raise ProviderUnavailableError(
                self._provider,
                f"circuit open after {self._failures} consecutive failed requests; "
                f"next trial in {remaining:.0f} s",
                cell=cell,
            )
        self._state = "half-open"
        log.info("provider %s: circuit half-open, sending one trial request", self._provider)

    def succeeded(self) -> None:
        if self._state != "closed":
            log.info("provider %s: circuit closed, the trial request succeeded", self._provider)
        self._state, self._failures = "closed", 0

    def failed(self, reason: str) -> None:
        self._failures += 1
        if self._state == "half-open" or self._failures >= self._threshold:
            self._state, self._opened_at = "open", self._clock()
            log.warning(
                "provider %s: circuit open for %g s after %d consecutive failed requests "
                "(last: %s)",
                self._provider,
                self._reset_s,
                self._failures,
                reason,
            )

    def _remaining_s(self) -> float:
        return self._opened_at + self._reset_s - self._clock()


class RetryAfterBlock:
    """A ``Retry-After`` of a 429 or 503 the client gave up on, honoured: until it runs out
    every request fails at once without being sent, so the other cells of a sweep do not ask
    again what the provider has just refused."""

    def __init__(self, provider: str, clock: Callable[[], float]) -> None:
        self._provider, self._clock = provider, clock
        self._status: int | None = None  # 429 or 503 while blocked
        self._until = 0.0  # on ``clock``

    def block(self, status: int, seconds: float) -> None:
        """No request for ``seconds``, after a ``status`` (429 or 503) that asked for them."""
        self._status, self._until = status, self._clock() + seconds

    def admit(self, cell: str | None) -> None:
        """Let a request through, or fail without sending while the block runs: a
        :class:`ProviderRateLimitedError` with the ``retry_after_s`` left after a 429, a
        :class:`ProviderUnavailableError` after a 503."""
        if self._status is None:
            return
        remaining = self._until - self._clock()
        if remaining <= 0:
            self._status = None
            return
        reason = (
            f"not sent: the provider answered HTTP {self._status} with a Retry-After; "
            f"{remaining:.0f} s left to wait"
        )
        if self._status == 429:
            raise ProviderRateLimitedError(
                self._provider, reason, cell=cell, retry_after_s=remaining
            )
        raise ProviderUnavailableError(self._provider, reason, cell=cell)
