"""The CPaaS dialect's error codes, and how the core's error vocabulary maps onto them.

The dialect answers a failure with HTTP 409 and `{"errorCode", "message", "data"}`, where
`data` is the value at fault (the SID not found, the name not unique). Failures its document
gives no code for keep their HTTP status, which is then also the `errorCode`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from taskrouter.api.statuses import http_status
from taskrouter.domain import errors


class Kind(StrEnum):
    WORKSPACE = "workspace"
    TASK_QUEUE = "taskqueue"
    WORKER = "worker"
    ACTIVITY = "activity"
    WORKFLOW = "workflow"
    TASK = "task"


# kind -> (not found code, message), (not unique code, message); messages as the document's
# examples print them.
NOT_FOUND: dict[Kind, tuple[str, str]] = {
    Kind.ACTIVITY: ("510", "Sid of passed activity is not found"),
    Kind.WORKSPACE: ("520", "Sid of passed workspace is not found"),
    Kind.WORKER: ("530", "Sid of passed worker is not found"),
    Kind.TASK_QUEUE: ("540", "Sid of passed TaskQueue is not found"),
    Kind.WORKFLOW: ("550", "Sid of passed Workflow is not found"),
    Kind.TASK: ("560", "Sid of passed Task is not found"),
}
NOT_UNIQUE: dict[Kind, tuple[str, str]] = {
    Kind.ACTIVITY: ("516", "Activity not unique"),
    Kind.WORKSPACE: ("526", "Workspace not unique"),
    Kind.WORKER: ("536", "Worker not unique"),
    Kind.TASK_QUEUE: ("546", "TaskQueue not unique"),
    Kind.WORKFLOW: ("556", "Workflow not unique"),
}
ATTRIBUTES_INVALID = ("531", "Worker's attributes is not valid json or empty")
CONTACT_URI_MISSING = ("532", "Worker's attributes is missing contact_uri")
SEED_STATUS = 409


class Fault(Exception):
    """An answer in the dialect's error shape."""

    def __init__(self, status: int, code: str, message: str, data: object = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.data = data


def not_found(kind: Kind, sid: str) -> Fault:
    code, message = NOT_FOUND[kind]
    return Fault(SEED_STATUS, code, message, sid)


def not_unique(kind: Kind, name: str | None) -> Fault:
    code, message = NOT_UNIQUE[kind]
    return Fault(SEED_STATUS, code, message, name)


def seed_fault(code_message: tuple[str, str], data: object) -> Fault:
    return Fault(SEED_STATUS, code_message[0], code_message[1], data)


def bad_request(message: str, data: object = None) -> Fault:
    return Fault(400, "400", message, data)


@dataclass(slots=True)
class Subject:
    """What a request is about, so a core error can name the seed's code and the value."""

    kind: Kind
    sid: str | None = None
    name: str | None = None
    # Core parameter name -> (kind, value) of each SID the request refers to.
    refs: dict[str, tuple[Kind, str]] = field(default_factory=dict)


def translate(exc: errors.DomainError, subject: Subject | None) -> Fault:
    if subject is not None:
        if isinstance(exc, errors.NotFound) and subject.sid is not None:
            return not_found(subject.kind, subject.sid)
        if (
            isinstance(exc, errors.Conflict)
            and exc.param == "FriendlyName"
            and subject.kind in NOT_UNIQUE
        ):
            return not_unique(subject.kind, subject.name)
        if isinstance(exc, errors.Invalid) and exc.param is not None:
            ref = subject.refs.get(exc.param)
            if ref is not None:
                return not_found(*ref)
            if exc.param == "Attributes" and subject.kind is Kind.WORKER:
                return seed_fault(ATTRIBUTES_INVALID, exc.message)
    if isinstance(exc, errors.Unauthenticated):
        return Fault(401, "401", "Unauthorized: wrong or missing credentials")
    status = http_status(exc)
    return Fault(status, str(status), exc.message, exc.param)
