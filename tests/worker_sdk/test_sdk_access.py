"""Who may do what through the Worker SDK's face: expired and forged tokens are refused at
the socket and at the action endpoint, and a worker's token reaches only its own work (403)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from routing.helpers import World
from support.server import Credentials
from worker_sdk.conftest import SdkServer
from worker_sdk.sdk import SdkDriver, worker_token


def _post(server: SdkServer, token: str, url: str, method: str = "GET", **params: Any) -> Any:
    """One action exactly as the SDK sends it (JSON labelled as a form)."""
    body = {"url": url, "method": method, "params": params, "token": token}
    return httpx.post(
        f"{server.server.base_url}/v1/wschannels",
        content=httpx.Request("POST", "/", json=body).content,
        headers={"Content-Type": "application/x-www-form-urlencoded", "apiVersion": "v1"},
        timeout=10,
    )


def _socket_status(server: SdkServer, token: str) -> int:
    url = server.server.base_url.replace("http://", "ws://") + f"/v1/wschannels?token={token}"
    with pytest.raises(InvalidStatus) as refused:
        connect(url, open_timeout=10).close()
    return int(refused.value.response.status_code)


def test_an_expired_token_is_refused_by_the_sdk_socket_and_the_actions(
    sqlite_server: SdkServer, sdk: SdkDriver
) -> None:
    world = World(sqlite_server.server, name="sdk expired")
    hana = world.worker("hana", activity="Offline")
    now_s = sqlite_server.server.now_ms() // 1000
    expired = worker_token(sqlite_server.key, world.sid, hana, now_s - 7200, ttl_s=3600)

    worker = sdk.worker("hana", expired, sqlite_server.server.base_url)
    assert "Could not connect" in worker.wait("error")["message"]
    worker.disconnect()
    assert not sdk.seen(worker.id, "ready")

    assert _socket_status(sqlite_server, expired) == 401
    answer = _post(sqlite_server, expired, f"Workspaces/{world.sid}/Workers/{hana}")
    assert answer.status_code == 401
    assert answer.json()["message"] == "The token has expired"

    # A token signed with the wrong secret, and one from the future, fare no better.
    forged_key = Credentials(sqlite_server.key.sid, "x" * 32, sqlite_server.key.account_sid)
    forged = worker_token(forged_key, world.sid, hana, now_s)
    assert _post(sqlite_server, forged, f"Workspaces/{world.sid}/Workers/{hana}").json()[
        "message"
    ] == ("The token's signature does not match its API key")
    early = worker_token(sqlite_server.key, world.sid, hana, now_s + 3600)
    assert _socket_status(sqlite_server, early) == 401
    assert world.activity_of(hana) == "Offline"


def test_a_worker_token_reaches_only_its_own_worker_reservations_and_tasks(
    sqlite_server: SdkServer, sdk: SdkDriver
) -> None:
    world = World(sqlite_server.server, name="sdk scope")
    world.simple_workflow(world.queue("All"))
    ivan = world.worker("ivan", activity="Offline")
    judy = world.worker("judy", activity="Available")
    now_s = sqlite_server.server.now_ms() // 1000
    ivans = worker_token(sqlite_server.key, world.sid, ivan, now_s)
    task_sid = world.task()
    reservation = world.only_pending(task_sid)
    assert reservation.worker_sid == judy
    ws = f"Workspaces/{world.sid}"

    refused = [
        ("POST", f"{ws}/Workers/{judy}/Reservations/{reservation.sid}", "accepted"),
        ("POST", f"{ws}/Workers/{ivan}/Reservations/{reservation.sid}", "accepted"),
        ("GET", f"{ws}/Workers/{judy}/Reservations/{reservation.sid}", None),
        ("GET", f"{ws}/Tasks/{task_sid}", None),
        ("POST", f"{ws}/Tasks/{task_sid}", None),
        ("GET", f"{ws}/Workers/{judy}", None),
        ("POST", f"{ws}/Workers/{judy}", None),
        ("GET", f"{ws}/Workers", None),
        ("GET", f"{ws}/TaskQueues", None),
        ("GET", f"{ws}/Tasks/{task_sid}/Reservations/{reservation.sid}", None),
        ("GET", "Workspaces", None),
    ]
    for method, url, status in refused:
        params = {"ReservationStatus": status} if status else {}
        if url.endswith(f"Tasks/{task_sid}") and method == "POST":
            params = {"AssignmentStatus": "canceled"}
        if url.endswith(f"Workers/{judy}") and method == "POST":
            params = {"ActivitySid": world.activity["Offline"]}
        answer = _post(sqlite_server, ivans, url, method, **params)
        assert answer.status_code == 403, (method, url, answer.text)
        assert answer.json()["status"] == 403
    other_ws = World(sqlite_server.server, name="sdk scope other").sid
    assert _post(sqlite_server, ivans, f"Workspaces/{other_ws}/Activities").status_code == 403
    # Nothing changed for judy or her task.
    assert world.only_pending(task_sid).sid == reservation.sid
    assert world.activity_of(judy) == "Available"
    # What is its own answers: the activities, and its own (empty) reservations list.
    activities = _post(sqlite_server, ivans, f"{ws}/Activities", PageSize=1000).json()
    assert sorted(a["friendly_name"] for a in activities["payload"]["contents"]) == [
        "Available",
        "Offline",
        "Unavailable",
    ]
    mine = _post(sqlite_server, ivans, f"{ws}/Workers/{ivan}/Reservations", Active="true")
    assert mine.json() == {"payload": {"contents": [], "after_sid": None}}


def test_the_action_endpoint_answers_browsers_preflight(sqlite_server: SdkServer) -> None:
    answer = httpx.options(
        f"{sqlite_server.server.base_url}/v1/wschannels",
        headers={
            "Origin": "https://agents.example.com",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "apiversion,clientversion,content-type,if-match",
        },
    )
    assert answer.status_code == 204
    allowed = {h.strip().lower() for h in answer.headers["access-control-allow-headers"].split(",")}
    assert {"apiversion", "clientversion", "if-match", "content-type"} <= allowed
    assert answer.headers["access-control-allow-origin"] == "*"
    assert "POST" in answer.headers["access-control-allow-methods"]
