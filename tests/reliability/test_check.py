"""`taskrouter check` on databases corrupted on purpose, through the store, on both stores.

One server builds several workspaces, each in a known state; the server stops; each
workspace then gets one kind of damage written straight into its rows. `check` must name
exactly that damage in exactly that workspace, `check --repair` must fix what is safe and
leave the rest reported, and a server started afterwards must find the repaired state.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from reliability.damage import corrupt, row, second_acceptance
from support.http_api import Api, Workspace, make_workspace
from support.server import TaskrouterServer, new_account, run_cli
from taskrouter.domain.entities import Reservation, Task, Worker
from taskrouter.domain.sids import Prefix, new_sid
from taskrouter.service import records
from taskrouter.store import Change, Delete


def _reservations(api: Api, ws: Workspace, task_sid: str) -> list[dict[str, Any]]:
    listed: list[dict[str, Any]] = api.get(f"{ws.path}/Tasks/{task_sid}/Reservations")[
        "reservations"
    ]
    return listed


def _task(api: Api, ws: Workspace) -> str:
    sid: str = api.post(f"{ws.path}/Tasks", Attributes={"kind": "check"})["sid"]
    return sid


def _accept(api: Api, ws: Workspace, task_sid: str) -> dict[str, Any]:
    (reservation,) = _reservations(api, ws, task_sid)
    return api.post(
        f"{ws.path}/Tasks/{task_sid}/Reservations/{reservation['sid']}",
        ReservationStatus="accepted",
    )


def _check(url: str, *extra: str) -> tuple[int, dict[str, Any]]:
    result = run_cli("check", "--json", *extra, database_url=url, check=False)
    assert result.returncode in (0, 1), result.stderr
    return result.returncode, json.loads(result.stdout)


def _kinds(entries: list[dict[str, str]]) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for entry in entries:
        out.setdefault(entry["workspace_sid"], set()).add(entry["kind"])
    return out


def test_check_finds_and_repairs_damage(database_url: str, tmp_path: Path) -> None:
    account = new_account()
    server = TaskrouterServer(database_url, workdir=tmp_path / "server", account=account)
    server.start()
    api = Api(server.base_url, account)
    try:
        healthy = make_workspace(api, "healthy")
        h1, h2 = _task(api, healthy), _task(api, healthy)
        _accept(api, healthy, h1)

        double = make_workspace(api, "double")
        d1 = _task(api, double)
        _accept(api, double, d1)

        over = make_workspace(api, "over")
        o1, o2 = _task(api, over), _task(api, over)
        o1_reservation = _accept(api, over, o1)
        o2_reservation = _accept(api, over, o2)

        stray = make_workspace(api, "stray", workers=1, available=False)
        s1 = _task(api, stray)

        alone = make_workspace(api, "alone", workers=1, available=False)
        a1 = _task(api, alone)

        idle = make_workspace(api, "idle", workers=1, available=False)
        i1 = _task(api, idle)

        overdue = make_workspace(api, "overdue", workers=1)
        v1 = _task(api, overdue)
        (v1_reservation,) = _reservations(api, overdue, v1)

        orphan = make_workspace(api, "orphan", workers=1)
        x1 = _task(api, orphan)
        x1_reservation = _accept(api, orphan, x1)
        assert {r["reservation_status"] for r in _reservations(api, healthy, h2)} == {"pending"}
    finally:
        api.close()
        assert server.stop() == 0

    code, clean = _check(database_url)
    assert (code, clean["findings"]) == (0, []), clean

    async def damage(store: Any) -> list[Change]:
        async def entity(kind: Any, table: str, sid: str) -> Any:
            row = await store.get(table, sid)
            assert row is not None, (table, sid)
            return kind.from_record(row["body"])

        changes: list[Change] = []
        # A second accepted reservation for a task already assigned.
        changes.extend(await second_acceptance(d1, double.workers)(store))
        # Two accepted tasks on one worker of a single-tasking workspace.
        moved = await entity(Reservation, "reservations", o2_reservation["sid"])
        moved.worker_sid = o1_reservation["worker_sid"]
        changes.append(records.put(moved))
        # A pending reservation for a task that is still pending.
        task = await entity(Task, "tasks", s1)
        changes.append(
            records.put(
                Reservation(
                    sid=new_sid(Prefix.RESERVATION),
                    account_sid=task.account_sid,
                    workspace_sid=stray.sid,
                    task_sid=s1,
                    worker_sid=stray.workers[0],
                    reservation_status="pending",
                    date_created=task.date_created,
                    date_updated=task.date_created,
                    timeout_at=task.date_created + 600_000,
                )
            )
        )
        # A task marked reserved that has no reservation at all.
        task = await entity(Task, "tasks", a1)
        task.assignment_status = "reserved"
        changes.append(records.put(task))
        # A worker made Available behind the engine's back, with a task waiting for it.
        worker = await entity(Worker, "workers", idle.workers[0])
        worker.activity_sid = idle.activities["Available"]
        changes.append(records.put(worker))
        # A reservation whose timeout passed a minute ago and nobody acted on it.
        reservation = await entity(Reservation, "reservations", v1_reservation["sid"])
        reservation.timeout_at -= 10 * 60_000
        changes.append(records.put(reservation))
        # An accepted reservation whose task row is gone.
        changes.append(Delete("tasks", x1))
        return changes

    corrupt(database_url, damage)

    code, found = _check(database_url)
    assert code == 1
    assert _kinds(found["findings"]) == {
        double.sid: {"double_assignment"},
        over.sid: {"over_capacity"},
        stray.sid: {"disagreement"},
        alone.sid: {"disagreement"},
        idle.sid: {"idle_with_work"},
        overdue.sid: {"expired_deadline"},
        orphan.sid: {"unknown_object"},
    }, found
    messages = " | ".join(f["message"] for f in found["findings"])
    for sid in (d1, o1_reservation["worker_sid"], s1, a1, i1, v1_reservation["sid"], x1):
        assert sid in messages

    code, repaired = _check(database_url, "--repair")
    assert code == 1, repaired
    assert _kinds(repaired["remaining"]) == {
        double.sid: {"double_assignment"},
        over.sid: {"over_capacity"},
    }, repaired
    assert {r["workspace_sid"] for r in repaired["repairs"]} == {
        stray.sid,
        alone.sid,
        idle.sid,
        overdue.sid,
        orphan.sid,
    }, repaired

    # What a restarted server shows after the repair.
    server.start()
    api = Api(server.base_url, account)
    try:
        assert {r["reservation_status"] for r in _reservations(api, stray, s1)} == {"canceled"}
        assert api.get(f"{alone.path}/Tasks/{a1}")["assignment_status"] == "pending"
        assert api.get(f"{idle.path}/Tasks/{i1}")["assignment_status"] == "reserved"
        (offered,) = _reservations(api, idle, i1)
        assert offered["worker_sid"] == idle.workers[0]
        after_timeout = api.get(f"{overdue.path}/Tasks/{v1}/Reservations/{v1_reservation['sid']}")
        assert after_timeout["reservation_status"] == "timeout"
        assert api.get(f"{healthy.path}/Tasks/{h1}")["assignment_status"] == "assigned"
    finally:
        api.close()
        server.stop()
    orphan_row = row(database_url, "reservations", x1_reservation["sid"])
    assert orphan_row["reservation_status"] == "completed"


def test_check_prints_findings_for_people(database_url: str, tmp_path: Path) -> None:
    account = new_account()
    server = TaskrouterServer(database_url, workdir=tmp_path / "server", account=account)
    server.start()
    api = Api(server.base_url, account)
    try:
        ws = make_workspace(api, "people", workers=1, available=False)
        task = _task(api, ws)
    finally:
        api.close()
        server.stop()

    async def reserve(store: Any) -> list[Change]:
        row = await store.get("tasks", task)
        damaged = Task.from_record(row["body"])
        damaged.assignment_status = "reserved"
        return [records.put(damaged)]

    corrupt(database_url, reserve)
    result = run_cli("check", database_url=database_url, check=False)
    assert result.returncode == 1
    assert f"task {task} is reserved without a pending reservation" in result.stdout
    assert "1 findings, 0 repairs, 1 remaining" in result.stdout


def test_check_on_an_empty_database_is_clean(database_url: str) -> None:
    result = run_cli("check", "--repair", database_url=database_url, check=False)
    assert result.returncode == 0, result.stderr
    assert "0 findings" in result.stdout


def test_check_reads_a_database_while_its_server_runs(database_url: str, tmp_path: Path) -> None:
    account = new_account()
    server = TaskrouterServer(database_url, workdir=tmp_path / "server", account=account)
    server.start()
    api = Api(server.base_url, account)
    try:
        ws = make_workspace(api, "live")
        task = _task(api, ws)
        _accept(api, ws, task)
        _task(api, ws)
        code, report = _check(database_url)
        assert (code, report["findings"]) == (0, []), report
        # The server goes on serving, and writing, after the check.
        assert (
            api.post(f"{ws.path}/Tasks/{task}", AssignmentStatus="completed", Reason="done")[
                "assignment_status"
            ]
            == "completed"
        )
    finally:
        api.close()
        server.stop()
