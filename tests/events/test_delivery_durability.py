"""Deliveries survive crashes and give up visibly: a server killed with -9 while retries are
pending delivers them after the restart; a delivery whose retry period ran out is listed as
failed and can be delivered again (admin route, or the store-level function a CLI calls)."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

import pytest
from events_harness import Answer, EventServer, Receiver, advance_until, wait_until
from scenario import (
    Workspace,
    add_queue,
    add_task,
    add_worker,
    add_workflow,
    new_workspace,
    to_queue,
)

from taskrouter.events.outbox import failed_deliveries
from taskrouter.store import Put, open_store


@pytest.mark.timeout(120)
def test_pending_retries_survive_kill_9(
    own_server: Callable[..., EventServer], receivers: Callable[..., Receiver]
) -> None:
    rx = receivers()
    rx.stop()  # down from the start
    # A lane holds 3 deliveries in memory: the rest wait in the outbox table, before and
    # after the restart, and must still come in order.
    server = own_server(TASKROUTER_CALLBACK_LANE_MEMORY="3").start()
    ws = new_workspace(server, callback=rx.url())
    queue = add_queue(ws, "Q")
    flow = add_workflow(ws, to_queue(queue))
    add_worker(ws, "w", {}, "Available")
    add_task(ws, flow, {})
    server.advance(1_500)  # the head has failed at least once and waits for its retry
    time.sleep(0.3)
    now = server.now_ms()
    server.kill()

    rx.start()
    server.start(start_ms=now)
    expected = [
        "workspace.created",
        "task-queue.created",
        "workflow.created",
        "worker.created",
        "task.created",
        "workflow.entered",
        "task-queue.entered",
        "workflow.target-matched",
        "reservation.created",
    ]
    advance_until(
        server, lambda: len(rx.unique_events(ws.sid)) >= len(expected), what="the backlog"
    )
    assert [r.form["EventType"] for r in rx.unique_events(ws.sid)] == expected
    sids = [r.form["Sid"] for r in rx.events(ws.sid)]
    assert sids == sorted(sids), "delivered out of order"
    # New events after the restart come after the old ones.
    add_queue(Workspace(server, ws.sid, server.ws(ws.sid), ws.activities), "after restart")
    wait_until(lambda: rx.event_types(ws.sid)[-1] == "task-queue.created", what="a new event")
    assert rx.unique_events(ws.sid)[-1].form["Sid"] > sids[-1]


def _store_call(url: str, work: Callable[..., object]) -> object:
    async def run() -> object:
        store = open_store(url)
        await store.open()
        try:
            return await work(store)  # type: ignore[misc]
        finally:
            await store.close()

    return asyncio.run(run())


def test_given_up_deliveries_are_listed_and_can_be_redelivered(
    server: EventServer, receivers: Callable[..., Receiver]
) -> None:
    answers = {"status": 500}
    rx = receivers(lambda _r: Answer(status=answers["status"]))
    ws = new_workspace(server, callback=rx.url())
    add_queue(ws, "one")
    add_queue(ws, "two")
    wait_until(lambda: rx.events(ws.sid), what="a first attempt")
    server.advance(2 * 3_600_000)  # past the 1-hour retry period of these tests
    assert server.http is not None
    listing = f"/admin/v1/Workspaces/{ws.sid}/Deliveries"
    http = server.http

    def failed_now() -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = http.get(listing).json()["deliveries"]
        return found if len(found) == 3 else []

    failed = wait_until(failed_now, what="three failed deliveries")
    assert [d["event_type"] for d in failed] == [
        "workspace.created",
        "task-queue.created",
        "task-queue.created",
    ]
    assert all(d["status"] == "failed" and d["last_error"] == "HTTP 500" for d in failed)
    assert all(d["attempts"] >= 1 and d["url"] == rx.url() for d in failed)
    # Nothing more is tried on its own.
    tried = len(rx.events(ws.sid))
    server.advance(60_000)
    time.sleep(0.3)
    assert len(rx.events(ws.sid)) == tried

    answers["status"] = 204
    # One, through the admin route...
    response = http.post(
        f"/admin/v1/Workspaces/{ws.sid}/Deliveries/Redeliver", data={"Sid": failed[0]["sid"]}
    )
    assert response.status_code == 200
    assert [d["sid"] for d in response.json()["deliveries"]] == [failed[0]["sid"]]
    wait_until(
        lambda: [r.form["Sid"] for r in rx.events(ws.sid)][tried:] == [failed[0]["sid"]],
        what="the first redelivery",
    )
    # ...the rest through the CLI, on the store alone: the running server picks them up.
    listed = _cli("deliveries", "list", "--workspace", ws.sid, database=server.database_url)
    assert [d["sid"] for d in listed] == [d["sid"] for d in failed[1:]]
    assert all(d["status"] == "failed" for d in listed)
    marked = _cli("deliveries", "redeliver", "--workspace", ws.sid, database=server.database_url)
    assert [d["sid"] for d in marked] == [d["sid"] for d in failed[1:]]
    assert all(d["status"] == "redeliver" for d in marked)
    wait_until(
        lambda: [r.form["Sid"] for r in rx.events(ws.sid)][tried:] == [d["sid"] for d in failed],
        what="the other redeliveries",
    )
    remaining = _store_call(server.database_url, lambda store: failed_deliveries(store, ws.sid))
    assert remaining == []
    assert http.get(listing).json()["deliveries"] == []


def test_admin_routes_need_the_workspace_owner(server: EventServer) -> None:
    ws = new_workspace(server)
    assert server.http is not None
    path = f"/admin/v1/Workspaces/{ws.sid}/Deliveries"
    response = server.http.get(path, auth=("AC" + "0" * 32, "x"))
    assert response.status_code == 401
    response = server.http.get(f"/admin/v1/Workspaces/WS{'0' * 32}/Deliveries")
    assert response.status_code == 404


def _cli(*args: str, database: str) -> list[dict[str, Any]]:
    done = subprocess.run(
        [sys.executable, "-m", "taskrouter", *args, "--database", database],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    found: list[dict[str, Any]] = json.loads(done.stdout)
    return found


def test_a_restart_does_not_repeat_what_was_delivered(
    own_server: Callable[..., EventServer], receivers: Callable[..., Receiver]
) -> None:
    # Event callbacks are read from the log behind a saved cursor, not from rows per delivery:
    # after a clean stop the cursor is saved, so the next start sends only what is new.
    rx = receivers()
    server = own_server().start()
    ws = new_workspace(server, callback=rx.url())
    add_queue(ws, "before")
    wait_until(lambda: len(rx.events(ws.sid)) == 2, what="the first two events")
    now = server.now_ms()
    server.stop()

    server.start(start_ms=now)
    add_queue(Workspace(server, ws.sid, server.ws(ws.sid), ws.activities), "after")
    wait_until(lambda: len(rx.events(ws.sid)) >= 3, what="the event made after the restart")
    time.sleep(0.5)  # anything repeated would come now
    assert rx.event_types(ws.sid) == [
        "workspace.created",
        "task-queue.created",
        "task-queue.created",
    ]
    sids = [r.form["Sid"] for r in rx.events(ws.sid)]
    assert len(set(sids)) == 3 and sids == sorted(sids)


def test_event_callbacks_left_in_the_outbox_by_an_older_version_are_delivered(
    own_server: Callable[..., EventServer], receivers: Callable[..., Receiver]
) -> None:
    # Versions before the courier wrote one outbox row per event callback; rows still pending
    # at the upgrade go out from the outbox, once, and their rows are then removed.
    rx = receivers()
    server = own_server().start()
    ws = new_workspace(server)  # no callback URL: nothing is owed through the log
    add_queue(ws, "Q")
    now = server.now_ms()
    server.stop()

    async def leave_rows(store: Any) -> list[str]:
        events = await store.query("events", {"workspace_sid": ws.sid}, order_by="sid")
        rows = [
            Put(
                "outbox",
                e["sid"],
                {
                    "workspace_sid": ws.sid,
                    "kind": "event",
                    "created_ms": now,
                    "next_attempt_ms": now,
                    "attempts": 0,
                    "status": "pending",
                    "body": {
                        "url": rx.url(),
                        "account_sid": e["account_sid"],
                        "event_type": e["event_type"],
                    },
                },
            )
            for e in events
        ]
        await store.commit(rows)
        return [e["sid"] for e in events]

    left = _store_call(server.database_url, leave_rows)
    server.start(start_ms=now)
    wait_until(lambda: len(rx.events(ws.sid)) >= 2, what="the rows left in the outbox")
    assert [r.form["Sid"] for r in rx.events(ws.sid)] == left
    assert rx.event_types(ws.sid) == ["workspace.created", "task-queue.created"]

    async def outbox_rows(store: Any) -> list[dict[str, Any]]:
        return list(await store.query("outbox", {"workspace_sid": ws.sid}))

    wait_until(
        lambda: _store_call(server.database_url, outbox_rows) == [],
        what="the delivered rows to be removed",
    )
