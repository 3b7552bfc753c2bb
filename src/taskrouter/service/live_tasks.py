"""Live ("unterminated") tasks as the CRM works them: filtered by attributes, deleted one by
one or in bulk, and abandoned to a fresh copy.

The filters read task attributes through one mapping, `ATTRIBUTE_OF` (docs/crm.md shows it).
"""

from __future__ import annotations

import builtins
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import orjson

from taskrouter.domain.clock import to_datetime
from taskrouter.domain.entities import Reservation, Task
from taskrouter.domain.errors import Invalid, NotFound
from taskrouter.domain.lifecycles import ReservationStatus, TaskStatus
from taskrouter.domain.sids import Prefix, is_sid
from taskrouter.domain.task_types import TASK_TYPE_ATTRIBUTE
from taskrouter.engine.engine import TaskUpdate
from taskrouter.engine.state import WorkspaceState
from taskrouter.expressions import Context, ExpressionError, compile_expression, task_root
from taskrouter.service import validation
from taskrouter.service.runtime import Runtime

T = TaskStatus
R = ReservationStatus

LIVE = (T.PENDING, T.RESERVED, T.ASSIGNED, T.WRAPPING)
LIVE_NAMES = frozenset(s.value for s in LIVE)

# filter -> the task attribute it reads
ATTRIBUTE_OF = {
    "taskType": TASK_TYPE_ATTRIBUTE,
    "caseType": "caseType",
    "caseId": "caseId",
    "supercaseId": "supercaseId",
    "interactionId": "interactionId",
    "unableToComplete": "unableToComplete",
    "hasCase": "caseId",
    "hasCaseOwner": "caseOwnerId",
}
ABANDONED_FROM = "abandonedTaskSid"
DELETE_REASON = "Task deleted"
ABANDON_REASON = "Unable to complete"
MAX_BULK = 1000


@dataclass(slots=True)
class LiveTaskFilter:
    task_queue_sid: str | None = None
    assignment_status: list[str] = field(default_factory=list)
    task_type: list[str] = field(default_factory=list)
    case_type: list[str] = field(default_factory=list)
    case_id: list[str] = field(default_factory=list)
    supercase_id: list[str] = field(default_factory=list)
    interaction_id: list[str] = field(default_factory=list)
    unable_to_complete: bool | None = None
    expression: str | None = None
    has_case: bool | None = None
    has_case_owner: bool | None = None


@dataclass(frozen=True, slots=True)
class BulkResult:
    sid: str
    outcome: str  # "deleted", "alreadyTerminated", "notFound" or "invalid"


class LiveTasks:
    def __init__(self, runtime: Runtime) -> None:
        self._rt = runtime

    def list(self, state: WorkspaceState, where: LiveTaskFilter) -> list[Task]:
        for status in where.assignment_status:
            if status not in LIVE:
                raise Invalid(
                    f"assignmentStatus must be pending, reserved, assigned or wrapping,"
                    f" got {status!r}",
                    param="assignmentStatus",
                )
        checks: list[Callable[[Task], bool]] = []
        if where.task_queue_sid is not None:
            checks.append(lambda t: t.task_queue_sid == where.task_queue_sid)
        if where.assignment_status:
            wanted = set(where.assignment_status)
            checks.append(lambda t: t.assignment_status in wanted)
        for name, values in (
            ("taskType", where.task_type),
            ("caseType", where.case_type),
            ("caseId", where.case_id),
            ("supercaseId", where.supercase_id),
            ("interactionId", where.interaction_id),
        ):
            if values:
                checks.append(_any_of(ATTRIBUTE_OF[name], set(values)))
        if where.unable_to_complete is not None:
            flag, key = where.unable_to_complete, ATTRIBUTE_OF["unableToComplete"]
            checks.append(lambda t: (t.parsed_attributes.get(key) is True) == flag)
        for name, wanted_presence in (
            ("hasCase", where.has_case),
            ("hasCaseOwner", where.has_case_owner),
        ):
            if wanted_presence is not None:
                checks.append(_present(ATTRIBUTE_OF[name], wanted_presence))
        if where.expression is not None:
            try:
                predicate = compile_expression(where.expression, Context.TASK)
            except ExpressionError as exc:
                raise Invalid(
                    f"taskAttrMatchExpr is not a valid expression: {exc}",
                    param="taskAttrMatchExpr",
                ) from None
            now = to_datetime(self._rt.clock.now_ms())
            checks.append(lambda t: _safe(predicate, task_root(t.parsed_attributes, now)))
        live = [t for t in state.engine.tasks.values() if t.assignment_status in LIVE_NAMES]
        for check in checks:
            live = [t for t in live if check(t)]
        return [t for t in live if not t.deleted]

    def fetch(self, state: WorkspaceState, sid: str) -> Task:
        task = state.engine.tasks.get(sid) if is_sid(sid, Prefix.TASK) else None
        if task is None or task.assignment_status not in LIVE or task.deleted:
            raise NotFound(f"No unterminated task {sid!r} in workspace {state.sid}")
        return task

    def reservation_of(self, state: WorkspaceState, task: Task) -> Reservation | None:
        """The task's current reservation: the accepted one, else the newest pending one."""
        engine = state.engine
        found = [engine.reservations[r] for r in engine.reservations_of_task.get(task.sid, ())]
        for status in (R.ACCEPTED, R.WRAPPING, R.PENDING):
            matching = [r for r in found if r.reservation_status == status]
            if matching:
                return max(matching, key=lambda r: (r.date_created, r.sid))
        return None

    async def delete(self, state: WorkspaceState, sid: str) -> None:
        self._delete(state, self.fetch(state, sid))
        await self._rt.commit_with_engine(state)

    async def bulk_delete(
        self, state: WorkspaceState, sids: builtins.list[str]
    ) -> builtins.list[BulkResult]:
        if len(sids) > MAX_BULK:
            raise Invalid(f"taskSids holds {len(sids)} SIDs; at most {MAX_BULK}", param="taskSids")
        results: builtins.list[BulkResult] = []
        done: set[str] = set()
        for sid in sids:
            if not is_sid(sid, Prefix.TASK):
                results.append(BulkResult(sid, "invalid"))
                continue
            task = state.engine.tasks.get(sid)
            if task is not None and task.assignment_status in LIVE and not task.deleted:
                self._delete(state, task)
                done.add(sid)
                results.append(BulkResult(sid, "deleted"))
            elif sid in done or task is not None:
                results.append(BulkResult(sid, "alreadyTerminated"))
            else:
                results.append(BulkResult(sid, await self._outcome_of_unknown(state, sid)))
        await self._rt.commit_with_engine(state)
        return results

    async def _outcome_of_unknown(self, state: WorkspaceState, sid: str) -> str:
        row = await self._rt.store.get("tasks", sid)
        if row is not None and row["body"].get("workspace_sid") == state.sid:
            return "alreadyTerminated"
        return "notFound"

    def _delete(self, state: WorkspaceState, task: Task) -> None:
        """Waiting tasks are canceled first; accepted ones (which their lifecycle does not let
        be canceled) have their reservations completed. Either way `task.deleted` fires."""
        engine = state.engine
        if task.assignment_status in (T.PENDING, T.RESERVED):
            engine.update_task(
                task.sid, TaskUpdate(assignment_status=T.CANCELED, reason=DELETE_REASON)
            )
        engine.delete_task(task.sid)

    async def abandon(self, state: WorkspaceState, sid: str) -> Task:
        """Complete an accepted task as unable to complete, and route a copy of it (marked
        `unableToComplete`) to anyone but the worker who gave it up."""
        task = self.fetch(state, sid)
        if task.assignment_status not in (T.ASSIGNED, T.WRAPPING):
            raise Invalid(
                f"Failed to abandon task {sid}: it is {task.assignment_status}; only an accepted"
                " (assigned or wrapping) task can be abandoned"
            )
        current = self.reservation_of(state, task)
        worker_sid = current.worker_sid if current is not None else None
        attributes = dict(task.parsed_attributes)
        attributes[ATTRIBUTE_OF["unableToComplete"]] = True
        attributes[ABANDONED_FROM] = task.sid
        text, parsed = validation.attributes(orjson.dumps(attributes).decode())
        target = task.routing_target
        workflow_sid = task.workflow_sid
        if target is not None and target == worker_sid:
            target = None
        if target is None and workflow_sid not in state.workflows:
            if len(state.workflows) != 1:
                raise Invalid(f"Failed to abandon task {sid}: its copy has no workflow to route it")
            workflow_sid = next(iter(state.workflows))
        engine = state.engine
        engine.update_task(
            task.sid, TaskUpdate(assignment_status=T.COMPLETED, reason=ABANDON_REASON)
        )
        copy = engine.create_task(
            account_sid=task.account_sid,
            attributes=text,
            parsed_attributes=parsed,
            priority=task.priority,
            task_channel_sid=task.task_channel_sid,
            workflow_sid=workflow_sid,
            timeout=task.timeout,
            # The copy keeps the original's place in the queues.
            virtual_start_time=task.virtual_start_time,
            routing_target=target,
            ignore_capacity=task.ignore_capacity,
            declined_by=[worker_sid] if worker_sid else None,
        )
        await self._rt.commit_with_engine(state)
        return copy


def _text(value: Any) -> str | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return None


def _any_of(key: str, values: set[str]) -> Callable[[Task], bool]:
    return lambda t: _text(t.parsed_attributes.get(key)) in values


def _present(key: str, wanted: bool) -> Callable[[Task], bool]:
    return lambda t: (t.parsed_attributes.get(key) not in (None, "")) == wanted


def _safe(predicate: Callable[[Any], Any], root: Any) -> bool:
    try:
        return bool(predicate(root))
    except Exception:
        return False
