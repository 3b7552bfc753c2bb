"""Every statistics endpoint, every figure, after the known timeline of `timeline.py`.

Requests go over plain HTTP and every answer is checked against the Twilio spec; the expected
figures are worked out by hand from the timeline (seconds after t0; "now" is t0 + 180).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from stats_api import Api
from stats_timeline import Timeline, build

from routing.helpers import ClockedServer, World, iso, make_checking_client
from support.twilio_client import assert_raw_error

NOW = 180


@pytest.fixture(scope="module")
def line(server: ClockedServer) -> Timeline:
    return build(World(server, name="stats"))


@pytest.fixture(scope="module")
def api(server: ClockedServer, line: Timeline) -> Iterator[Api]:
    client = Api(server, line.ws)
    yield client
    client.close()


def reservations(
    created: int = 0,
    accepted: int = 0,
    rejected: int = 0,
    timed_out: int = 0,
    canceled: int = 0,
    rescinded: int = 0,
) -> dict[str, int]:
    return {
        "reservations_created": created,
        "reservations_accepted": accepted,
        "reservations_rejected": rejected,
        "reservations_timed_out": timed_out,
        "reservations_canceled": canceled,
        "reservations_rescinded": rescinded,
    }


def wait(avg: int, least: int, most: int, total: int) -> dict[str, int]:
    return {"avg": avg, "min": least, "max": most, "total": total}


NO_WAIT = wait(0, 0, 0, 0)


def activities(line: Timeline, offline: Any, available: Any, unavailable: Any) -> list[Any]:
    """activity_statistics or activity_durations, in the order activities are listed (the
    three defaults were created in the same millisecond, so by SID)."""
    sids = line.world.activity
    items = [
        {"sid": sids["Offline"], "friendly_name": "Offline", **offline},
        {"sid": sids["Available"], "friendly_name": "Available", **available},
        {"sid": sids["Unavailable"], "friendly_name": "Unavailable", **unavailable},
    ]
    return sorted(items, key=lambda item: str(item["sid"]))


def workers(n: int) -> dict[str, int]:
    return {"workers": n}


def by_status(pending: int = 0, reserved: int = 0, assigned: int = 0, wrapping: int = 0) -> Any:
    return {"pending": pending, "reserved": reserved, "assigned": assigned, "wrapping": wrapping}


# -- real time ---------------------------------------------------------------------------------


def test_workspace_real_time(api: Api, line: Timeline) -> None:
    body = api.get("RealTimeStatistics")
    assert body == {
        "account_sid": api.account_sid,
        "workspace_sid": line.ws,
        "url": api.url("RealTimeStatistics"),
        # T5 assigned, T6 pending since 160, T7 reserved since 170
        "tasks_by_status": by_status(pending=1, reserved=1, assigned=1),
        "tasks_by_priority": {"0": 1, "3": 1, "9": 1},
        "total_tasks": 3,
        "longest_task_waiting_age": 20,
        "longest_task_waiting_sid": line.tasks["T6"],
        "activity_statistics": activities(line, workers(1), workers(2), workers(0)),
        "total_workers": 3,
    }


def test_workspace_real_time_per_channel(api: Api, line: Timeline) -> None:
    chat = api.get("RealTimeStatistics", TaskChannel="chat")
    assert chat["tasks_by_status"] == by_status(pending=1, reserved=1)
    assert chat["tasks_by_priority"] == {"3": 1, "9": 1}
    assert chat["total_tasks"] == 2
    assert (chat["longest_task_waiting_age"], chat["longest_task_waiting_sid"]) == (
        20,
        line.tasks["T6"],
    )
    assert chat["total_workers"] == 3
    voice_sid = line.world.channel["voice"]
    voice = api.get("RealTimeStatistics", TaskChannel=voice_sid)
    assert voice["tasks_by_status"] == by_status(assigned=1)
    assert (voice["total_tasks"], voice["longest_task_waiting_age"]) == (1, 0)
    assert voice["longest_task_waiting_sid"] is None
    # Every worker has video switched off: no worker counts for it.
    video = api.get("RealTimeStatistics", TaskChannel="video")
    assert video["total_tasks"] == 0
    assert video["total_workers"] == 0
    assert video["activity_statistics"] == activities(line, workers(0), workers(0), workers(0))


def test_queue_real_time(api: Api, line: Timeline) -> None:
    qa, qb = line.queues["QA"], line.queues["QB"]
    assert api.get(f"TaskQueues/{qa}/RealTimeStatistics") == {
        "account_sid": api.account_sid,
        "workspace_sid": line.ws,
        "task_queue_sid": qa,
        "url": api.url(f"TaskQueues/{qa}/RealTimeStatistics"),
        "tasks_by_status": by_status(reserved=1, assigned=1),
        "tasks_by_priority": {"0": 1, "9": 1},
        "total_tasks": 2,
        "longest_task_waiting_age": 10,
        "longest_task_waiting_sid": line.tasks["T7"],
        "longest_relative_task_age_in_queue": 10,
        "longest_relative_task_sid_in_queue": line.tasks["T7"],
        "activity_statistics": activities(line, workers(0), workers(2), workers(0)),
        "total_eligible_workers": 2,
        "total_available_workers": 2,
    }
    bravo = api.get(f"TaskQueues/{qb}/RealTimeStatistics")
    assert bravo["tasks_by_status"] == by_status(pending=1)
    assert bravo["tasks_by_priority"] == {"3": 1}
    assert (bravo["longest_task_waiting_age"], bravo["longest_task_waiting_sid"]) == (
        20,
        line.tasks["T6"],
    )
    assert bravo["longest_relative_task_age_in_queue"] == 20
    assert bravo["activity_statistics"] == activities(line, workers(1), workers(0), workers(0))
    assert (bravo["total_eligible_workers"], bravo["total_available_workers"]) == (1, 0)
    voice = api.get(f"TaskQueues/{qa}/RealTimeStatistics", TaskChannel="voice")
    assert voice["tasks_by_status"] == by_status(assigned=1)
    assert voice["longest_relative_task_sid_in_queue"] is None


def test_bulk_real_time(api: Api, line: Timeline) -> None:
    qa, qb = line.queues["QA"], line.queues["QB"]
    elsewhere = "WQ" + "0" * 32
    body = api.post_json("TaskQueues/RealTimeStatistics", {"QueueSids": [qb, qa, elsewhere]})
    assert body["task_queue_response_count"] == 3
    assert body["url"] == api.url("TaskQueues/RealTimeStatistics")
    alpha = api.get(f"TaskQueues/{qa}/RealTimeStatistics")
    bravo = api.get(f"TaskQueues/{qb}/RealTimeStatistics")
    first, second, third = body["task_queue_data"]
    for item, single in ((first, bravo), (second, alpha)):
        for key, value in item.items():
            assert single[key] == value, key
    assert third == {
        "task_queue_sid": elsewhere,
        "tasks_by_status": by_status(),
        "tasks_by_priority": {},
        "total_tasks": 0,
        "longest_task_waiting_age": 0,
        "longest_task_waiting_sid": None,
        "longest_relative_task_age_in_queue": 0,
        "longest_relative_task_sid_in_queue": None,
        "activity_statistics": activities(line, workers(0), workers(0), workers(0)),
        "total_eligible_workers": 0,
        "total_available_workers": 0,
    }
    lower = api.post_json("TaskQueues/RealTimeStatistics", {"queueSids": [qa]})
    assert lower["task_queue_data"] == [second]


def test_workflow_real_time(api: Api, line: Timeline) -> None:
    f1, f2 = line.flows["F1"], line.flows["F2"]
    assert api.get(f"Workflows/{f1}/RealTimeStatistics") == {
        "account_sid": api.account_sid,
        "workspace_sid": line.ws,
        "workflow_sid": f1,
        "url": api.url(f"Workflows/{f1}/RealTimeStatistics"),
        "tasks_by_status": by_status(reserved=1, assigned=1),
        "tasks_by_priority": {"0": 1, "9": 1},
        "total_tasks": 2,
        "longest_task_waiting_age": 10,
        "longest_task_waiting_sid": line.tasks["T7"],
    }
    two = api.get(f"Workflows/{f2}/RealTimeStatistics")
    assert (two["total_tasks"], two["longest_task_waiting_age"]) == (1, 20)
    assert two["tasks_by_status"] == by_status(pending=1)


def test_workers_real_time(api: Api, line: Timeline) -> None:
    assert api.get("Workers/RealTimeStatistics") == {
        "account_sid": api.account_sid,
        "workspace_sid": line.ws,
        "url": api.url("Workers/RealTimeStatistics"),
        "activity_statistics": activities(line, workers(1), workers(2), workers(0)),
        "total_workers": 3,
    }


# -- cumulative --------------------------------------------------------------------------------


def test_workspace_cumulative_default_window(api: Api, line: Timeline) -> None:
    body = api.get("CumulativeStatistics", SplitByWaitTime="30,60,5")
    assert body == {
        "account_sid": api.account_sid,
        "workspace_sid": line.ws,
        "url": api.url("CumulativeStatistics"),
        # The default window is the last 15 minutes: the whole timeline.
        "start_time": line.iso(NOW - 900),
        "end_time": line.iso(NOW),
        **reservations(created=9, accepted=3, rejected=1, timed_out=1, canceled=1, rescinded=1),
        "tasks_created": 8,
        "tasks_canceled": 3,
        "tasks_completed": 2,
        "tasks_deleted": 0,
        "tasks_moved": 2,
        "tasks_timed_out_in_workflow": 1,
        # accepted after 25, 80 and 3 s; canceled after 60, 5 and 160 s
        "avg_task_acceptance_time": 36,
        "wait_duration_until_accepted": wait(36, 3, 80, 108),
        "wait_duration_until_canceled": wait(75, 5, 160, 225),
        "split_by_wait_time": {
            "30": {
                "above": {"tasks_canceled": 2, "reservations_accepted": 1},
                "below": {"tasks_canceled": 1, "reservations_accepted": 2},
            },
            "60": {
                "above": {"tasks_canceled": 1, "reservations_accepted": 1},
                "below": {"tasks_canceled": 2, "reservations_accepted": 2},
            },
            "5": {
                "above": {"tasks_canceled": 2, "reservations_accepted": 2},
                "below": {"tasks_canceled": 1, "reservations_accepted": 1},
            },
        },
    }


def test_workspace_cumulative_windows(api: Api, line: Timeline) -> None:
    middle = api.get("CumulativeStatistics", StartDate=line.iso(20), EndDate=line.iso(90))
    assert {k: v for k, v in middle.items() if k.startswith(("tasks_", "reservations_"))} == {
        **reservations(created=4, accepted=2, rejected=1, timed_out=1),
        "tasks_created": 1,
        "tasks_canceled": 0,
        "tasks_completed": 0,
        "tasks_deleted": 0,
        "tasks_moved": 2,
        "tasks_timed_out_in_workflow": 0,
    }
    assert (middle["start_time"], middle["end_time"]) == (line.iso(20), line.iso(90))
    assert middle["wait_duration_until_accepted"] == wait(53, 25, 80, 105)
    assert middle["avg_task_acceptance_time"] == 53
    assert middle["wait_duration_until_canceled"] == NO_WAIT
    assert middle["split_by_wait_time"] is None
    last = api.get("CumulativeStatistics", Minutes=1)
    assert {k: v for k, v in last.items() if k.startswith(("tasks_", "reservations_"))} == {
        **reservations(created=5, accepted=1, canceled=1, rescinded=1),
        "tasks_created": 4,
        "tasks_canceled": 2,
        "tasks_completed": 1,
        "tasks_deleted": 0,
        "tasks_moved": 0,
        "tasks_timed_out_in_workflow": 1,
    }
    assert last["wait_duration_until_accepted"] == wait(3, 3, 3, 3)
    assert last["wait_duration_until_canceled"] == wait(83, 5, 160, 165)
    assert (last["start_time"], last["end_time"]) == (line.iso(120), line.iso(NOW))
    # Both ends are inclusive: an event exactly at StartDate or EndDate counts.
    edge = api.get("CumulativeStatistics", StartDate=line.iso(25), EndDate=line.iso(25))
    assert edge["reservations_accepted"] == 1
    assert edge["reservations_created"] == 0


def test_workspace_cumulative_per_channel(api: Api, line: Timeline) -> None:
    voice = api.get("CumulativeStatistics", TaskChannel="voice", SplitByWaitTime="10")
    assert {k: v for k, v in voice.items() if k.startswith(("tasks_", "reservations_"))} == {
        **reservations(created=5, accepted=2, timed_out=1, canceled=1, rescinded=1),
        "tasks_created": 4,
        "tasks_canceled": 2,
        "tasks_completed": 1,
        "tasks_deleted": 0,
        "tasks_moved": 0,
        "tasks_timed_out_in_workflow": 0,
    }
    assert voice["wait_duration_until_accepted"] == wait(14, 3, 25, 28)
    # 60 and 5 s: the average 32.5 rounds to 33
    assert voice["wait_duration_until_canceled"] == wait(33, 5, 60, 65)
    assert voice["split_by_wait_time"] == {
        "10": {
            "above": {"tasks_canceled": 1, "reservations_accepted": 1},
            "below": {"tasks_canceled": 1, "reservations_accepted": 1},
        }
    }
    video = api.get("CumulativeStatistics", TaskChannel=line.world.channel["video"])
    assert (video["tasks_created"], video["tasks_moved"], video["tasks_canceled"]) == (1, 1, 1)
    assert video["tasks_timed_out_in_workflow"] == 1
    assert video["wait_duration_until_canceled"] == wait(160, 160, 160, 160)
    assert video["reservations_created"] == 0


def test_queue_cumulative(api: Api, line: Timeline) -> None:
    qa, qb = line.queues["QA"], line.queues["QB"]
    assert api.get(f"TaskQueues/{qa}/CumulativeStatistics", SplitByWaitTime="20") == {
        "account_sid": api.account_sid,
        "workspace_sid": line.ws,
        "task_queue_sid": qa,
        "url": api.url(f"TaskQueues/{qa}/CumulativeStatistics"),
        "start_time": line.iso(NOW - 900),
        "end_time": line.iso(NOW),
        **reservations(created=7, accepted=2, rejected=1, canceled=1, rescinded=1),
        "tasks_entered": 6,
        "tasks_moved": 2,
        "tasks_canceled": 1,
        "tasks_completed": 1,
        "tasks_deleted": 0,
        "avg_task_acceptance_time": 14,
        "wait_duration_until_accepted": wait(14, 3, 25, 28),
        "wait_duration_in_queue_until_accepted": wait(14, 3, 25, 28),
        "wait_duration_until_canceled": wait(5, 5, 5, 5),
        "split_by_wait_time": {
            "20": {
                "above": {"tasks_canceled": 0, "reservations_accepted": 1},
                "below": {"tasks_canceled": 1, "reservations_accepted": 1},
            }
        },
    }
    bravo = api.get(f"TaskQueues/{qb}/CumulativeStatistics")
    assert {k: v for k, v in bravo.items() if k.startswith(("tasks_", "reservations_"))} == {
        **reservations(created=2, accepted=1, timed_out=1),
        "tasks_entered": 4,
        "tasks_moved": 0,
        "tasks_canceled": 2,
        "tasks_completed": 1,
        "tasks_deleted": 0,
    }
    # T2 waited 80 s since its creation, 20 s of them in Bravo.
    assert bravo["wait_duration_until_accepted"] == wait(80, 80, 80, 80)
    assert bravo["wait_duration_in_queue_until_accepted"] == wait(20, 20, 20, 20)
    assert bravo["wait_duration_until_canceled"] == wait(110, 60, 160, 220)


def test_workflow_cumulative(api: Api, line: Timeline) -> None:
    f1, f2 = line.flows["F1"], line.flows["F2"]
    assert api.get(f"Workflows/{f1}/CumulativeStatistics") == {
        "account_sid": api.account_sid,
        "workspace_sid": line.ws,
        "workflow_sid": f1,
        "url": api.url(f"Workflows/{f1}/CumulativeStatistics"),
        "start_time": line.iso(NOW - 900),
        "end_time": line.iso(NOW),
        **reservations(created=8, accepted=3, rejected=1, canceled=1, rescinded=1),
        "tasks_entered": 6,
        "tasks_canceled": 2,
        "tasks_completed": 2,
        "tasks_deleted": 0,
        "tasks_moved": 2,
        "tasks_timed_out_in_workflow": 1,
        "avg_task_acceptance_time": 36,
        "wait_duration_until_accepted": wait(36, 3, 80, 108),
        "wait_duration_until_canceled": wait(83, 5, 160, 165),
        "split_by_wait_time": None,
    }
    # [60, 180]: T6 entered, T3 canceled, R3 (created at 50) timed out.
    two = api.get(f"Workflows/{f2}/CumulativeStatistics", Minutes=2)
    assert {k: v for k, v in two.items() if k.startswith(("tasks_", "reservations_"))} == {
        **reservations(timed_out=1),
        "tasks_entered": 1,
        "tasks_canceled": 1,
        "tasks_completed": 0,
        "tasks_deleted": 0,
        "tasks_moved": 0,
        "tasks_timed_out_in_workflow": 0,
    }
    assert two["wait_duration_until_canceled"] == wait(60, 60, 60, 60)


def test_workers_cumulative(api: Api, line: Timeline) -> None:
    body = api.get("Workers/CumulativeStatistics")
    assert body == {
        "account_sid": api.account_sid,
        "workspace_sid": line.ws,
        "url": api.url("Workers/CumulativeStatistics"),
        "start_time": line.iso(NOW - 900),
        "end_time": line.iso(NOW),
        **reservations(created=9, accepted=3, rejected=1, timed_out=1, canceled=1, rescinded=1),
        # Offline stints: W1 20 s, W2 50 s and 100 s, W3 145 s;
        # Available stints: W1 160 s, W2 30 s, W3 35 s.
        "activity_durations": activities(
            line, wait(79, 20, 145, 315), wait(75, 30, 160, 225), NO_WAIT
        ),
    }
    last = api.get("Workers/CumulativeStatistics", Minutes=1)
    # [120, 180]: W1 Available 60; W2 Offline 60; W3 Offline 25 then Available 35.
    assert last["activity_durations"] == activities(
        line, wait(43, 25, 60, 85), wait(48, 35, 60, 95), NO_WAIT
    )
    assert last["reservations_created"] == 5


def test_workers_statistics_filters(api: Api, line: Timeline) -> None:
    qa = line.queues["QA"]
    body = api.get("Workers/Statistics", TaskQueueSid=qa)
    assert body["url"] == api.url("Workers/Statistics")
    assert body["realtime"] == {
        "activity_statistics": activities(line, workers(0), workers(2), workers(0)),
        "total_workers": 2,
    }
    cumulative = body["cumulative"]
    assert {k: v for k, v in cumulative.items() if k.startswith("reservations_")} == reservations(
        created=7, accepted=2, rejected=1, canceled=1, rescinded=1
    )
    assert cumulative["activity_durations"] == activities(
        line, wait(83, 20, 145, 165), wait(98, 35, 160, 195), NO_WAIT
    )
    by_name = api.get("Workers/Statistics", TaskQueueName="Bravo")
    assert by_name["realtime"]["total_workers"] == 1
    assert by_name["cumulative"]["reservations_timed_out"] == 1
    w2 = api.get("Workers/Statistics", FriendlyName=line.names["W2"])
    assert w2["realtime"]["activity_statistics"] == activities(
        line, workers(1), workers(0), workers(0)
    )
    assert w2["cumulative"]["activity_durations"] == activities(
        line, wait(75, 50, 100, 150), wait(30, 30, 30, 30), NO_WAIT
    )
    # Nobody matches: zeros, not an error.
    nobody = api.get("Workers/Statistics", FriendlyName="nobody")
    assert nobody["realtime"]["total_workers"] == 0
    assert nobody["cumulative"]["reservations_created"] == 0


def test_one_worker(api: Api, line: Timeline) -> None:
    w1 = line.workers["W1"]
    assert api.get(f"Workers/{w1}/Statistics") == {
        "account_sid": api.account_sid,
        "workspace_sid": line.ws,
        "worker_sid": w1,
        "url": api.url(f"Workers/{w1}/Statistics"),
        "cumulative": {
            "start_time": line.iso(NOW - 900),
            "end_time": line.iso(NOW),
            **reservations(created=5, accepted=2, rejected=1, canceled=1),
            "activity_durations": activities(
                line, wait(20, 20, 20, 20), wait(160, 160, 160, 160), NO_WAIT
            ),
        },
    }
    voice = api.get(f"Workers/{w1}/Statistics", TaskChannel="voice")["cumulative"]
    assert {k: v for k, v in voice.items() if k.startswith("reservations_")} == reservations(
        created=3, accepted=2, canceled=1
    )
    w3 = api.get(f"Workers/{line.workers['W3']}/Statistics")["cumulative"]
    assert {k: v for k, v in w3.items() if k.startswith("reservations_")} == reservations(
        created=2, rescinded=1
    )


# -- combined ----------------------------------------------------------------------------------


def test_combined_resources_hold_both_halves(api: Api, line: Timeline) -> None:
    params = {"Minutes": "3", "SplitByWaitTime": "30"}
    whole = api.get("Statistics", **params)
    assert whole["url"] == api.url("Statistics")
    assert whole["realtime"] == _figures(api.get("RealTimeStatistics"))
    assert whole["cumulative"] == _figures(api.get("CumulativeStatistics", **params))
    qa = line.queues["QA"]
    queue = api.get(f"TaskQueues/{qa}/Statistics", **params)
    assert queue["task_queue_sid"] == qa
    assert queue["realtime"] == _figures(api.get(f"TaskQueues/{qa}/RealTimeStatistics"))
    assert queue["cumulative"] == _figures(
        api.get(f"TaskQueues/{qa}/CumulativeStatistics", **params)
    )
    f1 = line.flows["F1"]
    flow = api.get(f"Workflows/{f1}/Statistics", **params)
    assert flow["workflow_sid"] == f1
    assert flow["realtime"] == _figures(api.get(f"Workflows/{f1}/RealTimeStatistics"))
    assert flow["cumulative"] == _figures(api.get(f"Workflows/{f1}/CumulativeStatistics", **params))
    everyone = api.get("Workers/Statistics", Minutes="3")
    assert everyone["realtime"] == _figures(api.get("Workers/RealTimeStatistics"))
    assert everyone["cumulative"] == _figures(api.get("Workers/CumulativeStatistics", Minutes="3"))


def test_queue_statistics_list(api: Api, line: Timeline) -> None:
    body = api.get("TaskQueues/Statistics", SplitByWaitTime="30")
    items = body["task_queues_statistics"]
    # Both queues were created in the same millisecond: the list orders them by SID.
    in_order = sorted((line.queues["QA"], line.queues["QB"]))
    assert [i["task_queue_sid"] for i in items] == in_order
    for item in items:
        sid = item["task_queue_sid"]
        assert item["realtime"] == _figures(api.get(f"TaskQueues/{sid}/RealTimeStatistics"))
        assert item["cumulative"] == _figures(
            api.get(f"TaskQueues/{sid}/CumulativeStatistics", SplitByWaitTime="30")
        )
    only = api.get("TaskQueues/Statistics", FriendlyName="Bravo")["task_queues_statistics"]
    assert [i["task_queue_sid"] for i in only] == [line.queues["QB"]]
    first = api.get("TaskQueues/Statistics", PageSize=1)
    assert [i["task_queue_sid"] for i in first["task_queues_statistics"]] == in_order[:1]
    following = api.get_url(first["meta"]["next_page_url"])
    assert [i["task_queue_sid"] for i in following["task_queues_statistics"]] == in_order[1:]
    assert following["meta"]["next_page_url"] is None


def _figures(body: dict[str, Any]) -> dict[str, Any]:
    envelope = ("account_sid", "workspace_sid", "url", "task_queue_sid", "workflow_sid")
    return {k: v for k, v in body.items() if k not in envelope}


# -- the official client -----------------------------------------------------------------------


class _Body:
    """What twilio-python's bulk create wants: an object with `to_dict()`."""

    def __init__(self, body: dict[str, Any]) -> None:
        self.body = body

    def to_dict(self) -> dict[str, Any]:
        return self.body


def test_official_client_reads_every_statistics_resource(api: Api, line: Timeline) -> None:
    client, _ = make_checking_client(api.server)
    ws = client.taskrouter.v1.workspaces(line.ws)
    qa, f1, w1 = line.queues["QA"], line.flows["F1"], line.workers["W1"]
    start, end = iso(line.t0_ms + 20_000), iso(line.t0_ms + 90_000)

    whole = ws.statistics().fetch(minutes=3, split_by_wait_time="30")
    assert whole.cumulative == _figures(
        api.get("CumulativeStatistics", Minutes=3, SplitByWaitTime="30")
    )
    assert whole.realtime == _figures(api.get("RealTimeStatistics"))
    realtime = ws.real_time_statistics().fetch(task_channel="chat")
    assert realtime.total_tasks == 2
    assert realtime.longest_task_waiting_sid == line.tasks["T6"]
    cumulative = ws.cumulative_statistics().fetch(start_date=start, end_date=end)
    assert (cumulative.reservations_created, cumulative.tasks_moved) == (4, 2)
    assert cumulative.wait_duration_until_accepted == wait(53, 25, 80, 105)

    queue = ws.task_queues(qa)
    assert queue.statistics().fetch().realtime["total_eligible_workers"] == 2
    assert queue.real_time_statistics().fetch(task_channel="voice").total_tasks == 1
    q_cumulative = queue.cumulative_statistics().fetch(split_by_wait_time="20")
    assert q_cumulative.tasks_entered == 6
    assert q_cumulative.split_by_wait_time["20"]["below"]["reservations_accepted"] == 1
    listed = ws.task_queues.statistics.list(friendly_name="Alpha")
    assert [item.task_queue_sid for item in listed] == [qa]
    assert listed[0].cumulative["tasks_entered"] == 6
    paged = ws.task_queues.statistics.list(page_size=1)
    assert sorted(item.task_queue_sid for item in paged) == sorted(line.queues.values())
    bulk = ws.task_queues.bulk_real_time_statistics.create(
        body=_Body({"QueueSids": [qa, line.queues["QB"]]})
    )
    assert bulk.task_queue_response_count == 2
    assert [d["task_queue_sid"] for d in bulk.task_queue_data] == [qa, line.queues["QB"]]

    flow = ws.workflows(f1)
    assert flow.statistics().fetch(minutes=1).cumulative["tasks_entered"] == 3
    assert flow.real_time_statistics().fetch().total_tasks == 2
    assert flow.cumulative_statistics().fetch().tasks_timed_out_in_workflow == 1

    everyone = ws.workers.statistics().fetch(task_queue_name="Alpha")
    assert everyone.realtime["total_workers"] == 2
    assert ws.workers.real_time_statistics().fetch().total_workers == 3
    durations = ws.workers.cumulative_statistics().fetch(minutes=1).activity_durations
    assert durations == activities(line, wait(43, 25, 60, 85), wait(48, 35, 60, 95), NO_WAIT)
    one = ws.workers(w1).statistics().fetch(task_channel="voice")
    assert one.cumulative["reservations_created"] == 3
    recorder = client.http_client.recorder
    assert len(recorder.exchanges) == 17  # one per call above, each checked against the spec
    recorder.assert_clean()


# -- bad input ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tail", "params", "mentions"),
    [
        ("CumulativeStatistics", {"Minutes": "5", "StartDate": "2026-01-01T00:00:00Z"}, "Minutes"),
        ("Statistics", {"Minutes": "0"}, "Minutes"),
        ("Workers/CumulativeStatistics", {"Minutes": "soon"}, "Minutes"),
        ("CumulativeStatistics", {"StartDate": "yesterday"}, "StartDate"),
        ("Workers/Statistics", {"TaskQueueSid": "WQ123"}, "TaskQueueSid"),
        ("RealTimeStatistics", {"TaskChannel": "fax"}, "TaskChannel"),
        ("CumulativeStatistics", {"SplitByWaitTime": "30,soon"}, "SplitByWaitTime"),
        ("CumulativeStatistics", {"SplitByWaitTime": "-5"}, "SplitByWaitTime"),
        ("TaskQueues/Statistics", {"TaskChannel": "fax"}, "TaskChannel"),
        ("TaskQueues/Statistics", {"PageSize": "0"}, "PageSize"),
    ],
)
def test_bad_parameters_are_400(
    api: Api, line: Timeline, tail: str, params: dict[str, str], mentions: str
) -> None:
    assert_raw_error(api.get_raw(tail, **params), 400, code=20001, mentions=mentions)


def test_windows_must_be_ordered_and_within_retention(api: Api, line: Timeline) -> None:
    backwards = api.get_raw("CumulativeStatistics", StartDate=line.iso(90), EndDate=line.iso(20))
    assert_raw_error(backwards, 400, mentions="EndDate")
    day = 86_400
    old = api.get_raw("CumulativeStatistics", StartDate=line.iso(NOW - 31 * day))
    assert_raw_error(old, 400, mentions="30 days")
    too_many = api.get_raw("Workers/CumulativeStatistics", Minutes=str(31 * 24 * 60))
    assert_raw_error(too_many, 400, mentions="30 days")
    # 29 days back is inside the retained history.
    assert api.get("CumulativeStatistics", StartDate=line.iso(NOW - 29 * day))["tasks_created"] == 8


def test_unknown_or_malformed_scopes_are_404(api: Api, line: Timeline) -> None:
    other = "0" * 32
    for tail in (
        f"TaskQueues/WQ{other}/RealTimeStatistics",
        f"TaskQueues/WQ{other}/CumulativeStatistics",
        f"TaskQueues/WQ{other}/Statistics",
        f"Workflows/WW{other}/Statistics",
        f"Workflows/WW{other}/RealTimeStatistics",
        f"Workers/WK{other}/Statistics",
        "TaskQueues/WQnope/Statistics",
        f"Workers/{line.queues['QA']}/Statistics",
    ):
        assert_raw_error(api.get_raw(tail), 404, code=20404)
    assert_raw_error(api.raw.get(f"/v1/Workspaces/WS{other}/Statistics"), 404)


@pytest.mark.parametrize(
    ("body", "mentions"),
    [
        ("{}", "QueueSids"),
        ('{"QueueSids": []}', "1 to 50"),
        ('{"QueueSids": "WQ' + "0" * 32 + '"}', "QueueSids"),
        ('{"QueueSids": ["WQ' + "0" * 32 + '", "WQshort"]}', "WQshort"),
        ('{"QueueSids": [7]}', "QueueSids"),
        ("QueueSids=WQ" + "0" * 32, "JSON"),
        ("[1, 2", "JSON"),
    ],
)
def test_bad_bulk_bodies_are_400(api: Api, line: Timeline, body: str, mentions: str) -> None:
    response = api.post_raw("TaskQueues/RealTimeStatistics", body, "application/json")
    assert_raw_error(response, 400, code=20001, mentions=mentions)


def test_bulk_takes_at_most_fifty_queues(api: Api, line: Timeline) -> None:
    fifty = [line.queues["QA"]] * 50
    assert (
        api.post_json("TaskQueues/RealTimeStatistics", {"QueueSids": fifty})[
            "task_queue_response_count"
        ]
        == 50
    )
    response = api.post_raw(
        "TaskQueues/RealTimeStatistics",
        json.dumps({"QueueSids": [*fifty, line.queues["QB"]]}),
        "application/json",
    )
    assert_raw_error(response, 400, mentions="1 to 50")
