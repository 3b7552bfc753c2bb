"""Invariants of a workspace's live state, checked from the outside of the engine.

Used after every step of the scenario tests, by `taskrouter check` and by the server's periodic
audit. Each finding is one sentence naming the objects involved, filed under a kind so that
metrics can count them and `check --repair` can tell which ones it knows how to fix.

Every invariant is checked one object at a time (a reservation, a task, a worker's channel, a
pending task), reading the engine's indexes for what relates to it. So the audit can run in
slices (`audit_slices`) with the engine changing in between, as the server's does: a check
that spans one object reads a state the engine left whole, and nothing carries over from one
slice to the next. Auditing a workspace of 30,000 tasks at once took 0.3 s on a 2-core machine
and 500,000 tasks would take seconds; the event loop must not stop that long. The indexes
themselves are checked against the objects (a reservation missing from its worker's list, or
its task's, is a finding), so counting through them hides nothing a full scan would find.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from enum import StrEnum
from typing import TypeVar

from taskrouter.domain.entities import Reservation, Task, WorkerChannel
from taskrouter.domain.lifecycles import RESERVATION_ACTIVE, ReservationStatus, TaskStatus
from taskrouter.engine.engine import WorkspaceEngine

R = ReservationStatus
T = TaskStatus
K = TypeVar("K")
V = TypeVar("V")

# Objects checked per slice: a few milliseconds of the event loop on a slow machine.
SLICE = 500
# What a task's status must be while it holds a reservation in each status.
_TASK_STATUS_OF = {R.PENDING: T.RESERVED, R.ACCEPTED: T.ASSIGNED, R.WRAPPING: T.WRAPPING}
_ACCEPTED = (R.ACCEPTED, R.WRAPPING)


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
    return [
        finding
        for found in audit_slices(engine, deadline_grace_ms=deadline_grace_ms, size=None)
        for finding in found
    ]


def audit_slices(
    engine: WorkspaceEngine, *, deadline_grace_ms: int | None = None, size: int | None = SLICE
) -> Iterator[list[Finding]]:
    """The audit `size` objects at a time (all at once when None): each step checks the next
    slice on the state as it is then, and yields what it found. Objects that appear between
    steps wait for the next audit; objects that went are skipped."""
    checks = _Checks(engine, deadline_grace_ms)
    yield from _sliced(list(engine.reservations), checks.live_reservation, checks.reservation, size)
    yield from _sliced(list(engine.tasks), checks.live_task, checks.task, size)
    channels = [
        (worker_sid, channel_sid)
        for worker_sid, of_worker in engine.state.worker_channels.items()
        for channel_sid in of_worker
    ]
    yield from _sliced(channels, checks.live_channel, checks.channel, size)
    pending = engine.pending.task_sids()
    yield from _sliced(pending, checks.live_task, checks.pending, size, checks.forget_ready)


def _sliced(
    keys: list[K],
    live: Callable[[K], V | None],
    check: Callable[[K, V, list[Finding]], None],
    size: int | None,
    before_each: Callable[[], None] | None = None,
) -> Iterator[list[Finding]]:
    step = size or max(len(keys), 1)
    for start in range(0, len(keys), step):
        if before_each is not None:
            before_each()
        found: list[Finding] = []
        for key in keys[start : start + step]:
            item = live(key)
            if item is not None:
                check(key, item, found)
        yield found


class _Checks:
    """One check per kind of object, each reading only what relates to its object."""

    def __init__(self, engine: WorkspaceEngine, deadline_grace_ms: int | None) -> None:
        self.engine = engine
        self.grace_ms = deadline_grace_ms
        # Per slice: the workers ready on each channel, and each queue's members among them.
        self._ready: dict[tuple[str, str], list[str]] = {}
        self._ready_on: dict[str, set[str]] = {}

    def forget_ready(self) -> None:
        self._ready.clear()
        self._ready_on.clear()

    # Looked up anew each time: a released engine swaps in empty collections.
    def live_reservation(self, sid: str) -> Reservation | None:
        return self.engine.reservations.get(sid)

    def live_task(self, sid: str) -> Task | None:
        return self.engine.tasks.get(sid)

    def live_channel(self, key: tuple[str, str]) -> WorkerChannel | None:
        return self.engine.state.worker_channels.get(key[0], {}).get(key[1])

    def _late(self) -> int | None:
        return None if self.grace_ms is None else self.engine.clock.now_ms() - self.grace_ms

    def reservation(self, sid: str, reservation: Reservation, found: list[Finding]) -> None:
        engine = self.engine
        task = engine.tasks.get(reservation.task_sid)
        if task is None:
            found.append(
                Finding(
                    Kind.UNKNOWN_OBJECT,
                    f"reservation {sid} belongs to unknown task {reservation.task_sid}",
                )
            )
            return
        status = reservation.reservation_status
        if sid not in engine.reservations_of_task.get(task.sid, ()):
            found.append(
                Finding(Kind.DISAGREEMENT, f"reservation {sid} is not listed under task {task.sid}")
            )
        if status in RESERVATION_ACTIVE:
            worker_sid = reservation.worker_sid
            if worker_sid not in engine.state.workers:
                found.append(
                    Finding(
                        Kind.UNKNOWN_OBJECT,
                        f"reservation {sid} is {status} for unknown worker {worker_sid}",
                    )
                )
            elif sid not in engine.reservations_of_worker.get(worker_sid, ()):
                found.append(
                    Finding(
                        Kind.DISAGREEMENT,
                        f"reservation {sid} is {status} but not listed under worker {worker_sid}",
                    )
                )
        expected = _TASK_STATUS_OF.get(ReservationStatus(status))
        if expected is not None and task.assignment_status != expected:
            found.append(
                Finding(
                    Kind.DISAGREEMENT,
                    f"reservation {sid} is {status} but task {task.sid} is"
                    f" {task.assignment_status}",
                )
            )
        late = self._late()
        if late is not None and status == R.PENDING and reservation.timeout_at <= late:
            found.append(
                Finding(
                    Kind.EXPIRED_DEADLINE, f"reservation {sid} is still pending after its timeout"
                )
            )

    def task(self, sid: str, task: Task, found: list[Finding]) -> None:
        engine = self.engine
        held = [
            r
            for r in (engine.reservations.get(s) for s in engine.reservations_of_task.get(sid, ()))
            if r is not None and r.task_sid == sid
        ]
        accepted = sum(1 for r in held if r.reservation_status in _ACCEPTED)
        if accepted > 1:
            found.append(
                Finding(Kind.DOUBLE_ASSIGNMENT, f"task {sid} has {accepted} accepted reservations")
            )
        status = task.assignment_status
        if status == T.RESERVED and not any(r.reservation_status == R.PENDING for r in held):
            found.append(
                Finding(Kind.DISAGREEMENT, f"task {sid} is reserved without a pending reservation")
            )
        if status in (T.ASSIGNED, T.WRAPPING) and not accepted:
            found.append(
                Finding(
                    Kind.DISAGREEMENT, f"task {sid} is {status} without an accepted reservation"
                )
            )
        late = self._late()
        if (
            late is not None
            and status in (T.PENDING, T.RESERVED)
            and task.date_created + task.timeout * 1000 <= late
        ):
            found.append(
                Finding(Kind.EXPIRED_DEADLINE, f"task {sid} is still {status} after its timeout")
            )

    def channel(self, key: tuple[str, str], channel: WorkerChannel, found: list[Finding]) -> None:
        engine = self.engine
        worker_sid, channel_sid = key
        count, uncapped = 0, False
        for rsid in set(engine.reservations_of_worker.get(worker_sid, ())):
            reservation = engine.reservations.get(rsid)
            if (
                reservation is None
                or reservation.worker_sid != worker_sid
                or reservation.reservation_status not in RESERVATION_ACTIVE
            ):
                continue
            task = engine.tasks.get(reservation.task_sid)
            if task is None or task.task_channel_sid != channel_sid:
                continue
            count += 1
            # A task routed to this very worker may ignore its capacity.
            uncapped = uncapped or (
                task.routing_target == worker_sid and task.ignore_capacity is not False
            )
        if count != channel.active_tasks:
            found.append(
                Finding(
                    Kind.COUNT_MISMATCH,
                    f"worker {worker_sid} channel {channel_sid} counts {channel.active_tasks}"
                    f" active tasks but holds {count} open reservations",
                )
            )
        # Without multitasking a worker holds one task at a time, whatever the channel says.
        allowed = (
            max(channel.configured_capacity, 0) if engine.state.workspace.multi_task_enabled else 1
        )
        if count > allowed and not uncapped:
            found.append(
                Finding(
                    Kind.OVER_CAPACITY,
                    f"worker {worker_sid} holds {count} reservations on channel {channel_sid}"
                    f" over its capacity {channel.configured_capacity}",
                )
            )

    def pending(self, sid: str, task: Task, found: list[Finding]) -> None:
        """A pending task and a ready worker who could take it must never coexist."""
        engine = self.engine
        if sid not in engine.pending:
            return  # it left the queue since the audit began
        if task.assignment_status != T.PENDING:
            found.append(
                Finding(
                    Kind.DISAGREEMENT,
                    f"task {sid} is {task.assignment_status} but queued as pending",
                )
            )
            return
        target = engine._target(task)
        if target is None or task.task_queue_sid is None:
            return
        slot = (task.task_queue_sid, task.task_channel_sid)
        ready = self._ready.get(slot)
        if ready is None:
            # The queue's members ready on the channel by their own entry, not by the slot's
            # list, so a worker the list lost is found. Whichever side is smaller is walked:
            # few workers are ready while tasks wait, unless the tasks want other workers.
            on_channel = self._ready_on.get(slot[1])
            if on_channel is None:
                on_channel = self._ready_on[slot[1]] = set(engine.ready.ready_on(slot[1]))
            members = engine.state.membership.members.get(slot[0], set())
            small, large = sorted((members, on_channel), key=len)
            ready = self._ready[slot] = sorted(w for w in small if w in large)
        known = engine._known_worker(task, target)
        now = engine.clock.now_ms()
        for worker_sid in ready if known is None else [w for w in ready if w == known]:
            worker = engine.state.workers.get(worker_sid)
            if worker is not None and engine._can_take(task, target, worker, now):
                found.append(
                    Finding(
                        Kind.IDLE_WITH_WORK,
                        f"task {sid} is pending while worker {worker_sid} could take it",
                    )
                )
                return
