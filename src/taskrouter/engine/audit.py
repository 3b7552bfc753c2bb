"""Invariants of a workspace's live state, checked from the outside of the engine.

Used after every step of the scenario tests and, later, by `taskrouter check` and the server's
periodic audit. Each finding is one sentence naming the objects involved.
"""

from __future__ import annotations

from taskrouter.domain.lifecycles import RESERVATION_ACTIVE, ReservationStatus, TaskStatus
from taskrouter.engine.engine import WorkspaceEngine

R = ReservationStatus
T = TaskStatus


def audit(engine: WorkspaceEngine) -> list[str]:
    findings: list[str] = []
    state = engine.state
    active: dict[tuple[str, str], int] = {}
    accepted_of_task: dict[str, int] = {}
    for reservation in engine.reservations.values():
        task = engine.tasks.get(reservation.task_sid)
        if task is None:
            findings.append(
                f"reservation {reservation.sid} belongs to unknown task {reservation.task_sid}"
            )
            continue
        status = reservation.reservation_status
        if status in RESERVATION_ACTIVE:
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
            findings.append(
                f"reservation {reservation.sid} is {status} but task {task.sid} is"
                f" {task.assignment_status}"
            )
    for task_sid, count in accepted_of_task.items():
        if count > 1:
            findings.append(f"task {task_sid} has {count} accepted reservations")
    for task in engine.tasks.values():
        open_ = [
            r
            for r in (engine.reservations[s] for s in engine.reservations_of_task[task.sid])
            if r.reservation_status in RESERVATION_ACTIVE
        ]
        if task.assignment_status == T.RESERVED and not any(
            r.reservation_status == R.PENDING for r in open_
        ):
            findings.append(f"task {task.sid} is reserved without a pending reservation")
        if task.assignment_status in (T.ASSIGNED, T.WRAPPING) and task.sid not in accepted_of_task:
            findings.append(
                f"task {task.sid} is {task.assignment_status} without an accepted reservation"
            )
    for worker_sid, channels in state.worker_channels.items():
        for channel_sid, channel in channels.items():
            count = active.get((worker_sid, channel_sid), 0)
            if count != channel.active_tasks:
                findings.append(
                    f"worker {worker_sid} channel {channel_sid} counts {channel.active_tasks}"
                    f" active tasks but holds {count} open reservations"
                )
            if (
                state.workspace.multi_task_enabled
                and count > max(channel.configured_capacity, 0)
                and not _ignores_capacity(engine, worker_sid)
            ):
                findings.append(
                    f"worker {worker_sid} holds {count} reservations on channel {channel_sid}"
                    f" over its capacity {channel.configured_capacity}"
                )
    findings.extend(_idle_with_work(engine))
    return findings


def _ignores_capacity(engine: WorkspaceEngine, worker_sid: str) -> bool:
    return any(
        t.routing_target == worker_sid and t.ignore_capacity is not False
        for t in engine.tasks.values()
    )


def _idle_with_work(engine: WorkspaceEngine) -> list[str]:
    """A pending task and a ready worker who could take it must never coexist."""
    findings: list[str] = []
    for task_sid in engine.pending.task_sids():
        task = engine.tasks[task_sid]
        if task.assignment_status != T.PENDING:
            findings.append(f"task {task_sid} is {task.assignment_status} but queued as pending")
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
                    f"task {task_sid} is pending while worker {worker_sid} could take it"
                )
                break
    return findings
