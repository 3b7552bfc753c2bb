"""The search endpoints: every filter, SortBy, and the paging rules."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

import pytest

from api_cpaas import builders as b
from api_cpaas.cpaas_client import CpaasClient
from routing.helpers import ClockedServer

DAY_MS = 86_400_000


def sids(data: dict[str, object]) -> list[str]:
    result = data["result"]
    assert isinstance(result, list)
    return [r["sid"] for r in result]


def test_paging_defaults_links_and_offsets(api: CpaasClient) -> None:
    ws = b.workspace(api)["sid"]
    for i in range(11):
        b.activity(api, ws, f"Activity {i:02d}", False)
    first = api.search("activities", f"workspaceSid={ws}")
    assert (first["page"], first["pageSize"], first["total"], first["numPages"]) == (0, 10, 13, 2)
    assert (first["start"], first["end"], len(first["result"])) == (0, 9, 10)
    assert (
        first["firstPageUri"]
        == f"/taskrouter/activities/search/?workspaceSid={ws}&pageSize=10&page=0"
    )
    assert first["uri"] == first["firstPageUri"]
    assert (
        first["nextPageUri"]
        == f"/taskrouter/activities/search/?workspaceSid={ws}&pageSize=10&page=1"
    )
    second = api.ok("GET", first["nextPageUri"])
    assert (second["page"], second["start"], second["end"], len(second["result"])) == (1, 10, 12, 3)
    assert "nextPageUri" not in second
    assert len(set(sids(first)) | set(sids(second))) == 13
    beyond = api.search("activities", f"workspaceSid={ws}&page=7")
    assert (beyond["result"], beyond["total"], beyond["start"], beyond["end"]) == ([], 13, 70, 70)
    small = api.search("activities", f"workspaceSid={ws}&pageSize=5&page=2")
    assert (len(small["result"]), small["numPages"], small["start"], small["end"]) == (3, 3, 10, 12)
    # Walking nextPageUri visits every record once, in one order.
    walked, page = [], api.search("activities", f"workspaceSid={ws}&pageSize=4&SortBy=name")
    while True:
        walked += [r["name"] for r in page["result"]]
        if "nextPageUri" not in page:
            break
        page = api.ok("GET", page["nextPageUri"])
    assert walked == sorted(walked) and len(walked) == 13


@pytest.mark.parametrize(
    "query",
    [
        "page=-1",
        "page=first",
        "page=1000000001",
        "page=1844674407370955162",
        "pageSize=0",
        "pageSize=1001",
        "pageSize=ten",
    ],
)
def test_bad_paging_is_400(api: CpaasClient, query: str) -> None:
    error = api.fails("GET", f"/taskrouter/workspaces/search?{query}", status=400)
    assert error["errorCode"] == "400" and error["data"] is not None


def test_an_empty_search(api: CpaasClient) -> None:
    data = api.search("workers")
    assert data == {
        "result": [],
        "pageSize": 10,
        "total": 0,
        "page": 0,
        "numPages": 0,
        "start": 0,
        "end": 0,
        "firstPageUri": "/taskrouter/workers/search/?pageSize=10&page=0",
        "uri": "/taskrouter/workers/search/?pageSize=10&page=0",
    }


def test_sorting(api: CpaasClient, cpaas_server: ClockedServer) -> None:
    ws = b.workspace(api)["sid"]
    made = []
    for name, reserved in (("Charlie", 3), ("alpha", 1), ("Bravo", 2)):
        made.append(b.queue(api, ws, name, maxReservedWorkers=reserved))
        cpaas_server.advance_ms(1_000)
    # Default: the most recently changed first.
    assert sids(api.search("taskqueues")) == [q["sid"] for q in reversed(made)]
    api.ok("PUT", f"/taskrouter/taskqueues/{made[0]['sid']}", {"targetWorkers": "1==1"})
    assert sids(api.search("taskqueues"))[0] == made[0]["sid"]

    def names(sort: str) -> list[str]:
        return [q["name"] for q in api.search("taskqueues", f"SortBy={sort}")["result"]]

    assert names("name") == names("name:asc") == names("name:ASC") == ["Bravo", "Charlie", "alpha"]
    assert names("name:desc") == ["alpha", "Charlie", "Bravo"]
    assert names("dateCreated") == ["Charlie", "alpha", "Bravo"]
    assert names("maxReservedWorkers:desc") == ["Charlie", "Bravo", "alpha"]
    # Equal values keep SID order, so pages never overlap.
    by_order = api.search("taskqueues", "SortBy=taskOrder")["result"]
    assert [q["sid"] for q in by_order] == sorted(q["sid"] for q in made)
    for bad in ("nosuchfield", "name:sideways", "result"):
        error = api.fails("GET", f"/taskrouter/taskqueues/search?SortBy={bad}", status=400)
        assert error["data"] == "SortBy"


def test_sorting_booleans_and_nulls(api: CpaasClient) -> None:
    ws = b.workspace(api)["sid"]
    ringing = b.activity(api, ws, "Ringing", False)
    plain = b.queue(api, ws, "Plain")
    ringing_queue = b.queue(api, ws, "Ringing queue", reservationActivitySid=ringing["sid"])
    # Records without a value come last either way.
    for direction in ("asc", "desc"):
        found = sids(api.search("taskqueues", f"SortBy=reservationActivitySid:{direction}"))
        assert found == [ringing_queue["sid"], plain["sid"]]
    availability = api.search("activities", f"workspaceSid={ws}&SortBy=available:desc")["result"]
    assert [a["available"] for a in availability] == [True, False, False]


def test_partial_name_match_ignores_case(api: CpaasClient) -> None:
    ws = b.workspace(api, "Support EMEA")["sid"]
    b.workspace(api, "Sales")
    assert [w["name"] for w in api.search("workspaces", "name=port")["result"]] == ["Support EMEA"]
    assert api.search("workspaces", "name=support%20emea")["total"] == 1
    assert api.search("workspaces", "name=Support%20EMEA%20North")["total"] == 0
    b.queue(api, ws, "Tier 1 support")
    b.queue(api, ws, "Billing")
    assert [q["name"] for q in api.search("taskqueues", "name=TIER")["result"]] == [
        "Tier 1 support"
    ]
    b.worker(api, ws, "Marie Curie")
    assert api.search("workers", "name=curie")["total"] == 1
    assert api.search("activities", f"workspaceSid={ws}&name=line")["total"] == 2
    queue = b.queue(api, ws, "Q")
    b.workflow(api, ws, queue["sid"], "Night shift")
    assert api.search("workflows", "name=NIGHT")["total"] == 1


def test_creation_time_windows(api: CpaasClient, cpaas_server: ClockedServer) -> None:
    now = cpaas_server.now_ms()
    # Start from the next midnight UTC, so dates alone are meaningful.
    midnight = (now // DAY_MS + 1) * DAY_MS
    cpaas_server.advance_ms(midnight - now)
    at_midnight = b.workspace(api, "At midnight")
    cpaas_server.advance_ms(9 * 3_600_000)
    at_nine = b.workspace(api, "At nine")
    cpaas_server.advance_ms(DAY_MS)
    next_day = b.workspace(api, "Next day nine")
    day = datetime.fromtimestamp(midnight / 1000, UTC)
    date = day.strftime("%Y-%m-%d")
    tomorrow = (day + timedelta(days=1)).strftime("%Y-%m-%d")
    nine = (day + timedelta(hours=9)).strftime("%Y-%m-%dT%H:%M:%S")

    def names(query: str) -> set[str]:
        return {w["name"] for w in api.search("workspaces", query)["result"]}

    every = {"At midnight", "At nine", "Next day nine"}
    assert names(f"startTime={date}") == every
    assert names(f"startTime={nine}") == {"At nine", "Next day nine"}  # inclusive
    assert names(f"endTime={nine}") == {"At midnight", "At nine"}  # inclusive
    # A date alone is midnight: endTime=<date> keeps only what was made at 00:00:00.
    assert names(f"endTime={date}") == {"At midnight"}
    assert names(f"startTime={date}&endTime={tomorrow}") == {"At midnight", "At nine"}
    # Without an offset the time is UTC; with one it is honoured.
    shifted = (day + timedelta(hours=10)).strftime("%Y-%m-%dT%H:%M:%S") + "+01:00"
    assert names(f"endTime={quote(shifted)}") == {"At midnight", "At nine"}
    assert at_midnight["dateCreated"] == day.strftime("%Y-%m-%dT%H:%M:%S+0000")
    assert at_nine["dateCreated"] != next_day["dateCreated"]
    for bad in ("yesterday", "2020-13-01", "2020-01-01T25:00:00"):
        error = api.fails("GET", f"/taskrouter/workspaces/search?startTime={bad}", status=400)
        assert error["data"] == "startTime"
    error = api.fails("GET", "/taskrouter/tasks/search?endTime=soon", status=400)
    assert error["data"] == "endTime"


def test_worker_filters(api: CpaasClient) -> None:
    ws = b.workspace(api)["sid"]
    other_ws = b.workspace(api)["sid"]
    online = b.online(api, ws)
    lunch = b.activity(api, ws, "Lunch break", False)
    spanish = b.queue(api, ws, "Spanish", targetWorkers="language[any]='es'")
    b.queue(api, ws, "Senior", targetWorkers="level > 2")
    ana = b.worker(api, ws, "Ana", {"language": ["es", "en"], "level": 3}, activitySid=online)
    bob = b.worker(api, ws, "Bob", {"language": ["en"], "level": 1}, activitySid=lunch["sid"])
    cid = b.worker(api, ws, "Cid", {"language": ["es"], "level": 1})
    elsewhere = b.worker(api, other_ws, "Dee", {"language": ["es"]})

    def found(query: str) -> set[str]:
        return set(sids(api.search("workers", query)))

    assert found("") == {ana["sid"], bob["sid"], cid["sid"], elsewhere["sid"]}
    assert found(f"workspaceSid={ws}") == {ana["sid"], bob["sid"], cid["sid"]}
    assert found(f"activitySid={lunch['sid']}") == {bob["sid"]}
    assert found("activityName=BREAK") == {bob["sid"]}
    assert found("activityName=OFFL") == {cid["sid"], elsewhere["sid"]}
    assert found("activityName=line") == {ana["sid"], cid["sid"], elsewhere["sid"]}
    assert found("available=true") == {ana["sid"]}
    assert found("available=false") == {bob["sid"], cid["sid"], elsewhere["sid"]}
    assert found(f"taskQueueSid={spanish['sid']}") == {ana["sid"], cid["sid"]}
    assert found("taskQueueName=Senior") == {ana["sid"]}
    assert found("taskQueueName=Nobody") == set()
    expression = quote("level > 2 OR language HAS 'en'")
    assert found(f"workspaceSid={ws}&targetWorkerExpression={expression}") == {
        ana["sid"],
        bob["sid"],
    }
    assert found(
        f"targetWorkerExpression={quote(chr(34) + 'es' + chr(34) + ' IN language')}&available=false"
    ) == {cid["sid"], elsewhere["sid"]}
    assert (
        api.fails("GET", "/taskrouter/workers/search?available=maybe", status=400)["data"]
        == "available"
    )
    error = api.fails(
        "GET", f"/taskrouter/workers/search?targetWorkerExpression={quote('((')}", status=400
    )
    assert error["errorCode"] == "400"
    error = api.fails("GET", "/taskrouter/workers/search?workspaceSid=WS" + "1" * 32)
    assert error["errorCode"] == "520"


def test_activity_filters(api: CpaasClient) -> None:
    ws = b.workspace(api)["sid"]
    b.workspace(api)
    b.activity(api, ws, "Training", False)
    assert api.search("activities")["total"] == 5
    assert {
        a["name"] for a in api.search("activities", f"workspaceSid={ws}&available=false")["result"]
    } == {"Offline", "Training"}
    assert api.search("activities", "available=true")["total"] == 2


def test_task_filters(api: CpaasClient) -> None:
    ws = b.workspace(api)["sid"]
    queue = b.queue(api, ws, "Q")
    wf = b.workflow(api, ws, queue["sid"])["sid"]
    other_ws = b.workspace(api)["sid"]
    other_queue = b.queue(api, other_ws, "Q")
    other_wf = b.workflow(api, other_ws, other_queue["sid"])["sid"]
    parked = b.queue(api, ws, "Parked", targetWorkers="team == 'nobody'")
    parked_wf = b.workflow(api, ws, parked["sid"], "Parked")["sid"]
    pending = b.task(api, parked_wf)
    canceled = b.task(api, parked_wf)
    api.ok(
        "PUT",
        f"/taskrouter/tasks/{canceled['sid']}",
        {"assignmentStatus": "Canceled", "reason": "x"},
    )
    b.worker(api, ws, "Agent", activitySid=b.online(api, ws))
    # One worker, one task at a time (a CPaaS workspace is single-tasking by default).
    completed = b.task(api, wf, bypassReservedState=True)
    api.ok("PUT", f"/taskrouter/tasks/{completed['sid']}", {"assignmentStatus": "Completed"})
    assigned = b.task(api, wf, bypassReservedState=True)
    elsewhere = b.task(api, other_wf)

    def found(query: str) -> set[str]:
        return set(sids(api.search("tasks", query)))

    finished = {canceled["sid"], completed["sid"]}
    live = {pending["sid"], assigned["sid"], elsewhere["sid"]}
    assert found("") == found("isLiveSession=false") == finished
    assert found("isLiveSession=true") == live
    assert found(f"isLiveSession=true&workspaceSid={ws}") == {pending["sid"], assigned["sid"]}
    assert found("assignmentStatus=Pending") == {pending["sid"], elsewhere["sid"]}
    assert found("assignmentStatus=ASSIGNED") == {assigned["sid"]}
    assert (
        found("assignmentStatus=Cancelled")
        == found("assignmentStatus=canceled")
        == {canceled["sid"]}
    )
    assert found("assignmentStatus=Completed&isLiveSession=false") == {completed["sid"]}
    # Given together, both must hold.
    assert found("assignmentStatus=Completed&isLiveSession=true") == set()
    assert found("assignmentStatus=pending&isLiveSession=true") == {
        pending["sid"],
        elsewhere["sid"],
    }
    records = api.search("tasks", "assignmentStatus=assigned")["result"]
    assert records[0]["workerSid"].startswith("WK")
    for bad in ("assignmentStatus=Lost", "isLiveSession=yes"):
        assert api.fails("GET", f"/taskrouter/tasks/search?{bad}", status=400)["errorCode"] == "400"
    assert (
        api.fails("GET", "/taskrouter/tasks/search?workspaceSid=WS" + "2" * 32)["errorCode"]
        == "520"
    )


def test_queue_and_workflow_searches_by_workspace(api: CpaasClient) -> None:
    one = b.workspace(api)["sid"]
    two = b.workspace(api)["sid"]
    q1, q2 = b.queue(api, one, "Q"), b.queue(api, two, "Q")
    b.workflow(api, one, q1["sid"])
    w2 = b.workflow(api, two, q2["sid"])
    assert sids(api.search("taskqueues", f"workspaceSid={two}")) == [q2["sid"]]
    assert sids(api.search("workflows", f"workspaceSid={two}")) == [w2["sid"]]
    assert api.search("taskqueues")["total"] == api.search("workflows")["total"] == 2
    config = json.loads(w2["configuration"])
    assert config["task_routing"]["default_filter"]["queue"] == q2["sid"]
