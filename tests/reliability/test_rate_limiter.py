"""The per-account token bucket, driven by an injected clock."""

from __future__ import annotations

import pytest

from taskrouter.domain.errors import RateLimited
from taskrouter.limits import RateLimiter, ServerLimits


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_burst_passes_then_the_rate_applies() -> None:
    clock = FakeClock()
    limiter = RateLimiter(rate=2.0, burst=3, clock=clock)
    for _ in range(3):
        limiter.admit("AC1")
    with pytest.raises(RateLimited) as refused:
        limiter.admit("AC1")
    assert refused.value.retry_after == 1
    assert "2 requests per second" in refused.value.message
    clock.now += 0.5  # one token back at 2 per second
    limiter.admit("AC1")
    with pytest.raises(RateLimited):
        limiter.admit("AC1")
    assert limiter.refused == 2


def test_accounts_have_their_own_buckets() -> None:
    limiter = RateLimiter(rate=1.0, burst=1, clock=FakeClock())
    limiter.admit("AC1")
    with pytest.raises(RateLimited):
        limiter.admit("AC1")
    limiter.admit("AC2")


def test_retry_after_says_when_the_next_token_comes() -> None:
    clock = FakeClock()
    limiter = RateLimiter(rate=0.1, burst=1, clock=clock)
    limiter.admit("AC1")
    clock.now += 2.5
    with pytest.raises(RateLimited) as refused:
        limiter.admit("AC1")
    assert refused.value.retry_after == 8  # 7.5 s to the next token, rounded up


def test_an_idle_account_refills_only_to_its_burst() -> None:
    clock = FakeClock()
    limiter = RateLimiter(rate=10.0, burst=2, clock=clock)
    limiter.admit("AC1")
    clock.now += 3600
    limiter.admit("AC1")
    limiter.admit("AC1")
    with pytest.raises(RateLimited):
        limiter.admit("AC1")


def test_limits_come_from_env_and_flags_win() -> None:
    env = {"TASKROUTER_RATE_LIMIT": "50", "TASKROUTER_MAX_BODY_BYTES": "2048"}
    limits = ServerLimits.from_env(env, rate_per_second=None, max_body_bytes=4096)
    assert (limits.rate_per_second, limits.max_body_bytes) == (50.0, 4096)
    limiter = limits.rate_limiter()
    assert limiter is not None and limiter.burst == 50
    assert ServerLimits.from_env({}).rate_limiter() is None


@pytest.mark.parametrize(
    "env",
    [{"TASKROUTER_RATE_LIMIT": "fast"}, {"TASKROUTER_MAX_BODY_BYTES": "0"}],
)
def test_bad_limit_settings_are_refused(env: dict[str, str]) -> None:
    with pytest.raises(ValueError):
        ServerLimits.from_env(env)
