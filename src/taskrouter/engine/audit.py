"""Invariants of a workspace's live state, checked from the outside of the engine.

Used after every step of the scenario tests, by `taskrouter check` and by the server's periodic
audit. Each finding is one sentence naming the objects involved, filed under a kind so that
metrics can count them and `check --repair` can tell which ones it knows how to fix.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from taskrouter.domain.lifecycles import RESERVATION_ACTIVE, ReservationStatus, TaskStatus
from taskrouter.engine.engine import WorkspaceEngine

R = ReservationStatus
T = TaskStatus


class Kind(StrEnum):
    OVER_CAPACITY = "over_capacity"
    DOUBLE_ASSIGNMENT = "double_assignment"
    DISAGREEMENT = "disagreement"
    UNKNOWN_OBJECT = "unknown_object"
    COUNT_MISMATCH = "count_mismatch"
    IDLE_WITH_WORK = "idle_with_work"
    EXPIRED_DEADLINE = "expired_deadline"


@dataclass(frozen=True, slots=True)
class Finding:
    kind: Kind
    message: str

    def __str__(self) -> str:
        return self.message


def audit(engine: WorkspaceEngine) -> list[str]:
    return [finding.message for finding in audit_findings(engine)]


def audit_findings(
    engine: WorkspaceEngine, *, deadline_grace_ms: int | None = None
) -> list[Finding]:
    """Every broken invariant; with `deadline_grace_ms`, also deadlines overdue by more."""
    findings: list[Finding] = []

    def add(kind: Kind, message: str) -> None:
        findings.append(Finding(kind, message))

    state = engine.state
    active: dict[tuple[str, str], int] = {}
    accepted_of_task: dict[str, int] = {}
    for reservation in engine.reservations.values():
        task = engine.tasks.get(reservation.task_sid)
        if task is None:
            add(
                Kind.UNKNOWN_OBJECT,
                f"reservation {reservation.sid} belongs to unknown task {reservation.task_sid}",
            )
            continue
        status = reservation.reservation_status
        if status in RESERVATION_ACTIVE:
            if reservation.worker_sid not in state.workers:
                add(
                    Kind.UNKNOWN_OBJECT,
                    f"reservation {reservation.sid} is {status} for unknown worker"
                    f" {reservation.worker_sid}",
                )
            key = (reservation.worker_sid, task.task_channel_sid)
            active[key] = active.get(key, 0) + 1
        if status in (R.ACCEPTED, R.WRAPPING):
            accepted_of_task[task.sid] = accepted_of_task.get(task.sid, 0) + 1
        expected = {
            R.PENDING: (T.RESERVED,),
            R.ACCEPTED: (T.ASSIGNED,),
            R.WRAPPING: (T.WRAPPING,),
        }.get(ReservationStatus(status))
        if expected is not None and task.assignment_status not in expected:
            add(
                Kind.DISAGREEMENT,
                f"reservation {reservation.sid} is {status} but task {task.sid} is"
                f" {task.assignment_status}",
            )
    for task_sid, count in accepted_of_task.items():
        if count > 1:
            add(Kind.DOUBLE_ASSIGNMENT, f"task {task_sid} has {count} accepted reservations")
    for task in engine.tasks.values():
        open_ = [
            r
            for r in (engine.reservations[s] for s in engine.reservations_of_task[task.sid])
            if r.reservation_status in RESERVATION_ACTIVE
        ]
        if task.assignment_status == T.RESERVED and not any(
            r.reservation_status == R.PENDING for r in open_
        ):
            add(Kind.DISAGREEMENT, f"task {task.sid} is reserved without a pending reservation")
        if task.assignment_status in (T.ASSIGNED, T.WRAPPING) and task.sid not in accepted_of_task:
            add(
                Kind.DISAGREEMENT,
                f"task {task.sid} is {task.assignment_status} without an accepted reservation",
            )
    for worker_sid, channels in state.worker_channels.items():
        for channel_sid, channel in channels.items():
            count = active.get((worker_sid, channel_sid), 0)
            if count != channel.active_tasks:
                add(
                    Kind.COUNT_MISMATCH,
                    f"worker {worker_sid} channel {channel_sid} counts {channel.active_tasks}"
                    f" active tasks but holds {count} open reservations",
                )
            if count > _allowed(engine, worker_sid, channel.configured_capacity):
                add(
                    Kind.OVER_CAPACITY,
                    f"worker {worker_sid} holds {count} reservations on channel {channel_sid}"
                    f" over its capacity {channel.configured_capacity}",
                )
    findings.extend(_idle_with_work(engine))
    if deadline_grace_ms is not None:
        findings.extend(_overdue(engine, deadline_grace_ms))
    return findings


def _allowed(engine: WorkspaceEngine, worker_sid: str, capacity: int) -> int:
    """How many open reservations a worker's channel may hold."""
    if _ignores_capacity(engine, worker_sid):
        return 1 << 30
    # Without multitasking a worker holds one task at a time, whatever the channel says.
    return max(capacity, 0) if engine.state.workspace.multi_task_enabled else 1


def _ignores_capacity(engine: WorkspaceEngine, worker_sid: str) -> bool:
    return any(
        t.routing_target == worker_sid and t.ignore_capacity is not False
        for t in engine.tasks.values()
    )


def _idle_with_work(engine: WorkspaceEngine) -> list[Finding]:
    """A pending task and a ready worker who could take it must never coexist."""
    findings: list[Finding] = []
    for task_sid in engine.pending.task_sids():
        task = engine.tasks[task_sid]
        if task.assignment_status != T.PENDING:
            findings.append(
                Finding(
                    Kind.DISAGREEMENT,
                    f"task {task_sid} is {task.assignment_status} but queued as pending",
                )
            )
            continue
        target = engine._target(task)
        if target is None or task.task_queue_sid is None:
            continue
        known = engine._known_worker(task, target)
        now = engine.clock.now_ms()
        # Walk the queue's members, not the ready index, so a worker the index lost is found.
        for worker_sid in sorted(engine.state.membership.members.get(task.task_queue_sid, ())):
            if (known is not None and worker_sid != known) or not engine.ready.is_ready(
                worker_sid, task.task_channel_sid
            ):
                continue
            worker = engine.state.workers[worker_sid]
            if engine._can_take(task, target, worker, now):
                findings.append(
                    Finding(
                        Kind.IDLE_WITH_WORK,
                        f"task {task_sid} is pending while worker {worker_sid} could take it",
                    )
                )
                break
    return findings


def _overdue(engine: WorkspaceEngine, grace_ms: int) -> list[Finding]:
    """Deadlines that passed more than `grace_ms` ago and still have not been acted on."""
    findings: list[Finding] = []
    late = engine.clock.now_ms() - grace_ms
    for reservation in engine.reservations.values():
        if reservation.reservation_status == R.PENDING and reservation.timeout_at <= late:
            findings.append(
                Finding(
                    Kind.EXPIRED_DEADLINE,
                    f"reservation {reservation.sid} is still pending after its timeout",
                )
            )
    for task in engine.tasks.values():
        if task.assignment_status in (T.PENDING, T.RESERVED) and (
            task.date_created + task.timeout * 1000 <= late
        ):
            findings.append(
                Finding(
                    Kind.EXPIRED_DEADLINE,
                    f"task {task.sid} is still {task.assignment_status} after its timeout",
                )
            )
    return findings
