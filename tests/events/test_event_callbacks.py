"""Event callbacks: every event type a scenario causes reaches the workspace's EventCallbackUrl,
in order, with the documented fields, signed; EventsFilter is respected; a receiver that fails
or is down gets everything once it recovers; a slow receiver delays only its own deliveries."""

from __future__ import annotations

import json
import time
from collections.abc import Callable

import pytest
from events_harness import Answer, EventServer, Receiver, advance_until, wait_until
from scenario import (
    add_queue,
    add_task,
    add_worker,
    add_workflow,
    missing_fields,
    new_workspace,
    reservations,
    to_queue,
)

ALL_EMITTABLE = {
    "activity.created",
    "activity.updated",
    "activity.deleted",
    "reservation.created",
    "reservation.accepted",
    "reservation.rejected",
    "reservation.timeout",
    "reservation.canceled",
    "reservation.rescinded",
    "reservation.completed",
    "reservation.wrapup",
    "task.created",
    "task.updated",
    "task.canceled",
    "task.wrapup",
    "task.completed",
    "task.deleted",
    "task.system-deleted",
    "task-channel.created",
    "task-channel.updated",
    "task-channel.deleted",
    "task-queue.created",
    "task-queue.deleted",
    "task-queue.entered",
    "task-queue.timeout",
    "task-queue.moved",
    "task-queue.expression.updated",
    "worker.created",
    "worker.activity.update",
    "worker.attributes.update",
    "worker.capacity.update",
    "worker.channel.availability.update",
    "worker.deleted",
    "workflow.created",
    "workflow.updated",
    "workflow.deleted",
    "workflow.target-matched",
    "workflow.entered",
    "workflow.timeout",
    "workflow.skipped",
    "workspace.created",
    "workspace.updated",
    "workspace.deleted",
}


class Steps:
    """Checks each step's new callbacks: exactly the expected types, in order."""

    def __init__(self, receiver: Receiver, ws_sid: str) -> None:
        self.receiver = receiver
        self.ws_sid = ws_sid
        self.seen = 0

    def expect(self, *types: str, timeout: float = 10.0) -> list[str]:
        want = self.seen + len(types)
        wait_until(
            lambda: len(self.receiver.unique_events(self.ws_sid)) >= want,
            timeout,
            f"callbacks {types}",
        )
        time.sleep(0.05)  # nothing more may come
        got = [r.form["EventType"] for r in self.receiver.unique_events(self.ws_sid)][self.seen :]
        assert got == list(types), f"expected {list(types)}, got {got}"
        self.seen = want
        return got


def test_every_event_type_arrives_in_order_with_its_fields(
    server: EventServer, receivers: Callable[..., Receiver]
) -> None:
    rx = receivers()
    ws = new_workspace(server, callback=rx.url())
    steps = Steps(rx, ws.sid)
    steps.expect("workspace.created")
    ctx = ws.ctx

    ws.ctx.update(friendly_name=f"renamed-{ws.sid[-6:]}")
    steps.expect("workspace.updated")
    brk = ctx.activities.create(friendly_name="Break", available=False)
    ctx.activities(brk.sid).update(friendly_name="Coffee")
    steps.expect("activity.created", "activity.updated")
    email = ctx.task_channels.create(friendly_name="Email", unique_name="email")
    ctx.task_channels(email.sid).update(friendly_name="E-mail")
    steps.expect("task-channel.created", "task-channel.updated")

    english = add_queue(ws, "English", "languages HAS 'en'", max_reserved_workers=2)
    ctx.task_queues(english).update(target_workers="languages HAS 'en' OR languages HAS 'es'")
    french = add_queue(ws, "French", "languages HAS 'fr'")
    steps.expect("task-queue.created", "task-queue.expression.updated", "task-queue.created")
    config = {
        "task_routing": {
            "filters": [
                {
                    "filter_friendly_name": "Escalate",
                    "expression": "escalate == 1",
                    "targets": [{"queue": french, "timeout": 60}, {"queue": french}],
                },
                {
                    "filter_friendly_name": "Moves",
                    "expression": "moves == 1",
                    "targets": [
                        {"queue": french, "timeout": 60},
                        {"queue": english, "timeout": 60},
                    ],
                },
            ],
            "default_filter": {"queue": english},
        }
    }
    flow = add_workflow(ws, config, name="Main")
    ctx.workflows(flow).update(friendly_name="Main flow")
    skipper = add_workflow(
        ws,
        {
            "task_routing": {
                "filters": [
                    {
                        "filter_friendly_name": "Skip",
                        "expression": "1 == 1",
                        "targets": [{"queue": french, "skip_if": "1==1"}],
                    }
                ]
            }
        },
        name="Skipper",
    )
    steps.expect("workflow.created", "workflow.updated", "workflow.created")

    alice = add_worker(ws, "alice", {"languages": ["en"]}, "Offline")
    ctx.workers(alice).update(attributes=json.dumps({"languages": ["en", "de"]}))
    ctx.workers(alice).update(activity_sid=ws.activity("Available"))
    steps.expect("worker.created", "worker.attributes.update", "worker.activity.update")
    channel = ctx.workers(alice).worker_channels("default")
    channel.update(capacity=2)
    channel.update(available=False)
    channel.update(available=True)
    steps.expect(
        "worker.capacity.update",
        "worker.channel.availability.update",
        "worker.channel.availability.update",
    )

    # Created, reserved, accepted, updated, wrapped up, completed.
    t1 = add_task(ws, flow, {"lang": "en"})
    steps.expect(
        "task.created",
        "workflow.entered",
        "task-queue.entered",
        "workflow.target-matched",
        "reservation.created",
    )
    r1 = reservations(ws, t1)[0]
    ctx.tasks(t1).reservations(r1.sid).update(reservation_status="accepted")
    steps.expect("reservation.accepted")
    ctx.tasks(t1).update(attributes=json.dumps({"lang": "en", "note": 1}))
    steps.expect("task.updated")
    ctx.tasks(t1).update(assignment_status="wrapping")
    steps.expect("reservation.wrapup", "task.wrapup")
    ctx.tasks(t1).update(assignment_status="completed", reason="all done")
    steps.expect("reservation.completed", "task.completed")

    # Rejected, then canceled while pending.
    t2 = add_task(ws, flow, {"lang": "en"})
    steps.expect(
        "task.created",
        "workflow.entered",
        "task-queue.entered",
        "workflow.target-matched",
        "reservation.created",
    )
    r2 = reservations(ws, t2)[0]
    ctx.tasks(t2).reservations(r2.sid).update(reservation_status="rejected")
    steps.expect("reservation.rejected")
    ctx.tasks(t2).update(assignment_status="canceled", reason="caller hung up")
    steps.expect("task.canceled")

    # Canceled while reserved; then a reservation that times out, and a deleted task.
    t3 = add_task(ws, flow, {"lang": "en"})
    steps.expect(
        "task.created",
        "workflow.entered",
        "task-queue.entered",
        "workflow.target-matched",
        "reservation.created",
    )
    ctx.tasks(t3).update(assignment_status="canceled", reason="not needed")
    steps.expect("reservation.canceled", "task.canceled")
    t4 = add_task(ws, flow, {"lang": "en"})
    steps.expect(
        "task.created",
        "workflow.entered",
        "task-queue.entered",
        "workflow.target-matched",
        "reservation.created",
    )
    server.advance(120_000)  # TaskReservationTimeout: the worker goes to the timeout activity
    steps.expect("reservation.timeout", "worker.activity.update")
    ctx.tasks(t4).delete()
    steps.expect("task.deleted")

    # Falling out of a workflow, skipping out of it, and moving between queues.
    t5 = add_task(ws, flow, {"escalate": 1})
    steps.expect(
        "task.created", "workflow.entered", "task-queue.entered", "workflow.target-matched"
    )
    server.advance(60_000)
    steps.expect("task-queue.timeout", "workflow.target-matched")
    server.advance(86_400_000)  # the last target has no timeout: only the TTL ends it
    steps.expect("task.canceled")
    assert t5
    add_task(ws, skipper, {})
    steps.expect(
        "task.created",
        "workflow.entered",
        "task-queue.entered",
        "workflow.target-matched",
        "workflow.skipped",
        "task.canceled",
    )
    add_task(ws, flow, {"moves": 1})
    steps.expect(
        "task.created", "workflow.entered", "task-queue.entered", "workflow.target-matched"
    )
    ctx.workers(alice).update(activity_sid=ws.activity("Available"))
    steps.expect("worker.activity.update")
    server.advance(60_000)
    steps.expect(
        "task-queue.timeout",
        "task-queue.moved",
        "task-queue.entered",
        "workflow.target-matched",
        "reservation.created",
    )
    server.advance(60_000)
    steps.expect(
        "reservation.canceled",
        "task-queue.timeout",
        "workflow.timeout",
        "task.canceled",
    )

    # Multi-reservation: the second worker's reservation is rescinded; the assigned task is
    # deleted by the system after 24 hours.
    bob = add_worker(ws, "bob", {"languages": ["es"]}, "Available")
    steps.expect("worker.created")
    t6 = add_task(ws, flow, {"lang": "en"})
    got = steps.expect(
        "task.created",
        "workflow.entered",
        "task-queue.entered",
        "workflow.target-matched",
        "reservation.created",
        "reservation.created",
    )
    assert got
    first = next(r for r in reservations(ws, t6) if r.worker_sid == alice)
    ctx.tasks(t6).reservations(first.sid).update(reservation_status="accepted")
    steps.expect("reservation.accepted", "reservation.rescinded")
    server.advance(86_400_000)
    steps.expect("reservation.completed", "task.system-deleted")

    # Everything goes away.
    ctx.workers(bob).delete()
    ctx.workflows(skipper).delete()
    ctx.workflows(flow).delete()
    ctx.task_queues(french).delete()
    ctx.task_channels(email.sid).delete()
    ctx.activities(brk.sid).delete()
    steps.expect(
        "worker.deleted",
        "workflow.deleted",
        "workflow.deleted",
        "task-queue.deleted",
        "task-channel.deleted",
        "activity.deleted",
    )
    ctx.delete()
    steps.expect("workspace.deleted")

    received = rx.unique_events(ws.sid)
    assert {r.form["EventType"] for r in received} == ALL_EMITTABLE
    problems = [
        f"{r.form['EventType']}: {missing_fields(r)}" for r in received if missing_fields(r)
    ]
    assert not problems, problems
    unsigned = [r.form["EventType"] for r in received if not r.signature_valid(server.auth_token)]
    assert not unsigned, f"signatures do not verify: {unsigned}"
    assert all(r.form["AccountSid"] == server.account.sid for r in received)
    # Ordered SIDs: the log order is the delivery order.
    sids = [r.form["Sid"] for r in received]
    assert sids == sorted(sids)
    assert len(set(sids)) == len(sids)


def test_events_filter_is_respected(
    server: EventServer, receivers: Callable[..., Receiver]
) -> None:
    rx = receivers()
    ws = new_workspace(server, callback=rx.url(), events_filter="task.created,task.completed")
    queue = add_queue(ws, "Q")
    flow = add_workflow(ws, to_queue(queue))
    add_worker(ws, "w", {}, "Available")
    task = add_task(ws, flow, {})
    r = reservations(ws, task)[0]
    ws.ctx.tasks(task).reservations(r.sid).update(reservation_status="accepted")
    ws.ctx.tasks(task).update(assignment_status="completed", reason="done")
    wait_until(lambda: len(rx.events(ws.sid)) >= 2, what="two filtered callbacks")
    # A changed filter applies from its own update on (which is a workspace.updated).
    ws.ctx.update(events_filter="workspace.updated")
    ws.ctx.update(friendly_name="filtered")
    add_queue(ws, "not wanted")
    ws.ctx.update(friendly_name="filtered again")
    wait_until(lambda: len(rx.events(ws.sid)) >= 5, what="three workspace.updated")
    time.sleep(0.1)
    assert rx.event_types(ws.sid) == ["task.created", "task.completed"] + 3 * ["workspace.updated"]


def test_failing_receiver_gets_every_event_in_order_once_it_recovers(
    server: EventServer, receivers: Callable[..., Receiver]
) -> None:
    failures = {"left": 3}

    def flaky(_r: object) -> Answer:
        if failures["left"] > 0:
            failures["left"] -= 1
            return Answer(status=500)
        return Answer(status=204)

    rx = receivers(flaky)
    ws = new_workspace(server, callback=rx.url())
    queue = add_queue(ws, "Q")
    add_workflow(ws, to_queue(queue))
    wait_until(lambda: len(rx.events(ws.sid)) >= 1, what="the first (failing) attempt")
    advance_until(
        server,
        lambda: (
            [r.form["EventType"] for r in rx.unique_events(ws.sid)]
            == ["workspace.created", "task-queue.created", "workflow.created"]
        ),
        what="every event after the failures",
    )
    # Retried: the first event arrived 4 times (3 failures), each with the same Sid and a
    # fresh valid signature; nothing came out of order.
    firsts = [r for r in rx.events(ws.sid) if r.form["EventType"] == "workspace.created"]
    assert len(firsts) == 4
    assert all(r.signature_valid(server.auth_token) for r in rx.events(ws.sid))
    order = [r.form["Sid"] for r in rx.events(ws.sid)]
    assert order == sorted(order)


def test_receiver_that_is_down_gets_everything_when_it_comes_back(
    server: EventServer, receivers: Callable[..., Receiver]
) -> None:
    rx = receivers()
    rx.stop()
    ws = new_workspace(server, callback=rx.url())
    queue = add_queue(ws, "Q")
    flow = add_workflow(ws, to_queue(queue))
    add_worker(ws, "w", {}, "Available")
    add_task(ws, flow, {})
    server.advance(2_000)
    server.advance(4_000)
    rx.start()
    server.advance(4_000)
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
    wait_until(lambda: len(rx.unique_events(ws.sid)) >= len(expected), what="the backlog")
    assert rx.event_types(ws.sid) == expected


def test_slow_receiver_delays_only_its_own_deliveries(
    server: EventServer, receivers: Callable[..., Receiver]
) -> None:
    hanging = receivers(lambda _r: Answer(hang=True))
    fine = receivers()
    slow_ws = new_workspace(server, callback=hanging.url())
    fast_ws = new_workspace(server, callback=fine.url())
    wait_until(lambda: hanging.requests(), what="the hanging receiver to be called")
    started = time.monotonic()
    for ws in (slow_ws, fast_ws):
        queue = add_queue(ws, "Q")
        flow = add_workflow(ws, to_queue(queue))
        add_worker(ws, "w", {}, "Available")
        for _ in range(3):
            add_task(ws, flow, {})
    elapsed = time.monotonic() - started
    assert elapsed < 3.0, f"routing took {elapsed:.1f} s behind a hanging receiver"
    # workspace, queue, workflow, worker; 5 for the reserved task, 4 for each waiting one
    wait_until(lambda: len(fine.unique_events(fast_ws.sid)) >= 4 + 5 + 2 * 4, timeout=5)
    # The hanging receiver got exactly one request (the head of its lane), still in flight.
    assert len(hanging.requests()) == 1
    # And the API answers quickly meanwhile.
    assert server.http is not None
    t = time.monotonic()
    response = server.http.get(f"/v1/Workspaces/{slow_ws.sid}/Tasks")
    assert response.status_code == 200 and time.monotonic() - t < 1.0


def test_callbacks_go_to_the_url_current_when_the_event_happened(
    server: EventServer, receivers: Callable[..., Receiver]
) -> None:
    first, second = receivers(), receivers()
    ws = new_workspace(server, callback=first.url())
    ws.ctx.update(event_callback_url=second.url())
    add_queue(ws, "Q")
    wait_until(
        lambda: second.event_types(ws.sid) == ["workspace.updated", "task-queue.created"],
        what="both events at the new URL",
    )
    # The update's own event happened with the new URL in place.
    assert first.event_types(ws.sid) == ["workspace.created"]


@pytest.mark.parametrize("status", [200, 202, 204])
def test_any_2xx_answer_counts_as_delivered(
    server: EventServer, receivers: Callable[..., Receiver], status: int
) -> None:
    body = b"" if status == 204 else b"ok"
    rx = receivers(lambda _r: Answer(status=status, body=body, content_type="text/plain"))
    ws = new_workspace(server, callback=rx.url())
    add_queue(ws, "Q")
    wait_until(lambda: len(rx.events(ws.sid)) >= 2, what="two callbacks")
    server.advance(10_000)
    time.sleep(0.3)
    assert rx.event_types(ws.sid) == ["workspace.created", "task-queue.created"]


def test_callback_carries_twilio_headers(
    server: EventServer, receivers: Callable[..., Receiver]
) -> None:
    rx = receivers()
    ws = new_workspace(server, callback=rx.url("/hook?tenant=a&x=1"))
    got = wait_until(lambda: rx.events(ws.sid), what="a callback")[0]
    assert got.path == "/hook?tenant=a&x=1"
    assert got.headers["content-type"] == "application/x-www-form-urlencoded"
    assert got.headers["i-twilio-idempotency-token"] == got.form["Sid"]
    assert got.signature_valid(server.auth_token)
    assert not got.signature_valid("not-the-token")
    assert int(got.form["TimestampMs"]) // 1000 == int(got.form["Timestamp"])
    assert got.form["ResourceType"] == "Workspace" and got.form["ResourceSid"] == ws.sid
