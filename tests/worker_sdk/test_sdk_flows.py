"""Worker SDK flows beyond the main one (SQLite): rejecting with an activity, a reservation
timing out on the server's clock, two workers competing for multi-reservation tasks."""

from __future__ import annotations

from routing.helpers import World
from worker_sdk.conftest import SdkServer
from worker_sdk.sdk import SdkDriver, SdkWorker, worker_token


def _connect(sdk: SdkDriver, server: SdkServer, world: World, worker_sid: str) -> SdkWorker:
    token = worker_token(server.key, world.sid, worker_sid, server.server.now_ms() // 1000)
    worker = sdk.worker(worker_sid, token, server.server.base_url)
    worker.wait("ready")
    worker.set_activity("Available")
    worker.wait("activityUpdated", lambda e: bool(e["activity"] == "Available"))
    return worker


def test_rejecting_with_an_activity_moves_the_worker_and_frees_the_task(
    sqlite_server: SdkServer, sdk: SdkDriver
) -> None:
    world = World(sqlite_server.server, name="sdk reject")
    world.simple_workflow(world.queue("All"))
    bob = world.worker("bob", activity="Offline")
    worker = _connect(sdk, sqlite_server, world, bob)

    task_sid = world.task({"n": 1})
    reservation = worker.wait("reservationCreated")["reservation"]
    rejected = worker.reject(reservation["sid"], world.activity["Unavailable"])
    assert rejected["status"] == "rejected"
    assert worker.wait_reservation("reservation.rejected", reservation["sid"])
    assert worker.wait("activityUpdated")["activity"] == "Unavailable"
    assert world.activity_of(bob) == "Unavailable"
    assert world.status(task_sid) == "pending"
    assert [r.reservation_status for r in world.reservations(task_sid)] == ["rejected"]
    assert worker.call("state")["reservations"] == []
    worker.disconnect()


def test_a_reservation_left_unanswered_times_out_on_the_servers_clock(
    sqlite_server: SdkServer, sdk: SdkDriver
) -> None:
    world = World(sqlite_server.server, name="sdk timeout")
    world.simple_workflow(world.queue("All"), reservation_timeout=30)
    carol = world.worker("carol", activity="Offline")
    worker = _connect(sdk, sqlite_server, world, carol)

    task_sid = world.task()
    reservation = worker.wait("reservationCreated")["reservation"]
    assert reservation["timeout"] == 30
    world.advance(29)
    assert world.reservations(task_sid)[0].reservation_status == "pending"
    world.advance(2)
    timed_out = worker.wait_reservation("reservation.timeout", reservation["sid"])
    assert timed_out["reservation"]["status"] == "timeout"
    # The workspace's timeout activity (Offline) is where a worker who let one lapse goes.
    assert worker.wait("activityUpdated")["activity"] == "Offline"
    assert world.activity_of(carol) == "Offline"
    assert world.status(task_sid) == "pending"
    worker.disconnect()


def test_two_workers_compete_for_multi_reservation_tasks(
    sqlite_server: SdkServer, sdk: SdkDriver
) -> None:
    world = World(sqlite_server.server, name="sdk compete")
    queue = world.queue("Pair", max_reserved_workers=2)
    world.simple_workflow(queue)
    sids = [world.worker(name, activity="Offline") for name in ("dan", "eve")]
    dan, eve = (_connect(sdk, sqlite_server, world, sid) for sid in sids)

    first = world.task({"n": 1})
    offered = {w.id: w.wait("reservationCreated")["reservation"] for w in (dan, eve)}
    assert {r["task"]["sid"] for r in offered.values()} == {first}
    second = world.task({"n": 2})  # waits: both workers are reserved for the first

    # Both accept the first task at once: exactly one wins, the other is rescinded.
    requests = {
        w.id: sdk.send("accept", id=w.id, reservation=offered[w.id]["sid"]) for w in (dan, eve)
    }
    answers = {wid: sdk.reply(req) for wid, req in requests.items()}
    winners = [wid for wid, answer in answers.items() if answer["ok"]]
    assert len(winners) == 1, answers
    winner = dan if winners[0] == dan.id else eve
    loser = eve if winner is dan else dan
    assert "status code 410" in answers[loser.id]["error"]
    assert winner.wait_reservation("reservation.accepted", offered[winner.id]["sid"])
    assert loser.wait_reservation("reservation.rescinded", offered[loser.id]["sid"])

    # The loser is free again, so the waiting task is offered to it alone.
    again = loser.wait("reservationCreated")["reservation"]
    assert again["task"]["sid"] == second
    loser.accept(again["sid"])
    for worker, reservation in ((winner, offered[winner.id]), (loser, again)):
        worker.complete_task(reservation["sid"], "done")
        worker.wait_reservation("reservation.completed", reservation["sid"])
    assert {world.status(first), world.status(second)} == {"completed"}
    assert not winner.call("state")["reservations"]
    for worker in (dan, eve):
        worker.disconnect()


def test_a_move_to_an_activity_made_after_connecting_resyncs_the_sdk(
    sqlite_server: SdkServer, sdk: SdkDriver
) -> None:
    """2.1.1 throws on an activity it did not read at connect; the server makes it reconnect
    and read them again instead."""
    world = World(sqlite_server.server, name="sdk new activity")
    olga = world.worker("olga", activity="Offline")
    worker = _connect(sdk, sqlite_server, world, olga)
    world.add_activity("Lunch", available=True)
    world.set_activity(olga, "Lunch")
    again = worker.wait("ready")
    assert again["activity"] == "Lunch"
    assert "Lunch" in again["activities"]
    # A socket the server closed to resync is not a worker gone: it stays where it was put.
    assert world.activity_of(olga) == "Lunch"
    worker.disconnect()


def test_wrapping_up_before_completing(sqlite_server: SdkServer, sdk: SdkDriver) -> None:
    world = World(sqlite_server.server, name="sdk wrapup")
    world.simple_workflow(world.queue("All"))
    pia = world.worker("pia", activity="Offline")
    worker = _connect(sdk, sqlite_server, world, pia)
    task_sid = world.task({"topic": "billing"})
    reservation = worker.wait("reservationCreated")["reservation"]
    worker.accept(reservation["sid"])
    wrapped = worker.call("wrapTask", reservation=reservation["sid"], reason="call ended")
    assert wrapped["status"] == "wrapping"
    assert worker.wait_reservation("reservation.wrapup", reservation["sid"])
    assert worker.wait("task.wrapup")["task"]["status"] == "wrapping"
    assert world.status(task_sid) == "wrapping"
    worker.complete_task(reservation["sid"], "notes written")
    worker.wait_reservation("reservation.completed", reservation["sid"])
    assert world.fetch(task_sid).reason == "notes written"
    worker.disconnect()
