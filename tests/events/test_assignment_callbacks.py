"""Assignment callbacks: one POST per reservation with the documented parameters, signed; the
JSON instruction in the answer acts on the reservation (accept, reject with activity_sid, the
voice instructions); an empty answer leaves it pending; an error or a timeout (the budget is
1 s in these tests, 5 s by default) sends the same request to the fallback URL."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import pytest
from events_harness import Answer, EventServer, Receiver, wait_until
from scenario import (
    Workspace,
    add_queue,
    add_task,
    add_worker,
    add_workflow,
    new_workspace,
    reservations,
    to_queue,
)

PARAMS = (
    "Timestamp",
    "AccountSid",
    "WorkspaceSid",
    "WorkflowSid",
    "TaskQueueSid",
    "WorkerSid",
    "WorkerAttributes",
    "TaskSid",
    "TaskAttributes",
    "TaskAge",
    "TaskPriority",
    "ReservationSid",
)


def instruct(document: Any) -> Callable[[Any], Answer]:
    body = json.dumps(document).encode()
    return lambda _r: Answer(status=200, body=body, content_type="application/json")


def _setup(
    server: EventServer, callback: str, fallback: str | None = None, **queue: Any
) -> tuple[Workspace, str, str, str]:
    ws = new_workspace(server)
    q = add_queue(ws, "Q", **queue)
    flow = add_workflow(ws, to_queue(q), callback=callback, fallback=fallback)
    worker = add_worker(ws, "agent", {"skill": "x"}, "Available")
    return ws, q, flow, worker


def _status(ws: Workspace, task: str) -> str:
    return str(reservations(ws, task)[0].reservation_status)


def test_accept_instruction_and_the_documented_parameters(
    server: EventServer, receivers: Callable[..., Receiver]
) -> None:
    rx = receivers(instruct({"instruction": "accept"}))
    ws, queue, flow, worker = _setup(server, rx.url("/assign"))
    task = add_task(ws, flow, {"customer": "c1"})
    wait_until(lambda: _status(ws, task) == "accepted", what="the reservation accepted")
    assert ws.ctx.tasks(task).fetch().assignment_status == "assigned"
    [got] = rx.requests("/assign")
    assert [p for p in PARAMS if p not in got.form] == []
    f = got.form
    assert f["TaskSid"] == task and f["WorkerSid"] == worker and f["WorkflowSid"] == flow
    assert f["TaskQueueSid"] == queue and f["WorkspaceSid"] == ws.sid
    assert f["AccountSid"] == server.account.sid
    assert f["ReservationSid"] == reservations(ws, task)[0].sid
    assert json.loads(f["TaskAttributes"]) == {"customer": "c1"}
    assert json.loads(f["WorkerAttributes"]) == {"skill": "x"}
    assert got.signature_valid(server.auth_token)


def test_reject_instruction_moves_the_worker_to_the_given_activity(
    server: EventServer, receivers: Callable[..., Receiver]
) -> None:
    rx = receivers()
    ws, _, flow, worker = _setup(server, rx.url("/assign"))
    offline = ws.activity("Offline")
    rx.responder = instruct({"instruction": "reject", "activity_sid": offline})
    task = add_task(ws, flow, {})
    wait_until(lambda: _status(ws, task) == "rejected", what="the reservation rejected")
    assert ws.ctx.workers(worker).fetch().activity_sid == offline
    assert ws.ctx.tasks(task).fetch().assignment_status == "pending"


@pytest.mark.parametrize(
    "answer",
    [
        Answer(status=200, body=b""),
        Answer(status=200, body=b"{}"),
        Answer(status=200, body=b'{"note": "later"}'),
        Answer(status=200, body=b'{"instruction": "accept"}', content_type="text/plain"),
    ],
    ids=["empty", "empty-object", "no-instruction", "not-json"],
)
def test_an_answer_without_instruction_leaves_the_reservation_pending(
    server: EventServer, receivers: Callable[..., Receiver], answer: Answer
) -> None:
    fallback = receivers(instruct({"instruction": "accept"}))
    rx = receivers(lambda _r: answer)
    ws, _, flow, _ = _setup(server, rx.url("/assign"), fallback.url("/fallback"))
    task = add_task(ws, flow, {})
    wait_until(lambda: rx.requests("/assign"), what="the callback")
    time.sleep(0.3)  # the answer is read at once; give it time to (wrongly) act
    assert _status(ws, task) == "pending"
    assert fallback.requests() == []
    # Still answerable through REST.
    r = reservations(ws, task)[0]
    ws.ctx.tasks(task).reservations(r.sid).update(reservation_status="accepted")
    assert _status(ws, task) == "accepted"


@pytest.mark.parametrize(
    "primary",
    [Answer(status=500), Answer(hang=True)],
    ids=["error", "timeout"],
)
def test_failure_or_timeout_calls_the_fallback_url(
    server: EventServer, receivers: Callable[..., Receiver], primary: Answer
) -> None:
    rx = receivers(lambda _r: primary)
    fallback = receivers(instruct({"instruction": "accept"}))
    ws, _, flow, _ = _setup(server, rx.url("/assign"), fallback.url("/fallback"))
    task = add_task(ws, flow, {})
    wait_until(lambda: _status(ws, task) == "accepted", timeout=10, what="accepted by fallback")
    [first] = rx.requests("/assign")
    [second] = fallback.requests("/fallback")
    assert second.form == first.form
    assert second.signature_valid(server.auth_token)


def test_without_a_fallback_a_failed_callback_leaves_it_pending(
    server: EventServer, receivers: Callable[..., Receiver]
) -> None:
    rx = receivers(lambda _r: Answer(status=503))
    ws, _, flow, _ = _setup(server, rx.url("/assign"))
    task = add_task(ws, flow, {})
    wait_until(lambda: rx.requests("/assign"), what="the callback")
    time.sleep(0.3)
    assert _status(ws, task) == "pending"
    assert len(rx.requests("/assign")) == 1  # not retried


@pytest.mark.parametrize(
    ("document", "status"),
    [
        (
            {"instruction": "dequeue", "from": "+15550001111", "post_work_activity_sid": None},
            "accepted",
        ),
        ({"instruction": "conference", "from": "+15550001111", "timeout": 20}, "accepted"),
        (
            {"instruction": "call", "from": "+1555", "url": "http://x/twiml", "accept": True},
            "accepted",
        ),
        ({"instruction": "call", "from": "+1555", "url": "http://x/twiml"}, "pending"),
        (
            {"instruction": "redirect", "call_sid": "CA" + "0" * 32, "url": "http://x/twiml"},
            "pending",
        ),
    ],
    ids=["dequeue", "conference", "call-accept", "call", "redirect"],
)
def test_voice_instructions_act_as_the_routing_service_defines(
    server: EventServer,
    receivers: Callable[..., Receiver],
    document: dict[str, Any],
    status: str,
) -> None:
    rx = receivers(instruct(document))
    ws, _, flow, _ = _setup(server, rx.url("/assign"))
    task = add_task(ws, flow, {"call_sid": "CA" + "1" * 32})
    wait_until(lambda: rx.requests("/assign"), what="the callback")
    if status == "accepted":
        wait_until(lambda: _status(ws, task) == "accepted", what="accepted")
    else:
        time.sleep(0.3)
        assert _status(ws, task) == status


def test_one_callback_per_reservation(
    server: EventServer, receivers: Callable[..., Receiver]
) -> None:
    rx = receivers(lambda _r: Answer(status=200))
    ws, _, flow, first = _setup(server, rx.url("/assign"), max_reserved_workers=3)
    second = add_worker(ws, "agent-2", {}, "Available")
    add_task(ws, flow, {})
    got = wait_until(lambda: len(rx.requests("/assign")) >= 2 and rx.requests("/assign"))
    assert sorted(r.form["WorkerSid"] for r in got) == sorted([first, second])
    assert len({r.form["ReservationSid"] for r in got}) == 2
