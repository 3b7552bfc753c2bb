"""Cumulative statistics: what happened inside a window, read from a workspace's `History`.

Waits are measured in milliseconds and shown in whole seconds: `min`, `max` and `total`
rounded down, `avg` (and `avg_task_acceptance_time`) to the nearest second. A wait of at most
a `SplitByWaitTime` threshold counts as `below` it, a longer one as `above`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any

from taskrouter.domain.clock import iso8601
from taskrouter.domain.entities import Activity
from taskrouter.stats import history as h
from taskrouter.stats.history import History
from taskrouter.stats.series import Summary


@dataclass(frozen=True, slots=True)
class Window:
    start_ms: int
    end_ms: int


class Level(Enum):
    WORKSPACE = "workspace"
    QUEUE = "queue"
    WORKFLOW = "workflow"


_TASK_FIELDS = {
    Level.WORKSPACE: (
        h.TASKS_CANCELED,
        h.TASKS_COMPLETED,
        h.TASKS_CREATED,
        h.TASKS_DELETED,
        h.TASKS_MOVED,
        h.TASKS_TIMED_OUT,
    ),
    Level.QUEUE: (
        h.TASKS_CANCELED,
        h.TASKS_COMPLETED,
        h.TASKS_DELETED,
        h.TASKS_ENTERED,
        h.TASKS_MOVED,
    ),
    Level.WORKFLOW: (
        h.TASKS_CANCELED,
        h.TASKS_COMPLETED,
        h.TASKS_DELETED,
        h.TASKS_ENTERED,
        h.TASKS_MOVED,
        h.TASKS_TIMED_OUT,
    ),
}


def seconds_avg(summary: Summary) -> int:
    if not summary.count:
        return 0
    return (2 * summary.total + summary.count * 1000) // (summary.count * 2000)


def duration_figures(summary: Summary) -> dict[str, int]:
    return {
        "avg": seconds_avg(summary),
        "min": summary.least // 1000,
        "max": summary.most // 1000,
        "total": summary.total // 1000,
    }


def figures(
    history: History,
    level: Level,
    scope: str,
    window: Window,
    channel: str | None,
    split_by: Sequence[int] | None,
) -> dict[str, Any]:
    start, end = window.start_ms, window.end_ms
    out: dict[str, Any] = {
        "start_time": iso8601(start),
        "end_time": iso8601(end),
    }
    for kind in (*h.RESERVATION_FIELDS, *_TASK_FIELDS[level]):
        out[kind] = history.count(scope, kind, channel, start, end)
    accepted = history.wait(scope, h.UNTIL_ACCEPTED, channel, start, end)
    out["avg_task_acceptance_time"] = seconds_avg(accepted)
    out[h.UNTIL_ACCEPTED] = duration_figures(accepted)
    out[h.UNTIL_CANCELED] = duration_figures(
        history.wait(scope, h.UNTIL_CANCELED, channel, start, end)
    )
    if level is Level.QUEUE:
        out[h.IN_QUEUE_UNTIL_ACCEPTED] = duration_figures(
            history.wait(scope, h.IN_QUEUE_UNTIL_ACCEPTED, channel, start, end)
        )
    out["split_by_wait_time"] = (
        None if split_by is None else split(history, scope, window, channel, split_by)
    )
    return out


def split(
    history: History, scope: str, window: Window, channel: str | None, thresholds: Sequence[int]
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for seconds in thresholds:
        limit = seconds * 1000
        canceled = history.wait_split(
            scope, h.UNTIL_CANCELED, channel, window.start_ms, window.end_ms, limit
        )
        accepted = history.wait_split(
            scope, h.UNTIL_ACCEPTED, channel, window.start_ms, window.end_ms, limit
        )
        out[str(seconds)] = {
            "above": {"tasks_canceled": canceled[1], "reservations_accepted": accepted[1]},
            "below": {"tasks_canceled": canceled[0], "reservations_accepted": accepted[0]},
        }
    return out


def worker_figures(
    history: History,
    activities: Iterable[Activity],
    worker_sids: Sequence[str] | None,
    window: Window,
    channel: str | None,
) -> dict[str, Any]:
    """Reservations and activity stints of the given workers (None: every worker, and every
    reservation of the window, also those of workers deleted since)."""
    start, end = window.start_ms, window.end_ms
    out: dict[str, Any] = {"start_time": iso8601(start), "end_time": iso8601(end)}
    for kind in h.RESERVATION_FIELDS:
        if worker_sids is None:
            out[kind] = history.count(history.workspace_sid, kind, channel, start, end)
        else:
            out[kind] = sum(history.count(w, kind, channel, start, end) for w in worker_sids)
    stints = history.activity_stints(worker_sids, start, end)
    out["activity_durations"] = [
        {
            "sid": activity.sid,
            "friendly_name": activity.friendly_name,
            **duration_figures(stints.get(activity.sid, Summary())),
        }
        for activity in activities
    ]
    return out
