"""Heartbeats keep a quiet socket alive: the SDK drops one that was silent for 30 s.

In process, with the interval shortened, so the test waits for frames rather than time."""

from __future__ import annotations

import asyncio
import itertools
import warnings
from pathlib import Path
from types import SimpleNamespace
from typing import cast

import pytest
from starlette.exceptions import StarletteDeprecationWarning

from support.in_process import app_with_account
from taskrouter.api.eventbridge import sockets
from taskrouter.api.eventbridge.sockets import Connection, Sockets
from taskrouter.service.service import Service

with warnings.catch_warnings():
    # Starlette nudges towards another HTTP client for its TestClient; httpx is what we have.
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from starlette.testclient import TestClient


def test_a_quiet_socket_gets_heartbeats(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sockets, "HEARTBEAT_S", 0.02)
    app, account = app_with_account(f"sqlite:///{tmp_path / 'hb.db'}")
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


class _Stop(Exception):
    pass


def test_heartbeats_are_spread_over_the_interval() -> None:
    """Many sockets beat a slice at a time, so no turn of the loop sends to all of them; each
    quiet socket still gets one beat per interval, and a busy one none."""
    connections = [SimpleNamespace(queue=asyncio.Queue()) for _ in range(1_000)]
    busy = connections[7]
    busy.queue.put_nowait("an event")
    slept: list[float] = []
    beaten_at_each_sleep: list[int] = []

    def beaten() -> int:
        return sum(1 for c in connections if c is not busy and not c.queue.empty())

    async def sleep(seconds: float) -> None:
        beaten_at_each_sleep.append(beaten())
        slept.append(seconds)
        if len(slept) > sockets.HEARTBEAT_SLICES:
            raise _Stop

    async def one_round() -> None:
        hub = Sockets(service=cast(Service, None), sleep=sleep)
        for i in range(0, len(connections), 2):
            hub.by_worker[f"WK{i}"] = cast(list[Connection], connections[i : i + 2])
        with pytest.raises(_Stop):
            await hub._beat()

    asyncio.run(one_round())
    slices = sockets.HEARTBEAT_SLICES
    assert sum(slept[:slices]) == pytest.approx(sockets.HEARTBEAT_S)
    per_slice = [b - a for a, b in itertools.pairwise(beaten_at_each_sleep)]
    assert max(per_slice) <= -(-len(connections) // slices)
    # After one round every quiet socket holds exactly one beat; the busy one only its event.
    assert all(c.queue.qsize() == 1 for c in connections)
    assert busy.queue.get_nowait() == "an event"
