"""Deadlines, driven by the server's injected clock: reservation timeout, task TTL, the 24-hour
limit on assigned tasks, and the 5-minute visibility of finished tasks (the 1,000-attempt cap
is in test_routing_attempt_cap.py)."""

from __future__ import annotations

from routing.helpers import World
from support.twilio_client import raises_twilio

DAY = 86_400


def _queue(world: World, **workflow: int) -> str:
    queue = world.queue("Q")
    world.simple_workflow(queue, **workflow)
    return queue


def test_reservation_timeout_moves_the_worker_to_the_timeout_activity(world: World) -> None:
    _queue(world, reservation_timeout=30)
    first = world.worker("first")
    second = world.worker("second")
    task = world.task()
    holder = world.reserved_worker(task)
    world.advance(29)
    assert world.only_pending(task).worker_sid == holder
    world.advance(1)
    by_worker = {r.worker_sid: r.reservation_status for r in world.reservations(task)}
    assert by_worker[holder] == "timeout"
    assert world.activity_of(holder) == "Offline"  # the workspace's default timeout activity
    other = second if holder == first else first
    assert world.reserved_worker(task) == other

    world.ws.update(timeout_activity_sid=world.activity["Unavailable"])
    world.advance(30)
    assert world.activity_of(other) == "Unavailable"
    assert world.status(task) == "pending"


def test_reservation_timeout_defaults_to_120_seconds(world: World) -> None:
    _queue(world)
    (workflow,) = world.ws.workflows.list()
    assert workflow.task_reservation_timeout == 120
    worker = world.worker("w")
    task = world.task()
    world.advance(119)
    assert world.only_pending(task).worker_sid == worker
    world.advance(1)
    assert world.reservations(task)[0].reservation_status == "timeout"
    assert world.activity_of(worker) == "Offline"


def test_task_ttl_cancels_pending_and_reserved_tasks(world: World) -> None:
    _queue(world, reservation_timeout=600)
    pending = world.task({"n": 1}, timeout=60)
    world.advance(59)
    assert world.status(pending) == "pending"
    world.advance(1)
    fetched = world.fetch(pending)
    assert (fetched.assignment_status, fetched.reason) == ("canceled", "Task TTL Exceeded")

    worker = world.worker("w")
    reserved = world.task({"n": 2}, timeout=30)
    reservation = world.only_pending(reserved)
    waiting = world.task({"n": 3})
    world.advance(30)
    fetched = world.fetch(reserved)
    assert (fetched.assignment_status, fetched.reason) == ("canceled", "Task TTL Exceeded")
    assert world.ws.tasks(reserved).reservations(reservation.sid).fetch().reservation_status == (
        "canceled"
    )
    assert world.reserved_worker(waiting) == worker  # the worker was freed


def test_ttl_does_not_touch_an_assigned_task(world: World) -> None:
    _queue(world)
    world.worker("w")
    task = world.task(timeout=60)
    world.accept(task)
    world.advance(61)
    assert world.status(task) == "assigned"


def test_an_assigned_task_is_deleted_after_24_hours(world: World) -> None:
    _queue(world)
    worker = world.worker("w")
    task = world.task({"n": 1})
    world.accept(task)
    waiting = world.task({"n": 2}, timeout=2 * DAY)
    world.advance(DAY - 1)
    assert world.status(task) == "assigned"
    assert world.status(waiting) == "pending"
    world.advance(1)
    with raises_twilio(world.client, 404):
        world.fetch(task)
    assert task not in {t.sid for t in world.ws.tasks.list()}
    # Its capacity is freed: the waiting task is offered.
    assert world.reserved_worker(waiting) == worker


def test_a_wrapping_task_is_deleted_after_24_hours_too(world: World) -> None:
    _queue(world)
    world.worker("w")
    task = world.task()
    world.accept(task)
    world.advance(DAY / 2)
    world.ws.tasks(task).update(assignment_status="wrapping")
    world.advance(DAY / 2)
    with raises_twilio(world.client, 404):
        world.fetch(task)


def test_finished_tasks_stay_fetchable_for_five_minutes(world: World) -> None:
    _queue(world)
    world.worker("w")
    completed = world.task({"n": 1})
    world.accept(completed)
    world.complete(completed)
    canceled = world.task({"n": 2})
    world.ws.tasks(canceled).update(assignment_status="canceled", reason="no longer needed")
    world.advance(299)
    assert world.status(completed) == "completed"
    assert world.fetch(canceled).reason == "no longer needed"
    assert {t.sid for t in world.ws.tasks.list()} == {completed, canceled}
    world.advance(1)
    for sid in (completed, canceled):
        with raises_twilio(world.client, 404):
            world.fetch(sid)
    assert world.ws.tasks.list() == []
