"""Reservations, task-scoped and worker-scoped, and the worker operations that touch them."""

from __future__ import annotations

import json
from typing import Any

from routing.helpers import ClockedServer, World, etag_of
from support.databases import execute_sql
from support.twilio_client import raises_twilio


def _setup(world: World, *, workers: int = 1, max_reserved: int = 1) -> tuple[str, list[str]]:
    queue = world.queue("Q", max_reserved_workers=max_reserved)
    world.simple_workflow(queue)
    return queue, [world.worker(f"w{n}") for n in range(workers)]


def test_task_and_worker_scoped_fetch_and_list(world: World) -> None:
    _, (alice,) = _setup(world)
    task = world.task({"n": 1})
    by_task = world.ws.tasks(task).reservations.list()
    assert len(by_task) == 1
    reservation = by_task[0]
    assert (reservation.task_sid, reservation.worker_sid) == (task, alice)
    assert reservation.reservation_status == "pending"
    assert reservation.worker_name == "w0"

    by_worker = world.ws.workers(alice).reservations.list()
    assert [r.sid for r in by_worker] == [reservation.sid]
    fetched_t = world.ws.tasks(task).reservations(reservation.sid).fetch()
    fetched_w = world.ws.workers(alice).reservations(reservation.sid).fetch()
    assert fetched_t.reservation_status == fetched_w.reservation_status == "pending"
    assert fetched_t.url and fetched_t.url.endswith(f"/Tasks/{task}/Reservations/{reservation.sid}")
    assert fetched_w.url and fetched_w.url.endswith(
        f"/Workers/{alice}/Reservations/{reservation.sid}"
    )

    # A reservation is reachable only through its own task and worker.
    other_task = world.task({"n": 2})
    with raises_twilio(world.client, 404):
        world.ws.tasks(other_task).reservations(reservation.sid).fetch()
    bob = world.worker("bob")
    with raises_twilio(world.client, 404):
        world.ws.workers(bob).reservations(reservation.sid).fetch()


def test_list_filters_by_status_and_worker(world: World) -> None:
    _, (w0, w1, w2) = _setup(world, workers=3)
    task = world.task()
    first = world.reject(task)
    second = world.reject(task)
    third = world.accept(task)
    assert {first, second, third} == {w0, w1, w2}
    statuses = {r.worker_sid: r.reservation_status for r in world.reservations(task)}
    assert statuses == {first: "rejected", second: "rejected", third: "accepted"}
    rejected = world.ws.tasks(task).reservations.list(reservation_status="rejected")
    assert {r.worker_sid for r in rejected} == {first, second}
    mine = world.ws.tasks(task).reservations.list(worker_sid=second)
    assert [r.reservation_status for r in mine] == ["rejected"]
    both = world.ws.tasks(task).reservations.list(reservation_status="accepted", worker_sid=second)
    assert both == []
    on_worker = world.ws.workers(third).reservations.list(reservation_status="accepted")
    assert [r.task_sid for r in on_worker] == [task]
    assert world.ws.workers(first).reservations.list(reservation_status="accepted") == []
    with raises_twilio(world.client, 400, mentions="ReservationStatus"):
        world.ws.tasks(task).reservations.list(reservation_status="maybe")


def test_reservation_status_accepted_wrapping_completed_follow_the_task(world: World) -> None:
    _, (worker,) = _setup(world)
    task = world.task()
    reservation = world.only_pending(task)
    context = world.ws.workers(worker).reservations(reservation.sid)  # worker-scoped updates
    assert context.update(reservation_status="accepted").reservation_status == "accepted"
    assert world.status(task) == "assigned"
    assert context.update(reservation_status="wrapping").reservation_status == "wrapping"
    assert world.status(task) == "wrapping"
    assert context.update(reservation_status="completed").reservation_status == "completed"
    finished = world.fetch(task)
    assert finished.assignment_status == "completed"
    # The worker's capacity is back: the next task is offered at once.
    follow_up = world.task()
    assert world.reserved_worker(follow_up) == worker


def test_reservation_completed_straight_from_accepted(world: World) -> None:
    _setup(world)
    task = world.task()
    reservation = world.only_pending(task)
    context = world.ws.tasks(task).reservations(reservation.sid)
    context.update(reservation_status="accepted")
    context.update(reservation_status="completed")
    assert world.status(task) == "completed"
    with raises_twilio(world.client, 400):
        context.update(reservation_status="accepted")
    assert world.ws.tasks(task).reservations(reservation.sid).fetch().reservation_status == (
        "completed"
    )


def test_reject_with_and_without_worker_activity_sid(world: World) -> None:
    _, (w0, w1) = _setup(world, workers=2)
    task = world.task()
    first = world.reservations(task)[0]
    world.ws.tasks(task).reservations(first.sid).update(
        reservation_status="rejected", worker_activity_sid=world.activity["Unavailable"]
    )
    assert world.activity_of(str(first.worker_sid)) == "Unavailable"
    second = world.only_pending(task)
    assert second.worker_sid != first.worker_sid
    world.ws.tasks(task).reservations(second.sid).update(reservation_status="rejected")
    # Without WorkerActivitySid the worker keeps (returns to) its previous activity.
    assert world.activity_of(str(second.worker_sid)) == "Available"
    # Neither is offered the task again: it waits.
    assert world.status(task) == "pending"
    assert {first.worker_sid, second.worker_sid} == {w0, w1}
    with raises_twilio(world.client, 400, mentions="WorkerActivitySid"):
        other = world.task()
        pending = world.only_pending(other)
        world.ws.tasks(other).reservations(pending.sid).update(
            reservation_status="rejected", worker_activity_sid="WA" + "0" * 32
        )


def test_instruction_accept_and_reject(world: World) -> None:
    _, (w0, w1) = _setup(world, workers=2)
    task = world.task()
    first = world.only_pending(task)
    rejected = (
        world.ws.tasks(task)
        .reservations(first.sid)
        .update(instruction="reject", worker_activity_sid=world.activity["Offline"])
    )
    assert rejected.reservation_status == "rejected"
    assert world.activity_of(str(first.worker_sid)) == "Offline"
    second = world.only_pending(task)
    accepted = world.ws.tasks(task).reservations(second.sid).update(instruction="accept")
    assert accepted.reservation_status == "accepted"
    assert world.status(task) == "assigned"
    assert {first.worker_sid, second.worker_sid} == {w0, w1}


def _stored_instruction(server: ClockedServer, reservation_sid: str) -> dict[str, Any] | None:
    """The instruction the server stored on the reservation (Twilio's reservation resource does
    not show it, so it is read from the database an integration would read)."""
    ((body,),) = execute_sql(
        server.database_url, f"SELECT body FROM reservations WHERE sid = '{reservation_sid}'"
    )[0]
    stored: dict[str, Any] | None = json.loads(body).get("instruction")
    return stored


def test_voice_instructions_are_stored_and_accept_where_twilio_would(world: World) -> None:
    _setup(world, workers=1)
    server = world.server

    def offer() -> tuple[str, str]:
        task = world.task({"call_sid": "CA" + "1" * 32}, task_channel="voice")
        return task, str(world.only_pending(task).sid)

    def finish(task: str) -> None:
        world.complete(task)

    # dequeue: always accepts.
    task, sid = offer()
    result = (
        world.ws.tasks(task)
        .reservations(sid)
        .update(
            instruction="dequeue",
            dequeue_from="+15550001111",
            dequeue_to="client:alice",
            dequeue_post_work_activity_sid=world.activity["Available"],
            dequeue_timeout=30,
        )
    )
    assert result.reservation_status == "accepted"
    assert world.status(task) == "assigned"
    stored = _stored_instruction(server, sid)
    assert stored is not None
    assert stored["instruction"] == "dequeue"
    assert stored["DequeueFrom"] == "+15550001111"
    assert stored["DequeueTo"] == "client:alice"
    assert str(stored["DequeueTimeout"]) == "30"
    finish(task)

    # conference: always accepts.
    task, sid = offer()
    result = (
        world.ws.tasks(task)
        .reservations(sid)
        .update(
            instruction="conference",
            from_="+15550002222",
            to="client:alice",
            end_conference_on_exit=True,
        )
    )
    assert result.reservation_status == "accepted"
    stored = _stored_instruction(server, sid)
    assert stored is not None
    assert (stored["instruction"], stored["From"], stored["To"]) == (
        "conference",
        "+15550002222",
        "client:alice",
    )
    finish(task)

    # call: accepts only with CallAccept=true.
    task, sid = offer()
    result = (
        world.ws.tasks(task)
        .reservations(sid)
        .update(instruction="call", call_from="+15550003333", call_url="https://example.com/twiml")
    )
    assert result.reservation_status == "pending"
    assert world.status(task) == "reserved"
    stored = _stored_instruction(server, sid)
    assert stored is not None
    assert (stored["instruction"], stored["CallUrl"]) == ("call", "https://example.com/twiml")
    result = (
        world.ws.tasks(task)
        .reservations(sid)
        .update(
            instruction="call",
            call_from="+15550003333",
            call_url="https://example.com/twiml",
            call_accept=True,
        )
    )
    assert result.reservation_status == "accepted"
    assert world.status(task) == "assigned"
    finish(task)

    # redirect: accepts only with RedirectAccept=true.
    task, sid = offer()
    result = (
        world.ws.tasks(task)
        .reservations(sid)
        .update(
            instruction="redirect",
            redirect_call_sid="CA" + "1" * 32,
            redirect_url="https://example.com/hold",
        )
    )
    assert result.reservation_status == "pending"
    stored = _stored_instruction(server, sid)
    assert stored is not None
    assert (stored["instruction"], stored["RedirectUrl"]) == (
        "redirect",
        "https://example.com/hold",
    )
    result = (
        world.ws.tasks(task)
        .reservations(sid)
        .update(
            instruction="redirect",
            redirect_call_sid="CA" + "1" * 32,
            redirect_url="https://example.com/hold",
            redirect_accept=True,
        )
    )
    assert result.reservation_status == "accepted"
    finish(task)

    with raises_twilio(world.client, 400, mentions="Instruction"):
        task, sid = offer()
        world.ws.tasks(task).reservations(sid).update(instruction="teleport")


def test_reservation_update_honours_if_match(world: World) -> None:
    _setup(world)
    task = world.task()
    reservation = world.only_pending(task)
    context = world.ws.tasks(task).reservations(reservation.sid)
    etag = etag_of(context.fetch_with_http_info().headers)
    assert etag, "reservation fetch must carry an ETag"
    with raises_twilio(world.client, 412):
        context.update(reservation_status="accepted", if_match=etag + "0")
    assert context.fetch().reservation_status == "pending"
    assert world.status(task) == "reserved"
    assert context.update(reservation_status="accepted", if_match=etag).reservation_status == (
        "accepted"
    )


def test_reject_pending_reservations_when_going_unavailable(world: World) -> None:
    _, (first, second) = _setup(world, workers=2)
    task = world.task()
    holder = world.reserved_worker(task)
    other = second if holder == first else first
    world.set_activity(holder, "Unavailable", reject_pending_reservations=True)
    assert world.activity_of(holder) == "Unavailable"
    statuses = {r.worker_sid: r.reservation_status for r in world.reservations(task)}
    assert statuses == {holder: "rejected", other: "pending"}


def test_going_unavailable_without_reject_keeps_the_reservation(world: World) -> None:
    _, (worker,) = _setup(world)
    task = world.task()
    world.set_activity(worker, "Unavailable")
    assert world.only_pending(task).worker_sid == worker
    world.accept(task)
    assert world.status(task) == "assigned"


def test_moving_to_another_available_activity_keeps_pending_reservations(world: World) -> None:
    _, (worker,) = _setup(world)
    world.add_activity("Ready", available=True)
    task = world.task()
    reservation = world.only_pending(task)
    world.set_activity(worker, "Ready", reject_pending_reservations=True)
    assert world.activity_of(worker) == "Ready"
    assert world.ws.tasks(task).reservations(reservation.sid).fetch().reservation_status == (
        "pending"
    )
    world.accept(task)
    assert world.status(task) == "assigned"


def test_deleting_a_worker_that_holds_a_task_is_refused(world: World) -> None:
    _, (worker,) = _setup(world)
    task = world.task()
    with raises_twilio(world.client, 400):
        world.ws.workers(worker).delete()  # holds a pending reservation
    world.accept(task)
    with raises_twilio(world.client, 400):
        world.ws.workers(worker).delete()  # holds an assigned task
    assert world.ws.workers(worker).fetch().sid == worker
    world.complete(task)
    assert world.ws.workers(worker).delete() is True
    with raises_twilio(world.client, 404):
        world.ws.workers(worker).fetch()
