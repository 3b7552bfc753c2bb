"""Single-tasking workspaces (activities follow reservations) and multitasking ones (channel
capacity and availability gate work; activities never change), and direct routing to a worker."""

from __future__ import annotations

from collections.abc import Callable

from routing.helpers import World


def _single(make_world: Callable[..., World]) -> World:
    world = make_world(multi_task=False)
    assert world.ws.fetch().multi_task_enabled is False
    return world


def test_single_tasking_reservation_and_assignment_activities(
    make_world: Callable[..., World],
) -> None:
    world = _single(make_world)
    reserved = world.add_activity("Reserved", available=False)
    busy = world.add_activity("Busy", available=False)
    queue = world.queue("Q", reservation_activity_sid=reserved, assignment_activity_sid=busy)
    fetched = world.ws.task_queues(queue).fetch()
    assert (fetched.reservation_activity_sid, fetched.assignment_activity_sid) == (reserved, busy)
    world.simple_workflow(queue)
    worker = world.worker("solo")

    first = world.task({"n": 1})
    assert world.reserved_worker(first) == worker
    assert world.activity_of(worker) == "Reserved"
    world.accept(first)
    assert world.activity_of(worker) == "Busy"
    second = world.task({"n": 2})
    assert world.status(second) == "pending"
    world.complete(first)
    # Completion does not change the activity: the application sets it.
    assert world.activity_of(worker) == "Busy"
    assert world.status(second) == "pending"
    world.set_activity(worker, "Available")
    assert world.reserved_worker(second) == worker
    assert world.activity_of(worker) == "Reserved"
    # A rejection without WorkerActivitySid goes back to the activity before the reservation.
    world.reject(second)
    assert world.activity_of(worker) == "Available"
    assert world.status(second) == "pending"  # never offered again to who declined it
    third = world.task({"n": 3})
    assert world.reserved_worker(third) == worker


def test_single_tasking_reservation_timeout_and_rescind(make_world: Callable[..., World]) -> None:
    world = _single(make_world)
    reserved = world.add_activity("Reserved", available=False)
    busy = world.add_activity("Busy", available=False)
    queue = world.queue(
        "Q",
        reservation_activity_sid=reserved,
        assignment_activity_sid=busy,
        max_reserved_workers=2,
    )
    world.simple_workflow(queue, reservation_timeout=30)
    a = world.worker("a")
    b = world.worker("b")
    task = world.task()
    assert world.activity_of(a) == world.activity_of(b) == "Reserved"
    first, second = world.reservations(task, "pending")
    world.ws.tasks(task).reservations(first.sid).update(reservation_status="accepted")
    # The rescinded worker is back in the activity it had before the reservation.
    assert world.activity_of(str(first.worker_sid)) == "Busy"
    assert world.activity_of(str(second.worker_sid)) == "Available"
    lonely = world.task()
    assert world.reserved_worker(lonely) == second.worker_sid
    world.advance(30)
    assert world.activity_of(str(second.worker_sid)) == "Offline"
    assert world.reservations(lonely)[0].reservation_status == "timeout"


def test_single_tasking_worker_holds_one_task_at_a_time(make_world: Callable[..., World]) -> None:
    world = _single(make_world)
    # The queue exists before any "Reserved"/"Busy" activity: it has none, so the worker's
    # activity stays Available, and only "one task at a time" keeps a second one away.
    queue = world.queue("Q")
    fetched = world.ws.task_queues(queue).fetch()
    assert (fetched.reservation_activity_sid, fetched.assignment_activity_sid) == (None, None)
    world.simple_workflow(queue)
    worker = world.worker("solo")
    first = world.task({"n": 1})
    assert world.reserved_worker(first) == worker
    second = world.task({"n": 2}, task_channel="voice")  # another channel does not help
    assert world.status(second) == "pending"
    world.accept(first)
    assert world.activity_of(worker) == "Available"
    assert world.status(second) == "pending"
    world.complete(first)
    assert world.reserved_worker(second) == worker


def test_multitasking_capacity_gates_work_and_activities_stay(world: World) -> None:
    queue = world.queue("Q")
    world.simple_workflow(queue)
    worker = world.worker("multi")
    world.set_channel(worker, "chat", capacity=2)
    chats = [world.task({"n": n}, task_channel="chat") for n in range(3)]
    assert [world.status(t) for t in chats] == ["reserved", "reserved", "pending"]
    assert world.activity_of(worker) == "Available"
    # Channels are independent: a voice task is offered while chat is full.
    voice = world.task({"n": "voice"}, task_channel="voice")
    assert world.reserved_worker(voice) == worker
    world.accept(chats[0])
    assert world.activity_of(worker) == "Available"
    channel = world.ws.workers(worker).worker_channels("chat").fetch()
    assert (channel.configured_capacity, channel.assigned_tasks) == (2, 1)
    assert channel.available_capacity_percentage == 0
    world.complete(chats[0])
    assert world.activity_of(worker) == "Available"
    assert world.reserved_worker(chats[2]) == worker
    # Capacity 0 takes no work; raising it takes waiting work at once.
    world.accept(voice)
    world.complete(voice)
    world.set_channel(worker, "voice", capacity=0)
    another_voice = world.task({"n": "voice2"}, task_channel="voice")
    assert world.status(another_voice) == "pending"
    world.set_channel(worker, "voice", capacity=2)
    assert world.reserved_worker(another_voice) == worker


def test_channel_availability_gates_work(world: World) -> None:
    queue = world.queue("Q")
    world.simple_workflow(queue)
    worker = world.worker("w")
    world.set_channel(worker, "sms", available=False)
    sms = world.task({"n": 1}, task_channel="sms")
    assert world.status(sms) == "pending"
    voice = world.task({"n": 2}, task_channel="voice")
    assert world.reserved_worker(voice) == worker
    world.set_channel(worker, "sms", available=True)
    assert world.reserved_worker(sms) == worker
    # An unavailable activity stops every channel.
    world.set_activity(worker, "Unavailable")
    video = world.task({"n": 3}, task_channel="video")
    assert world.status(video) == "pending"
    world.set_activity(worker, "Available")
    assert world.reserved_worker(video) == worker


def test_routing_target_worker_ignores_capacity_by_default(world: World) -> None:
    queue = world.queue("Q")
    world.simple_workflow(queue)
    target = world.worker("target")
    bystander = world.worker("bystander", activity="Offline")
    held = world.task({"n": "held"})
    assert world.reserved_worker(held) == target
    world.accept(held)
    world.set_activity(target, "Offline")
    world.set_activity(bystander, "Available")

    direct = world.ws.tasks.create(attributes="{}", routing_target=target)
    assert direct.ignore_capacity is True
    assert direct.routing_target == target
    # Reserved though the worker is offline and its default channel is full.
    assert world.reserved_worker(str(direct.sid)) == target
    world.accept(str(direct.sid))
    assert world.status(str(direct.sid)) == "assigned"


def test_routing_target_worker_with_ignore_capacity_false_waits(world: World) -> None:
    queue = world.queue("Q")
    world.simple_workflow(queue)
    target = world.worker("target")
    world.worker("bystander", activity="Offline")
    held = world.task({"n": "held"})
    assert world.reserved_worker(held) == target
    direct = world.ws.tasks.create(attributes="{}", routing_target=target, ignore_capacity="false")
    assert direct.ignore_capacity is False
    assert world.status(str(direct.sid)) == "pending"
    bystander = world.ws.workers.list(friendly_name="bystander")[0].sid
    assert bystander is not None
    world.set_activity(bystander, "Available")
    assert world.status(str(direct.sid)) == "pending"  # never another worker's
    world.accept(held)
    world.complete(held)
    assert world.reserved_worker(str(direct.sid)) == target
