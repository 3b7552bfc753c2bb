"""Cumulative statistics come from the retained history: they survive a restart (rebuilt from
the event log), windows slide as the clock moves, and new events keep adding to them."""

from __future__ import annotations

from typing import Any

from stats_api import Api

from routing.helpers import ClockedServer, World, config, iso


def _at(world: World, t0: int, seconds: int) -> None:
    now = world.now_ms()
    world.advance((t0 + seconds * 1000 - now) / 1000)


def _stamp(t0: int, seconds: int) -> str:
    return iso(t0 + seconds * 1000).strftime("%Y-%m-%dT%H:%M:%SZ")


def test_history_survives_restart_and_windows_slide(server: ClockedServer) -> None:
    world = World(server, name="history")
    with world.unchecked():
        worker = world.worker("solo", activity="Offline")
        queue = world.queue("Everyone")
        flow = world.workflow(config(default={"queue": queue}), reservation_timeout=120)
        t0 = world.now_ms()
        world.set_activity(worker, "Available")
        # 0: T1 reserved for the worker, accepted at 10, completed at 40, deleted at 50
        t1 = world.task({}, workflow_sid=flow, task_channel="voice")
        _at(world, t0, 10)
        world.accept(t1)
        _at(world, t0, 20)
        t2 = world.task({}, workflow_sid=flow, task_channel="chat")
        _at(world, t0, 30)
        world.ws.tasks(t2).update(assignment_status="canceled", reason="gone")
        _at(world, t0, 40)
        world.complete(t1)
        _at(world, t0, 50)
        world.ws.tasks(t1).delete()
        _at(world, t0, 60)
        world.set_activity(worker, "Unavailable")
        _at(world, t0, 70)
        t3 = world.task({}, workflow_sid=flow, task_channel="voice")
    api = Api(server, world.sid)
    window = {"StartDate": _stamp(t0, 0), "EndDate": _stamp(t0, 70)}
    before = api.get("CumulativeStatistics", **window, SplitByWaitTime="15")
    assert _counts(before) == {
        "reservations_created": 2,
        "reservations_accepted": 1,
        "reservations_rejected": 0,
        "reservations_timed_out": 0,
        "reservations_canceled": 1,
        "reservations_rescinded": 0,
        "tasks_created": 3,
        "tasks_canceled": 1,
        "tasks_completed": 1,
        "tasks_deleted": 1,
        "tasks_moved": 0,
        "tasks_timed_out_in_workflow": 0,
    }
    queue_before = api.get(f"TaskQueues/{queue}/CumulativeStatistics", **window)
    workers_before = api.get("Workers/CumulativeStatistics", **window)
    api.close()

    server.kill()
    server.start(start_ms=t0 + 100_000)
    world = World(server, workspace_sid=world.sid)
    api = Api(server, world.sid)
    try:
        assert _body(api.get("CumulativeStatistics", **window, SplitByWaitTime="15")) == _body(
            before
        )
        assert _body(api.get(f"TaskQueues/{queue}/CumulativeStatistics", **window)) == _body(
            queue_before
        )
        assert _body(api.get("Workers/CumulativeStatistics", **window)) == _body(workers_before)
        realtime = api.get("RealTimeStatistics")
        assert (realtime["longest_task_waiting_sid"], realtime["longest_task_waiting_age"]) == (
            t3,
            30,
        )
        # The worker was Available from 0 to 60 and has been Unavailable since.
        durations = {
            d["friendly_name"]: d
            for d in api.get(f"Workers/{worker}/Statistics")["cumulative"]["activity_durations"]
        }
        assert durations["Available"]["total"] == 60
        assert durations["Unavailable"]["total"] == 40

        # Fifteen minutes later the default window holds nothing of it, 17 minutes all of it.
        _at(world, t0, 1000)
        assert _counts(api.get("CumulativeStatistics")) == dict.fromkeys(_counts(before), 0)
        assert _counts(api.get("CumulativeStatistics", Minutes=17)) == _counts(before)
        quiet = {
            d["friendly_name"]: d["total"]
            for d in api.get("Workers/CumulativeStatistics")["activity_durations"]
        }
        assert quiet == {"Offline": 0, "Available": 0, "Unavailable": 900}

        # New events add to the rebuilt history: T3 accepted after 935 s of waiting.
        world.set_activity(worker, "Available")
        _at(world, t0, 1005)
        world.accept(t3)
        last = api.get("CumulativeStatistics", Minutes=1)
        assert (last["reservations_created"], last["reservations_accepted"]) == (1, 1)
        assert last["wait_duration_until_accepted"] == {
            "avg": 935,
            "min": 935,
            "max": 935,
            "total": 935,
        }
        in_queue = api.get(f"TaskQueues/{queue}/CumulativeStatistics", Minutes=1)
        assert in_queue["wait_duration_in_queue_until_accepted"]["max"] == 935
        assert api.get("RealTimeStatistics")["tasks_by_status"]["assigned"] == 1
    finally:
        api.close()


def _counts(body: dict[str, Any]) -> dict[str, int]:
    return {k: v for k, v in body.items() if k.startswith(("tasks_", "reservations_"))}


def _body(body: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in body.items() if k != "url"}
