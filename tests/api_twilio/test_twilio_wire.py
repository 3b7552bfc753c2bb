"""Wire rules shared by every resource (notes a.1): encoding, status codes, JSON, errors."""

from __future__ import annotations

import json
from datetime import datetime

import pytest
from twilio.rest import Client
from twilio.rest.taskrouter.v1.workspace import WorkspaceContext, WorkspaceInstance

from support.twilio_client import RawApi, assert_raw_error, recorder_of


def test_create_is_201_update_and_fetch_200_delete_204(
    client: Client, ws: WorkspaceContext
) -> None:
    recorder = recorder_of(client)
    created = ws.activities.create_with_http_info(friendly_name="Status", available=False)
    assert created.status_code == 201
    sid = created.data.sid
    assert ws.activities(sid).fetch_with_http_info().status_code == 200
    assert ws.activities(sid).update_with_http_info(friendly_name="Status 2").status_code == 200
    deleted = ws.activities(sid).delete_with_http_info()
    assert deleted.status_code == 204
    assert recorder.last.text == ""


def test_responses_are_json(raw: RawApi, workspace: WorkspaceInstance) -> None:
    for path in (f"/v1/Workspaces/{workspace.sid}", f"/v1/Workspaces/{workspace.sid}/Activities"):
        response = raw.get(path, headers={"Accept": "application/xml"})
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("application/json")
        json.loads(response.text)


def test_dates_parse_in_the_sdk(ws: WorkspaceContext) -> None:
    # twilio-python turns only `%Y-%m-%dT%H:%M:%SZ` into datetimes; anything else stays a str.
    worker = ws.workers.create(friendly_name="Dated")
    for value in (worker.date_created, worker.date_updated, worker.date_status_changed):
        assert isinstance(value, datetime), value
    queue = ws.task_queues.create(friendly_name="Dated")
    assert isinstance(queue.date_created, datetime)
    channel = ws.workers(worker.sid).worker_channels.list()[0]
    assert isinstance(channel.date_created, datetime)


def test_unknown_parameters_are_ignored(raw: RawApi, workspace: WorkspaceInstance) -> None:
    base = f"/v1/Workspaces/{workspace.sid}"
    # Fields from spec examples that are not in the schemas (notes a.1).
    worker = raw.post(
        f"{base}/Workers",
        data={"FriendlyName": "Extra", "Concurrency": "3", "OperatingUnitSid": "OU" + "0" * 32},
    )
    assert worker.status_code == 201, worker.text
    assert worker.json()["friendly_name"] == "Extra"
    queue = raw.post(
        f"{base}/TaskQueues", data={"FriendlyName": "Extra", "OperatingUnitSid": "x", "Foo": "1"}
    )
    assert queue.status_code == 201, queue.text
    channel = raw.post(
        f"{base}/TaskChannels",
        data={"FriendlyName": "Extra", "UniqueName": "extra", "RequiredAttention": "true"},
    )
    assert channel.status_code == 201, channel.text
    ws = raw.post(
        "/v1/Workspaces",
        data={
            "FriendlyName": "Extra",
            "DefaultAttentionProfileSid": "x",
            "AttentionRoutingEnabled": "true",
        },
    )
    assert ws.status_code == 201, ws.text


@pytest.mark.parametrize(
    "word,expected",
    [
        *[("true", True), ("TRUE", True), ("1", True), ("yes", True), ("Yes", True)],
        *[("false", False), ("0", False), ("no", False), ("off", False), ("", False)],
    ],
)
def test_boolean_words(
    raw: RawApi, workspace: WorkspaceInstance, word: str, expected: bool
) -> None:
    base = f"/v1/Workspaces/{workspace.sid}"
    channel = raw.post(
        f"{base}/TaskChannels",
        data={"FriendlyName": "B", "UniqueName": "b", "ChannelOptimizedRouting": word},
    )
    assert channel.status_code == 201, channel.text
    assert channel.json()["channel_optimized_routing"] is expected
    ws = raw.post("/v1/Workspaces", data={"FriendlyName": "bools", "MultiTaskEnabled": word})
    assert ws.status_code == 201, ws.text
    assert ws.json()["multi_task_enabled"] is expected


def test_form_encoding_of_json_and_unicode(client: Client, ws: WorkspaceContext) -> None:
    attributes = {"name": "Zoë Ångström", "note": "a+b = c & d", "emoji": "🎧", "n": 1.5}
    worker = ws.workers.create(friendly_name="Zoë 🎧", attributes=json.dumps(attributes))
    fetched = ws.workers(worker.sid).fetch()
    assert fetched.friendly_name == "Zoë 🎧"
    assert json.loads(fetched.attributes) == attributes
    assert [w.sid for w in ws.workers.list(friendly_name="Zoë 🎧")] == [worker.sid]


def test_get_of_first_page_with_form_content_type(
    raw: RawApi, workspace: WorkspaceInstance
) -> None:
    # twilio-python sends the first list page with a form Content-Type and no body.
    response = raw.get(
        f"/v1/Workspaces/{workspace.sid}/Workers",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 200


def test_unknown_route_is_a_twilio_404(raw: RawApi, workspace: WorkspaceInstance) -> None:
    response = raw.get(f"/v1/Workspaces/{workspace.sid}/Nonsense")
    assert_raw_error(response, 404, code=20404)


def test_error_bodies_have_the_twilio_shape(raw: RawApi, workspace: WorkspaceInstance) -> None:
    response = raw.post(f"/v1/Workspaces/{workspace.sid}/Workers", data={})
    error = assert_raw_error(response, 400, code=20001, mentions="FriendlyName")
    body = error.body
    assert body["more_info"].startswith("http")
    assert "type" not in body or "title" not in body
