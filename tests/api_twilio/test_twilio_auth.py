"""Authentication (Basic with AccountSid:AuthToken or API key) and account isolation."""

from __future__ import annotations

import base64
import secrets
from collections.abc import Callable, Iterator

import httpx
import pytest
from twilio.rest import Client
from twilio.rest.taskrouter.v1.workspace import WorkspaceInstance

from support.server import Credentials, TaskrouterServer
from support.twilio_client import RawApi, assert_raw_error, make_client, raises_twilio


def _basic(value: str) -> str:
    return "Basic " + base64.b64encode(value.encode()).decode()


@pytest.fixture
def anonymous(twilio_server: TaskrouterServer) -> Iterator[RawApi]:
    api = RawApi(twilio_server.base_url, None)
    yield api
    api.close()


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "Bearer abcdef",
        "Basic",
        "Basic not-base64!!",
        "Basic " + base64.b64encode(b"no-colon-here").decode(),
        "Digest username=x",
    ],
    ids=["none", "empty", "bearer", "basic-empty", "basic-garbage", "no-colon", "digest"],
)
def test_bad_authorization_headers_are_401(
    anonymous: RawApi, header: str | None, workspace: WorkspaceInstance
) -> None:
    headers = {} if header is None else {"Authorization": header}
    for method, path in [
        ("GET", "/v1/Workspaces"),
        ("POST", "/v1/Workspaces"),
        ("GET", f"/v1/Workspaces/{workspace.sid}"),
        ("GET", f"/v1/Workspaces/{workspace.sid}/Workers"),
    ]:
        data = {"FriendlyName": "intruder"} if method == "POST" else None
        response = anonymous.request(method, path, headers=headers, data=data)
        assert_raw_error(response, 401, code=20003)


def test_wrong_token_unknown_account_and_empty_password(
    anonymous: RawApi, twilio_server: TaskrouterServer
) -> None:
    assert twilio_server.account is not None
    sid = twilio_server.account.sid
    for user, password in [
        (sid, "wrong-token"),
        (sid, ""),
        (sid, twilio_server.account.secret + "x"),
        ("AC" + secrets.token_hex(16), twilio_server.account.secret),
        ("SK" + secrets.token_hex(16), "whatever"),
    ]:
        response = anonymous.get(
            "/v1/Workspaces", headers={"Authorization": _basic(f"{user}:{password}")}
        )
        assert_raw_error(response, 401, code=20003)


def test_sdk_with_wrong_token_gets_20003(twilio_server: TaskrouterServer) -> None:
    assert twilio_server.account is not None
    client = make_client(twilio_server.base_url, twilio_server.account.sid, "not-the-token")
    with raises_twilio(client, 401, code=20003):
        client.taskrouter.v1.workspaces.create(friendly_name="nope")
    with raises_twilio(client, 401, code=20003):
        client.taskrouter.v1.workspaces("WS" + "0" * 32).fetch()


def test_nothing_is_created_without_auth(
    anonymous: RawApi, client: Client, workspace: WorkspaceInstance
) -> None:
    name = f"sneaky-{secrets.token_hex(3)}"
    anonymous.post("/v1/Workspaces", data={"FriendlyName": name})
    anonymous.post(f"/v1/Workspaces/{workspace.sid}/Workers", data={"FriendlyName": name})
    assert client.taskrouter.v1.workspaces.list(friendly_name=name) == []
    assert client.taskrouter.v1.workspaces(workspace.sid).workers.list() == []


def test_healthz_needs_no_auth(twilio_server: TaskrouterServer) -> None:
    assert httpx.get(f"{twilio_server.base_url}/healthz").status_code == 200


def test_api_key_works_like_the_account(
    twilio_server: TaskrouterServer,
    api_key: Credentials,
    client: Client,
    workspace: WorkspaceInstance,
) -> None:
    assert twilio_server.account is not None
    assert api_key.sid.startswith("SK")
    assert api_key.account_sid == twilio_server.account.sid
    keyed = make_client(
        twilio_server.base_url, api_key.sid, api_key.secret, account_sid=api_key.account_sid
    )
    # Sees the account's workspaces, and what it creates belongs to the account.
    assert keyed.taskrouter.v1.workspaces(workspace.sid).fetch().sid == workspace.sid
    made = keyed.taskrouter.v1.workspaces.create(friendly_name="made with a key")
    assert made.account_sid == twilio_server.account.sid
    assert client.taskrouter.v1.workspaces(made.sid).fetch().friendly_name == "made with a key"
    worker = keyed.taskrouter.v1.workspaces(workspace.sid).workers.create(friendly_name="k")
    assert client.taskrouter.v1.workspaces(workspace.sid).workers(worker.sid).fetch().sid

    wrong = make_client(
        twilio_server.base_url, api_key.sid, "wrong-secret", account_sid=api_key.account_sid
    )
    with raises_twilio(wrong, 401, code=20003):
        wrong.taskrouter.v1.workspaces.create(friendly_name="nope")


# -- isolation between accounts ----------------------------------------------------------------


def test_other_account_cannot_see_a_workspace(
    client: Client, client_b: Client, workspace: WorkspaceInstance
) -> None:
    theirs = client_b.taskrouter.v1.workspaces(workspace.sid)
    with raises_twilio(client_b, 404, code=20404):
        theirs.fetch()
    with raises_twilio(client_b, 404, code=20404):
        theirs.update(friendly_name="hijacked")
    with raises_twilio(client_b, 404, code=20404):
        theirs.delete()
    assert workspace.sid not in {w.sid for w in client_b.taskrouter.v1.workspaces.list()}
    assert client_b.taskrouter.v1.workspaces.list(friendly_name=workspace.friendly_name) == []
    # Untouched for its owner.
    mine = client.taskrouter.v1.workspaces(workspace.sid).fetch()
    assert mine.friendly_name == workspace.friendly_name


def test_other_account_cannot_reach_nested_resources(
    client: Client, client_b: Client, workspace: WorkspaceInstance
) -> None:
    ws = client.taskrouter.v1.workspaces(workspace.sid)
    activity = ws.activities.create(friendly_name="Mine", available=True)
    queue = ws.task_queues.create(friendly_name="Mine")
    worker = ws.workers.create(friendly_name="Mine")
    channel = ws.workers(worker.sid).worker_channels.list()[0]
    flow = ws.workflows.create(
        friendly_name="Mine",
        configuration=f'{{"task_routing": {{"default_filter": {{"queue": "{queue.sid}"}}}}}}',
    )
    theirs = client_b.taskrouter.v1.workspaces(workspace.sid)
    attempts: list[Callable[[], object]] = [
        lambda: theirs.activities.list(),
        lambda: theirs.activities.create(friendly_name="x"),
        lambda: theirs.activities(activity.sid).fetch(),
        lambda: theirs.activities(activity.sid).update(friendly_name="x"),
        lambda: theirs.activities(activity.sid).delete(),
        lambda: theirs.task_channels.list(),
        lambda: theirs.task_channels("voice").fetch(),
        lambda: theirs.task_channels.create(friendly_name="x", unique_name="x"),
        lambda: theirs.task_queues.list(),
        lambda: theirs.task_queues(queue.sid).fetch(),
        lambda: theirs.task_queues(queue.sid).update(target_workers="1==2"),
        lambda: theirs.task_queues(queue.sid).delete(),
        lambda: theirs.workers.list(),
        lambda: theirs.workers.create(friendly_name="spy"),
        lambda: theirs.workers(worker.sid).fetch(),
        lambda: theirs.workers(worker.sid).update(attributes='{"owned": true}'),
        lambda: theirs.workers(worker.sid).delete(),
        lambda: theirs.workers(worker.sid).worker_channels.list(),
        lambda: theirs.workers(worker.sid).worker_channels(channel.sid).fetch(),
        lambda: theirs.workers(worker.sid).worker_channels(channel.sid).update(capacity=9),
        lambda: theirs.workflows.list(),
        lambda: theirs.workflows(flow.sid).fetch(),
        lambda: theirs.workflows(flow.sid).update(friendly_name="x"),
        lambda: theirs.workflows(flow.sid).delete(),
    ]
    for attempt in attempts:
        with raises_twilio(client_b, 404, code=20404):
            attempt()

    # The owner still has everything as it was.
    assert ws.activities(activity.sid).fetch().friendly_name == "Mine"
    assert ws.task_queues(queue.sid).fetch().target_workers == "1==1"
    assert ws.workers(worker.sid).fetch().attributes == "{}"
    assert ws.workers(worker.sid).worker_channels(channel.sid).fetch().configured_capacity == 1
    assert ws.workflows(flow.sid).fetch().friendly_name == "Mine"
    assert {w.friendly_name for w in ws.workers.list()} == {"Mine"}


def test_another_accounts_sid_looks_exactly_like_a_missing_one(
    client_b: Client,
    workspace: WorkspaceInstance,
    twilio_server: TaskrouterServer,
    second_account: Credentials,
) -> None:
    raw_b = RawApi(twilio_server.base_url, (second_account.sid, second_account.secret))
    missing = "WS" + secrets.token_hex(16)
    real = raw_b.get(f"/v1/Workspaces/{workspace.sid}")
    fake = raw_b.get(f"/v1/Workspaces/{missing}")
    assert_raw_error(real, 404, code=20404)
    assert_raw_error(fake, 404, code=20404)
    assert real.json()["message"].replace(workspace.sid, "WS?") == fake.json()["message"].replace(
        missing, "WS?"
    )
    raw_b.close()
    raw_b.recorder.assert_clean()


def test_accounts_see_only_their_own_workspaces(client: Client, client_b: Client) -> None:
    name = f"shared-name-{secrets.token_hex(3)}"
    a = client.taskrouter.v1.workspaces.create(friendly_name=name)
    b = client_b.taskrouter.v1.workspaces.create(friendly_name=name)
    assert [w.sid for w in client.taskrouter.v1.workspaces.list(friendly_name=name)] == [a.sid]
    assert [w.sid for w in client_b.taskrouter.v1.workspaces.list(friendly_name=name)] == [b.sid]
    assert b.account_sid != a.account_sid
