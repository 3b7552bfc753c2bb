"""One core under both faces: what the CPaaS face makes, the official Twilio client sees with
the same SIDs, and the reverse."""

from __future__ import annotations

import json

from twilio.rest import Client

from api_cpaas import builders as b
from api_cpaas.cpaas_client import CpaasClient
from routing.helpers import ClockedServer
from support.twilio_client import make_client, recorder_of


def twilio(api: CpaasClient, server: ClockedServer) -> Client:
    creds = api.credentials
    return make_client(server.base_url, creds.sid, creds.secret)


def test_made_through_cpaas_seen_through_twilio(
    api: CpaasClient, cpaas_server: ClockedServer
) -> None:
    client = twilio(api, cpaas_server)
    ws = b.workspace(api, "Cross face")
    queue = b.queue(api, ws["sid"], "Support", targetWorkers="skills[any]='support'")
    wf = b.workflow(api, ws["sid"], queue["sid"], "Route")
    act = b.activity(api, ws["sid"], "Ringing", False)
    worker = b.worker(api, ws["sid"], "Jane", {"skills": ["support"]})
    task = b.task(api, wf["sid"], {"type": "support"}, timeout=900)

    tr = client.taskrouter.v1.workspaces(ws["sid"])
    fetched_ws = tr.fetch()
    assert (fetched_ws.sid, fetched_ws.friendly_name) == (ws["sid"], "Cross face")
    assert fetched_ws.default_activity_sid == ws["defaultActivitySid"]
    assert fetched_ws.multi_task_enabled is False
    assert {a.friendly_name for a in tr.activities.list()} == {"Offline", "Online", "Ringing"}
    assert tr.activities(act["sid"]).fetch().available is False
    twilio_queue = tr.task_queues(queue["sid"]).fetch()
    assert (twilio_queue.friendly_name, twilio_queue.target_workers) == (
        "Support",
        "skills[any]='support'",
    )
    twilio_worker = tr.workers(worker["sid"]).fetch()
    assert json.loads(twilio_worker.attributes) == json.loads(worker["attributes"])
    assert tr.workflows(wf["sid"]).fetch().friendly_name == "Route"
    twilio_task = tr.tasks(task["sid"]).fetch()
    assert (twilio_task.assignment_status, twilio_task.timeout) == ("pending", 900)
    assert twilio_task.task_queue_sid == queue["sid"]

    # A change through Twilio shows through CPaaS.
    tr.workers(worker["sid"]).update(activity_sid=b.online(api, ws["sid"]))
    assert api.ok("GET", f"/taskrouter/tasks/search/{task['sid']}")["assignmentState"] == "RESERVED"
    recorder_of(client).assert_clean()


def test_made_through_twilio_seen_through_cpaas(
    api: CpaasClient, cpaas_server: ClockedServer
) -> None:
    client = twilio(api, cpaas_server)
    ws = client.taskrouter.v1.workspaces.create(friendly_name="From Twilio")
    tr = client.taskrouter.v1.workspaces(ws.sid)
    queue = tr.task_queues.create(friendly_name="Sales", target_workers="1==1")
    config = {"task_routing": {"filters": [], "default_filter": {"queue": queue.sid}}}
    wf = tr.workflows.create(friendly_name="Flow", configuration=json.dumps(config))
    worker = tr.workers.create(friendly_name="Sam", attributes=json.dumps({"contact_uri": "1"}))
    task = tr.tasks.create(workflow_sid=wf.sid, attributes=json.dumps({"callerId": "+1555"}))

    seen = api.ok("GET", f"/taskrouter/workspaces/search/{ws.sid}")
    # Twilio's workspaces have no enterprise and Twilio's three default activities.
    assert (seen["name"], seen["enterpriseSid"]) == ("From Twilio", None)
    names = {a["name"] for a in api.search("activities", f"workspaceSid={ws.sid}")["result"]}
    assert names == {"Offline", "Available", "Unavailable"}
    assert api.ok("GET", f"/taskrouter/taskqueues/search/{queue.sid}")["name"] == "Sales"
    assert api.ok("GET", f"/taskrouter/workflows/search/{wf.sid}")["name"] == "Flow"
    assert api.ok("GET", f"/taskrouter/workers/search/{worker.sid}")["name"] == "Sam"
    cpaas_task = api.ok("GET", f"/taskrouter/tasks/search/{task.sid}")
    assert (cpaas_task["callerId"], cpaas_task["workflowSid"]) == ("+1555", wf.sid)

    # A change through CPaaS shows through Twilio.
    api.ok("PUT", f"/taskrouter/tasks/{task.sid}", {"assignmentStatus": "Cancelled"})
    canceled = tr.tasks(task.sid).fetch()
    assert (canceled.assignment_status, canceled.reason) == (
        "canceled",
        "Task canceled by API call",
    )
    api.ok("PUT", f"/taskrouter/workspaces/{ws.sid}", {"name": "Renamed in CPaaS"})
    assert tr.fetch().friendly_name == "Renamed in CPaaS"
    api.ok("DELETE", f"/taskrouter/workers/{worker.sid}")
    assert [w.sid for w in tr.workers.list()] == []
    recorder_of(client).assert_clean()
