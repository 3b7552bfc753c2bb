"""The repairs `taskrouter check --repair` makes to a workspace's live state.

Only changes the lifecycle tables allow and that lose nobody's work: a pending reservation that
nothing backs is canceled, a reserved task without a pending reservation goes back to pending,
overdue deadlines fire, and pending work is offered to idle workers. Everything else (two
accepted reservations, an assigned task without one, a worker over capacity) needs a person
to decide which side is right, so it is only reported.
"""

from __future__ import annotations

from taskrouter.domain.lifecycles import TASK_TERMINAL, ReservationStatus, TaskStatus
from taskrouter.domain.sids import Prefix
from taskrouter.engine.engine import WorkspaceEngine

R = ReservationStatus
T = TaskStatus


def repair(engine: WorkspaceEngine) -> list[str]:
    """Apply the safe repairs; returns one sentence per repair. The caller commits the
    engine's outcome."""
    done: list[str] = []
    now = engine.clock.now_ms()
    for reservation in list(engine.reservations.values()):
        task = engine.tasks.get(reservation.task_sid)
        if task is None:
            continue
        if (
            reservation.reservation_status in (R.ACCEPTED, R.WRAPPING)
            and task.assignment_status in TASK_TERMINAL
        ):
            engine._finish_reservation(reservation, now)
            done.append(
                f"completed reservation {reservation.sid}: task {task.sid} is"
                f" {task.assignment_status}"
            )
            continue
        if reservation.reservation_status != R.PENDING:
            continue
        worker_known = reservation.worker_sid in engine.state.workers
        if task.assignment_status == T.RESERVED and worker_known:
            continue
        engine._end_reservation(reservation, R.CANCELED, now)
        done.append(
            f"canceled reservation {reservation.sid}: task {task.sid} is"
            f" {task.assignment_status}"
            + ("" if worker_known else f" and worker {reservation.worker_sid} is unknown")
        )
    for task in list(engine.tasks.values()):
        if task.assignment_status != T.RESERVED:
            continue
        if any(r.reservation_status == R.PENDING for r in engine._reservations_of(task.sid)):
            continue
        engine._set_task_status(task, T.PENDING, now)
        target = task.routing_target
        if target is not None and target.startswith(Prefix.WORKER.value):
            engine.direct.setdefault(target, []).append(task.sid)
        else:
            engine._queue_pending(task)
        done.append(f"task {task.sid} was reserved without a pending reservation: pending again")
    due = engine.next_deadline()
    if due is not None and due <= now:
        earlier = engine._out.tasks.keys() | engine._out.reservations.keys()
        engine.advance()
        # Deadline entries may be stale (the task moved on), so name only what changed.
        changed = (engine._out.tasks.keys() | engine._out.reservations.keys()) - earlier
        if changed:
            done.append(f"fired overdue deadlines: {', '.join(sorted(changed))} changed")
    before = set(engine.reservations)
    engine.settle()
    made = len(set(engine.reservations) - before)
    if made:
        done.append(f"offered waiting tasks to idle workers: {made} new reservations")
    return done
