"""Per-key rate limits: the in-process token bucket on a fake clock, and the same bucket in the
real Redis at 127.0.0.1:6379 (shared by two limiters, as two API workers share it; allowing
and counting when Redis is down); and the limiter the settings ask for."""

from __future__ import annotations

import socket
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
import redis

from geotrigger.config import ApiSettings, Settings, load_settings
from geotrigger.errors import ConfigError
from geotrigger.ratelimit import (
    Decision,
    MemoryRateLimiter,
    RateLimiter,
    RedisRateLimiter,
    rate_limiter,
    redis_client,
)
from tests.conftest import require

REDIS_URL = "redis://127.0.0.1:6379/0"


class FakeClock:
    """Monotonic seconds that move only when told."""

    def __init__(self) -> None:
        self.now = 5000.0

    def __call__(self) -> float:
        return self.now


def test_memory_bucket_allows_the_burst_then_refuses_with_the_time_to_the_next_token() -> None:
    clock = FakeClock()
    limiter = MemoryRateLimiter(clock=clock)
    assert [limiter.allow("k", 2.0, 5).allowed for _ in range(5)] == [True] * 5
    refused = limiter.allow("k", 2.0, 5)
    assert refused == Decision(False, pytest.approx(0.5))  # one token back at 2/s: 0.5 s
    clock.now += 0.2  # 0.4 of a token back; a refusal takes nothing
    assert limiter.allow("k", 2.0, 5) == Decision(False, pytest.approx(0.3))
    clock.now += 0.3
    assert limiter.allow("k", 2.0, 5).allowed
    assert not limiter.allow("k", 2.0, 5).allowed


def test_memory_bucket_refills_at_its_rate_up_to_the_burst_only() -> None:
    clock = FakeClock()
    limiter = MemoryRateLimiter(clock=clock)
    for _ in range(3):
        limiter.allow("k", 1.0, 3)
    clock.now += 2.0  # two tokens back
    assert [limiter.allow("k", 1.0, 3).allowed for _ in range(3)] == [True, True, False]
    clock.now += 3600  # an hour idle: the bucket is full, not 3600 tokens deep
    assert [limiter.allow("k", 1.0, 3).allowed for _ in range(4)] == [True, True, True, False]


def test_memory_buckets_are_per_key() -> None:
    limiter = MemoryRateLimiter(clock=FakeClock())
    assert limiter.allow("a", 1.0, 1).allowed and not limiter.allow("a", 1.0, 1).allowed
    assert limiter.allow("b", 1.0, 1).allowed  # another key, another bucket


def test_memory_limiter_forgets_full_buckets_beyond_its_size() -> None:
    clock = FakeClock()
    limiter = MemoryRateLimiter(clock=clock, max_keys=3)
    for key in ("a", "b", "c"):
        limiter.allow(key, 1.0, 2)
    clock.now += 10  # a, b and c are full again: the same as no bucket
    limiter.allow("busy", 1.0, 2)
    limiter.allow("busy", 1.0, 2)
    assert len(limiter) == 1
    assert not limiter.allow("busy", 1.0, 2).allowed  # the one in use was kept


def test_memory_limiter_is_thread_safe() -> None:
    limiter = MemoryRateLimiter(clock=FakeClock())  # the clock stands: no refill
    with ThreadPoolExecutor(max_workers=8) as pool:
        decisions = list(pool.map(lambda _: limiter.allow("k", 1.0, 100), range(400)))
    assert sum(d.allowed for d in decisions) == 100


@pytest.mark.parametrize(("rate", "burst"), [(0.0, 1), (-1.0, 1), (1.0, 0.5), (float("nan"), 2)])
def test_limits_no_bucket_can_work_with_are_refused(rate: float, burst: float) -> None:
    with pytest.raises(ValueError, match="expected a finite number"):
        MemoryRateLimiter().allow("k", rate, burst)


# --- Redis -----------------------------------------------------------------------------------


@pytest.fixture
def client() -> Iterator[redis.Redis]:
    """A client of the real Redis; the test's keys are deleted afterwards."""
    client = redis_client(REDIS_URL)
    try:
        client.ping()
    except redis.RedisError as exc:
        require(False, f"Redis is not reachable at {REDIS_URL}: {exc}")
    yield client
    client.close()


@pytest.fixture
def prefix(client: redis.Redis) -> Iterator[str]:
    """A key prefix of this test's own; whatever it made is deleted when it ends."""
    prefix = f"geotrigger-test:ratelimit:{uuid.uuid4().hex}:"
    yield prefix
    for name in client.scan_iter(match=prefix + "*"):
        client.delete(name)


def test_redis_bucket_allows_the_burst_then_refuses_with_the_time_to_the_next_token(
    client: redis.Redis, prefix: str
) -> None:
    limiter = RedisRateLimiter(client, prefix=prefix)
    assert [limiter.allow("k", 0.5, 3).allowed for _ in range(3)] == [True] * 3
    refused = limiter.allow("k", 0.5, 3)
    # one token back at 0.5/s takes 2 s, less what trickled in while the test ran
    assert not refused.allowed and 1.9 < refused.retry_after_s <= 2.0
    assert limiter.failures == 0
    ttl_ms = client.pttl(prefix + "k")
    assert 0 < ttl_ms <= 7000  # expires once it would be full again: (3 - ~0) / 0.5 s + 1 s


def test_redis_bucket_refills_at_its_rate(client: redis.Redis, prefix: str) -> None:
    limiter = RedisRateLimiter(client, prefix=prefix)
    assert limiter.allow("k", 20.0, 2).allowed and limiter.allow("k", 20.0, 2).allowed
    refused = limiter.allow("k", 20.0, 2)
    assert not refused.allowed and 0 < refused.retry_after_s <= 0.05
    time.sleep(refused.retry_after_s + 0.02)  # a token is back (the server's clock)
    assert limiter.allow("k", 20.0, 2).allowed


def test_two_workers_draw_from_one_budget(client: redis.Redis, prefix: str) -> None:
    first = RedisRateLimiter(redis_client(REDIS_URL), prefix=prefix)
    second = RedisRateLimiter(redis_client(REDIS_URL), prefix=prefix)
    taken = [w.allow("shared", 0.1, 4).allowed for w in (first, second, first, second)]
    assert taken == [True] * 4
    assert not first.allow("shared", 0.1, 4).allowed
    assert not second.allow("shared", 0.1, 4).allowed
    assert first.allow("other", 0.1, 4).allowed  # another key has a budget of its own


def test_concurrent_requests_never_take_more_than_the_burst(
    client: redis.Redis, prefix: str
) -> None:
    limiters = [RedisRateLimiter(redis_client(REDIS_URL), prefix=prefix) for _ in range(4)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        decisions = list(
            pool.map(lambda i: limiters[i % 4].allow("k", 0.01, 25).allowed, range(100))
        )
    assert sum(decisions) == 25  # the script is atomic: no two workers spend one token


def test_a_script_redis_does_not_have_yet_is_sent_whole_then_called_by_its_hash(
    client: redis.Redis, prefix: str
) -> None:
    class Fresh(RedisRateLimiter):
        # the same bucket with a new comment: a script this server has never seen (as after a
        # restart), without flushing the scripts other clients rely on
        script = RedisRateLimiter.script + f"\n-- {uuid.uuid4().hex}\n"

    limiter = Fresh(client, prefix=prefix)
    assert client.script_exists(limiter.script_sha) == [False]
    assert limiter.allow("k", 1.0, 2).allowed  # EVALSHA refused, EVAL ran it
    assert client.script_exists(limiter.script_sha) == [True]
    assert limiter.allow("k", 1.0, 2).allowed and not limiter.allow("k", 1.0, 2).allowed
    assert limiter.failures == 0


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_redis_unreachable_allows_counts_and_pauses() -> None:
    clock = FakeClock()
    down = redis_client(f"redis://127.0.0.1:{_closed_port()}/0")
    limiter = RedisRateLimiter(down, prefix="never-written:", pause_s=1.0, clock=clock)
    start = time.perf_counter()
    decisions = [limiter.allow("k", 1.0, 1) for _ in range(3)]  # over the burst, yet allowed
    assert decisions == [Decision(True, 0.0)] * 3 and limiter.failures == 3
    clock.now += 1.0  # the pause is over: Redis is asked again (and fails again)
    assert limiter.allow("k", 1.0, 1).allowed and limiter.failures == 4
    assert time.perf_counter() - start < 0.5  # no retries, no long timeouts per request


def test_the_settings_choose_the_limiter() -> None:
    assert isinstance(rate_limiter(ApiSettings()), MemoryRateLimiter)
    assert isinstance(rate_limiter(Settings()), MemoryRateLimiter)
    shared = rate_limiter(load_settings({"GEOTRIGGER_API_REDIS_URL": REDIS_URL}))
    assert isinstance(shared, RedisRateLimiter)
    env = load_settings({"GEOTRIGGER_API_RATE_PER_S": "2.5", "GEOTRIGGER_API_BURST": "10"})
    assert (env.api.rate_per_s, env.api.burst, env.api.redis_url) == (2.5, 10.0, "")
    limiter: RateLimiter = rate_limiter(env)
    assert limiter.allow("k", env.api.rate_per_s, env.api.burst).allowed


@pytest.mark.parametrize(
    ("settings", "named"),
    [
        (ApiSettings(rate_per_s=0.0), "GEOTRIGGER_API_RATE_PER_S"),
        (ApiSettings(burst=0.5), "GEOTRIGGER_API_BURST"),
        (ApiSettings(redis_url="http://127.0.0.1:6379"), "GEOTRIGGER_API_REDIS_URL"),
    ],
)
def test_settings_no_limiter_can_use_name_the_variable(settings: ApiSettings, named: str) -> None:
    with pytest.raises(ConfigError, match=named):
        rate_limiter(settings)
