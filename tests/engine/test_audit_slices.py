"""The audit in slices, as the server runs it: the event loop serves requests between slices,
so the workspace changes under the audit and must not be reported broken for it, while
damage is found exactly as an audit in one piece finds it."""

from __future__ import annotations

import json
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from starlette.exceptions import StarletteDeprecationWarning

from support.in_process import app_with_account
from taskrouter.engine.audit import Kind, audit_findings, audit_slices
from taskrouter.engine.engine import WorkspaceEngine

with warnings.catch_warnings():
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from starlette.testclient import TestClient

WORKERS = 6
CAPACITY = 2
TASKS = 20  # 12 reserved (six workers, two each), 8 waiting


@dataclass
class Busy:
    client: TestClient
    base: str
    workflow: str
    engine: WorkspaceEngine
    offline: str

    def post(self, path: str, **data: str) -> dict[str, Any]:
        reply = self.client.post(f"{self.base}{path}", data=data)
        assert reply.status_code in (200, 201), reply.text
        body: dict[str, Any] = reply.json()
        return body

    def reservations(self, status: str) -> list[tuple[str, str]]:
        """(task, reservation) of every reservation in `status`."""
        return [
            (r.task_sid, r.sid)
            for r in self.engine.reservations.values()
            if r.reservation_status == status
        ]


@pytest.fixture
def busy(tmp_path: Path) -> Iterator[Busy]:
    """A multitasking workspace with every worker full and tasks waiting."""
    app, account = app_with_account(f"sqlite:///{tmp_path / 'audit.db'}")
    with TestClient(app) as client:
        client.auth = (account.sid, account.secret)
        ws = client.post(
            "/v1/Workspaces", data={"FriendlyName": "audited", "MultiTaskEnabled": "true"}
        ).json()["sid"]
        base = f"/v1/Workspaces/{ws}"
        activities = client.get(f"{base}/Activities").json()["activities"]
        available = next(a["sid"] for a in activities if a["available"])
        offline = next(a["sid"] for a in activities if a["friendly_name"] == "Offline")
        queue = client.post(f"{base}/TaskQueues", data={"FriendlyName": "all"}).json()["sid"]
        routing = {"task_routing": {"filters": [], "default_filter": {"queue": queue}}}
        workflow = client.post(
            f"{base}/Workflows", data={"FriendlyName": "wf", "Configuration": json.dumps(routing)}
        ).json()["sid"]
        for i in range(WORKERS):
            worker = client.post(
                f"{base}/Workers", data={"FriendlyName": f"w{i}", "ActivitySid": available}
            ).json()["sid"]
            reply = client.post(
                f"{base}/Workers/{worker}/Channels/default", data={"Capacity": str(CAPACITY)}
            )
            assert reply.status_code == 200, reply.text
        for _ in range(TASKS):
            client.post(f"{base}/Tasks", data={"WorkflowSid": workflow})
        engine = app.state.service.runtime.workspaces[ws].engine
        yield Busy(client, base, workflow, engine, offline)


def test_the_busy_workspace_is_what_the_tests_below_assume(busy: Busy) -> None:
    assert len(busy.reservations("pending")) == WORKERS * CAPACITY
    assert len(busy.engine.pending.task_sids()) == TASKS - WORKERS * CAPACITY
    assert audit_findings(busy.engine) == []


def test_work_going_on_between_slices_is_not_reported_as_damage(busy: Busy) -> None:
    """Between any two slices of one object each, a reservation is accepted, a task
    completed (its worker takes a waiting one), a task created, a reservation rejected or a
    worker goes offline. A check spanning slices would see counts from before and after."""
    changes = [
        lambda: busy.post(
            f"/Tasks/{(p := busy.reservations('pending')[0])[0]}/Reservations/{p[1]}",
            ReservationStatus="accepted",
        ),
        lambda: busy.post(
            f"/Tasks/{busy.reservations('accepted')[0][0]}",
            AssignmentStatus="completed",
            Reason="done",
        ),
        lambda: busy.post("/Tasks", WorkflowSid=busy.workflow),
        lambda: busy.post(
            f"/Tasks/{(p := busy.reservations('pending')[-1])[0]}/Reservations/{p[1]}",
            ReservationStatus="rejected",
        ),
    ]
    findings = []
    steps = 0
    for found in audit_slices(busy.engine, size=1):
        findings.extend(found)
        changes[steps % len(changes)]()
        steps += 1
    worker = next(iter(busy.engine.state.workers))
    busy.post(f"/Workers/{worker}", ActivitySid=busy.offline)
    assert steps > 40  # every reservation, task, channel and waiting task, one at a time
    assert findings == []
    assert audit_findings(busy.engine) == []


def test_slices_find_the_damage_an_audit_in_one_piece_finds(busy: Busy) -> None:
    engine = busy.engine
    pending = busy.reservations("pending")
    task_a, held_a = pending[0]
    worker_a = engine.reservations[held_a].worker_sid
    held_b = next(r for _, r in pending if engine.reservations[r].worker_sid != worker_a)
    worker_b = engine.reservations[held_b].worker_sid
    # A channel counter off by one, a reservation its worker's list lost, a task whose
    # status disagrees with its reservation.
    next(iter(engine.state.worker_channels[worker_a].values())).active_tasks += 1
    engine.reservations_of_worker[worker_b].remove(held_b)
    engine.tasks[task_a].assignment_status = "assigned"

    whole = audit_findings(engine)
    sliced = [finding for found in audit_slices(engine, size=1) for finding in found]
    assert sorted(map(str, sliced)) == sorted(map(str, whole))
    assert {f.kind for f in whole} == {Kind.COUNT_MISMATCH, Kind.DISAGREEMENT}
    messages = " | ".join(map(str, whole))
    assert f"worker {worker_a} channel" in messages
    assert f"reservation {held_b} is pending but not listed under worker {worker_b}" in messages
    # Counted through the worker's list, the lost reservation also leaves its channel short.
    assert f"worker {worker_b} channel" in messages
    assert f"reservation {held_a} is pending but task {task_a} is assigned" in messages
