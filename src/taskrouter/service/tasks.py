"""Tasks and their reservations: the commands, checked here and carried out by the engine."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from taskrouter.domain.entities import Reservation, Task
from taskrouter.domain.errors import Invalid, NotFound
from taskrouter.domain.lifecycles import ReservationStatus, TaskStatus
from taskrouter.domain.sids import Prefix, is_sid
from taskrouter.engine.engine import TaskUpdate
from taskrouter.engine.state import WorkspaceState
from taskrouter.expressions import Context, ExpressionError, compile_expression, task_root
from taskrouter.service import validation
from taskrouter.service.runtime import Runtime

DEFAULT_TTL = 86_400
MAX_TTL = 1_209_600
MAX_PRIORITY = 2_147_483_647
EARLIEST_START_MS = -2_208_988_800_000  # 1900-01-01T00:00:00Z


@dataclass(slots=True)
class NewTask:
    attributes: str | None = None
    priority: int | None = None
    timeout: int | None = None
    task_channel: str | None = None
    workflow_sid: str | None = None
    virtual_start_time: int | None = None
    routing_target: str | None = None
    ignore_capacity: bool | None = None
    task_queue_sid: str | None = None
    bypass_reserved_state: bool = False


@dataclass(slots=True)
class TaskFilter:
    priority: int | None = None
    assignment_status: list[str] = field(default_factory=list)
    workflow_sid: str | None = None
    workflow_name: str | None = None
    task_queue_sid: str | None = None
    task_queue_name: str | None = None
    evaluate_task_attributes: str | None = None
    routing_target: str | None = None
    has_addons: bool | None = None


@dataclass(slots=True)
class TaskChanges:
    attributes: str | None = None
    assignment_status: str | None = None
    reason: str | None = None
    priority: int | None = None
    task_channel: str | None = None
    virtual_start_time: int | None = None


# Instructions that accept the reservation they are given on (Twilio's rules).
ALWAYS_ACCEPTS = frozenset(("accept", "dequeue", "conference"))
ACCEPTS_WHEN_ASKED = {"call": "CallAccept", "redirect": "RedirectAccept"}
INSTRUCTIONS = frozenset(
    ("accept", "reject", "dequeue", "call", "redirect", "conference", "supervise")
)


class Tasks:
    def __init__(self, runtime: Runtime) -> None:
        self._rt = runtime

    def fetch(self, account_sid: str, workspace_sid: str, sid: str) -> Task:
        return _task(self._rt.workspace(account_sid, workspace_sid), sid)

    async def history(
        self, account_sid: str, workspace_sid: str | None = None, *, finished: bool = True
    ) -> list[Task]:
        """Every task of the account (of one workspace, even a deleted one, when given) that
        is not deleted: finished ones from the store as well as memory, which only keeps them
        a few minutes; with `finished` False, only the live ones."""
        found: dict[str, Task] = {}
        if finished:
            where: dict[str, str] = {"account_sid": account_sid}
            if workspace_sid is not None:
                where["workspace_sid"] = workspace_sid
            for status in (TaskStatus.COMPLETED, TaskStatus.CANCELED):
                rows = await self._rt.store.query("tasks", where | {"assignment_status": status})
                for row in rows:
                    task = Task.from_record(row["body"])
                    if not task.deleted:
                        found[task.sid] = task
        for state in self._rt.workspaces.values():
            if state.workspace.account_sid != account_sid or (
                workspace_sid is not None and state.sid != workspace_sid
            ):
                continue
            for task in state.engine.tasks.values():
                if finished or task.date_closed is None:
                    found[task.sid] = task
        return list(found.values())

    async def fetch_any(self, account_sid: str, sid: str) -> Task:
        """A task by SID alone, live or finished, whichever workspace holds (or held) it."""
        for state in self._rt.workspaces.values():
            task = state.engine.tasks.get(sid)
            if task is not None and state.workspace.account_sid == account_sid:
                return task
        row = await self._rt.store.get("tasks", sid) if is_sid(sid, Prefix.TASK) else None
        if row is not None:
            task = Task.from_record(row["body"])
            if task.account_sid == account_sid and not task.deleted:
                return task
        raise NotFound(f"The requested resource /Tasks/{sid} was not found")

    def list(self, account_sid: str, workspace_sid: str, where: TaskFilter) -> list[Task]:
        state = self._rt.workspace(account_sid, workspace_sid)
        for status in where.assignment_status:
            if status not in TaskStatus.__members__.values():
                raise Invalid(
                    f"AssignmentStatus {status!r} is not a task status", param="AssignmentStatus"
                )
        checks: list[Callable[[Task], bool]] = []
        if where.priority is not None:
            checks.append(lambda t: t.priority == where.priority)
        if where.assignment_status:
            wanted = set(where.assignment_status)
            checks.append(lambda t: t.assignment_status in wanted)
        if where.workflow_sid is not None:
            checks.append(lambda t: t.workflow_sid == where.workflow_sid)
        if where.workflow_name is not None:
            names = {
                w.sid for w in state.workflows.values() if w.friendly_name == where.workflow_name
            }
            checks.append(lambda t: t.workflow_sid in names)
        if where.task_queue_sid is not None:
            checks.append(lambda t: t.task_queue_sid == where.task_queue_sid)
        if where.task_queue_name is not None:
            queues = {
                q.sid for q in state.queues.values() if q.friendly_name == where.task_queue_name
            }
            checks.append(lambda t: t.task_queue_sid in queues)
        if where.routing_target is not None:
            checks.append(lambda t: t.routing_target == where.routing_target)
        if where.has_addons is not None:
            checks.append(lambda t: (t.addons not in ("", "{}")) == where.has_addons)
        if where.evaluate_task_attributes is not None:
            try:
                predicate = compile_expression(where.evaluate_task_attributes, Context.TASK)
            except ExpressionError as exc:
                raise Invalid(
                    f"EvaluateTaskAttributes is not a valid expression: {exc}",
                    param="EvaluateTaskAttributes",
                ) from None
            now = _now(self._rt)
            checks.append(lambda t: bool(predicate(task_root(t.parsed_attributes, now))))
        return [t for t in state.engine.tasks.values() if all(c(t) for c in checks)]

    async def create(self, account_sid: str, workspace_sid: str, new: NewTask) -> Task:
        state = self._rt.workspace(account_sid, workspace_sid)
        text, parsed = validation.attributes(new.attributes or "{}")
        timeout = new.timeout if new.timeout is not None else DEFAULT_TTL
        validation.integer(timeout, "Timeout", 1, MAX_TTL)
        if new.priority is not None:
            validation.integer(new.priority, "Priority", 0, MAX_PRIORITY)
        channel = state.channel_by_sid_or_name(new.task_channel or "default")
        if channel is None:
            raise Invalid(
                f"TaskChannel {new.task_channel!r} is not a channel of this workspace",
                param="TaskChannel",
            )
        now = self._rt.clock.now_ms()
        if new.virtual_start_time is not None:
            _check_virtual_start(new.virtual_start_time, now)
        routing_target = new.routing_target or new.task_queue_sid
        workflow_sid = new.workflow_sid
        if routing_target is not None:
            workflow_sid = _check_routing_target(state, routing_target, workflow_sid)
        else:
            workflow_sid = _workflow_for(state, workflow_sid)
        ignore_capacity = new.ignore_capacity
        if routing_target is not None and routing_target.startswith(Prefix.WORKER.value):
            # Twilio's default for worker targets: capacity and availability are ignored.
            ignore_capacity = True if ignore_capacity is None else ignore_capacity
        task = state.engine.create_task(
            account_sid=account_sid,
            attributes=text,
            parsed_attributes=parsed,
            priority=new.priority,
            task_channel_sid=channel.sid,
            workflow_sid=workflow_sid,
            timeout=timeout,
            virtual_start_time=new.virtual_start_time,
            routing_target=routing_target,
            ignore_capacity=ignore_capacity,
            bypass_reserved_state=new.bypass_reserved_state,
        )
        await self._rt.commit_with_engine(state)
        return task

    async def update(
        self,
        account_sid: str,
        workspace_sid: str,
        sid: str,
        changes: TaskChanges,
        if_match: str | None = None,
    ) -> Task:
        state = self._rt.workspace(account_sid, workspace_sid)
        task = _task(state, sid)
        update = TaskUpdate(reason=changes.reason, virtual_start_time=changes.virtual_start_time)
        if changes.attributes is not None:
            update.attributes, update.parsed_attributes = validation.attributes(changes.attributes)
        if changes.priority is not None:
            update.priority = validation.integer(changes.priority, "Priority", 0, MAX_PRIORITY)
        if changes.assignment_status is not None:
            if changes.assignment_status not in TaskStatus.__members__.values():
                raise Invalid(
                    f"AssignmentStatus {changes.assignment_status!r} is not a task status",
                    param="AssignmentStatus",
                )
            update.assignment_status = changes.assignment_status
        if changes.task_channel is not None:
            channel = state.channel_by_sid_or_name(changes.task_channel)
            if channel is None:
                raise Invalid(
                    f"TaskChannel {changes.task_channel!r} is not a channel of this workspace",
                    param="TaskChannel",
                )
            update.task_channel_sid = channel.sid
        if changes.virtual_start_time is not None:
            _check_virtual_start(changes.virtual_start_time, self._rt.clock.now_ms())
        state.engine.update_task(task.sid, update, if_match)
        await self._rt.commit_with_engine(state)
        return task

    async def delete(
        self, account_sid: str, workspace_sid: str, sid: str, if_match: str | None = None
    ) -> None:
        state = self._rt.workspace(account_sid, workspace_sid)
        _task(state, sid)
        state.engine.delete_task(sid, if_match)
        await self._rt.commit_with_engine(state)


class Reservations:
    def __init__(self, runtime: Runtime) -> None:
        self._rt = runtime

    def list_for_task(
        self,
        account_sid: str,
        workspace_sid: str,
        task_sid: str,
        status: str | None,
        worker_sid: str | None,
    ) -> list[Reservation]:
        state = self._rt.workspace(account_sid, workspace_sid)
        _task(state, task_sid)
        engine = state.engine
        found = [engine.reservations[r] for r in engine.reservations_of_task.get(task_sid, ())]
        return _filter(found, status, worker_sid)

    def list_for_worker(
        self, account_sid: str, workspace_sid: str, worker_sid: str, status: str | None
    ) -> list[Reservation]:
        state = self._rt.workspace(account_sid, workspace_sid)
        if worker_sid not in state.workers:
            raise NotFound(
                f"The requested resource /Workspaces/{state.sid}/Workers/{worker_sid} was not found"
            )
        engine = state.engine
        found = [engine.reservations[r] for r in engine.reservations_of_worker.get(worker_sid, ())]
        return _filter(found, status, None)

    def fetch(
        self,
        account_sid: str,
        workspace_sid: str,
        sid: str,
        *,
        task_sid: str | None = None,
        worker_sid: str | None = None,
    ) -> Reservation:
        state = self._rt.workspace(account_sid, workspace_sid)
        reservation = state.engine.reservations.get(sid)
        if (
            reservation is None
            or (task_sid is not None and reservation.task_sid != task_sid)
            or (worker_sid is not None and reservation.worker_sid != worker_sid)
        ):
            owner = f"Tasks/{task_sid}" if task_sid else f"Workers/{worker_sid}"
            raise NotFound(
                f"The requested resource /Workspaces/{state.sid}/{owner}/Reservations/"
                f"{sid} was not found"
            )
        return reservation

    async def update(
        self,
        account_sid: str,
        workspace_sid: str,
        sid: str,
        *,
        task_sid: str | None = None,
        worker_sid: str | None = None,
        status: str | None = None,
        worker_activity_sid: str | None = None,
        instruction: str | None = None,
        instruction_params: dict[str, Any] | None = None,
        if_match: str | None = None,
    ) -> Reservation:
        reservation = self.fetch(
            account_sid, workspace_sid, sid, task_sid=task_sid, worker_sid=worker_sid
        )
        state = self._rt.workspace(account_sid, workspace_sid)
        stored: dict[str, Any] | None = None
        params = instruction_params or {}
        if instruction is not None:
            if instruction not in INSTRUCTIONS:
                raise Invalid(
                    f"Instruction must be one of {', '.join(sorted(INSTRUCTIONS))},"
                    f" got {instruction!r}",
                    param="Instruction",
                )
            if instruction == "reject":
                status = status or ReservationStatus.REJECTED.value
            elif instruction in ALWAYS_ACCEPTS or str(
                params.get(ACCEPTS_WHEN_ASKED.get(instruction, ""), "")
            ).lower() in ("true", "1", "yes"):
                status = status or ReservationStatus.ACCEPTED.value
            if instruction not in ("accept", "reject"):
                # taskrouter places no calls: the instruction is kept for an integration.
                stored = {"instruction": instruction, **params}
        if status is None:
            if stored is None:
                raise Invalid(
                    "ReservationStatus or Instruction is required", param="ReservationStatus"
                )
            status = reservation.reservation_status
        if status not in ReservationStatus.__members__.values():
            raise Invalid(
                f"ReservationStatus {status!r} is not a reservation status",
                param="ReservationStatus",
            )
        state.engine.update_reservation(
            sid,
            status,
            worker_activity_sid=worker_activity_sid,
            instruction=stored,
            if_match=if_match,
        )
        await self._rt.commit_with_engine(state)
        return reservation


def _filter(
    found: list[Reservation], status: str | None, worker_sid: str | None
) -> list[Reservation]:
    if status is not None and status not in ReservationStatus.__members__.values():
        raise Invalid(
            f"ReservationStatus {status!r} is not a reservation status", param="ReservationStatus"
        )
    return [
        r
        for r in found
        if (status is None or r.reservation_status == status)
        and (worker_sid is None or r.worker_sid == worker_sid)
    ]


def _task(state: WorkspaceState, sid: str) -> Task:
    task = state.engine.tasks.get(sid)
    if task is None:
        raise NotFound(f"The requested resource /Workspaces/{state.sid}/Tasks/{sid} was not found")
    return task


def _now(runtime: Runtime) -> Any:
    from taskrouter.domain.clock import to_datetime

    return to_datetime(runtime.clock.now_ms())


def _check_virtual_start(ms: int, now: int) -> None:
    if ms > now:
        raise Invalid("VirtualStartTime cannot be in the future", param="VirtualStartTime")
    if ms < EARLIEST_START_MS:
        raise Invalid("VirtualStartTime cannot be before 1900", param="VirtualStartTime")


def _workflow_for(state: WorkspaceState, workflow_sid: str | None) -> str:
    if workflow_sid is not None:
        if workflow_sid not in state.workflows:
            raise Invalid(
                f"WorkflowSid {workflow_sid} is not a Workflow of this workspace",
                param="WorkflowSid",
            )
        return workflow_sid
    if len(state.workflows) == 1:
        return next(iter(state.workflows))
    raise Invalid(
        "WorkflowSid is required when the workspace does not have exactly one workflow",
        param="WorkflowSid",
    )


def _check_routing_target(
    state: WorkspaceState, target: str, workflow_sid: str | None
) -> str | None:
    if is_sid(target, Prefix.WORKER):
        if target not in state.workers:
            raise Invalid(
                f"RoutingTarget {target} is not a Worker of this workspace", param="RoutingTarget"
            )
        return workflow_sid
    if is_sid(target, Prefix.TASK_QUEUE):
        if target not in state.queues:
            raise Invalid(
                f"RoutingTarget {target} is not a TaskQueue of this workspace",
                param="RoutingTarget",
            )
        return workflow_sid
    if is_sid(target, Prefix.WORKFLOW):
        return _workflow_for(state, target)
    raise Invalid(
        f"RoutingTarget must be a Worker, TaskQueue or Workflow SID, got {target!r}",
        param="RoutingTarget",
    )
