"""Every error code the document lists, and the 400/401/404/405 answers it leaves to us.
A refused request changes nothing."""

from __future__ import annotations

import json
from typing import Any

import pytest

from api_cpaas import builders as b
from api_cpaas.conftest import new_account
from api_cpaas.cpaas_client import CpaasClient
from routing.helpers import ClockedServer

MISSING = {
    "workspaces": "WS" + "0" * 32,
    "taskqueues": "WQ" + "0" * 32,
    "workers": "WK" + "0" * 32,
    "activities": "WA" + "0" * 32,
    "workflows": "WW" + "0" * 32,
    "tasks": "WT" + "0" * 32,
}
NOT_FOUND = {
    "workspaces": ("520", "Sid of passed workspace is not found"),
    "taskqueues": ("540", "Sid of passed TaskQueue is not found"),
    "workers": ("530", "Sid of passed worker is not found"),
    "activities": ("510", "Sid of passed activity is not found"),
    "workflows": ("550", "Sid of passed Workflow is not found"),
    "tasks": ("560", "Sid of passed Task is not found"),
}


def expect(error: dict[str, Any], code: str, data: Any) -> None:
    assert (error["errorCode"], error["data"]) == (code, data), error


@pytest.mark.parametrize("collection", sorted(NOT_FOUND))
def test_not_found_codes_for_fetch_update_and_delete(api: CpaasClient, collection: str) -> None:
    code, message = NOT_FOUND[collection]
    for sid in (MISSING[collection], "TK63ae875b1a934034a331de5fd4bb71a0", "nonsense"):
        for method, path in (
            ("GET", f"/taskrouter/{collection}/search/{sid}"),
            ("PUT", f"/taskrouter/{collection}/{sid}"),
            ("DELETE", f"/taskrouter/{collection}/{sid}"),
        ):
            error = api.fails(method, path, {} if method == "PUT" else None)
            assert error == {"errorCode": code, "message": message, "data": sid}


def test_another_accounts_objects_are_not_found(
    api: CpaasClient, cpaas_server: ClockedServer
) -> None:
    ws = b.workspace(api)
    stranger = CpaasClient(cpaas_server.base_url, new_account(cpaas_server))
    try:
        expect(
            stranger.fails("GET", f"/taskrouter/workspaces/search/{ws['sid']}"), "520", ws["sid"]
        )
        body = {"workspaceSid": ws["sid"], "name": "Intruder", "available": True}
        expect(stranger.fails("POST", "/taskrouter/activities", body), "520", ws["sid"])
        assert stranger.search("workspaces")["total"] == 0
    finally:
        stranger.close()


def test_references_to_missing_objects(api: CpaasClient) -> None:
    ws = b.workspace(api)["sid"]
    act, wf = MISSING["activities"], MISSING["workflows"]
    cases: list[tuple[str, str, dict[str, Any], str, str]] = [
        (
            "POST",
            "/taskrouter/taskqueues",
            {"workspaceSid": MISSING["workspaces"], "name": "Q"},
            "520",
            MISSING["workspaces"],
        ),
        (
            "POST",
            "/taskrouter/taskqueues",
            {"workspaceSid": ws, "name": "Q", "assignmentActivitySid": act},
            "510",
            act,
        ),
        (
            "POST",
            "/taskrouter/taskqueues",
            {"workspaceSid": ws, "name": "Q", "reservationActivitySid": "bad"},
            "510",
            "bad",
        ),
        (
            "POST",
            "/taskrouter/workers",
            {
                "workspaceSid": ws,
                "name": "W",
                "activitySid": act,
                "attributes": '{"contact_uri":"1"}',
            },
            "510",
            act,
        ),
        ("PUT", f"/taskrouter/workspaces/{ws}", {"defaultActivitySid": act}, "510", act),
        (
            "PUT",
            f"/taskrouter/workspaces/{ws}",
            {"timeoutActivitySid": act, "timeoutActivityName": "Offline"},
            "510",
            act,
        ),
        ("POST", "/taskrouter/tasks", {"workflowSid": wf}, "550", wf),
        (
            "POST",
            "/taskrouter/tasks",
            {"workspaceSid": MISSING["workspaces"]},
            "520",
            MISSING["workspaces"],
        ),
        (
            "POST",
            "/taskrouter/workflows",
            {"workspaceSid": "WSnope", "name": "F", "configuration": "{}"},
            "520",
            "WSnope",
        ),
    ]
    for method, path, body, code, data in cases:
        expect(api.fails(method, path, body), code, data)
    # Nothing was made.
    assert api.search("taskqueues")["total"] == 0
    assert api.search("workers")["total"] == 0
    assert api.search("tasks", "isLiveSession=true")["total"] == 0
    fetched = api.ok("GET", f"/taskrouter/workspaces/search/{ws}")
    assert fetched["defaultActivityName"] == fetched["timeoutActivityName"] == "Offline"


def test_names_that_are_not_unique(api: CpaasClient) -> None:
    ws = b.workspace(api, "Taken")
    other = b.workspace(api, "Free")
    wsid = ws["sid"]
    queue = b.queue(api, wsid, "Sales")
    b.queue(api, wsid, "Support")
    b.activity(api, wsid, "Break", False)
    lunch = b.activity(api, wsid, "Lunch", False)
    jane = b.worker(api, wsid, "Jane")
    b.worker(api, wsid, "John")
    wf = b.workflow(api, wsid, queue["sid"], "Main")
    b.workflow(api, wsid, queue["sid"], "Other")
    cases: list[tuple[str, str, dict[str, Any], str, str]] = [
        (
            "POST",
            "/taskrouter/workspaces",
            {"enterpriseSid": b.ENTERPRISE, "name": "Taken"},
            "526",
            "Taken",
        ),
        ("PUT", f"/taskrouter/workspaces/{other['sid']}", {"name": "Taken"}, "526", "Taken"),
        ("POST", "/taskrouter/taskqueues", {"workspaceSid": wsid, "name": "Sales"}, "546", "Sales"),
        ("PUT", f"/taskrouter/taskqueues/{queue['sid']}", {"name": "Support"}, "546", "Support"),
        (
            "POST",
            "/taskrouter/activities",
            {"workspaceSid": wsid, "name": "Break", "available": True},
            "516",
            "Break",
        ),
        ("PUT", f"/taskrouter/activities/{lunch['sid']}", {"name": "Offline"}, "516", "Offline"),
        (
            "POST",
            "/taskrouter/workers",
            {"workspaceSid": wsid, "name": "Jane", "attributes": '{"contact_uri":"1"}'},
            "536",
            "Jane",
        ),
        # Worker names compare without case, as the Twilio face does.
        ("PUT", f"/taskrouter/workers/{jane['sid']}", {"name": "JOHN"}, "536", "JOHN"),
        (
            "POST",
            "/taskrouter/workflows",
            {"workspaceSid": wsid, "name": "Main", "configuration": wf["configuration"]},
            "556",
            "Main",
        ),
        ("PUT", f"/taskrouter/workflows/{wf['sid']}", {"name": "Other"}, "556", "Other"),
    ]
    for method, path, body, code, data in cases:
        error = api.fails(method, path, body)
        expect(error, code, data)
    # Renaming to its own name is no clash; nothing above changed anything.
    assert (
        api.ok("PUT", f"/taskrouter/taskqueues/{queue['sid']}", {"name": "Sales"})["name"]
        == "Sales"
    )
    assert api.ok("GET", f"/taskrouter/workers/search/{jane['sid']}")["name"] == "Jane"
    assert api.search("workflows")["total"] == 2
    assert api.ok("GET", f"/taskrouter/workspaces/search/{other['sid']}")["name"] == "Free"


@pytest.mark.parametrize(
    "attributes",
    [None, "", "   ", "not json", "[1, 2]", "{}", '"text"'],
    ids=["missing", "empty", "blank", "not-json", "array", "empty-object", "string"],
)
def test_531_worker_attributes_not_valid_json_or_empty(
    api: CpaasClient, attributes: str | None
) -> None:
    ws = b.workspace(api)["sid"]
    body: dict[str, Any] = {"workspaceSid": ws, "name": "W"}
    if attributes is not None:
        body["attributes"] = attributes
    error = api.fails("POST", "/taskrouter/workers", body)
    assert (error["errorCode"], error["message"]) == (
        "531",
        "Worker's attributes is not valid json or empty",
    )
    assert api.search("workers")["total"] == 0
    worker = b.worker(api, ws, "Valid")
    if attributes is not None:
        error = api.fails("PUT", f"/taskrouter/workers/{worker['sid']}", {"attributes": attributes})
        assert error["errorCode"] == "531"
    assert (
        api.ok("GET", f"/taskrouter/workers/search/{worker['sid']}")["attributes"]
        == worker["attributes"]
    )


def test_532_worker_attributes_without_contact_uri(api: CpaasClient) -> None:
    ws = b.workspace(api)["sid"]
    attributes = json.dumps({"language": ["en"]})
    body = {"workspaceSid": ws, "name": "W", "attributes": attributes}
    assert api.fails("POST", "/taskrouter/workers", body) == {
        "errorCode": "532",
        "message": "Worker's attributes is missing contact_uri",
        "data": attributes,
    }
    worker = b.worker(api, ws, "Valid")
    error = api.fails("PUT", f"/taskrouter/workers/{worker['sid']}", {"attributes": attributes})
    assert error["errorCode"] == "532"
    assert api.search("workers")["total"] == 1


def test_malformed_bodies_are_400_and_change_nothing(api: CpaasClient) -> None:
    ws = b.workspace(api)
    path = f"/taskrouter/workspaces/{ws['sid']}"
    for content in (b"{not json", b"[1, 2]", b'"text"', b"\xff\xfe"):
        response = api.request("PUT", path, content=content)
        assert response.status_code == 400, response.text
        assert response.json()["errorCode"] == "400"
    bad_bodies: list[tuple[str, str, dict[str, Any]]] = [
        ("PUT", path, {"name": 42}),
        ("PUT", path, {"multiTaskEnabled": "sometimes"}),
        ("PUT", path, {"priortizeQueueOrder": "RANDOM"}),
        ("PUT", path, {"name": ""}),
        ("POST", "/taskrouter/workspaces", {"name": "No enterprise"}),
        ("POST", "/taskrouter/workspaces", {"enterpriseSid": "ENshort", "name": "Bad"}),
        ("POST", "/taskrouter/workspaces", {"enterpriseSid": b.ENTERPRISE}),
        ("POST", "/taskrouter/activities", {"workspaceSid": ws["sid"], "name": "No flag"}),
        (
            "POST",
            "/taskrouter/taskqueues",
            {"workspaceSid": ws["sid"], "name": "Q", "targetWorkers": "((("},
        ),
        (
            "POST",
            "/taskrouter/taskqueues",
            {"workspaceSid": ws["sid"], "name": "Q", "maxReservedWorkers": 51},
        ),
        (
            "POST",
            "/taskrouter/taskqueues",
            {"workspaceSid": ws["sid"], "name": "Q", "taskOrder": "RANDOM"},
        ),
        (
            "POST",
            "/taskrouter/workflows",
            {"workspaceSid": ws["sid"], "name": "F", "configuration": "{broken"},
        ),
        ("POST", "/taskrouter/workflows", {"workspaceSid": ws["sid"], "name": "F"}),
    ]
    for method, target, body in bad_bodies:
        error = api.fails(method, target, body, status=400)
        assert error["errorCode"] == "400" and error["message"], (body, error)
    assert api.ok("GET", f"/taskrouter/workspaces/search/{ws['sid']}") == ws
    assert api.search("workspaces")["total"] == 1
    assert api.search("taskqueues")["total"] == 0
    assert api.search("workflows")["total"] == 0


def test_task_bodies_refused(api: CpaasClient) -> None:
    ws = b.workspace(api)["sid"]
    queue = b.queue(api, ws, "Q")
    wf = b.workflow(api, ws, queue["sid"])["sid"]
    for body in (
        {"workflowSid": wf, "timeout": 1_209_601},
        {"workflowSid": wf, "timeout": "soon"},
        {"workflowSid": wf, "attributes": "{oops"},
        {"workflowSid": wf, "bypassReservedState": "perhaps"},
        {},
    ):
        assert api.fails("POST", "/taskrouter/tasks", body, status=400)["errorCode"] == "400"
    task = b.task(api, wf)
    for body in ({"assignmentStatus": "Flying"}, {"assignmentStatus": "Completed"}):
        # A pending task cannot be completed: its lifecycle refuses it.
        assert api.fails("PUT", f"/taskrouter/tasks/{task['sid']}", body, status=400)
    assert api.ok("GET", f"/taskrouter/tasks/search/{task['sid']}")["assignmentState"] == "PENDING"
    assert api.search("tasks", "isLiveSession=true")["total"] == 1


def test_bad_credentials_are_401(api: CpaasClient) -> None:
    for auth in ((api.credentials.sid, "wrong"), ("ACnobody", "x")):
        response = api.request("GET", "/taskrouter/workspaces/search", auth=auth)
        assert response.status_code == 401
        assert response.json()["errorCode"] == "401"
        assert response.headers["www-authenticate"].startswith("Basic")
    response = api.http.get("/taskrouter/workspaces/search", auth=None)
    assert response.status_code == 401 and response.json()["errorCode"] == "401"


def test_unknown_paths_and_methods(api: CpaasClient) -> None:
    response = api.http.get("/taskrouter/queues/search")
    assert response.status_code == 404
    assert response.json() == {
        "errorCode": "404",
        "message": "/taskrouter/queues/search is not a resource of this API",
        "data": "/taskrouter/queues/search",
    }
    response = api.http.post("/taskrouter/workspaces/search", json={})
    assert response.status_code == 405 and response.json()["errorCode"] == "405"


def test_objects_in_use_cannot_be_deleted(api: CpaasClient) -> None:
    ws = b.workspace(api)["sid"]
    queue = b.queue(api, ws, "Q")
    wf = b.workflow(api, ws, queue["sid"])
    task = b.task(api, wf["sid"])
    offline = api.ok("GET", f"/taskrouter/workspaces/search/{ws}")["defaultActivitySid"]
    for collection, sid in (
        ("taskqueues", queue["sid"]),
        ("workflows", wf["sid"]),
        ("activities", offline),
    ):
        error = api.fails("DELETE", f"/taskrouter/{collection}/{sid}", status=400)
        assert error["errorCode"] == "400"
        assert api.ok("GET", f"/taskrouter/{collection}/search/{sid}")["sid"] == sid
    assert api.ok("GET", f"/taskrouter/tasks/search/{task['sid']}")["assignmentState"] == "PENDING"


def test_concurrent_creates_of_one_name_make_one_object(api: CpaasClient) -> None:
    from concurrent.futures import ThreadPoolExecutor

    ws = b.workspace(api)["sid"]
    queue = b.queue(api, ws, "Q")
    configuration = json.dumps({"task_routing": {"default_filter": {"queue": queue["sid"]}}})
    cases = [
        ("/taskrouter/workspaces", {"enterpriseSid": b.ENTERPRISE, "name": "Race"}, "526"),
        ("/taskrouter/activities", {"workspaceSid": ws, "name": "Race", "available": True}, "516"),
        ("/taskrouter/taskqueues", {"workspaceSid": ws, "name": "Race"}, "546"),
        (
            "/taskrouter/workflows",
            {"workspaceSid": ws, "name": "Race", "configuration": configuration},
            "556",
        ),
        (
            "/taskrouter/workers",
            {"workspaceSid": ws, "name": "Race", "attributes": '{"contact_uri":"1"}'},
            "536",
        ),
    ]
    for path, body, code in cases:
        with ThreadPoolExecutor(8) as pool:
            answers = list(pool.map(lambda p: api.http.post(p, json=body), [path] * 8))  # noqa: B023
        statuses = sorted(a.status_code for a in answers)
        assert statuses == [200] + [409] * 7, (path, [a.text for a in answers])
        assert {a.json()["errorCode"] for a in answers if a.status_code == 409} == {code}
        collection = path.rsplit("/", 1)[1]
        assert api.search(collection, "name=Race")["total"] == 1
