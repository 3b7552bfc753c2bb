"""What an operator sees: /metrics, /healthz, JSON logs, and the periodic self-audit."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from reliability.damage import corrupt, second_acceptance
from support.http_api import Api, Workspace, make_workspace
from support.server import TaskrouterServer, new_account

JSON_LOGS = {"TASKROUTER_LOG_FORMAT": "json", "TASKROUTER_ACCESS_LOG": "1"}


@pytest.fixture(scope="module")
def server(
    module_database: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[TaskrouterServer]:
    started = TaskrouterServer(
        module_database,
        workdir=tmp_path_factory.mktemp("observed"),
        account=new_account(),
        env=JSON_LOGS,
    )
    started.start()
    try:
        yield started
    finally:
        started.stop()


@pytest.fixture(scope="module")
def worked(server: TaskrouterServer) -> tuple[Workspace, str, str]:
    """One task created, reserved, accepted and completed."""
    assert server.account is not None
    api = Api(server.base_url, server.account)
    try:
        ws = make_workspace(api, "observed", workers=1)
        task = api.post(f"{ws.path}/Tasks", Attributes={"n": 1})["sid"]
        (reservation,) = api.get(f"{ws.path}/Tasks/{task}/Reservations")["reservations"]
        api.post(
            f"{ws.path}/Tasks/{task}/Reservations/{reservation['sid']}",
            ReservationStatus="accepted",
        )
        api.post(f"{ws.path}/Tasks/{task}", AssignmentStatus="completed", Reason="done")
        api.get(f"{ws.path}/Tasks/{task}")
    finally:
        api.close()
    return ws, task, reservation["sid"]


def _samples(text: str) -> dict[str, float]:
    out: dict[str, float] = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.rpartition(" ")
            out[name] = float(value)
    return out


def test_metrics_count_requests_by_route_and_the_routing_outcomes(
    server: TaskrouterServer, worked: tuple[Workspace, str, str]
) -> None:
    response = httpx.get(f"{server.base_url}/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    samples = _samples(response.text)
    tasks_route = "/v1/Workspaces/{WorkspaceSid}/Tasks"
    assert (
        samples[
            f'taskrouter_http_requests_total{{method="POST",route="{tasks_route}",status="201"}}'
        ]
        == 1
    )
    assert (
        samples[
            f'taskrouter_http_request_duration_seconds_count{{method="POST",route="{tasks_route}"}}'
        ]
        == 1
    )
    # No SID leaks into a label: routes are templates.
    assert not re.search(r'route="[^"]*(WS|WT|WR)[0-9a-f]{32}', response.text)
    for outcome in ("created", "accepted", "completed"):
        assert samples[f'taskrouter_reservations_total{{outcome="{outcome}"}}'] == 1
    assert samples['taskrouter_tasks{status="completed"}'] == 1
    assert samples['taskrouter_tasks{status="pending"}'] == 0
    batches = samples["taskrouter_store_commit_batch_size_count"]
    assert batches == samples["taskrouter_store_transactions_total"]
    assert samples['taskrouter_store_commit_batch_size_bucket{le="+Inf"}'] == batches
    commits = samples["taskrouter_store_commits_total"]
    assert samples["taskrouter_store_commit_batch_size_sum"] == commits
    assert samples["taskrouter_outbox_depth"] == 0
    assert samples["taskrouter_deliveries_failed"] == 0
    assert (
        samples["taskrouter_store_commits_total"]
        >= samples["taskrouter_store_transactions_total"]
        > 0
    )


def test_healthz_says_store_and_engine_are_ready(server: TaskrouterServer) -> None:
    body = httpx.get(f"{server.base_url}/healthz").json()
    assert body["status"] == "ok"
    assert body["store_ready"] is True
    assert body["engine_ready"] is True


def _json_lines(server: TaskrouterServer) -> list[dict[str, Any]]:
    assert server.stderr_path is not None
    lines = server.stderr_path.read_text().splitlines()
    assert lines, "the server logged nothing"
    return [json.loads(line) for line in lines]  # every line must be one JSON object


def test_json_logs_name_the_workspace_task_and_reservation(
    server: TaskrouterServer, worked: tuple[Workspace, str, str]
) -> None:
    ws, task, reservation = worked
    lines = _json_lines(server)
    accepted = [
        line
        for line in lines
        if line.get("logger") == "taskrouter.access" and line.get("reservation_sid") == reservation
    ]
    assert accepted, lines[-5:]
    assert accepted[0]["workspace_sid"] == ws.sid
    assert accepted[0]["task_sid"] == task
    assert accepted[0]["status"] == 200
    fetched = [
        line
        for line in lines
        if line.get("route") == "/v1/Workspaces/{WorkspaceSid}/Tasks/{Sid}"
        and line.get("task_sid") == task
    ]
    assert fetched and all(line["workspace_sid"] == ws.sid for line in fetched)


def test_the_server_audits_itself_and_counts_findings(database_url: str, tmp_path: Path) -> None:
    account = new_account()
    server = TaskrouterServer(database_url, workdir=tmp_path, account=account, env=JSON_LOGS)
    server.start()
    api = Api(server.base_url, account)
    try:
        ws = make_workspace(api, "audited")
        task = api.post(f"{ws.path}/Tasks")["sid"]
        (reservation,) = api.get(f"{ws.path}/Tasks/{task}/Reservations")["reservations"]
        api.post(
            f"{ws.path}/Tasks/{task}/Reservations/{reservation['sid']}",
            ReservationStatus="accepted",
        )
    finally:
        api.close()
    server.stop()
    corrupt(database_url, second_acceptance(task, ws.workers))
    server.env["TASKROUTER_AUDIT_INTERVAL"] = "0.1"
    server.start()
    try:
        name = 'taskrouter_audit_findings_total{kind="double_assignment"}'
        deadline = time.monotonic() + 20
        samples: dict[str, float] = {}
        while time.monotonic() < deadline and name not in samples:
            samples = _samples(httpx.get(f"{server.base_url}/metrics").text)
            time.sleep(0.05)  # polling for the audit loop, not waiting out a duration
        assert samples.get(name, 0) >= 1, "the audit did not run or did not count"
        found = [line for line in _json_lines(server) if line.get("kind") == "double_assignment"]
        assert found[0]["level"] == "warning"
        assert found[0]["workspace_sid"] == ws.sid
        assert found[0]["task_sid"] == task
    finally:
        server.stop()
