"""What each resource does through the CPaaS face, beyond the document's examples."""

from __future__ import annotations

import json
from pathlib import Path

from api_cpaas import builders as b
from api_cpaas.conftest import new_account
from api_cpaas.cpaas_client import CpaasClient
from routing.helpers import ClockedServer
from support.server import TaskrouterServer
from support.server import new_account as new_plain_account

DATE = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+0000$"


def test_a_new_workspace_has_the_documents_activities(api: CpaasClient) -> None:
    ws = b.workspace(api, "Fresh", priortizeQueueOrder="LIFO")
    activities = api.search("activities", f"workspaceSid={ws['sid']}&SortBy=name")["result"]
    assert [(a["name"], a["available"]) for a in activities] == [
        ("Offline", False),
        ("Online", True),
    ]
    offline = activities[0]["sid"]
    assert (ws["defaultActivitySid"], ws["defaultActivityName"]) == (offline, "Offline")
    assert (ws["timeoutActivitySid"], ws["timeoutActivityName"]) == (offline, "Offline")
    # LIFO is kept (the document says it would be ignored; taskrouter honours it).
    assert ws["priortizeQueueOrder"] == ws["prioritizeQueueOrder"] == "LIFO"
    assert ws["enterpriseSid"] == b.ENTERPRISE
    assert ws["accountEmail"] == "cspadmin1@nmorgtest1.com"
    assert ws["sid"].startswith("WS") and ws["uri"] == f"/taskrouter/workspaces/search/{ws['sid']}"
    assert ws["url"].endswith(ws["uri"]) and ws["url"].startswith("http://")


def test_workspace_names_are_unique_per_enterprise(api: CpaasClient) -> None:
    b.workspace(api, "Shared name")
    error = api.fails(
        "POST", "/taskrouter/workspaces", {"enterpriseSid": b.ENTERPRISE, "name": "Shared name"}
    )
    assert (error["errorCode"], error["data"]) == ("526", "Shared name")
    other = b.workspace(api, "Shared name", enterpriseSid=b.OTHER_ENTERPRISE)
    assert other["enterpriseSid"] == b.OTHER_ENTERPRISE
    assert api.search("workspaces", "name=Shared name")["total"] == 2


def test_default_and_timeout_activities_by_name_or_sid_and_the_sid_wins(
    api: CpaasClient,
) -> None:
    ws = b.workspace(api)
    online = b.online(api, ws["sid"])
    busy = b.activity(api, ws["sid"], "Busy", False)
    path = f"/taskrouter/workspaces/{ws['sid']}"
    by_name = api.ok("PUT", path, {"defaultActivityName": "Online", "timeoutActivityName": "Busy"})
    assert (by_name["defaultActivitySid"], by_name["timeoutActivitySid"]) == (online, busy["sid"])
    both = api.ok("PUT", path, {"defaultActivityName": "Online", "defaultActivitySid": busy["sid"]})
    assert (both["defaultActivitySid"], both["defaultActivityName"]) == (busy["sid"], "Busy")
    error = api.fails("PUT", path, {"timeoutActivityName": "No such activity"})
    assert (error["errorCode"], error["data"]) == ("510", "No such activity")
    # A new worker starts in the default activity.
    worker = b.worker(api, ws["sid"], "Starts busy")
    assert (worker["activitySid"], worker["activityName"]) == (busy["sid"], "Busy")


def test_queue_fields_round_trip(api: CpaasClient) -> None:
    ws = b.workspace(api)
    ringing = b.activity(api, ws["sid"], "Ringing", False)
    queue = b.queue(
        api,
        ws["sid"],
        "Spanish",
        targetWorkers="language[any]='es'",
        taskOrder="LIFO",
        maxReservedWorkers=3,
        reservationActivitySid=ringing["sid"],
        enterpriseSid=b.OTHER_ENTERPRISE,
    )
    assert queue["targetWorkers"] == "language[any]='es'"
    assert (queue["taskOrder"], queue["maxReservedWorkers"]) == ("LIFO", 3)
    assert (queue["reservationActivitySid"], queue["assignmentActivitySid"]) == (
        ringing["sid"],
        None,
    )
    # The queue belongs to its workspace's enterprise, whatever the body said.
    assert queue["enterpriseSid"] == b.ENTERPRISE
    assert b.queue(api, ws["sid"], "Anyone")["targetWorkers"] == "1==1"


def test_worker_activity_and_availability(api: CpaasClient) -> None:
    ws = b.workspace(api)
    worker = b.worker(api, ws["sid"], "Jane")
    assert (worker["activityName"], worker["available"]) == ("Offline", False)
    moved = api.ok(
        "PUT", f"/taskrouter/workers/{worker['sid']}", {"activitySid": b.online(api, ws["sid"])}
    )
    assert (moved["activityName"], moved["available"]) == ("Online", True)
    assert moved["dateCreated"] == worker["dateCreated"]
    attributes = json.dumps({"contact_uri": "sip:jane@example.com", "language": ["en"]})
    renamed = api.ok(
        "PUT", f"/taskrouter/workers/{worker['sid']}", {"name": "Jane D", "attributes": attributes}
    )
    assert (renamed["name"], renamed["attributes"]) == ("Jane D", attributes)
    # Attributes may also be sent as a JSON object.
    as_object = api.ok(
        "PUT",
        f"/taskrouter/workers/{worker['sid']}",
        {"attributes": {"contact_uri": "sip:j@example.com"}},
    )
    assert json.loads(as_object["attributes"]) == {"contact_uri": "sip:j@example.com"}


def test_activity_availability_is_fixed_once_created(api: CpaasClient) -> None:
    ws = b.workspace(api)
    act = b.activity(api, ws["sid"], "Lunch", False)
    same = api.ok(
        "PUT", f"/taskrouter/activities/{act['sid']}", {"name": "Break", "available": False}
    )
    assert (same["name"], same["available"]) == ("Break", False)
    error = api.fails(
        "PUT", f"/taskrouter/activities/{act['sid']}", {"available": True}, status=400
    )
    assert error["errorCode"] == "400" and "available" in error["message"]
    assert api.ok("GET", f"/taskrouter/activities/search/{act['sid']}")["available"] is False


def test_task_routing_and_bypass_reserved_state(
    api: CpaasClient, cpaas_server: ClockedServer
) -> None:
    ws = b.workspace(api)
    queue = b.queue(api, ws["sid"], "Support", targetWorkers="skills[any]='support'")
    wf = b.workflow(api, ws["sid"], queue["sid"])
    worker = b.worker(
        api, ws["sid"], "Agent", {"skills": ["support"]}, activitySid=b.online(api, ws["sid"])
    )
    plain = b.task(api, wf["sid"], {"type": "support"}, timeout=600)
    assert (plain["assignmentState"], plain["assignmentStatus"]) == ("RESERVED", "Reserved")
    assert plain["workerSid"] is None and plain["taskQueueSid"] == queue["sid"]
    assert (plain["timeout"], plain["bypassReservedState"]) == (600, False)
    assert plain["workflowFriendlyName"] == "Main"
    assert plain["taskQueueFriendlyName"] == "Support"
    api.ok("PUT", f"/taskrouter/tasks/{plain['sid']}", {"assignmentStatus": "Canceled"})

    bypass = b.task(api, wf["sid"], {"type": "support"}, bypassReservedState=True)
    # Accepted at once: assigned to the worker, no reservation left waiting for an answer.
    assert (bypass["assignmentState"], bypass["workerSid"]) == ("ASSIGNED", worker["sid"])
    assert bypass["bypassReservedState"] is True
    cpaas_server.advance_ms(30_000)
    fetched = api.ok("GET", f"/taskrouter/tasks/search/{bypass['sid']}")
    assert (fetched["assignmentState"], fetched["age"]) == ("ASSIGNED", 30)
    done = api.ok(
        "PUT",
        f"/taskrouter/tasks/{bypass['sid']}",
        {"assignmentStatus": "Completed", "reason": "ok"},
    )
    assert (done["assignmentState"], done["reason"]) == ("COMPLETED", "ok")


def test_lifo_task_order_hands_out_the_newest_task_first(
    api: CpaasClient, cpaas_server: ClockedServer
) -> None:
    ws = b.workspace(api)
    queue = b.queue(api, ws["sid"], "Newest first", taskOrder="LIFO")
    wf = b.workflow(api, ws["sid"], queue["sid"])
    worker = b.worker(api, ws["sid"], "Only one")
    older = b.task(api, wf["sid"])
    cpaas_server.advance_ms(1_000)
    newer = b.task(api, wf["sid"])
    api.ok("PUT", f"/taskrouter/workers/{worker['sid']}", {"activitySid": b.online(api, ws["sid"])})
    states = {
        t["sid"]: t["assignmentState"]
        for t in api.search("tasks", f"workspaceSid={ws['sid']}&isLiveSession=true")["result"]
    }
    assert states == {newer["sid"]: "RESERVED", older["sid"]: "PENDING"}


def test_a_task_without_workflow_uses_the_workspaces_only_workflow(api: CpaasClient) -> None:
    ws = b.workspace(api)
    queue = b.queue(api, ws["sid"], "Q")
    wf = b.workflow(api, ws["sid"], queue["sid"])
    task = api.ok("POST", "/taskrouter/tasks", {"workspaceSid": ws["sid"], "attributes": "{}"})
    assert task["workflowSid"] == wf["sid"]
    b.workflow(api, ws["sid"], queue["sid"], name="Second")
    error = api.fails("POST", "/taskrouter/tasks", {"workspaceSid": ws["sid"]}, status=400)
    assert "WorkflowSid" in error["message"]


def test_deleting_a_workspace_keeps_its_tasks_searchable(
    api: CpaasClient, cpaas_server: ClockedServer
) -> None:
    ws = b.workspace(api)
    queue = b.queue(api, ws["sid"], "Q")
    wf = b.workflow(api, ws["sid"], queue["sid"])
    task = b.task(api, wf["sid"], {"callerId": "+15551234"})
    api.ok("PUT", f"/taskrouter/tasks/{task['sid']}", {"assignmentStatus": "cancelled"})
    deleted = api.ok("DELETE", f"/taskrouter/workspaces/{ws['sid']}")
    assert deleted["sid"] == ws["sid"]
    assert api.fails("GET", f"/taskrouter/workspaces/search/{ws['sid']}")["errorCode"] == "520"
    # Long after memory let go of the finished task, the store still has it.
    cpaas_server.advance_ms(3_600_000)
    kept = api.ok("GET", f"/taskrouter/tasks/search/{task['sid']}")
    assert (kept["assignmentState"], kept["callerId"]) == ("CANCELED", "+15551234")
    assert kept["enterpriseSid"] is None and kept["workspaceSid"] == ws["sid"]
    found = api.search("tasks", f"workspaceSid={ws['sid']}")["result"]
    assert [t["sid"] for t in found] == [task["sid"]]
    error = api.fails("PUT", f"/taskrouter/tasks/{task['sid']}", {"reason": "too late"}, status=400)
    assert "history" in error["message"]


def test_delete_answers_with_what_was_deleted(api: CpaasClient) -> None:
    ws = b.workspace(api)
    queue = b.queue(api, ws["sid"], "Q")
    wf = b.workflow(api, ws["sid"], queue["sid"])
    task = b.task(api, wf["sid"])
    for collection, sid in (
        ("tasks", task["sid"]),
        ("workflows", wf["sid"]),
        ("taskqueues", queue["sid"]),
    ):
        shown = api.ok("GET", f"/taskrouter/{collection}/search/{sid}")
        gone = api.ok("DELETE", f"/taskrouter/{collection}/search/{sid}")
        assert gone["sid"] == shown["sid"] == sid
        assert api.fails("GET", f"/taskrouter/{collection}/search/{sid}")["data"] == sid


def test_dates_are_printed_as_the_document_prints_them(api: CpaasClient) -> None:
    import re

    ws = b.workspace(api)
    queue = b.queue(api, ws["sid"], "Q")
    wf = b.workflow(api, ws["sid"], queue["sid"])
    task = b.task(api, wf["sid"])
    for record in (ws, queue, wf):
        assert re.match(DATE, record["dateCreated"]), record["dateCreated"]
    assert re.match(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}\+0000$", task["dateCreated"])
    assert re.match(DATE, task["taskQueueEnteredDate"])


def test_the_account_email_is_the_one_the_operator_gave(cpaas_server: ClockedServer) -> None:
    for email in ("ops@example.com", None):
        account = new_account(cpaas_server, email, via_cli=True)
        client = CpaasClient(cpaas_server.base_url, account)
        try:
            ws = b.workspace(client)
            assert ws["accountEmail"] == email
            queue = b.queue(client, ws["sid"], "Q")
            task = b.task(client, b.workflow(client, ws["sid"], queue["sid"])["sid"])
            assert task["restcommAccount"] == {"accountSid": account.sid, "accountEmail": email}
        finally:
            client.close()


def test_the_openapi_document_is_served(api: CpaasClient) -> None:
    from taskrouter.api.cpaas.openapi import spec

    # Public, like any API description.
    response = api.http.get("/taskrouter/openapi.json", auth=None)
    assert response.status_code == 200 and response.json() == spec()
    assert response.json()["openapi"].startswith("3.1")


def test_bypass_accepts_one_reservation_and_rescinds_the_others(
    api: CpaasClient, cpaas_server: ClockedServer
) -> None:
    from support.twilio_client import make_client

    ws = b.workspace(api, multiTaskEnabled=True)
    queue = b.queue(api, ws["sid"], "Two at once", maxReservedWorkers=2)
    wf = b.workflow(api, ws["sid"], queue["sid"])
    online = b.online(api, ws["sid"])
    workers = {b.worker(api, ws["sid"], n, activitySid=online)["sid"] for n in ("A", "B")}
    task = b.task(api, wf["sid"], bypassReservedState=True)
    assert task["assignmentState"] == "ASSIGNED" and task["workerSid"] in workers
    client = make_client(cpaas_server.base_url, api.credentials.sid, api.credentials.secret)
    reservations = client.taskrouter.v1.workspaces(ws["sid"]).tasks(task["sid"]).reservations
    statuses = {r.worker_sid: r.reservation_status for r in reservations.list()}
    assert statuses == {
        task["workerSid"]: "accepted",
        (workers - {task["workerSid"]}).pop(): "rescinded",
    }


def test_serve_takes_the_accounts_email_from_the_environment(
    database_url: str, tmp_path: Path
) -> None:
    account = new_plain_account()
    for email in ("first@example.com", "second@example.com"):
        env = {"TASKROUTER_ACCOUNT_EMAIL": email}
        with TaskrouterServer(database_url, workdir=tmp_path, account=account, env=env) as server:
            client = CpaasClient(server.base_url, account)
            try:
                found = client.search("workspaces")["result"]
                ws = found[0] if found else b.workspace(client, "Kept")
                assert client.ok("GET", ws["uri"])["accountEmail"] == email
            finally:
                client.close()
