"""Which task a worker gets (queue ordering) and which worker a task gets (worker choice,
multi-reservation)."""

from __future__ import annotations

import json
from collections.abc import Callable

from routing.helpers import World, config, iso
from support.twilio_client import raises_twilio


def _work_through(world: World, worker: str, count: int) -> list[str]:
    """Let `worker` accept and complete the tasks it is offered, one by one; returns their
    `tag` attributes in the order they came."""
    order: list[str] = []
    for _ in range(count):
        offered = world.ws.workers(worker).reservations.list(reservation_status="pending")
        assert len(offered) == 1, f"worker {worker} has {len(offered)} pending reservations"
        task_sid = str(offered[0].task_sid)
        order.append(_tag(world, task_sid))
        world.ws.workers(worker).reservations(offered[0].sid).update(reservation_status="accepted")
        world.complete(task_sid)
    return order


def _tag(world: World, task_sid: str) -> str:
    return str(json.loads(world.fetch(task_sid).attributes or "{}")["tag"])


def test_fifo_orders_by_priority_then_virtual_start_time(world: World) -> None:
    queue = world.queue("FIFO", task_order="FIFO")
    world.simple_workflow(queue)
    worker = world.worker("w", activity="Offline")
    world.task({"tag": "low"}, priority=1)
    world.advance(1)
    world.task({"tag": "old"}, priority=5)
    world.advance(1)
    world.task({"tag": "new"}, priority=5)
    world.advance(1)
    # Created last, but its virtual start time puts it first among the priority-5 tasks.
    world.task({"tag": "requeued"}, priority=5, virtual_start_time=iso(world.now_ms() - 100_000))
    world.set_activity(worker, "Available")
    assert _work_through(world, worker, 4) == ["requeued", "old", "new", "low"]


def test_changed_virtual_start_time_moves_a_task_up(world: World) -> None:
    queue = world.queue("FIFO")
    world.simple_workflow(queue)
    worker = world.worker("w", activity="Offline")
    world.task({"tag": "first"})
    world.advance(1)
    second = world.task({"tag": "second"})
    world.ws.tasks(second).update(virtual_start_time=iso(world.now_ms() - 60_000))
    world.set_activity(worker, "Available")
    assert _work_through(world, worker, 2) == ["second", "first"]


def test_lifo_takes_the_newest_first_and_ignores_priority(world: World) -> None:
    queue = world.queue("LIFO", task_order="LIFO")
    world.simple_workflow(queue)
    worker = world.worker("w", activity="Offline")
    for tag, priority in (("oldest", 10), ("middle", 0), ("newest", 5)):
        world.task({"tag": tag}, priority=priority)
        world.advance(1)
    world.set_activity(worker, "Available")
    assert _work_through(world, worker, 3) == ["newest", "middle", "oldest"]


def _both_kinds(world: World) -> str:
    fifo = world.queue("FIFO", task_order="FIFO")
    lifo = world.queue("LIFO", task_order="LIFO")
    world.workflow(
        config([{"expression": "kind == 'fifo'", "targets": [{"queue": fifo}]}], {"queue": lifo})
    )
    worker = world.worker("both", activity="Offline")
    # The LIFO task is older and more urgent; only the workspace setting decides.
    world.task({"tag": "lifo", "kind": "lifo"}, priority=100)
    world.advance(1)
    world.task({"tag": "fifo", "kind": "fifo"}, priority=0)
    world.set_activity(worker, "Available")
    return worker


def test_prioritize_queue_order_fifo_by_default(world: World) -> None:
    assert world.ws.fetch().prioritize_queue_order == "FIFO"
    worker = _both_kinds(world)
    assert _work_through(world, worker, 2) == ["fifo", "lifo"]


def test_prioritize_queue_order_lifo(make_world: Callable[..., World]) -> None:
    world = make_world(prioritize_queue_order="LIFO")
    assert world.ws.fetch().prioritize_queue_order == "LIFO"
    worker = _both_kinds(world)
    assert _work_through(world, worker, 2) == ["lifo", "fifo"]


def test_a_freed_worker_gets_the_best_task_across_its_queues(world: World) -> None:
    north = world.queue("North")
    south = world.queue("South")
    world.workflow(
        config(
            [{"expression": "region == 'north'", "targets": [{"queue": north}]}], {"queue": south}
        )
    )
    worker = world.worker("w")
    holding = world.task({"tag": "holding", "region": "north"})
    world.accept(holding)
    world.task({"tag": "north-low", "region": "north"}, priority=1)
    world.advance(1)
    world.task({"tag": "south-high", "region": "south"}, priority=5)
    world.advance(1)
    world.task({"tag": "north-high-newer", "region": "north"}, priority=5)
    world.complete(holding)
    assert _work_through(world, worker, 3) == ["south-high", "north-high-newer", "north-low"]


def test_longest_idle_worker_first(world: World) -> None:
    queue = world.queue("Q")
    world.simple_workflow(queue)
    s0, s1, s2 = sorted(world.worker(name) for name in ("x", "y", "z"))

    def serve(expected: str, tag: str) -> None:
        task = world.task({"tag": tag})
        assert world.reserved_worker(task) == expected, tag
        world.accept(task)
        world.advance(10)
        world.complete(task)

    # Never-assigned workers come first, ties broken by sid.
    serve(s0, "t1")
    serve(s1, "t2")
    serve(s2, "t3")
    # Then whoever accepted their last task longest ago.
    serve(s0, "t4")
    serve(s1, "t5")
    # A rejection is no assignment: s2 stays the longest idle.
    rejected = world.task({"tag": "t6"})
    assert world.reject(rejected) == s2
    assert world.reserved_worker(rejected) == s0
    world.accept(rejected)
    world.advance(10)
    world.complete(rejected)
    serve(s2, "t7")
    serve(s1, "t8")


def test_order_by_comes_before_idle_time(world: World) -> None:
    queue = world.queue("Q")
    world.workflow(
        config(
            [
                {
                    "expression": "direction == 'asc'",
                    "targets": [{"queue": queue, "order_by": "worker.level ASC"}],
                }
            ],
            {"queue": queue, "order_by": "worker.level DESC"},
        )
    )
    high = world.worker("high", {"level": 9})
    low = world.worker("low", {"level": 1})
    unranked = world.worker("unranked", {})

    def offered(direction: str) -> str:
        task = world.task({"direction": direction})
        worker = world.reserved_worker(task)
        world.accept(task)
        world.advance(1)
        world.complete(task)
        return worker

    # `high` just worked and `low`/`unranked` never did, yet DESC keeps choosing `high`.
    assert offered("desc") == high
    assert offered("desc") == high
    assert offered("asc") == low
    assert offered("asc") == low
    # A worker without the attribute sorts after those with it, in either direction.
    world.set_activity(high, "Offline")
    assert offered("desc") == low
    world.set_activity(low, "Offline")
    assert offered("asc") == unranked


def test_multi_reservation_rescinds_the_others_on_accept(world: World) -> None:
    queue = world.queue("Q", max_reserved_workers=3)
    world.simple_workflow(queue)
    workers = [world.worker(f"w{n}") for n in range(4)]
    task = world.task({"n": 1})
    pending = world.reservations(task, "pending")
    assert len(pending) == 3
    assert len({r.worker_sid for r in pending}) == 3
    assert world.status(task) == "reserved"
    left_out = (set(workers) - {r.worker_sid for r in pending}).pop()

    winner, *losers = pending
    world.ws.tasks(task).reservations(winner.sid).update(reservation_status="accepted")
    statuses = {r.sid: r.reservation_status for r in world.reservations(task)}
    assert statuses[winner.sid] == "accepted"
    assert all(statuses[r.sid] == "rescinded" for r in losers)
    for loser in losers:
        with raises_twilio(world.client, 410, code=20410):
            world.ws.tasks(task).reservations(loser.sid).update(reservation_status="accepted")
    assert world.status(task) == "assigned"

    # The rescinded and left-out workers are free for the next task.
    following = world.task({"n": 2})
    assert {r.worker_sid for r in world.reservations(following, "pending")} == {
        str(r.worker_sid) for r in losers
    } | {left_out}


def test_multi_reservation_goes_back_to_pending_only_when_all_ended(world: World) -> None:
    queue = world.queue("Q", max_reserved_workers=3)
    world.simple_workflow(queue)
    workers = [world.worker(f"w{n}") for n in range(4)]
    task = world.task()
    first, second, third = world.reservations(task, "pending")
    rest = (set(workers) - {first.worker_sid, second.worker_sid, third.worker_sid}).pop()
    world.ws.tasks(task).reservations(first.sid).update(reservation_status="rejected")
    assert world.status(task) == "reserved"
    assert len(world.reservations(task, "pending")) == 2
    world.ws.tasks(task).reservations(second.sid).update(reservation_status="rejected")
    world.ws.tasks(task).reservations(third.sid).update(reservation_status="rejected")
    # Every offer ended: the task is offered again, never to a worker who declined it.
    assert [r.worker_sid for r in world.reservations(task, "pending")] == [rest]


def test_never_two_reservations_for_one_worker(world: World) -> None:
    queue = world.queue("Q", max_reserved_workers=3)
    world.simple_workflow(queue)
    w0 = world.worker("w0")
    w1 = world.worker("w1")
    task = world.task()
    assert sorted(str(r.worker_sid) for r in world.reservations(task)) == sorted([w0, w1])
