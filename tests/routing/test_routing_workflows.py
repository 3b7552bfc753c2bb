"""Workflow evaluation: filters, default_filter, targets (queue inheritance, priority,
expression, cumulative timeouts, skip_if, known worker), falling off, re-evaluation."""

from __future__ import annotations

import json

from routing.helpers import World, config


def test_first_matching_filter_wins_top_to_bottom(world: World) -> None:
    spanish = world.queue("Spanish")
    urgent = world.queue("Urgent")
    rest = world.queue("Rest")
    fallback = world.queue("Fallback")
    world.workflow(
        config(
            [
                {
                    "filter_friendly_name": "es",
                    "expression": "lang == 'es'",
                    "targets": [{"queue": spanish}],
                },
                {"expression": "level > 1", "targets": [{"queue": urgent}]},
                {"expression": "1 == 1", "targets": [{"queue": rest}]},
            ],
            {"queue": fallback},
        )
    )
    both = world.task({"lang": "es", "level": 5})  # matches the first and the second filter
    second = world.task({"lang": "en", "level": 5})
    third = world.task({"lang": "en", "level": 0})
    assert world.fetch(both).task_queue_sid == spanish
    assert world.fetch(second).task_queue_sid == urgent
    assert world.fetch(third).task_queue_sid == rest


def test_default_filter_only_when_no_filter_matched(world: World) -> None:
    sales = world.queue("Sales")
    default = world.queue("Default")
    world.workflow(
        config(
            [{"expression": "type == 'sales'", "targets": [{"queue": sales, "timeout": 10}]}],
            {"queue": default},
        )
    )
    matched = world.task({"type": "sales"})
    unmatched = world.task({"type": "support"})
    assert world.fetch(matched).task_queue_sid == sales
    assert world.fetch(unmatched).task_queue_sid == default
    # default_filter is no fallback after a timeout: the sales task falls out and is canceled.
    world.advance(10)
    fell = world.fetch(matched)
    assert (fell.assignment_status, fell.reason) == ("canceled", "Workflow Timeout")
    # A task in default_filter has no target timeout: it waits (until its TTL).
    world.advance(3_600)
    assert world.fetch(unmatched).assignment_status == "pending"


def test_no_matching_filter_and_no_default_cancels(world: World) -> None:
    sales = world.queue("Sales")
    world.workflow(config([{"expression": "type == 'sales'", "targets": [{"queue": sales}]}]))
    task = world.ws.tasks.create(attributes=json.dumps({"type": "support"}))
    fetched = world.fetch(str(task.sid))
    assert (fetched.assignment_status, fetched.reason) == ("canceled", "No workflow filter matched")
    assert world.fetch(world.task({"type": "sales"})).assignment_status == "pending"


def test_targets_inherit_the_queue_and_their_priority_overrides(world: World) -> None:
    first = world.queue("First")
    second = world.queue("Second")
    world.workflow(
        config(
            [
                {
                    "expression": "1 == 1",
                    "targets": [
                        {"queue": first, "priority": 5, "timeout": 10},
                        {"priority": "20", "timeout": "10"},  # inherits First; strings parse
                        {"queue": second},
                    ],
                }
            ]
        )
    )
    task = world.task({}, priority=99)
    fetched = world.fetch(task)
    assert (fetched.task_queue_sid, fetched.priority) == (first, 5)
    world.advance(10)
    fetched = world.fetch(task)
    assert (fetched.task_queue_sid, fetched.priority) == (first, 20)
    world.advance(10)
    fetched = world.fetch(task)
    # The last target sets no priority: the task keeps the one it had.
    assert (fetched.task_queue_sid, fetched.priority, fetched.assignment_status) == (
        second,
        20,
        "pending",
    )
    # A target without priority keeps the task's own.
    plain = world.queue("Plain")
    other = world.workflow(config(default={"queue": plain}), name="plain")
    assert world.fetch(world.task({}, priority=7, workflow_sid=other)).priority == 7


def test_target_expression_over_task_and_worker(world: World) -> None:
    queue = world.queue("Languages")
    world.workflow(
        config(
            [
                {
                    "expression": "1 == 1",
                    "targets": [
                        {
                            "queue": queue,
                            "expression": "task.language IN worker.languages"
                            " AND worker.level >= task.min_level",
                        }
                    ],
                }
            ]
        )
    )
    english = world.worker("english", {"languages": ["en"], "level": 3})
    spanish = world.worker("spanish", {"languages": ["es", "en"], "level": 1})
    assert world.reserved_worker(world.task({"language": "es", "min_level": 1})) == spanish
    assert world.reserved_worker(world.task({"language": "en", "min_level": 2})) == english
    nobody = world.task({"language": "es", "min_level": 2})
    assert world.status(nobody) == "pending"
    fr = world.worker("french", {"languages": ["fr", "es"], "level": 2})
    assert world.reserved_worker(nobody) == fr


def test_target_timeouts_add_up_from_task_age(world: World) -> None:
    first = world.queue("First", "team == 'first'")
    second = world.queue("Second", "team == 'second'")
    parked = world.queue("Parked", "team == 'parked'")
    world.workflow(
        config(
            [
                {
                    "expression": "type == 'x'",
                    "targets": [{"queue": first, "timeout": 10}, {"queue": second, "timeout": 10}],
                }
            ],
            {"queue": parked},
        )
    )
    task = world.task({"type": "y"})
    assert world.fetch(task).task_queue_sid == parked
    world.advance(15)
    # Re-evaluated at age 15: First's window (age < 10) has passed, so it enters Second,
    # whose window ends at age 20, 5 seconds from now, not 10.
    world.ws.tasks(task).update(attributes=json.dumps({"type": "x"}))
    assert world.fetch(task).task_queue_sid == second
    world.advance(4)
    assert world.status(task) == "pending"
    world.advance(1)
    fell = world.fetch(task)
    assert (fell.assignment_status, fell.reason) == ("canceled", "Workflow Timeout")


def test_reservation_timeout_does_not_restart_the_target_window(world: World) -> None:
    """TaskRouter's own example: Q1 and Q2 with 10 s each and a 5 s reservation timeout; a
    reservation made at t=3 times out at t=8, the task moves to Q2 at t=10 and falls out at
    t=20."""
    first = world.queue("Q1", "team == 'one'")
    second = world.queue("Q2", "team == 'two'")
    world.workflow(
        config(
            [
                {
                    "expression": "1 == 1",
                    "targets": [{"queue": first, "timeout": 10}, {"queue": second, "timeout": 10}],
                }
            ]
        ),
        reservation_timeout=5,
    )
    one = world.worker("one", {"team": "one"}, activity="Unavailable")
    world.worker("two", {"team": "two"}, activity="Unavailable")
    task = world.task()
    world.advance(3)
    world.set_activity(one, "Available")
    reservation = world.only_pending(task)
    world.advance(5)  # t=8
    assert world.ws.tasks(task).reservations(reservation.sid).fetch().reservation_status == (
        "timeout"
    )
    assert world.fetch(task).task_queue_sid == first
    world.advance(1)  # t=9
    assert world.fetch(task).task_queue_sid == first
    world.advance(1)  # t=10
    assert world.fetch(task).task_queue_sid == second
    world.advance(9)  # t=19
    assert world.status(task) == "pending"
    world.advance(1)  # t=20
    assert world.fetch(task).reason == "Workflow Timeout"


def test_skip_if_with_worker_counts(world: World) -> None:
    first = world.queue("First", "team == 'first'")
    second = world.queue("Second", "team == 'second'")
    world.workflow(
        config(
            [
                {
                    "expression": "1 == 1",
                    "targets": [
                        {"queue": first, "skip_if": "workers.available == 0"},
                        {"queue": second},
                    ],
                }
            ]
        )
    )
    lone = world.worker("lone", {"team": "first"}, activity="Offline")
    skipped = world.task({"n": 1})
    assert world.fetch(skipped).task_queue_sid == second
    world.set_activity(lone, "Available")
    held = world.task({"n": 2})
    assert world.reserved_worker(held) == lone
    # First has an available worker (busy, but available): skip_if is false, the task waits.
    waits = world.task({"n": 3})
    assert world.fetch(waits).task_queue_sid == first
    assert world.status(waits) == "pending"
    world.accept(held)
    world.complete(held)
    assert world.reserved_worker(waits) == lone


def test_skipping_every_target_lands_in_default_filter_or_leaves(world: World) -> None:
    first = world.queue("First", "team == 'first'")
    second = world.queue("Second", "team == 'second'")
    default = world.queue("Default", "team == 'default'")
    skip = "workers.available == 0"
    world.worker("away", {"team": "first"}, activity="Unavailable")
    with_default = world.workflow(
        config(
            [
                {"expression": "1 == 1", "targets": [{"queue": first, "skip_if": skip}]},
                {"expression": "1 == 1", "targets": [{"queue": second, "skip_if": skip}]},
            ],
            {"queue": default},
        ),
        name="with default",
    )
    without = world.workflow(
        config(
            [
                {
                    "expression": "1 == 1",
                    "targets": [{"queue": first, "skip_if": "workers.unavailable >= 1"}],
                }
            ]
        ),
        name="without default",
    )
    assert world.fetch(world.task(workflow_sid=with_default)).task_queue_sid == default
    gone = world.task(workflow_sid=without)
    # Skipped at the final step with nowhere to go: the task leaves the workflow (removed, or
    # canceled); it is not left waiting.
    left = [t for t in world.ws.tasks.list() if t.sid == gone]
    assert [t.assignment_status for t in left] in ([], ["canceled"])


def test_known_worker_sid_and_friendly_name(world: World) -> None:
    queue = world.queue("Team")
    world.workflow(
        config(
            [
                {
                    "expression": "route == 'sid'",
                    "targets": [
                        {"queue": queue, "known_worker_sid": "task.agent", "timeout": 30},
                        {"queue": queue},
                    ],
                },
                {
                    "expression": "route == 'name'",
                    "targets": [
                        {"queue": queue, "known_worker_friendly_name": "task.agent", "timeout": 30}
                    ],
                },
            ]
        )
    )
    workers = sorted([world.worker("Ann"), world.worker("Bea")])
    # Both never worked: the smaller sid would be chosen first. Target the other one.
    preferred, other = workers[1], workers[0]
    first = world.task({"route": "sid", "agent": preferred})
    assert world.reserved_worker(first) == preferred
    world.accept(first)
    # The preferred worker is busy: the next task for it waits, though `other` is idle.
    second = world.task({"route": "sid", "agent": preferred})
    assert world.status(second) == "pending"
    name = world.ws.workers(other).fetch().friendly_name
    by_name = world.task({"route": "name", "agent": name})
    assert world.reserved_worker(by_name) == other
    world.accept(by_name)
    world.complete(by_name)
    # Until its known-worker target times out; then the next target takes any member.
    world.advance(29)
    assert world.status(second) == "pending"
    world.advance(1)
    assert world.reserved_worker(second) == other


def test_falling_off_the_last_target_cancels_open_reservations(world: World) -> None:
    first = world.queue("First", "team == 'first'")
    second = world.queue("Second", "team == 'second'")
    world.workflow(
        config(
            [
                {
                    "expression": "1 == 1",
                    "targets": [{"queue": first, "timeout": 10}, {"queue": second, "timeout": 10}],
                }
            ]
        )
    )
    late = world.worker("late", {"team": "second"}, activity="Offline")
    task = world.task()
    world.advance(15)
    assert world.fetch(task).task_queue_sid == second
    world.set_activity(late, "Available")
    reservation = world.only_pending(task)
    world.advance(5)
    fell = world.fetch(task)
    assert (fell.assignment_status, fell.reason) == ("canceled", "Workflow Timeout")
    assert world.ws.tasks(task).reservations(reservation.sid).fetch().reservation_status == (
        "canceled"
    )


def test_workflow_update_re_evaluates_tasks_only_when_asked(world: World) -> None:
    old = world.queue("Old", "team == 'old'")
    new = world.queue("New", "team == 'new'")
    workflow = world.workflow(config(default={"queue": old}))
    worker = world.worker("newcomer", {"team": "new"})
    first = world.task({"n": 1})
    second = world.task({"n": 2})
    world.ws.workflows(workflow).update(configuration=config(default={"queue": new}))
    assert world.fetch(first).task_queue_sid == old
    assert world.fetch(second).task_queue_sid == old
    fresh = world.task({"n": 3})  # new tasks follow the new configuration at once
    assert world.reserved_worker(fresh) == worker
    world.accept(fresh)
    world.complete(fresh)
    world.ws.workflows(workflow).update(
        configuration=config(default={"queue": new}), re_evaluate_tasks="true"
    )
    assert world.fetch(first).task_queue_sid == new
    assert world.fetch(second).task_queue_sid == new
    assert world.reserved_worker(first) == worker
    assert world.status(second) == "pending"
