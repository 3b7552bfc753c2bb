"""WorkerChannels: one per task channel, made automatically; Capacity and Available updates."""

from __future__ import annotations

import pytest
from twilio.rest import Client
from twilio.rest.taskrouter.v1.workspace import WorkspaceContext, WorkspaceInstance

from support.twilio_client import RawApi, raises_twilio

DEFAULT_CHANNELS = {"default", "voice", "sms", "chat", "video"}


def test_worker_gets_a_channel_per_task_channel(
    ws: WorkspaceContext, workspace: WorkspaceInstance
) -> None:
    worker = ws.workers.create(friendly_name="Multi")
    task_channels = {c.unique_name: c.sid for c in ws.task_channels.list()}
    channels = ws.workers(worker.sid).worker_channels.list()
    assert {c.task_channel_unique_name for c in channels} == DEFAULT_CHANNELS
    for c in channels:
        assert c.sid.startswith("WC")
        assert c.worker_sid == worker.sid
        assert c.workspace_sid == workspace.sid
        assert c.task_channel_sid == task_channels[c.task_channel_unique_name]
        assert c.configured_capacity == 1  # spec example default
        assert c.available is True
        assert c.assigned_tasks == 0
        assert c.available_capacity_percentage == 100
        assert c.url.endswith(f"/Workers/{worker.sid}/Channels/{c.sid}")


def test_task_channel_created_later_reaches_existing_workers(ws: WorkspaceContext) -> None:
    first = ws.workers.create(friendly_name="early")
    email = ws.task_channels.create(friendly_name="Email", unique_name="email")
    second = ws.workers.create(friendly_name="late")
    for worker in (first, second):
        channels = {
            c.task_channel_unique_name: c for c in ws.workers(worker.sid).worker_channels.list()
        }
        assert set(channels) == DEFAULT_CHANNELS | {"email"}
        assert channels["email"].task_channel_sid == email.sid
        assert channels["email"].configured_capacity == 1


def test_fetch_by_sid_and_unique_name(ws: WorkspaceContext) -> None:
    worker = ws.workers.create(friendly_name="Fetcher")
    channels = {
        c.task_channel_unique_name: c.sid for c in ws.workers(worker.sid).worker_channels.list()
    }
    by_sid = ws.workers(worker.sid).worker_channels(channels["voice"]).fetch()
    assert by_sid.sid == channels["voice"]
    assert by_sid.task_channel_unique_name == "voice"
    # Fetch by the task channel's unique name: notes a.1 say "probably" [unverified];
    # docs/compatibility.md says taskrouter serves it.
    by_name = ws.workers(worker.sid).worker_channels("voice").fetch()
    assert by_name.sid == channels["voice"]


def test_update_capacity_and_available(ws: WorkspaceContext) -> None:
    worker = ws.workers.create(friendly_name="Juggler")
    chat = next(
        c
        for c in ws.workers(worker.sid).worker_channels.list()
        if c.task_channel_unique_name == "chat"
    )
    ctx = ws.workers(worker.sid).worker_channels(chat.sid)

    updated = ctx.update(capacity=3)
    assert updated.configured_capacity == 3
    assert updated.available is True
    assert updated.available_capacity_percentage == 100
    updated = ctx.update(available=False)
    assert updated.available is False
    assert updated.configured_capacity == 3
    fetched = ctx.fetch()
    assert (fetched.configured_capacity, fetched.available) == (3, False)

    ctx.update(capacity=0, available=True)
    fetched = ctx.fetch()
    assert (fetched.configured_capacity, fetched.available) == (0, True)
    ctx.update(capacity=50)
    assert ctx.fetch().configured_capacity == 50

    # Other channels of the worker are untouched.
    others = [c for c in ws.workers(worker.sid).worker_channels.list() if c.sid != chat.sid]
    assert all(c.configured_capacity == 1 and c.available is True for c in others)


@pytest.mark.parametrize("capacity", [51, -1])
def test_capacity_out_of_range(client: Client, ws: WorkspaceContext, capacity: int) -> None:
    # Notes a.3: capacity at most 50 per channel (LIMITS-OLD); a negative one makes no sense.
    worker = ws.workers.create(friendly_name="Capped")
    ctx = ws.workers(worker.sid).worker_channels("sms")
    ctx.update(capacity=2)
    with raises_twilio(client, 400, code=20001, mentions="Capacity"):
        ctx.update(capacity=capacity)
    assert ctx.fetch().configured_capacity == 2


def test_available_accepts_yes_and_1(
    raw: RawApi, ws: WorkspaceContext, workspace: WorkspaceInstance
) -> None:
    worker = ws.workers.create(friendly_name="Words")
    voice = next(
        c
        for c in ws.workers(worker.sid).worker_channels.list()
        if c.task_channel_unique_name == "voice"
    )
    path = f"/v1/Workspaces/{workspace.sid}/Workers/{worker.sid}/Channels/{voice.sid}"
    assert raw.post(path, data={"Available": "false"}).json()["available"] is False
    assert raw.post(path, data={"Available": "yes"}).json()["available"] is True
    assert raw.post(path, data={"Available": "0"}).json()["available"] is False
    assert raw.post(path, data={"Available": "1"}).json()["available"] is True


def test_channel_of_another_worker_or_unknown_is_404(client: Client, ws: WorkspaceContext) -> None:
    a = ws.workers.create(friendly_name="a")
    b = ws.workers.create(friendly_name="b")
    a_voice = next(
        c.sid
        for c in ws.workers(a.sid).worker_channels.list()
        if c.task_channel_unique_name == "voice"
    )
    with raises_twilio(client, 404, code=20404):
        ws.workers(b.sid).worker_channels(a_voice).fetch()
    with raises_twilio(client, 404, code=20404):
        ws.workers(b.sid).worker_channels(a_voice).update(capacity=5)
    with raises_twilio(client, 404, code=20404):
        ws.workers(a.sid).worker_channels("WC" + "0" * 32).fetch()
    with raises_twilio(client, 404, code=20404):
        ws.workers("WK" + "0" * 32).worker_channels.list()
    assert ws.workers(a.sid).worker_channels(a_voice).fetch().configured_capacity == 1
