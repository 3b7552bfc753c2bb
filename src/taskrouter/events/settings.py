"""How long events are kept and how hard callbacks are tried; defaults, overridable by env.

| setting | env | default |
| --- | --- | --- |
| retention_ms | TASKROUTER_EVENT_RETENTION_DAYS | 30 days |
| sweep_interval_ms | TASKROUTER_EVENT_SWEEP_MINUTES | 60 minutes |
| retry_period_ms | TASKROUTER_CALLBACK_RETRY_HOURS | 24 hours |
| retry_base_ms | TASKROUTER_CALLBACK_RETRY_BASE_MS | 1,000 ms (doubles per failure) |
| retry_max_ms | TASKROUTER_CALLBACK_RETRY_MAX_MS | 300,000 ms (5 minutes) |
| callback_timeout_s | TASKROUTER_CALLBACK_TIMEOUT_S | 15 s (event callbacks) |
| assignment_timeout_s | TASKROUTER_ASSIGNMENT_TIMEOUT_S | 5 s (assignment callbacks) |
| lane_memory | TASKROUTER_CALLBACK_LANE_MEMORY | 10,000 (per workspace; more stay in the log) |

Every duration that schedules work (retention, sweep, retries) is measured on the service's
clock, so tests and replays move it; the HTTP timeouts are real time.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

MINUTE_MS = 60_000
HOUR_MS = 60 * MINUTE_MS
DAY_MS = 24 * HOUR_MS


@dataclass(frozen=True, slots=True)
class EventSettings:
    retention_ms: int = 30 * DAY_MS
    sweep_interval_ms: int = HOUR_MS
    retry_period_ms: int = DAY_MS
    retry_base_ms: int = 1_000
    retry_max_ms: int = 300_000
    callback_timeout_s: float = 15.0
    assignment_timeout_s: float = 5.0
    # Real seconds between looks at the clock while retries or sweeps may be due.
    poll_s: float = 0.1
    # In-flight assignment callbacks at once, across all workspaces.
    assignment_concurrency: int = 64
    # Pending event callbacks a workspace's lane holds in memory; more stay in the log.
    lane_memory: int = 10_000

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> EventSettings:
        env = os.environ if env is None else env
        defaults = cls()

        def number(name: str, scale: float, default: float) -> float:
            raw = env.get(name)
            if raw is None or raw.strip() == "":
                return default
            try:
                value = float(raw)
            except ValueError:
                raise ValueError(f"{name} must be a number, got {raw!r}") from None
            if value < 0:
                raise ValueError(f"{name} must not be negative, got {raw!r}")
            return value * scale

        return cls(
            retention_ms=int(
                number("TASKROUTER_EVENT_RETENTION_DAYS", DAY_MS, defaults.retention_ms)
            ),
            sweep_interval_ms=max(
                1_000,
                int(
                    number("TASKROUTER_EVENT_SWEEP_MINUTES", MINUTE_MS, defaults.sweep_interval_ms)
                ),
            ),
            retry_period_ms=int(
                number("TASKROUTER_CALLBACK_RETRY_HOURS", HOUR_MS, defaults.retry_period_ms)
            ),
            retry_base_ms=max(
                1, int(number("TASKROUTER_CALLBACK_RETRY_BASE_MS", 1, defaults.retry_base_ms))
            ),
            retry_max_ms=max(
                1, int(number("TASKROUTER_CALLBACK_RETRY_MAX_MS", 1, defaults.retry_max_ms))
            ),
            callback_timeout_s=number(
                "TASKROUTER_CALLBACK_TIMEOUT_S", 1, defaults.callback_timeout_s
            ),
            assignment_timeout_s=number(
                "TASKROUTER_ASSIGNMENT_TIMEOUT_S", 1, defaults.assignment_timeout_s
            ),
            lane_memory=max(
                1, int(number("TASKROUTER_CALLBACK_LANE_MEMORY", 1, defaults.lane_memory))
            ),
        )

    def backoff_ms(self, attempts: int) -> int:
        """The wait after the `attempts`-th failure (1, 2, ...): base * 2^(n-1), capped."""
        return int(min(self.retry_base_ms * 2 ** min(max(attempts - 1, 0), 40), self.retry_max_ms))
