"""The configuration entities of a workspace, as plain slotted records.

Each entity knows how to become a storage record and back; nothing here does I/O. Times are
epoch milliseconds. JSON documents (worker attributes, workflow configuration) keep the text
the client sent, because clients read back exactly what they wrote, beside the parsed form.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any, Self

import orjson


class _Record:
    """Shared to/from storage-record conversion for the dataclasses below."""

    __slots__ = ()

    _derived: tuple[str, ...] = ()

    def to_record(self) -> dict[str, Any]:
        # A shallow dict: the store encodes it to JSON before commit() returns control, so
        # nested lists and dicts are read at once and need no copy (asdict's deep copy was a
        # tenth of a task create).
        return {name: getattr(self, name) for name in _stored_fields(type(self))}

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> Self:
        names = _stored_names(cls)
        # A start decodes every live task. A record with exactly the stored fields (any this
        # version wrote) goes in by position: matching two dozen keywords to parameters by
        # name was a fifth of a start. Older records, with fields missing or unknown, go in by
        # keyword, unknown fields dropped.
        if record.keys() == names and cls in _POSITIONAL:
            return cls(*[record[name] for name in _stored_fields(cls)])
        return cls(**{k: v for k, v in record.items() if k in names})


_FIELDS: dict[type, tuple[str, ...]] = {}
_NAMES: dict[type, frozenset[str]] = {}
# Classes whose stored fields come first, in order, so they can be passed by position.
_POSITIONAL: set[type] = set()


def _stored_fields(cls: type) -> tuple[str, ...]:
    names = _FIELDS.get(cls)
    if names is None:
        derived = set(getattr(cls, "_derived", ()))
        names = _FIELDS[cls] = tuple(f.name for f in fields(cls) if f.name not in derived)
    return names


def _stored_names(cls: type) -> frozenset[str]:
    names = _NAMES.get(cls)
    if names is None:
        stored = _stored_fields(cls)
        names = _NAMES[cls] = frozenset(stored)
        if tuple(f.name for f in fields(cls))[: len(stored)] == stored:
            _POSITIONAL.add(cls)
    return names


@dataclass(slots=True)
class Account(_Record):
    sid: str
    friendly_name: str
    auth_token: str
    date_created: int
    email: str | None = None
    status: str = "active"


@dataclass(slots=True)
class ApiKey(_Record):
    sid: str
    account_sid: str
    secret: str
    friendly_name: str
    date_created: int


@dataclass(slots=True)
class Workspace(_Record):
    sid: str
    account_sid: str
    friendly_name: str
    date_created: int
    date_updated: int
    default_activity_sid: str | None = None
    timeout_activity_sid: str | None = None
    event_callback_url: str | None = None
    events_filter: str | None = None
    multi_task_enabled: bool = True
    prioritize_queue_order: str = "FIFO"
    # The CPaaS dialect's tenant label; workspace names are unique within one.
    enterprise_sid: str | None = None
    # Set through the CRM face: another name for the workspace in its paths, the zone its
    # "today" starts in, and per worker SID the task types they take (absent: all).
    company_id: str | None = None
    time_zone: str = "UTC"
    task_type_availability: dict[str, dict[str, bool]] = field(default_factory=dict)


@dataclass(slots=True)
class Activity(_Record):
    sid: str
    account_sid: str
    workspace_sid: str
    friendly_name: str
    available: bool
    date_created: int
    date_updated: int


@dataclass(slots=True)
class TaskChannel(_Record):
    sid: str
    account_sid: str
    workspace_sid: str
    friendly_name: str
    unique_name: str
    date_created: int
    date_updated: int
    channel_optimized_routing: bool = False


@dataclass(slots=True)
class TaskQueue(_Record):
    sid: str
    account_sid: str
    workspace_sid: str
    friendly_name: str
    date_created: int
    date_updated: int
    target_workers: str = "1==1"
    max_reserved_workers: int = 1
    task_order: str = "FIFO"
    reservation_activity_sid: str | None = None
    assignment_activity_sid: str | None = None


@dataclass(slots=True)
class Worker(_Record):
    sid: str
    account_sid: str
    workspace_sid: str
    friendly_name: str
    activity_sid: str
    attributes: str
    date_created: int
    date_updated: int
    date_status_changed: int
    version: int = 0
    last_assignment: int = 0
    parsed_attributes: dict[str, Any] = field(default_factory=dict)

    _derived = ("parsed_attributes",)

    def __post_init__(self) -> None:
        if not self.parsed_attributes:
            self.parsed_attributes = _as_object(self.attributes)


@dataclass(slots=True)
class WorkerChannel(_Record):
    sid: str
    account_sid: str
    workspace_sid: str
    worker_sid: str
    task_channel_sid: str
    date_created: int
    date_updated: int
    configured_capacity: int = 1
    available: bool = True
    last_assignment: int = 0
    # Counted from the open reservations at load, so never stored: accepted or wrapping
    # (assigned_tasks), and those plus pending ones (active_tasks, what fills capacity).
    assigned_tasks: int = 0
    active_tasks: int = 0

    _derived = ("assigned_tasks", "active_tasks")

    @property
    def available_capacity_percentage(self) -> int:
        if self.configured_capacity <= 0:
            return 0
        free = max(self.configured_capacity - self.active_tasks, 0)
        return free * 100 // self.configured_capacity

    @property
    def has_capacity(self) -> bool:
        return self.available and self.active_tasks < self.configured_capacity


@dataclass(slots=True)
class Workflow(_Record):
    sid: str
    account_sid: str
    workspace_sid: str
    friendly_name: str
    configuration: str
    date_created: int
    date_updated: int
    assignment_callback_url: str | None = None
    fallback_assignment_callback_url: str | None = None
    task_reservation_timeout: int = 120


def _as_object(text: str) -> dict[str, Any]:
    value = orjson.loads(text) if text else {}
    return value if isinstance(value, dict) else {}


@dataclass(slots=True)
class Task(_Record):
    sid: str
    account_sid: str
    workspace_sid: str
    attributes: str
    assignment_status: str
    priority: int
    task_channel_sid: str
    workflow_sid: str | None
    timeout: int
    date_created: int
    date_updated: int
    virtual_start_time: int
    version: int = 0
    task_queue_sid: str | None = None
    task_queue_entered_date: int | None = None
    reason: str | None = None
    routing_target: str | None = None
    ignore_capacity: bool | None = None
    addons: str = "{}"
    # Where the workflow has it: filter index (-1 for default_filter) and target index.
    filter_index: int | None = None
    target_index: int | None = None
    # pending -> reserved transitions so far; the task is canceled at the cap.
    reservation_attempts: int = 0
    date_closed: int | None = None
    deleted: bool = False
    # Workers who rejected or let a reservation of this task time out are not asked again.
    declined_by: list[str] = field(default_factory=list)
    # The first reservation made for the task is accepted at once (the CPaaS dialect's flag).
    bypass_reserved_state: bool = False
    parsed_attributes: dict[str, Any] = field(default_factory=dict)

    _derived = ("parsed_attributes",)

    def __post_init__(self) -> None:
        if not self.parsed_attributes:
            self.parsed_attributes = _as_object(self.attributes)


@dataclass(slots=True)
class Reservation(_Record):
    sid: str
    account_sid: str
    workspace_sid: str
    task_sid: str
    worker_sid: str
    reservation_status: str
    date_created: int
    date_updated: int
    timeout_at: int
    version: int = 0
    # The worker's activity before this reservation moved it (single-tasking), for rejects.
    worker_previous_activity_sid: str | None = None
    instruction: dict[str, Any] | None = None
