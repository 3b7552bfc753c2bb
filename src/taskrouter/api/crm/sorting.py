"""The order `sortBy` asks for over live tasks, and the page positions that name a task in it.

A sort key is a tuple of (rank, value) pairs, one per field, then the task SID, so every task
has its own place. A position is the same pairs as JSON lists, for page tokens.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import orjson

from taskrouter.domain.entities import Task
from taskrouter.domain.errors import Invalid
from taskrouter.engine.state import WorkspaceState

Reader = Callable[[WorkspaceState, Task], Any]

# sortBy name -> the task's value it orders by
SORT_FIELDS: dict[str, Reader] = {
    "dateCreated": lambda s, t: t.date_created,
    "dateUpdated": lambda s, t: t.date_updated,
    "age": lambda s, t: -t.date_created,
    "priority": lambda s, t: t.priority,
    "virtualStartTime": lambda s, t: t.virtual_start_time,
    "timeout": lambda s, t: t.timeout,
    "assignmentStatus": lambda s, t: t.assignment_status,
    "taskQueueSid": lambda s, t: t.task_queue_sid,
    "taskQueueFriendlyName": lambda s, t: (
        q.friendly_name if (q := s.queues.get(t.task_queue_sid or "")) else None
    ),
    "taskChannelUniqueName": lambda s, t: (
        c.unique_name if (c := s.channels.get(t.task_channel_sid)) else None
    ),
    "workflowSid": lambda s, t: t.workflow_sid,
    "sid": lambda s, t: t.sid,
}
ATTRIBUTE_PREFIX = "attributes."


@functools.total_ordering
class _Descending:
    """Reverses the order of what it wraps."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Descending) and self.value == other.value

    def __lt__(self, other: _Descending) -> bool:
        return bool(other.value < self.value)

    def __hash__(self) -> int:
        return hash(self.value)


def _comparable(value: Any) -> tuple[int, Any]:
    """Any JSON value as a (rank, value) pair that compares across types: missing first,
    then numbers (and booleans), then strings, then anything else by its JSON text."""
    kind = type(value)
    if kind is int or kind is float or kind is bool:
        return (1, value)
    if kind is str:
        return (2, value)
    if value is None:
        return (0, 0)
    return (3, orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode())


def _field_key(state: WorkspaceState, read: Reader, descending: bool) -> Callable[[Task], Any]:
    if descending:
        return lambda task: _reversed(_comparable(read(state, task)))
    return lambda task: _comparable(read(state, task))


def _reversed(pair: tuple[int, Any]) -> tuple[int, Any]:
    """The pair's order turned around; numbers are negated, so only text pays for a
    Python-level comparison."""
    rank, value = pair
    if rank == 1:
        return (-1, -value)
    if rank == 0:
        return (0, 0)
    return (-rank, _Descending(value))


def _attribute(path: str) -> Reader:
    parts = path.split(".")

    def read(_state: WorkspaceState, task: Task) -> Any:
        value: Any = task.parsed_attributes
        for part in parts:
            value = value.get(part) if isinstance(value, dict) else None
        return value

    return read


def _sorting(names: list[str]) -> list[tuple[Reader, bool]]:
    """`field`, `-field` or `field:desc`/`field:asc`; `attributes.<path>` for an attribute."""
    out: list[tuple[Reader, bool]] = []
    for raw in names or ["dateCreated"]:
        name, descending = raw, False
        if name.startswith("-"):
            name, descending = name[1:], True
        elif ":" in name:
            name, _, direction = name.partition(":")
            if direction.lower() not in ("asc", "desc"):
                raise Invalid(f"sortBy direction must be asc or desc, got {raw!r}", param="sortBy")
            descending = direction.lower() == "desc"
        if name.startswith(ATTRIBUTE_PREFIX) and len(name) > len(ATTRIBUTE_PREFIX):
            out.append((_attribute(name[len(ATTRIBUTE_PREFIX) :]), descending))
        elif name in SORT_FIELDS:
            out.append((SORT_FIELDS[name], descending))
        else:
            raise Invalid(
                f"sortBy {raw!r}: sort by {', '.join(SORT_FIELDS)} or attributes.<name>",
                param="sortBy",
            )
    return out


class TaskOrder:
    def __init__(self, state: WorkspaceState, names: list[str]) -> None:
        sorting = _sorting(names)
        self._state = state
        self._readers = [read for read, _ in sorting]
        self._descending = [desc for _, desc in sorting]
        self._fields = [_field_key(state, read, desc) for read, desc in sorting]

    def key(self, task: Task) -> tuple[Any, ...]:
        if len(self._fields) == 1:
            return (self._fields[0](task), task.sid)
        return (*[field(task) for field in self._fields], task.sid)

    def position(self, task: Task) -> list[Any]:
        return [*(list(_comparable(read(self._state, task))) for read in self._readers), task.sid]

    def key_of(self, position: list[Any]) -> tuple[Any, ...]:
        """The key a token's position stands for; ValueError or TypeError if it cannot."""
        if len(position) != len(self._readers) + 1 or not isinstance(position[-1], str):
            raise ValueError("token of another sorting")
        parts: list[Any] = []
        for desc, pair in zip(self._descending, position, strict=False):
            if not isinstance(pair, list) or len(pair) != 2:
                raise ValueError("malformed token")
            rank, value = pair
            parts.append(_reversed((rank, value)) if desc else (rank, value))
        return (*parts, position[-1])
