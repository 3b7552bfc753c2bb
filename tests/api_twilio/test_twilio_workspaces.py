"""Workspaces through twilio-python: create (defaults, Template), fetch, update, list, delete."""

from __future__ import annotations

import json
import secrets
from datetime import datetime

from twilio.rest import Client
from twilio.rest.taskrouter.v1.workspace import WorkspaceInstance

from support.server import TaskrouterServer
from support.twilio_client import RawApi, assert_raw_error, raises_twilio, recorder_of

DEFAULT_ACTIVITIES = {"Offline": False, "Available": True, "Unavailable": False}  # notes a.3
DEFAULT_CHANNELS = {"default", "voice", "sms", "chat", "video"}  # notes a.3 / e (MT)


def _name(prefix: str = "ws") -> str:
    return f"{prefix}-{secrets.token_hex(4)}"


def test_create_with_defaults(client: Client, twilio_server: TaskrouterServer) -> None:
    name = _name()
    created = client.taskrouter.v1.workspaces.create(friendly_name=name)
    assert recorder_of(client).last.status == 201

    assert created.sid.startswith("WS") and len(created.sid) == 34
    assert created.friendly_name == name
    assert twilio_server.account is not None
    assert created.account_sid == twilio_server.account.sid
    assert created.multi_task_enabled is True  # default true (notes a.3)
    assert created.prioritize_queue_order == "FIFO"
    assert created.default_activity_name == "Offline"
    assert created.timeout_activity_name == "Offline"
    assert created.event_callback_url in (None, "")
    # twilio-python parses only `%Y-%m-%dT%H:%M:%SZ`; anything else stays a string.
    assert isinstance(created.date_created, datetime)
    assert isinstance(created.date_updated, datetime)
    assert created.url == f"{twilio_server.base_url}/v1/Workspaces/{created.sid}"
    for link in ("activities", "task_channels", "task_queues", "workers", "workflows"):
        assert link in created.links, created.links

    fetched = client.taskrouter.v1.workspaces(created.sid).fetch()
    assert fetched.sid == created.sid
    assert fetched.friendly_name == name
    assert fetched.default_activity_sid == created.default_activity_sid


def test_new_workspace_gets_default_activities(client: Client) -> None:
    ws = client.taskrouter.v1.workspaces.create(friendly_name=_name())
    activities = client.taskrouter.v1.workspaces(ws.sid).activities.list()
    assert {a.friendly_name: a.available for a in activities} == DEFAULT_ACTIVITIES
    by_name = {a.friendly_name: a.sid for a in activities}
    assert ws.default_activity_sid == by_name["Offline"]
    assert ws.timeout_activity_sid == by_name["Offline"]
    for a in activities:
        assert a.workspace_sid == ws.sid


def test_new_workspace_gets_default_task_channels(client: Client) -> None:
    ws = client.taskrouter.v1.workspaces.create(friendly_name=_name())
    channels = client.taskrouter.v1.workspaces(ws.sid).task_channels.list()
    assert {c.unique_name for c in channels} == DEFAULT_CHANNELS
    assert all(c.sid.startswith("TC") for c in channels)


def test_template_none_has_no_queue_or_workflow(client: Client) -> None:
    ws = client.taskrouter.v1.workspaces.create(friendly_name=_name(), template="NONE")
    ctx = client.taskrouter.v1.workspaces(ws.sid)
    assert ctx.task_queues.list() == []
    assert ctx.workflows.list() == []
    assert {a.friendly_name for a in ctx.activities.list()} == set(DEFAULT_ACTIVITIES)


def test_template_fifo_adds_a_queue_and_a_workflow_routing_to_it(client: Client) -> None:
    ws = client.taskrouter.v1.workspaces.create(friendly_name=_name(), template="FIFO")
    ctx = client.taskrouter.v1.workspaces(ws.sid)
    queues = ctx.task_queues.list()
    workflows = ctx.workflows.list()
    assert len(queues) == 1
    assert len(workflows) == 1
    assert queues[0].task_order == "FIFO"
    assert queues[0].target_workers == "1==1"
    config = json.loads(ctx.workflows(workflows[0].sid).fetch().configuration)
    assert queues[0].sid in json.dumps(config), config
    assert {a.friendly_name for a in ctx.activities.list()} == set(DEFAULT_ACTIVITIES)


def test_create_with_every_field(client: Client) -> None:
    name = _name()
    created = client.taskrouter.v1.workspaces.create(
        friendly_name=name,
        event_callback_url="https://example.com/events",
        events_filter="task.created,task.canceled,worker.activity.update",
        multi_task_enabled=False,
        prioritize_queue_order="LIFO",
    )
    fetched = client.taskrouter.v1.workspaces(created.sid).fetch()
    for ws in (created, fetched):
        assert ws.friendly_name == name
        assert ws.event_callback_url == "https://example.com/events"
        assert ws.events_filter == "task.created,task.canceled,worker.activity.update"
        assert ws.multi_task_enabled is False
        assert ws.prioritize_queue_order == "LIFO"


def test_update_every_field(client: Client, workspace: WorkspaceInstance) -> None:
    ctx = client.taskrouter.v1.workspaces(workspace.sid)
    # Start single-tasking so MultiTaskEnabled can be switched on (always allowed, notes a.3).
    ctx.update(multi_task_enabled=False)
    break_ = ctx.activities.create(friendly_name="Break", available=False)
    available = next(a for a in ctx.activities.list() if a.friendly_name == "Available")
    new_name = _name("renamed")

    updated = ctx.update(
        friendly_name=new_name,
        event_callback_url="https://example.com/cb",
        events_filter="worker.activity.update",
        multi_task_enabled=True,
        default_activity_sid=available.sid,
        timeout_activity_sid=break_.sid,
        prioritize_queue_order="LIFO",
    )
    fetched = ctx.fetch()
    for ws in (updated, fetched):
        assert ws.friendly_name == new_name
        assert ws.event_callback_url == "https://example.com/cb"
        assert ws.events_filter == "worker.activity.update"
        assert ws.multi_task_enabled is True
        assert ws.default_activity_sid == available.sid
        assert ws.default_activity_name == "Available"
        assert ws.timeout_activity_sid == break_.sid
        assert ws.timeout_activity_name == "Break"
        assert ws.prioritize_queue_order == "LIFO"


def test_update_of_one_field_keeps_the_others(client: Client) -> None:
    ws = client.taskrouter.v1.workspaces.create(
        friendly_name=_name(),
        event_callback_url="https://example.com/events",
        events_filter="task.created",
        prioritize_queue_order="LIFO",
    )
    ctx = client.taskrouter.v1.workspaces(ws.sid)
    ctx.update(friendly_name="only the name")
    after = ctx.fetch()
    assert after.friendly_name == "only the name"
    assert after.event_callback_url == "https://example.com/events"
    assert after.events_filter == "task.created"
    assert after.prioritize_queue_order == "LIFO"
    assert after.multi_task_enabled is True
    assert after.default_activity_sid == ws.default_activity_sid


def test_new_workers_get_the_default_activity(client: Client, workspace: WorkspaceInstance) -> None:
    ctx = client.taskrouter.v1.workspaces(workspace.sid)
    first = ctx.workers.create(friendly_name="before")
    assert first.activity_sid == workspace.default_activity_sid
    assert first.activity_name == "Offline"

    available = next(a for a in ctx.activities.list() if a.friendly_name == "Available")
    ctx.update(default_activity_sid=available.sid)
    second = ctx.workers.create(friendly_name="after")
    assert second.activity_sid == available.sid
    assert second.activity_name == "Available"
    assert second.available is True
    assert ctx.workers(first.sid).fetch().activity_name == "Offline"


def test_list_filters_by_friendly_name(client: Client) -> None:
    shared = _name("same")
    a = client.taskrouter.v1.workspaces.create(friendly_name=shared)
    b = client.taskrouter.v1.workspaces.create(friendly_name=shared)
    other = client.taskrouter.v1.workspaces.create(friendly_name=_name("other"))

    found = client.taskrouter.v1.workspaces.list(friendly_name=shared)
    assert {w.sid for w in found} == {a.sid, b.sid}
    assert client.taskrouter.v1.workspaces.list(friendly_name=_name("nobody")) == []
    everything = {w.sid for w in client.taskrouter.v1.workspaces.list()}
    assert {a.sid, b.sid, other.sid} <= everything


def test_list_entry_matches_fetch(client: Client, workspace: WorkspaceInstance) -> None:
    listed = client.taskrouter.v1.workspaces.list(friendly_name=workspace.friendly_name)
    assert [w.sid for w in listed] == [workspace.sid]
    fetched = client.taskrouter.v1.workspaces(workspace.sid).fetch()
    for field in ("friendly_name", "default_activity_sid", "timeout_activity_sid", "url"):
        assert getattr(listed[0], field) == getattr(fetched, field)


def test_links_lead_to_the_workspace_collections(raw: RawApi, workspace: WorkspaceInstance) -> None:
    expected_keys = {
        "activities": "activities",
        "task_channels": "channels",
        "task_queues": "task_queues",
        "workers": "workers",
        "workflows": "workflows",
    }
    for link, key in expected_keys.items():
        response = raw.get(workspace.links[link])
        assert response.status_code == 200, (link, response.text)
        assert response.json()["meta"]["key"] == key


def test_delete_then_gone(client: Client, raw: RawApi) -> None:
    ws = client.taskrouter.v1.workspaces.create(friendly_name=_name())
    ctx = client.taskrouter.v1.workspaces(ws.sid)
    ctx.workers.create(friendly_name="someone")

    assert ctx.delete() is True
    assert recorder_of(client).last.status == 204
    assert recorder_of(client).last.text == ""

    with raises_twilio(client, 404, code=20404):
        ctx.fetch()
    with raises_twilio(client, 404, code=20404):
        ctx.delete()
    with raises_twilio(client, 404, code=20404):
        ctx.update(friendly_name="ghost")
    assert ws.sid not in {w.sid for w in client.taskrouter.v1.workspaces.list()}
    # Its collections are gone with it.
    assert raw.get(f"/v1/Workspaces/{ws.sid}/Workers").status_code == 404
    assert raw.get(f"/v1/Workspaces/{ws.sid}/Activities").status_code == 404


def test_unknown_workspace_is_404(client: Client) -> None:
    missing = "WS" + secrets.token_hex(16)
    with raises_twilio(client, 404, code=20404):
        client.taskrouter.v1.workspaces(missing).fetch()
    with raises_twilio(client, 404, code=20404):
        client.taskrouter.v1.workspaces(missing).activities.create(friendly_name="x")


def test_missing_friendly_name_is_400_naming_it(raw: RawApi) -> None:
    response = raw.post("/v1/Workspaces", data={"Template": "FIFO"})
    assert_raw_error(response, 400, code=20001, mentions="FriendlyName")


def test_unknown_template_is_rejected(client: Client) -> None:
    # The notes (a.3) name only NONE and FIFO; anything else should be refused, naming it.
    name = _name("bad-template")
    with raises_twilio(client, 400, code=20001, mentions="Template"):
        client.taskrouter.v1.workspaces.create(friendly_name=name, template="ROUND_ROBIN")
    assert client.taskrouter.v1.workspaces.list(friendly_name=name) == []


def test_bad_prioritize_queue_order_is_rejected(client: Client) -> None:
    name = _name("bad-order")
    with raises_twilio(client, 400, code=20001, mentions="PrioritizeQueueOrder"):
        client.taskrouter.v1.workspaces.create(friendly_name=name, prioritize_queue_order="RANDOM")
    assert client.taskrouter.v1.workspaces.list(friendly_name=name) == []
