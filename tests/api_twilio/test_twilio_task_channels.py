"""TaskChannels: create, fetch by SID and by unique name, update, delete, list."""

from __future__ import annotations

from twilio.rest import Client
from twilio.rest.taskrouter.v1.workspace import WorkspaceContext, WorkspaceInstance

from support.twilio_client import RawApi, assert_raw_error, raises_twilio, recorder_of


def test_create_and_fetch_by_sid_and_unique_name(
    client: Client, ws: WorkspaceContext, workspace: WorkspaceInstance
) -> None:
    created = ws.task_channels.create(
        friendly_name="E-mail", unique_name="email", channel_optimized_routing=True
    )
    assert recorder_of(client).last.status == 201
    assert created.sid.startswith("TC")
    assert created.friendly_name == "E-mail"
    assert created.unique_name == "email"
    assert created.channel_optimized_routing is True
    assert created.workspace_sid == workspace.sid
    assert created.url.endswith(f"/v1/Workspaces/{workspace.sid}/TaskChannels/{created.sid}")

    by_sid = ws.task_channels(created.sid).fetch()
    by_name = ws.task_channels("email").fetch()
    for channel in (by_sid, by_name):
        assert channel.sid == created.sid
        assert channel.unique_name == "email"
        assert channel.friendly_name == "E-mail"
        assert channel.channel_optimized_routing is True
    # The instance URL names the SID even when fetched by unique name.
    assert by_name.url == created.url


def test_default_channels_fetch_by_unique_name(ws: WorkspaceContext) -> None:
    listed = {c.unique_name: c.sid for c in ws.task_channels.list()}
    for name in ("default", "voice", "sms", "chat", "video"):
        assert ws.task_channels(name).fetch().sid == listed[name]


def test_channel_optimized_routing_defaults_off_and_updates(ws: WorkspaceContext) -> None:
    created = ws.task_channels.create(friendly_name="Fax", unique_name="fax")
    assert created.channel_optimized_routing in (False, None)
    updated = ws.task_channels(created.sid).update(
        friendly_name="Telefax", channel_optimized_routing=True
    )
    assert updated.friendly_name == "Telefax"
    assert updated.channel_optimized_routing is True
    fetched = ws.task_channels("fax").fetch()
    assert (fetched.friendly_name, fetched.channel_optimized_routing) == ("Telefax", True)
    ws.task_channels(created.sid).update(channel_optimized_routing=False)
    assert ws.task_channels(created.sid).fetch().channel_optimized_routing is False
    assert ws.task_channels(created.sid).fetch().friendly_name == "Telefax"


def test_unique_name_must_be_identifier_like(client: Client, ws: WorkspaceContext) -> None:
    # Notes a.3 (MT): alphanumeric plus `_` and `$`, not starting with a digit.
    for ok in ("callback_2", "$priority", "Social"):
        assert ws.task_channels.create(friendly_name=ok, unique_name=ok).unique_name == ok
    before = {c.unique_name for c in ws.task_channels.list()}
    for bad in ("9lives", "e-mail", "has space", ""):
        with raises_twilio(client, 400, code=20001, mentions="UniqueName"):
            ws.task_channels.create(friendly_name="bad", unique_name=bad)
    assert {c.unique_name for c in ws.task_channels.list()} == before


def test_unique_name_is_unique(client: Client, ws: WorkspaceContext) -> None:
    # 400 or 409: Twilio's code for a duplicate is [unverified] (notes a.1).
    first = ws.task_channels.create(friendly_name="WhatsApp", unique_name="whatsapp")
    with raises_twilio(client, (400, 409)) as error:
        ws.task_channels.create(friendly_name="WhatsApp again", unique_name="whatsapp")
    assert "whatsapp" in error[0].message, error[0].message
    matching = [c for c in ws.task_channels.list() if c.unique_name == "whatsapp"]
    assert [c.sid for c in matching] == [first.sid]


def test_friendly_name_limit_and_required_fields(
    client: Client, ws: WorkspaceContext, raw: RawApi, workspace: WorkspaceInstance
) -> None:
    path = f"/v1/Workspaces/{workspace.sid}/TaskChannels"
    assert_raw_error(
        raw.post(path, data={"UniqueName": "nofriendly"}), 400, mentions="FriendlyName"
    )
    assert_raw_error(raw.post(path, data={"FriendlyName": "No unique"}), 400, mentions="UniqueName")
    with raises_twilio(client, 400, mentions="FriendlyName"):
        ws.task_channels.create(friendly_name="z" * 65, unique_name="toolong")
    assert "toolong" not in {c.unique_name for c in ws.task_channels.list()}


def test_delete_by_sid_then_gone(client: Client, ws: WorkspaceContext) -> None:
    created = ws.task_channels.create(friendly_name="Pager", unique_name="pager")
    assert ws.task_channels(created.sid).delete() is True
    assert recorder_of(client).last.status == 204
    with raises_twilio(client, 404, code=20404):
        ws.task_channels(created.sid).fetch()
    with raises_twilio(client, 404, code=20404):
        ws.task_channels("pager").fetch()
    assert "pager" not in {c.unique_name for c in ws.task_channels.list()}


def test_unknown_channel_is_404(client: Client, ws: WorkspaceContext) -> None:
    with raises_twilio(client, 404, code=20404):
        ws.task_channels("carrier_pigeon").fetch()
    with raises_twilio(client, 404, code=20404):
        ws.task_channels("TC" + "0" * 32).fetch()
