"""`taskrouter check`: audit a database for broken invariants, and repair what is safe.

The database is loaded the way the server loads it, but without matching pending work, so
what the audit sees is what is stored. Reading is safe while a server runs on the same
database; repairing is not (the server would not see the changes), so `--repair` is for a
stopped server, and a running one repairs by itself on its next start.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from taskrouter.domain.clock import Clock, SystemClock
from taskrouter.domain.entities import Reservation
from taskrouter.domain.lifecycles import (
    RESERVATION_OPEN,
    ReservationStatus,
    check_reservation,
)
from taskrouter.engine.audit import Finding, Kind, audit_findings
from taskrouter.engine.repair import repair
from taskrouter.service import records
from taskrouter.service.service import Service
from taskrouter.store import Store

R = ReservationStatus

# A server fires deadlines within tens of milliseconds; one overdue by more than this was missed.
DEFAULT_DEADLINE_GRACE_MS = 5_000


@dataclass(frozen=True, slots=True)
class Located:
    workspace_sid: str
    finding: Finding

    def to_json(self) -> dict[str, str]:
        return {
            "workspace_sid": self.workspace_sid,
            "kind": self.finding.kind.value,
            "message": self.finding.message,
        }


@dataclass(slots=True)
class CheckReport:
    findings: list[Located] = field(default_factory=list)
    repairs: list[dict[str, str]] = field(default_factory=list)
    # After repairs: what is still wrong (the findings themselves when not repairing).
    remaining: list[Located] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "findings": [f.to_json() for f in self.findings],
            "repairs": self.repairs,
            "remaining": [f.to_json() for f in self.remaining],
            "ok": not self.remaining,
        }


async def check_store(
    store: Store,
    clock: Clock | None = None,
    *,
    fix: bool = False,
    deadline_grace_ms: int = DEFAULT_DEADLINE_GRACE_MS,
) -> CheckReport:
    """Audit the database behind `store` (opened and closed here); with `fix`, repair it."""
    clock = clock or SystemClock()
    report = CheckReport()
    service = await _open(store, clock)
    try:
        report.findings = await _audit(service, deadline_grace_ms)
        report.remaining = report.findings
        if not fix or not report.findings:
            return report
        report.repairs = await _repair(service)
    finally:
        await _close(service)
    service = await _open(store, clock)
    try:
        report.remaining = await _audit(service, deadline_grace_ms)
    finally:
        await _close(service)
    return report


async def _open(store: Store, clock: Clock) -> Service:
    service = Service(store, clock)
    await store.open()
    await service.runtime.load(settle=False)
    await service.runtime.events.open(service.runtime.workspaces.values())
    return service


async def _close(service: Service) -> None:
    await service.runtime.events.close()
    await service.runtime.store.close()


async def _audit(service: Service, grace_ms: int) -> list[Located]:
    located = [
        Located(sid, finding)
        for sid, state in service.runtime.workspaces.items()
        for finding in audit_findings(state.engine, deadline_grace_ms=grace_ms)
    ]
    located.extend(Located(r.workspace_sid, f) for r, f in await _stray_reservations(service))
    return located


async def _stray_reservations(service: Service) -> list[tuple[Reservation, Finding]]:
    """Open reservations the engine never loads: their task is missing, deleted or long
    closed. They still hold a worker's capacity in the rows, so they count."""
    out: list[tuple[Reservation, Finding]] = []
    workspaces = service.runtime.workspaces
    for row in await service.runtime.store.load("reservations"):
        reservation = Reservation.from_record(row["body"])
        if reservation.reservation_status not in RESERVATION_OPEN:
            continue
        state = workspaces.get(reservation.workspace_sid)
        if state is not None and reservation.sid in state.engine.reservations:
            continue
        task_row = await service.runtime.store.get("tasks", reservation.task_sid)
        where = (
            "is missing"
            if task_row is None
            else f"is {task_row['body'].get('assignment_status')}"
            + (" and deleted" if task_row["body"].get("deleted") else "")
        )
        out.append(
            (
                reservation,
                Finding(
                    Kind.UNKNOWN_OBJECT,
                    f"reservation {reservation.sid} is {reservation.reservation_status} but its"
                    f" task {reservation.task_sid} {where}",
                ),
            )
        )
    return out


async def _repair(service: Service) -> list[dict[str, str]]:
    runtime = service.runtime
    done: list[dict[str, str]] = []
    now = runtime.clock.now_ms()
    strays = await _stray_reservations(service)
    changes = []
    for reservation, _ in strays:
        current = ReservationStatus(reservation.reservation_status)
        new = R.CANCELED if current is R.PENDING else R.COMPLETED
        check_reservation(current, new, reservation.sid)
        reservation.reservation_status = new.value
        reservation.date_updated = now
        reservation.version += 1
        changes.append(records.put(reservation))
        done.append(
            {
                "workspace_sid": reservation.workspace_sid,
                "message": f"{new.value} reservation {reservation.sid}: its task is gone",
            }
        )
    if changes:
        await runtime.commit(changes)
    for sid, state in list(runtime.workspaces.items()):
        done.extend({"workspace_sid": sid, "message": m} for m in repair(state.engine))
        await runtime.commit_with_engine(state)
    return done
