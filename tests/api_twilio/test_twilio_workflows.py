"""Workflows: Configuration checked on save, TaskReservationTimeout, callback URLs, list, delete."""

from __future__ import annotations

import json
from typing import Any

import pytest
from twilio.rest import Client
from twilio.rest.taskrouter.v1.workspace import WorkspaceContext, WorkspaceInstance

from support.twilio_client import RawApi, assert_raw_error, raises_twilio, recorder_of


def config(queue: str, *, expression: str = 'type == "support"', target: str | None = None) -> str:
    target_spec: dict[str, Any] = {"queue": queue}
    if target is not None:
        target_spec["expression"] = target
    return json.dumps(
        {
            "task_routing": {
                "filters": [
                    {
                        "filter_friendly_name": "Support",
                        "expression": expression,
                        "targets": [target_spec],
                    }
                ],
                "default_filter": {"queue": queue},
            }
        }
    )


@pytest.fixture
def queue(ws: WorkspaceContext) -> str:
    return str(ws.task_queues.create(friendly_name="Support queue").sid)


def test_create_with_defaults(
    client: Client, ws: WorkspaceContext, workspace: WorkspaceInstance, queue: str
) -> None:
    configuration = config(queue)
    flow = ws.workflows.create(friendly_name="Inbound", configuration=configuration)
    assert recorder_of(client).last.status == 201
    assert flow.sid.startswith("WW")
    assert flow.friendly_name == "Inbound"
    assert flow.task_reservation_timeout == 120  # default
    assert json.loads(flow.configuration) == json.loads(configuration)
    assert flow.workspace_sid == workspace.sid
    assert flow.assignment_callback_url in (None, "")
    assert flow.url.endswith(f"/v1/Workspaces/{workspace.sid}/Workflows/{flow.sid}")
    fetched = ws.workflows(flow.sid).fetch()
    assert json.loads(fetched.configuration) == json.loads(configuration)
    assert fetched.task_reservation_timeout == 120


def test_create_and_update_every_field(ws: WorkspaceContext, queue: str) -> None:
    flow = ws.workflows.create(
        friendly_name="Outbound",
        configuration=config(queue),
        assignment_callback_url="https://example.com/assign",
        fallback_assignment_callback_url="http://fallback.example.com/assign",
        task_reservation_timeout=30,
    )
    assert flow.assignment_callback_url == "https://example.com/assign"
    assert flow.fallback_assignment_callback_url == "http://fallback.example.com/assign"
    assert flow.task_reservation_timeout == 30

    other = ws.task_queues.create(friendly_name="Other queue").sid
    new_config = config(other, expression="priority > 5", target="worker.level >= 2")
    updated = ws.workflows(flow.sid).update(
        friendly_name="Outbound 2",
        configuration=new_config,
        assignment_callback_url="https://example.com/assign2",
        fallback_assignment_callback_url="https://example.com/fallback2",
        task_reservation_timeout=600,
        re_evaluate_tasks="true",
    )
    for f in (updated, ws.workflows(flow.sid).fetch()):
        assert f.friendly_name == "Outbound 2"
        assert json.loads(f.configuration) == json.loads(new_config)
        assert f.assignment_callback_url == "https://example.com/assign2"
        assert f.fallback_assignment_callback_url == "https://example.com/fallback2"
        assert f.task_reservation_timeout == 600

    ws.workflows(flow.sid).update(friendly_name="Outbound 3")
    after = ws.workflows(flow.sid).fetch()
    assert after.friendly_name == "Outbound 3"
    assert after.task_reservation_timeout == 600
    assert json.loads(after.configuration) == json.loads(new_config)


@pytest.mark.parametrize("timeout", [1, 86_400])
def test_task_reservation_timeout_bounds(ws: WorkspaceContext, queue: str, timeout: int) -> None:
    flow = ws.workflows.create(
        friendly_name=f"t{timeout}", configuration=config(queue), task_reservation_timeout=timeout
    )
    assert flow.task_reservation_timeout == timeout


@pytest.mark.parametrize("timeout", [0, 86_401])
def test_task_reservation_timeout_out_of_range(
    client: Client, ws: WorkspaceContext, queue: str, timeout: int
) -> None:
    with raises_twilio(client, 400, code=20001, mentions="TaskReservationTimeout"):
        ws.workflows.create(
            friendly_name="bad", configuration=config(queue), task_reservation_timeout=timeout
        )
    assert ws.workflows.list(friendly_name="bad") == []
    flow = ws.workflows.create(friendly_name="good", configuration=config(queue))
    with raises_twilio(client, 400, code=20001, mentions="TaskReservationTimeout"):
        ws.workflows(flow.sid).update(task_reservation_timeout=timeout)
    assert ws.workflows(flow.sid).fetch().task_reservation_timeout == 120


@pytest.mark.parametrize(
    "field,param",
    [
        ("assignment_callback_url", "AssignmentCallbackUrl"),
        ("fallback_assignment_callback_url", "FallbackAssignmentCallbackUrl"),
    ],
)
@pytest.mark.parametrize("url", ["ftp://example.com/assign", "not a url", "javascript:alert(1)"])
def test_callback_urls_must_be_http(
    client: Client, ws: WorkspaceContext, queue: str, field: str, param: str, url: str
) -> None:
    with raises_twilio(client, 400, code=20001, mentions=param):
        ws.workflows.create(friendly_name="cb", configuration=config(queue), **{field: url})
    assert ws.workflows.list(friendly_name="cb") == []


def test_invalid_json_configuration(client: Client, ws: WorkspaceContext) -> None:
    with raises_twilio(client, 400, code=20001, mentions="Configuration"):
        ws.workflows.create(friendly_name="broken", configuration='{"task_routing": ')
    assert ws.workflows.list() == []


@pytest.mark.parametrize(
    "document",
    [
        {"no_task_routing": {}},
        {"task_routing": {"filters": "not a list"}},
        {"task_routing": {"filters": [{"expression": "1==1"}]}},  # a filter without targets
        ["task_routing"],
    ],
)
def test_configuration_with_wrong_shape(
    client: Client, ws: WorkspaceContext, document: Any
) -> None:
    with raises_twilio(client, 400, code=20001, mentions="Configuration"):
        ws.workflows.create(friendly_name="shape", configuration=json.dumps(document))
    assert ws.workflows.list() == []


def test_configuration_naming_an_unknown_queue(
    client: Client, ws: WorkspaceContext, queue: str
) -> None:
    missing = "WQ" + "a" * 32
    with raises_twilio(client, 400, code=20001, mentions=missing):
        ws.workflows.create(friendly_name="lost", configuration=config(missing))
    assert ws.workflows.list() == []


def test_configuration_naming_a_queue_of_another_workspace(
    client: Client, ws: WorkspaceContext, queue: str
) -> None:
    other = client.taskrouter.v1.workspaces.create(friendly_name="other-for-queue")
    foreign = client.taskrouter.v1.workspaces(other.sid).task_queues.create(friendly_name="q").sid
    with raises_twilio(client, 400, code=20001, mentions=foreign):
        ws.workflows.create(friendly_name="foreign", configuration=config(foreign))
    assert ws.workflows.list() == []


def test_configuration_with_an_expression_that_does_not_compile(
    client: Client, ws: WorkspaceContext, queue: str
) -> None:
    with raises_twilio(client, 400, code=20001) as error:
        ws.workflows.create(
            friendly_name="bad filter", configuration=config(queue, expression="type ==")
        )
    assert "column" in error[0].message, error[0].message
    with raises_twilio(client, 400, code=20001) as error:
        ws.workflows.create(
            friendly_name="bad target", configuration=config(queue, target="level >= AND")
        )
    assert "column" in error[0].message, error[0].message
    assert ws.workflows.list() == []


def test_update_with_bad_configuration_keeps_the_old_one(
    client: Client, ws: WorkspaceContext, queue: str
) -> None:
    good = config(queue)
    flow = ws.workflows.create(friendly_name="Stable", configuration=good)
    for bad in ('{"task_routing"', config("WQ" + "b" * 32), config(queue, expression="(")):
        with raises_twilio(client, 400, code=20001):
            ws.workflows(flow.sid).update(configuration=bad, friendly_name="Changed")
    after = ws.workflows(flow.sid).fetch()
    assert json.loads(after.configuration) == json.loads(good)
    assert after.friendly_name == "Stable"


def test_required_parameters(raw: RawApi, workspace: WorkspaceInstance, queue: str) -> None:
    path = f"/v1/Workspaces/{workspace.sid}/Workflows"
    assert_raw_error(
        raw.post(path, data={"Configuration": config(queue)}), 400, mentions="FriendlyName"
    )
    assert_raw_error(raw.post(path, data={"FriendlyName": "x"}), 400, mentions="Configuration")


def test_list_filter_friendly_name(ws: WorkspaceContext, queue: str) -> None:
    a = ws.workflows.create(friendly_name="Alpha", configuration=config(queue))
    b = ws.workflows.create(friendly_name="Beta", configuration=config(queue))
    assert [f.sid for f in ws.workflows.list(friendly_name="Alpha")] == [a.sid]
    assert ws.workflows.list(friendly_name="Gamma") == []
    assert {f.sid for f in ws.workflows.list()} == {a.sid, b.sid}


def test_delete_then_gone(client: Client, ws: WorkspaceContext, queue: str) -> None:
    flow = ws.workflows.create(friendly_name="Temporary", configuration=config(queue))
    assert ws.workflows(flow.sid).delete() is True
    assert recorder_of(client).last.status == 204
    with raises_twilio(client, 404, code=20404):
        ws.workflows(flow.sid).fetch()
    assert ws.workflows.list() == []
