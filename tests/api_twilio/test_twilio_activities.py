"""Activities: create, fetch, update (FriendlyName only), delete rules, list filters."""

from __future__ import annotations

from twilio.rest import Client
from twilio.rest.taskrouter.v1.workspace import WorkspaceContext, WorkspaceInstance

from support.server import TaskrouterServer
from support.twilio_client import RawApi, assert_raw_error, raises_twilio, recorder_of


def test_create_fetch_and_fields(
    client: Client,
    ws: WorkspaceContext,
    workspace: WorkspaceInstance,
    twilio_server: TaskrouterServer,
) -> None:
    created = ws.activities.create(friendly_name="Lunch", available=False)
    assert recorder_of(client).last.status == 201
    assert created.sid.startswith("WA")
    assert created.friendly_name == "Lunch"
    assert created.available is False
    assert created.workspace_sid == workspace.sid
    assert created.account_sid == workspace.account_sid
    base = twilio_server.base_url
    assert created.url == f"{base}/v1/Workspaces/{workspace.sid}/Activities/{created.sid}"
    assert "workspace" in created.links

    fetched = ws.activities(created.sid).fetch()
    assert (fetched.sid, fetched.friendly_name, fetched.available) == (
        created.sid,
        "Lunch",
        False,
    )
    on_call = ws.activities.create(friendly_name="On call", available=True)
    assert ws.activities(on_call.sid).fetch().available is True


def test_available_accepts_true_1_yes(raw: RawApi, workspace: WorkspaceInstance) -> None:
    path = f"/v1/Workspaces/{workspace.sid}/Activities"
    for i, word in enumerate(["true", "True", "1", "yes", "YES"]):
        response = raw.post(path, data={"FriendlyName": f"avail-{i}", "Available": word})
        assert response.status_code == 201, response.text
        assert response.json()["available"] is True, word
    for i, word in enumerate(["false", "0", "no", "nope"]):
        response = raw.post(path, data={"FriendlyName": f"unavail-{i}", "Available": word})
        assert response.status_code == 201, response.text
        assert response.json()["available"] is False, word


def test_update_changes_friendly_name_only(
    ws: WorkspaceContext, raw: RawApi, workspace: WorkspaceInstance
) -> None:
    activity = ws.activities.create(friendly_name="Training", available=False)
    updated = ws.activities(activity.sid).update(friendly_name="Coaching")
    assert updated.friendly_name == "Coaching"
    assert updated.available is False
    assert ws.activities(activity.sid).fetch().friendly_name == "Coaching"

    # `Available` cannot change after create: the server refuses it (400) or ignores it, and
    # the activity stays unavailable either way.
    response = raw.post(
        f"/v1/Workspaces/{workspace.sid}/Activities/{activity.sid}", data={"Available": "true"}
    )
    assert response.status_code in (200, 400), response.text
    if response.status_code == 400:
        assert_raw_error(response, 400, mentions="Available")
    assert ws.activities(activity.sid).fetch().available is False


def test_delete_unused_activity(client: Client, ws: WorkspaceContext) -> None:
    activity = ws.activities.create(friendly_name="Temporary", available=False)
    assert ws.activities(activity.sid).delete() is True
    assert recorder_of(client).last.status == 204
    with raises_twilio(client, 404, code=20404):
        ws.activities(activity.sid).fetch()
    assert activity.sid not in {a.sid for a in ws.activities.list()}


def test_delete_activity_occupied_by_a_worker_is_refused(
    client: Client, ws: WorkspaceContext
) -> None:
    busy = ws.activities.create(friendly_name="Busy", available=False)
    worker = ws.workers.create(friendly_name="occupant", activity_sid=busy.sid)
    with raises_twilio(client, 400, code=20001) as error:
        ws.activities(busy.sid).delete()
    assert "worker" in error[0].message.lower(), error[0].message
    assert ws.activities(busy.sid).fetch().friendly_name == "Busy"
    assert ws.workers(worker.sid).fetch().activity_sid == busy.sid

    # Once nobody occupies it, it can go.
    ws.workers(worker.sid).update(activity_sid=ws.fetch().default_activity_sid)
    assert ws.activities(busy.sid).delete() is True


def test_delete_default_activity_is_refused(
    client: Client, ws: WorkspaceContext, workspace: WorkspaceInstance
) -> None:
    other = ws.activities.create(friendly_name="Parking", available=False)
    ws.update(timeout_activity_sid=other.sid)  # so only the default role remains on Offline
    with raises_twilio(client, 400, code=20001) as error:
        ws.activities(workspace.default_activity_sid).delete()
    assert "default" in error[0].message.lower(), error[0].message
    assert ws.activities(workspace.default_activity_sid).fetch().friendly_name == "Offline"


def test_delete_timeout_activity_is_refused(client: Client, ws: WorkspaceContext) -> None:
    timeout = ws.activities.create(friendly_name="Timed out", available=False)
    ws.update(timeout_activity_sid=timeout.sid)
    with raises_twilio(client, 400, code=20001) as error:
        ws.activities(timeout.sid).delete()
    assert "timeout" in error[0].message.lower(), error[0].message
    assert ws.activities(timeout.sid).fetch().friendly_name == "Timed out"
    assert ws.fetch().timeout_activity_sid == timeout.sid


def test_list_filters(ws: WorkspaceContext) -> None:
    extra = ws.activities.create(friendly_name="Wrap-up", available=False)
    all_ = ws.activities.list()
    assert {a.friendly_name for a in all_} == {"Offline", "Available", "Unavailable", "Wrap-up"}

    by_name = ws.activities.list(friendly_name="Wrap-up")
    assert [a.sid for a in by_name] == [extra.sid]
    assert ws.activities.list(friendly_name="No such activity") == []

    available = {a.friendly_name for a in ws.activities.list(available="true")}
    assert available == {"Available"}
    for word in ("1", "yes"):
        assert {a.friendly_name for a in ws.activities.list(available=word)} == available
    unavailable = {a.friendly_name for a in ws.activities.list(available="false")}
    assert unavailable == {"Offline", "Unavailable", "Wrap-up"}

    both = ws.activities.list(friendly_name="Wrap-up", available="true")
    assert both == []


def test_activity_of_another_workspace_is_404(client: Client, ws: WorkspaceContext) -> None:
    mine = ws.activities.create(friendly_name="Mine", available=True)
    other = client.taskrouter.v1.workspaces.create(friendly_name="other-workspace")
    elsewhere = client.taskrouter.v1.workspaces(other.sid)
    with raises_twilio(client, 404, code=20404):
        elsewhere.activities(mine.sid).fetch()
    with raises_twilio(client, 404, code=20404):
        elsewhere.activities(mine.sid).update(friendly_name="stolen")
    with raises_twilio(client, 404, code=20404):
        elsewhere.activities(mine.sid).delete()
    assert ws.activities(mine.sid).fetch().friendly_name == "Mine"


def test_friendly_name_is_required_and_at_most_64(
    client: Client, ws: WorkspaceContext, raw: RawApi, workspace: WorkspaceInstance
) -> None:
    response = raw.post(f"/v1/Workspaces/{workspace.sid}/Activities", data={"Available": "true"})
    assert_raw_error(response, 400, mentions="FriendlyName")
    assert ws.activities.create(friendly_name="x" * 64, available=False).friendly_name == "x" * 64
    with raises_twilio(client, 400, mentions="FriendlyName"):
        ws.activities.create(friendly_name="y" * 65, available=False)
    assert "y" * 65 not in {a.friendly_name for a in ws.activities.list()}
