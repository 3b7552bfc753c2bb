"""Task types, and which workers take which (the CRM's task-type availability).

A task's type is its `taskType` attribute. Availability maps a worker SID to the task types
it is marked for, `true` (takes them, the default for any type not named) or `false` (gets no
reservations for them). Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

TASK_TYPE_ATTRIBUTE = "taskType"
MAX_TYPE_NAME = 128


def task_type_of(attributes: Mapping[str, Any]) -> str | None:
    value = attributes.get(TASK_TYPE_ATTRIBUTE)
    return value if isinstance(value, str) else None


def blocked_types(config: Mapping[str, Mapping[str, bool]]) -> dict[str, frozenset[str]]:
    """Per worker, the task types it is marked unavailable for (workers with none left out)."""
    out: dict[str, frozenset[str]] = {}
    for worker_sid, types in config.items():
        blocked = frozenset(name for name, available in types.items() if available is False)
        if blocked:
            out[worker_sid] = blocked
    return out
