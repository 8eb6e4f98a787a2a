"""Per-key request limits: a token bucket per key, in this process or shared through Redis.

A key may send ``burst`` requests at once and ``rate_per_s`` a second after that: its bucket
holds at most ``burst`` tokens, a request takes one, and tokens come back at ``rate_per_s``.
A request that finds less than one token is refused with the time until one is back
(``retry_after_s``, what an HTTP 429 says in ``Retry-After``); a refused request takes
nothing. A bucket unused long enough to be full again is the same as no bucket, so both
limiters forget such buckets: memory (or Redis keys) grows with the keys in use, not with
every key ever seen.

- :class:`MemoryRateLimiter` keeps the buckets in this process: right for one worker; with N
  workers each key would get N times its rate.
- :class:`RedisRateLimiter` keeps them in Redis, so that every worker draws from one bucket per
  key: one Lua script (EVALSHA, EVAL when Redis does not have it yet) reads, refills, takes and
  writes atomically, on the time of the Redis server (``TIME``), so workers whose clocks
  differ still agree. A bucket key expires when the bucket would be full again.

**Redis down: fail open.** When Redis cannot be reached (or answers with an error) the request
is allowed, the failure is counted (:attr:`RedisRateLimiter.failures`, for the metrics) and
logged, and Redis is not asked again for ``pause_s`` (one second), so an outage does not cost
every request a connection timeout. The callers are ingestion endpoints: the keys are still
checked (only known clients get in) and the API bounds the size of every request, so an
unlimited key for the length of an outage is a bounded risk, while refusing everything
would lose the pings of every device until Redis is back (many clients do not re-send), an
outage of the whole API caused by its least important part.

Callers pass a key's public id, never the key itself: it becomes part of a Redis key name.
"""

from __future__ import annotations

import hashlib
import logging
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import redis
from redis.backoff import NoBackoff
from redis.exceptions import NoScriptError, RedisError
from redis.retry import Retry

from geotrigger.config import ApiSettings, Settings
from geotrigger.errors import ConfigError

log = logging.getLogger("geotrigger.ratelimit")

REDIS_PREFIX = "geotrigger:ratelimit:"
REDIS_CONNECT_TIMEOUT_S = 0.1  # Redis is near the API: longer than this is an outage
REDIS_TIMEOUT_S = 0.1
PAUSE_AFTER_FAILURE_S = 1.0  # Redis is not asked for this long after it failed

# KEYS[1]: the bucket; ARGV: rate per second, burst. Returns {1 or 0, retry after (seconds)}.
# The bucket is a hash {tokens, ts}; ts is the server's time in seconds (microseconds kept).
TOKEN_BUCKET_LUA = """
if redis.replicate_commands then redis.replicate_commands() end
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
local held = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(held[1])
local ts = tonumber(held[2])
if tokens == nil or ts == nil then
  tokens = burst
  ts = now
end
tokens = math.min(burst, tokens + math.max(0, now - ts) * rate)
local allowed = 0
local retry = 0
if tokens >= 1 then
  tokens = tokens - 1
  allowed = 1
else
  retry = (1 - tokens) / rate
end
redis.call('HSET', KEYS[1], 'tokens', string.format('%.17g', tokens),
  'ts', string.format('%.6f', now))
redis.call('PEXPIRE', KEYS[1], math.ceil((burst - tokens) / rate * 1000) + 1000)
return {allowed, string.format('%.6f', retry)}
"""


@dataclass(frozen=True, slots=True)
class Decision:
    """Whether one request may go ahead, and if not, in how many seconds it could."""

    allowed: bool
    retry_after_s: float = 0.0  # 0 when allowed


ALLOWED = Decision(True, 0.0)


class RateLimiter(Protocol):
    """Takes one request from ``key``'s bucket (``rate_per_s`` back a second, ``burst`` at
    most), or says when it could."""

    def allow(self, key: str, rate_per_s: float, burst: float) -> Decision:
        """The decision on one request of ``key``."""
        ...


def check_limits(rate_per_s: float, burst: float) -> None:
    """ValueError unless the rate is a finite number > 0 and the burst a finite number >= 1
    (a bucket that never holds a whole token would refuse everything, for ever)."""
    if not (math.isfinite(rate_per_s) and rate_per_s > 0):
        raise ValueError(f"rate_per_s={rate_per_s!r}: expected a finite number > 0")
    if not (math.isfinite(burst) and burst >= 1):
        raise ValueError(f"burst={burst!r}: expected a finite number >= 1")


@dataclass(frozen=True, slots=True)
class _Bucket:
    tokens: float
    at: float  # the limiter's clock when ``tokens`` was counted
    rate_per_s: float
    burst: float

    def full_at(self, now: float) -> bool:
        return self.tokens + (now - self.at) * self.rate_per_s >= self.burst


class MemoryRateLimiter:
    """Token buckets in this process (one worker). Thread-safe; ``clock`` (monotonic seconds)
    is injectable. When more than ``max_keys`` buckets are held, the full ones are dropped."""

    def __init__(
        self, *, clock: Callable[[], float] = time.monotonic, max_keys: int = 100_000
    ) -> None:
        self._clock, self._max_keys = clock, max_keys
        self._buckets: dict[str, _Bucket] = {}
        self._lock = threading.Lock()

    def allow(self, key: str, rate_per_s: float, burst: float) -> Decision:
        """Take a token from ``key``'s bucket, or say when one is back."""
        check_limits(rate_per_s, burst)
        with self._lock:
            now = self._clock()
            held = self._buckets.get(key)
            tokens = burst if held is None else held.tokens + max(0.0, now - held.at) * rate_per_s
            tokens = min(burst, tokens)
            if tokens >= 1:
                decision, tokens = ALLOWED, tokens - 1
            else:
                decision = Decision(False, (1 - tokens) / rate_per_s)
            self._buckets[key] = _Bucket(tokens, now, rate_per_s, burst)
            if len(self._buckets) > self._max_keys:
                self._forget_full(now)
            return decision

    def __len__(self) -> int:
        """The buckets held (keys used recently enough that their bucket is not full)."""
        with self._lock:
            return len(self._buckets)

    def _forget_full(self, now: float) -> None:
        full = [key for key, bucket in self._buckets.items() if bucket.full_at(now)]
        for key in full:
            del self._buckets[key]


class RedisRateLimiter:
    """Token buckets in Redis, shared by every worker (see the module's docstring for why a
    Redis failure allows the request). ``clock`` (monotonic seconds) only times the pause
    after a failure; the buckets run on the Redis server's clock."""

    script = TOKEN_BUCKET_LUA

    def __init__(
        self,
        client: redis.Redis,
        *,
        prefix: str = REDIS_PREFIX,
        pause_s: float = PAUSE_AFTER_FAILURE_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client, self._prefix, self._pause_s, self._clock = client, prefix, pause_s, clock
        self.script_sha = hashlib.sha1(self.script.encode("utf-8")).hexdigest()
        self._failures = 0
        self._paused_until: float | None = None
        self._lock = threading.Lock()

    @property
    def failures(self) -> int:
        """Requests allowed without a check because Redis failed (or was paused after a
        failure), since this limiter was made."""
        return self._failures

    def allow(self, key: str, rate_per_s: float, burst: float) -> Decision:
        """Take a token from ``key``'s shared bucket, or say when one is back; allowed when
        Redis fails (counted)."""
        check_limits(rate_per_s, burst)
        if self._paused():
            return self._unchecked(None)
        try:
            reply = self._run(self._prefix + key, rate_per_s, burst)
        except (RedisError, OSError) as exc:
            return self._unchecked(exc)
        with self._lock:
            self._paused_until = None
        allowed, retry_after = reply
        return ALLOWED if int(allowed) == 1 else Decision(False, float(retry_after))

    def _run(self, bucket: str, rate_per_s: float, burst: float) -> Any:
        args = (bucket, repr(float(rate_per_s)), repr(float(burst)))
        try:
            return self._client.evalsha(self.script_sha, 1, *args)
        except NoScriptError:  # a restarted or flushed server: EVAL caches the script again
            return self._client.eval(self.script, 1, *args)

    def _paused(self) -> bool:
        with self._lock:
            return self._paused_until is not None and self._clock() < self._paused_until

    def _unchecked(self, exc: Exception | None) -> Decision:
        with self._lock:
            self._failures += 1
            if exc is not None:
                self._paused_until = self._clock() + self._pause_s
        if exc is not None:
            log.warning(
                "rate limits: Redis failed (%s: %s); requests allowed unchecked for %.1f s",
                type(exc).__name__,
                exc,
                self._pause_s,
            )
        return ALLOWED


def rate_limiter(settings: ApiSettings | Settings) -> RateLimiter:
    """The limiter the settings ask for: Redis when ``GEOTRIGGER_API_REDIS_URL`` is set, else
    in this process. ConfigError for default limits no bucket can work with, or a Redis URL
    that is not one (nothing is connected here: the first request connects)."""
    api = settings.api if isinstance(settings, Settings) else settings
    if not api.rate_per_s > 0:
        raise ConfigError(f"GEOTRIGGER_API_RATE_PER_S={api.rate_per_s!r}: expected a number > 0")
    if not api.burst >= 1:
        raise ConfigError(f"GEOTRIGGER_API_BURST={api.burst!r}: expected a number >= 1")
    if not api.redis_url:
        return MemoryRateLimiter()
    return RedisRateLimiter(redis_client(api.redis_url))


def redis_client(url: str) -> redis.Redis:
    """A client of the Redis at ``url`` for rate limits: short timeouts and no retries (a
    failed call is an outage the limiter handles, not something to wait through). ConfigError
    for a URL that is not a Redis URL; nothing is connected until the first call."""
    try:
        return redis.Redis.from_url(
            url,
            socket_connect_timeout=REDIS_CONNECT_TIMEOUT_S,
            socket_timeout=REDIS_TIMEOUT_S,
            retry=Retry(NoBackoff(), 0),
        )
    except ValueError as exc:
        raise ConfigError(f"GEOTRIGGER_API_REDIS_URL: not a Redis URL ({exc})") from exc
