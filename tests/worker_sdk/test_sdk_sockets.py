"""The websocket itself, seen by a plain websocket client: the `init` message, event payloads
in the SDK's shapes, `closeExistingSessions`, and `setWorkerOfflineIfDisconnected=false`."""

from __future__ import annotations

import json
import time

import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from routing.helpers import World
from worker_sdk.conftest import SdkServer
from worker_sdk.sdk import worker_token


def _open(server: SdkServer, token: str, **query: str) -> ClientConnection:
    params = "".join(f"&{k}={v}" for k, v in query.items())
    base = server.server.base_url.replace("http://", "ws://")
    return connect(f"{base}/v1/wschannels?token={token}{params}", open_timeout=10)


def _next_event(socket: ClientConnection) -> dict[str, object]:
    """The next message that is not a heartbeat."""
    while True:
        text = socket.recv(timeout=10)
        assert isinstance(text, str)
        if text.strip():
            message: dict[str, object] = json.loads(text)
            return message


def test_init_events_and_closing_existing_sessions(sqlite_server: SdkServer) -> None:
    server = sqlite_server.server
    world = World(server, name="sdk sockets")
    lena = world.worker("lena", {"skill": "es"}, activity="Offline")
    now_ms = server.now_ms()
    token = worker_token(sqlite_server.key, world.sid, lena, now_ms // 1000, ttl_s=600)

    with (
        _open(sqlite_server, token, closeExistingSessions="false") as first,
        _open(sqlite_server, token, closeExistingSessions="true") as second,
    ):
        _check_replacing(first, second, world, lena, now_ms)


def _check_replacing(
    first: ClientConnection, second: ClientConnection, world: World, lena: str, now_ms: int
) -> None:
    assert _next_event(first) == {
        "event_type": "init",
        "payload": {
            "channel_id": lena,
            "account_sid": world.server.account.sid,
            "workspace_sid": world.sid,
            "token_lifetime": 600_000,
        },
    }
    assert _next_event(second)["event_type"] == "init"
    with pytest.raises(ConnectionClosed) as closed:
        _next_event(first)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4000

    world.set_activity(lena, "Available")
    event = _next_event(second)
    assert event["event_type"] == "worker.activity.update"
    payload = event["payload"]
    assert isinstance(payload, dict)
    assert payload["activity_name"] == "Available"
    assert payload["available"] is True
    assert payload["attributes"] == '{"skill": "es"}'
    assert payload["date_status_changed"] == now_ms // 1000
    assert isinstance(payload["version"], int) and payload["version"] >= 1
    # The replaced socket did not take the worker offline: another one is still open.
    assert world.activity_of(lena) == "Available"


def test_only_workers_who_allow_it_go_offline_when_their_last_socket_closes(
    sqlite_server: SdkServer,
) -> None:
    world = World(sqlite_server.server, name="sdk offline")
    stays = world.worker("mia", activity="Available")
    goes = world.worker("ned", activity="Available")
    now_s = sqlite_server.server.now_ms() // 1000

    with _open(
        sqlite_server,
        worker_token(sqlite_server.key, world.sid, stays, now_s),
        setWorkerOfflineIfDisconnected="false",
    ) as keep:
        _next_event(keep)
    with _open(sqlite_server, worker_token(sqlite_server.key, world.sid, goes, now_s)) as drop:
        _next_event(drop)

    deadline = time.monotonic() + 10
    while world.activity_of(goes) != "Offline":  # waits on the server, not on time
        assert time.monotonic() < deadline, "ned never went Offline"
        time.sleep(0.05)
    # Sockets close in order, so mia's close was handled before ned's.
    assert world.activity_of(stays) == "Available"
