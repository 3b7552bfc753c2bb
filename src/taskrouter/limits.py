"""The limits that protect a running server, and the per-account request rate limiter.

Each limit comes from a `taskrouter serve` flag or, failing that, an environment variable
(docs/limits.md lists them). Limits that Twilio documents for its API (attribute size, page
size, expression length and nesting) default to Twilio's values, since clients rely on them;
they hold for the whole process, so `apply_request_limits` sets them once at start.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass

from taskrouter.domain.errors import RateLimited
from taskrouter.domain.request_limits import (
    REQUEST_LIMITS,
    TWILIO_MAX_ATTRIBUTES,
    TWILIO_MAX_PAGE_SIZE,
)
from taskrouter.expressions import MAX_EXPRESSION_LENGTH, MAX_NESTING_DEPTH
from taskrouter.expressions import set_limits as set_expression_limits

DEFAULT_MAX_BODY_BYTES = 1_048_576
DEFAULT_AUDIT_INTERVAL_S = 60.0
DEFAULT_MAX_STREAMS = 100


@dataclass(frozen=True, slots=True)
class ServerLimits:
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    # Requests per second each account may make, sustained; 0 turns the limiter off.
    rate_per_second: float = 0.0
    # How many requests an idle account may make at once before the rate applies.
    rate_burst: int = 0
    # How often the server audits its own state; 0 turns the periodic audit off.
    audit_interval_s: float = DEFAULT_AUDIT_INTERVAL_S
    # Live event streams one account may hold open at once; 0 for no limit.
    max_streams_per_account: int = DEFAULT_MAX_STREAMS
    # Connections the HTTP server accepts at once (503 beyond); 0 for no limit.
    max_connections: int = 0
    # What one request may carry, on every face (Twilio's values by default).
    max_attributes: int = TWILIO_MAX_ATTRIBUTES
    max_page_size: int = TWILIO_MAX_PAGE_SIZE
    max_expression_length: int = MAX_EXPRESSION_LENGTH
    max_expression_depth: int = MAX_NESTING_DEPTH

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None, **overrides: float | None) -> ServerLimits:
        """Environment values, replaced by every override that is not None (CLI flags)."""
        source = os.environ if env is None else env
        values: dict[str, float] = {}
        for name, variable, kind in _VARIABLES:
            raw = source.get(variable)
            if raw is not None and raw.strip():
                try:
                    values[name] = kind(raw)
                except ValueError:
                    raise ValueError(f"{variable} must be a number, got {raw!r}") from None
        values.update({k: v for k, v in overrides.items() if v is not None})
        limits = cls(**values)  # type: ignore[arg-type]
        limits.validate()
        return limits

    def validate(self) -> None:
        if self.max_body_bytes < 1:
            raise ValueError("the request body limit must be at least 1 byte")
        if min(self.max_attributes, self.max_page_size, self.max_expression_length) < 1:
            raise ValueError("attribute, page size and expression limits must be at least 1")
        if not 1 <= self.max_expression_depth <= MAX_NESTING_DEPTH:
            raise ValueError(f"the expression depth limit must be from 1 to {MAX_NESTING_DEPTH}")
        if (
            min(
                self.rate_per_second,
                self.rate_burst,
                self.audit_interval_s,
                self.max_streams_per_account,
                self.max_connections,
            )
            < 0
        ):
            raise ValueError("limits must not be negative")

    def apply_request_limits(self) -> None:
        """Make this process's faces and expressions use these limits."""
        REQUEST_LIMITS.max_attributes = self.max_attributes
        REQUEST_LIMITS.max_page_size = self.max_page_size
        set_expression_limits(self.max_expression_length, self.max_expression_depth)

    def rate_limiter(self, clock: Callable[[], float] = time.monotonic) -> RateLimiter | None:
        if self.rate_per_second <= 0:
            return None
        burst = self.rate_burst or max(1, math.ceil(self.rate_per_second))
        return RateLimiter(self.rate_per_second, burst, clock)


_VARIABLES: list[tuple[str, str, Callable[[str], float]]] = [
    ("max_body_bytes", "TASKROUTER_MAX_BODY_BYTES", int),
    ("rate_per_second", "TASKROUTER_RATE_LIMIT", float),
    ("rate_burst", "TASKROUTER_RATE_BURST", int),
    ("audit_interval_s", "TASKROUTER_AUDIT_INTERVAL", float),
    ("max_streams_per_account", "TASKROUTER_MAX_STREAMS", int),
    ("max_connections", "TASKROUTER_MAX_CONNECTIONS", int),
    ("max_attributes", "TASKROUTER_MAX_ATTRIBUTES", int),
    ("max_page_size", "TASKROUTER_MAX_PAGE_SIZE", int),
    ("max_expression_length", "TASKROUTER_MAX_EXPRESSION_LENGTH", int),
    ("max_expression_depth", "TASKROUTER_MAX_EXPRESSION_DEPTH", int),
]


class RateLimiter:
    """A token bucket per account: `burst` tokens, refilled at `rate` per second.

    The clock is injected (seconds, monotonic) so tests move time instead of sleeping.
    """

    def __init__(self, rate: float, burst: int, clock: Callable[[], float]) -> None:
        self.rate = rate
        self.burst = burst
        self.clock = clock
        # account sid -> (tokens left, when they were counted)
        self._buckets: dict[str, tuple[float, float]] = {}
        self.refused = 0

    def admit(self, account_sid: str) -> None:
        """Take one token, or raise RateLimited saying when the next one comes."""
        now = self.clock()
        tokens, then = self._buckets.get(account_sid, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + (now - then) * self.rate)
        if tokens >= 1.0:
            self._buckets[account_sid] = (tokens - 1.0, now)
            return
        self._buckets[account_sid] = (tokens, now)
        self.refused += 1
        wait = (1.0 - tokens) / self.rate
        raise RateLimited(
            f"Too many requests: account {account_sid} may make {self.rate:g} requests per"
            f" second (bursts of {self.burst})",
            retry_after=max(1, math.ceil(wait)),
        )
