"""Builders for the root mappings that compiled expressions are evaluated against.

All are pure: the time is passed in (the engine reads its injected clock and hands the result
over), nothing here reads a clock or does I/O. The builders copy only the top level of the
documents they are given, never the nested attribute values.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Final

_DAYS: Final = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")

WORKER_BUILTINS: Final = ("sid", "friendly_name", "activity_sid", "activity_name", "channel")
"""Names in a worker view that come from the worker itself and hide attributes of that name."""


def time_variables(now: datetime) -> dict[str, Any]:
    """The `taskrouter.*` time variables for `now`, in UTC.

    A naive datetime is taken to be UTC already. `currentTime` is an int (HHMM, so 09:05 is
    905); `currentHour` and `currentMin` are zero-padded two-digit strings (numeric strings
    compare with numbers, so `taskrouter.currentHour > 8` works); `dayOfWeek` is Mon..Sun.
    """
    if now.tzinfo is not None:
        now = now.astimezone(UTC)
    return {
        "currentTime": now.hour * 100 + now.minute,
        "currentHour": f"{now.hour:02d}",
        "currentMin": f"{now.minute:02d}",
        "dayOfWeek": _DAYS[now.weekday()],
    }


def _time(now: datetime | Mapping[str, Any]) -> Mapping[str, Any]:
    return time_variables(now) if isinstance(now, datetime) else now


def channel_view(channel: Mapping[str, int]) -> dict[str, int]:
    """One `worker.channel.<unique_name>` entry.

    Keeps what the caller gives; derives `available_capacity_percentage` as
    floor((1 - assigned_tasks / configured_capacity) * 100), and 0 at zero capacity, only when
    it is absent. The engine should pass its own value, since it counts pending and wrapping
    work that `assigned_tasks` leaves out.
    """
    view = dict(channel)
    if "available_capacity_percentage" not in view:
        configured = view.get("configured_capacity")
        assigned = view.get("assigned_tasks", 0)
        if isinstance(configured, int) and isinstance(assigned, int):
            free = (configured - assigned) * 100 // configured if configured > 0 else 0
            view["available_capacity_percentage"] = min(100, max(0, free))
    return view


def worker_view(
    sid: str,
    friendly_name: str,
    activity_sid: str | None,
    activity_name: str | None,
    attributes: Mapping[str, Any],
    channels: Mapping[str, Mapping[str, int]],
) -> dict[str, Any]:
    """What `worker.` names resolve to in a target expression (and order_by).

    The worker's attributes sit at the top level, next to the built-ins `sid`, `friendly_name`,
    `activity_sid`, `activity_name` and `channel.<unique_name>.{configured_capacity,
    assigned_tasks, available_capacity_percentage}`. A built-in wins over an attribute of the
    same name, so `worker.sid == task.agent` cannot be satisfied by an attribute that merely
    claims to be a sid.
    """
    view = dict(attributes)
    view["sid"] = sid
    view["friendly_name"] = friendly_name
    view["activity_sid"] = activity_sid
    view["activity_name"] = activity_name
    view["channel"] = {name: channel_view(channel) for name, channel in channels.items()}
    return view


def target_root(
    task_attributes: Mapping[str, Any],
    worker_view: Mapping[str, Any],
    now: datetime | Mapping[str, Any],
) -> dict[str, Any]:
    """Root for Context.TARGET: `task.`, `worker.` and `taskrouter.` names.

    `now` may be a datetime, or the dict from `time_variables(now)` computed once when building
    roots for many workers.
    """
    return {"task": task_attributes, "worker": worker_view, "taskrouter": _time(now)}


def task_root(
    task_attributes: Mapping[str, Any], now: datetime | Mapping[str, Any]
) -> dict[str, Any]:
    """Root for Context.TASK: the task's attributes plus the reserved name `taskrouter`.

    A task attribute that is itself called `taskrouter` is hidden in this context: the name
    always means the time variables.
    """
    root = dict(task_attributes)
    root["taskrouter"] = _time(now)
    return root


def skip_if_root(
    available: int, unavailable: int, by_activity: Mapping[str, int]
) -> dict[str, Any]:
    """Root for Context.SKIP_IF: worker counts of the target queue.

    `by_activity` maps activity SIDs (WA...) to the number of the queue's workers in that
    activity; `available` and `unavailable` win over any key of the same name.
    """
    counts: dict[str, int] = dict(by_activity)
    counts["available"] = available
    counts["unavailable"] = unavailable
    return {"workers": counts}
