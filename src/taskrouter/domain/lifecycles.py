"""The lifecycles of tasks, reservations and workers, as tables that code and docs both read.

Every status change in the engine goes through `move`, so a transition that is not in its
table cannot happen, whichever face or timer asked for it. docs/lifecycles.md is written
from these tables.
"""

from __future__ import annotations

from enum import StrEnum

from taskrouter.domain.errors import IllegalTransition


class TaskStatus(StrEnum):
    PENDING = "pending"
    RESERVED = "reserved"
    ASSIGNED = "assigned"
    WRAPPING = "wrapping"
    COMPLETED = "completed"
    CANCELED = "canceled"


class ReservationStatus(StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    TIMEOUT = "timeout"
    CANCELED = "canceled"
    RESCINDED = "rescinded"
    WRAPPING = "wrapping"
    COMPLETED = "completed"


T = TaskStatus
R = ReservationStatus

# (from, to) -> what causes it. Causes are for people: the engine only checks membership.
TASK_TRANSITIONS: dict[tuple[TaskStatus, TaskStatus], str] = {
    (T.PENDING, T.RESERVED): "reservations were created for it",
    (T.RESERVED, T.PENDING): "every reservation ended without being accepted",
    (T.RESERVED, T.ASSIGNED): "a reservation was accepted",
    (T.PENDING, T.CANCELED): "canceled by the API, TTL, workflow timeout or assignment cap",
    (T.RESERVED, T.CANCELED): "canceled by the API, TTL, workflow timeout or assignment cap",
    (T.ASSIGNED, T.WRAPPING): "wrap-up set by the API or by its reservation",
    (T.ASSIGNED, T.COMPLETED): "completed by the API or by its reservation",
    (T.WRAPPING, T.COMPLETED): "completed by the API or by its reservation",
}

# The changes a client may ask for with `AssignmentStatus`; the others follow reservations.
TASK_REQUESTABLE = frozenset(
    (
        (T.PENDING, T.CANCELED),
        (T.RESERVED, T.CANCELED),
        (T.ASSIGNED, T.WRAPPING),
        (T.ASSIGNED, T.COMPLETED),
        (T.WRAPPING, T.COMPLETED),
    )
)

TASK_LIVE = frozenset((T.PENDING, T.RESERVED, T.ASSIGNED, T.WRAPPING))
TASK_TERMINAL = frozenset((T.COMPLETED, T.CANCELED))

RESERVATION_TRANSITIONS: dict[tuple[ReservationStatus, ReservationStatus], str] = {
    (R.PENDING, R.ACCEPTED): "the worker accepted",
    (R.PENDING, R.REJECTED): "the worker rejected",
    (R.PENDING, R.TIMEOUT): "nobody answered within the workflow's TaskReservationTimeout",
    (R.PENDING, R.CANCELED): "the task was canceled or moved on",
    (R.PENDING, R.RESCINDED): "another worker accepted the same task",
    (R.ACCEPTED, R.WRAPPING): "the task went to wrap-up",
    (R.ACCEPTED, R.COMPLETED): "the task was completed",
    (R.WRAPPING, R.COMPLETED): "the task was completed",
}

RESERVATION_OPEN = frozenset((R.PENDING, R.ACCEPTED, R.WRAPPING))
# What occupies a worker's channel capacity (multitasking, MT's example).
RESERVATION_ACTIVE = RESERVATION_OPEN


# The checks take statuses as entities store them, plain strings or members alike: a member
# hashes and compares as its value, so the tables answer either, and the routing path builds
# no member per check (the enum lookup cost more than the check itself).


def check_task(current: str, new: str, sid: str, workspace_sid: str) -> None:
    if (current, new) not in TASK_TRANSITIONS:
        raise IllegalTransition(_task_message(T(current), T(new), sid, workspace_sid))


def check_task_request(current: str, new: str, sid: str, workspace_sid: str) -> None:
    """A client's `AssignmentStatus` change: only those in TASK_REQUESTABLE."""
    if (current, new) not in TASK_REQUESTABLE:
        raise IllegalTransition(_task_message(T(current), T(new), sid, workspace_sid))


def check_reservation(current: str, new: str, sid: str) -> None:
    if (current, new) not in RESERVATION_TRANSITIONS:
        raise IllegalTransition(
            f"Reservation {sid} is {R(current).value} and cannot become {R(new).value}"
        )


def _task_message(current: TaskStatus, new: TaskStatus, sid: str, workspace_sid: str) -> str:
    # Twilio's own wording for the two transitions users hit most, so scripts keep matching.
    if new is T.CANCELED:
        return (
            f"Cannot cancel task {sid} in workspace {workspace_sid} because it is not pending"
            " or reserved."
        )
    if new is T.WRAPPING:
        return f"Cannot wrap up a task {sid} because it's not currently assigned"
    if new is T.COMPLETED:
        return f"Cannot complete task {sid} because it is not assigned or wrapping"
    if new is T.ASSIGNED:
        return f"Task {sid} becomes assigned only when one of its reservations is accepted"
    if new in (T.PENDING, T.RESERVED):
        return f"Task {sid} cannot be set {new.value}: routing decides that"
    return f"Task {sid} is {current.value} and cannot become {new.value}"
