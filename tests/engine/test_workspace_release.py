"""A deleted workspace's tasks, reservations and workers are freed by the delete itself.

The engine and its state refer to each other; left to the cycle collector, everything they
hold would be freed in one long pause inside some later, unrelated request."""

from __future__ import annotations

import gc
import json
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.exceptions import StarletteDeprecationWarning

from support.in_process import app_with_account
from taskrouter.domain.entities import Reservation, Task, Worker, WorkerChannel

with warnings.catch_warnings():
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from starlette.testclient import TestClient


@pytest.fixture
def collector_off() -> Iterator[None]:
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def _held(workspace_sid: str) -> int:
    return sum(
        1
        for o in gc.get_objects()
        if isinstance(o, Task | Reservation | Worker | WorkerChannel)
        and o.workspace_sid == workspace_sid
    )


def test_deleting_a_workspace_frees_its_tasks_at_once(tmp_path: Path, collector_off: None) -> None:
    app, account = app_with_account(f"sqlite:///{tmp_path / 'r.db'}")
    with TestClient(app) as client:
        client.auth = (account.sid, account.secret)
        ws = client.post("/v1/Workspaces", data={"FriendlyName": "gone"}).json()["sid"]
        base = f"/v1/Workspaces/{ws}"
        activities = client.get(f"{base}/Activities").json()["activities"]
        available = next(a["sid"] for a in activities if a["available"])
        queue = client.post(f"{base}/TaskQueues", data={"FriendlyName": "all"}).json()["sid"]
        routing = {"task_routing": {"filters": [], "default_filter": {"queue": queue}}}
        workflow = client.post(
            f"{base}/Workflows", data={"FriendlyName": "wf", "Configuration": json.dumps(routing)}
        ).json()["sid"]
        for i in range(5):
            client.post(f"{base}/Workers", data={"FriendlyName": f"w{i}", "ActivitySid": available})
        for _ in range(20):
            reply = client.post(f"{base}/Tasks", data={"WorkflowSid": workflow})
            assert reply.status_code == 201
        # 5 workers with their channels; some tasks reserved (one each), the rest waiting.
        assert _held(ws) >= 30

        assert client.delete(base).status_code == 204
        assert _held(ws) == 0
