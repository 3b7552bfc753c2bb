"""Heartbeats keep a quiet socket alive: the SDK drops one that was silent for 30 s.

In process, with the interval shortened, so the test waits for frames rather than time."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest
from starlette.exceptions import StarletteDeprecationWarning

from support.server import new_account
from taskrouter.api.eventbridge import sockets
from taskrouter.app import create_app
from taskrouter.service.service import Service

with warnings.catch_warnings():
    # Starlette nudges towards another HTTP client for its TestClient; httpx is what we have.
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from starlette.testclient import TestClient


def test_a_quiet_socket_gets_heartbeats(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sockets, "HEARTBEAT_S", 0.02)
    account = new_account()

    async def bootstrap(service: Service) -> None:
        await service.accounts.ensure(account.sid, account.secret)

    app = create_app(f"sqlite:///{tmp_path / 'hb.db'}", bootstrap=bootstrap, run_timers=False)
    with TestClient(app) as client:
        client.auth = (account.sid, account.secret)
        ws = client.post("/v1/Workspaces", data={"FriendlyName": "hb"}).json()["sid"]
        worker = client.post(f"/v1/Workspaces/{ws}/Workers", data={"FriendlyName": "w"}).json()
        service: Service = app.state.service
        token = client.portal.call(service.worker_tokens.issue, ws, worker["sid"])
        with client.websocket_connect(f"/v1/wschannels?token={token}") as socket:
            assert '"event_type":"init"' in socket.receive_text()
            assert [socket.receive_text() for _ in range(3)] == [" ", " ", " "]
            assert len(app.state.sockets) == 1
        assert len(app.state.sockets) == 0
