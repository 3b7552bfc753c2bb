"""Limits on a running server: request body size (413), per-account request rate (429), open
event streams per account (429), connections (503).

A refused request changes nothing, and the limits of one account do not touch another.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from support.http_api import Api
from support.server import Credentials, TaskrouterServer, create_account, new_account

BODY_LIMIT = 2000
RATE = 0.2  # one request every five seconds once the burst is spent
BURST = 5
STREAMS = 2


@pytest.fixture(scope="module")
def limited(
    module_database: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[TaskrouterServer]:
    server = TaskrouterServer(
        module_database,
        workdir=tmp_path_factory.mktemp("limited"),
        account=new_account(),
        env={
            "TASKROUTER_MAX_BODY_BYTES": str(BODY_LIMIT),
            "TASKROUTER_RATE_LIMIT": str(RATE),
            "TASKROUTER_RATE_BURST": str(BURST),
            "TASKROUTER_MAX_STREAMS": str(STREAMS),
        },
    )
    server.start()
    try:
        yield server
    finally:
        server.stop()


def _workspaces(server: TaskrouterServer, creds: Credentials) -> list[str]:
    api = Api(server.base_url, creds)
    try:
        return [w["friendly_name"] for w in api.get("/v1/Workspaces")["workspaces"]]
    finally:
        api.close()


def test_a_body_over_the_limit_is_refused_and_changes_nothing(
    limited: TaskrouterServer,
) -> None:
    server = limited
    # Each test uses accounts of its own, so no test spends another's tokens.
    bystander = create_account(str(server.database_url))
    auth = (bystander.sid, bystander.secret)
    url = f"{server.base_url}/v1/Workspaces"
    padding = "x" * BODY_LIMIT
    declared = httpx.post(url, auth=auth, data={"FriendlyName": "big", "Padding": padding})
    assert declared.status_code == 413
    assert declared.json()["status"] == 413
    assert str(BODY_LIMIT) in declared.json()["message"]

    def chunks() -> Iterator[bytes]:
        yield b"FriendlyName=chunked&Padding="
        for _ in range(10):
            yield b"y" * (BODY_LIMIT // 5)

    streamed = httpx.post(url, auth=auth, content=chunks())
    assert streamed.status_code == 413
    small = httpx.post(url, auth=auth, data={"FriendlyName": "small"})
    assert small.status_code == 201
    assert _workspaces(server, bystander) == ["small"]


def test_an_account_over_its_rate_gets_429_with_retry_after(
    limited: TaskrouterServer,
) -> None:
    server = limited
    # Each test uses accounts of its own, so no test spends another's tokens.
    bystander = create_account(str(server.database_url))
    assert server.account is not None
    auth = (server.account.sid, server.account.secret)
    url = f"{server.base_url}/v1/Workspaces"
    answers = [httpx.get(url, auth=auth).status_code for _ in range(BURST)]
    assert answers == [200] * BURST
    refused = httpx.post(url, auth=auth, data={"FriendlyName": "too-many"})
    assert refused.status_code == 429
    body = refused.json()
    assert (body["code"], body["status"]) == (20429, 429)
    assert 1 <= int(refused.headers["Retry-After"]) <= 1 / RATE
    # The bystander's own bucket is untouched, and the refused POST made nothing.
    assert "too-many" not in _workspaces(server, bystander)
    metrics = httpx.get(f"{server.base_url}/metrics").text
    assert "taskrouter_rate_limited_requests_total 1.0" in metrics


def test_wrong_credentials_do_not_spend_an_accounts_rate(
    limited: TaskrouterServer,
) -> None:
    server = limited
    # Each test uses accounts of its own, so no test spends another's tokens.
    bystander = create_account(str(server.database_url))
    url = f"{server.base_url}/v1/Workspaces"
    for _ in range(BURST + 2):
        assert httpx.get(url, auth=(bystander.sid, "wrong")).status_code == 401
    assert httpx.get(url, auth=(bystander.sid, bystander.secret)).status_code == 200
    assert httpx.get(url, auth=(bystander.sid, bystander.secret)).status_code == 200


def test_an_account_may_hold_only_so_many_open_streams(limited: TaskrouterServer) -> None:
    server = limited
    owner = create_account(str(server.database_url))
    auth = (owner.sid, owner.secret)
    api = Api(server.base_url, owner)
    try:
        ws = api.post("/v1/Workspaces", FriendlyName="streamed")["sid"]
    finally:
        api.close()
    url = f"{server.base_url}/v1/Workspaces/{ws}/Events/Stream"
    with contextlib.ExitStack() as open_streams, httpx.Client(auth=auth, timeout=10) as http:
        readers = []  # held: dropping a reader closes its stream
        for _ in range(STREAMS):
            stream = open_streams.enter_context(http.stream("GET", url))
            assert stream.status_code == 200
            readers.append(stream.iter_bytes())
            next(readers[-1])  # the stream is live on the server
        refused = http.get(url)
        assert refused.status_code == 429
        assert refused.json()["code"] == 20429
        assert "streams" in refused.json()["message"]
    # Closing them gives the slots back.
    with httpx.Client(auth=auth, timeout=10) as http, http.stream("GET", url) as again:
        assert again.status_code == 200


def test_connections_over_the_limit_get_503(module_database: str, tmp_path: Path) -> None:
    account = new_account()
    server = TaskrouterServer(
        module_database,
        workdir=tmp_path,
        account=account,
        env={"TASKROUTER_MAX_CONNECTIONS": "2"},
    )
    server.start()
    try:
        api = Api(server.base_url, account)
        ws = api.post("/v1/Workspaces", FriendlyName="crowded")["sid"]
        api.close()
        url = f"{server.base_url}/v1/Workspaces/{ws}/Events/Stream"
        with (
            httpx.Client(auth=(account.sid, account.secret), timeout=10) as http,
            http.stream("GET", url) as stream,
        ):
            reader = stream.iter_bytes()
            next(reader)
            assert httpx.get(f"{server.base_url}/healthz").status_code == 503
        assert httpx.get(f"{server.base_url}/healthz").status_code == 200
    finally:
        server.stop()
