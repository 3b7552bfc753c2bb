"""A thin Twilio-face HTTP client for tests that need many plain calls quickly.

The official client (support.twilio_client) is the reference for compatibility; this one is
for tests that drive load or set up state, where its per-call cost and its retries get in
the way. Calls raise `ApiError` on any status >= 400 unless told which statuses to accept.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import httpx

from support.server import Credentials


class ApiError(AssertionError):
    def __init__(self, response: httpx.Response) -> None:
        super().__init__(
            f"{response.request.method} {response.request.url.path} -> {response.status_code}:"
            f" {response.text[:300]}"
        )
        self.response = response


class Api:
    def __init__(self, base_url: str, creds: Credentials, *, timeout: float = 10.0) -> None:
        self.http = httpx.Client(base_url=base_url, auth=(creds.sid, creds.secret), timeout=timeout)

    def close(self) -> None:
        self.http.close()

    def call(
        self, method: str, path: str, accept: tuple[int, ...] = (), **params: Any
    ) -> httpx.Response:
        form = {k: _text(v) for k, v in params.items() if v is not None}
        if method == "GET":
            response = self.http.get(path, params=form)
        else:
            response = self.http.request(method, path, data=form or None)
        if response.status_code >= 400 and response.status_code not in accept:
            raise ApiError(response)
        return response

    def post(self, path: str, **params: Any) -> dict[str, Any]:
        body: dict[str, Any] = self.call("POST", path, **params).json()
        return body

    def get(self, path: str, **params: Any) -> dict[str, Any]:
        body: dict[str, Any] = self.call("GET", path, **params).json()
        return body


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value)
    return str(value)


@dataclass
class Workspace:
    """A workspace made by `make_workspace`: its sid and the sids of what it holds."""

    sid: str
    queue_sid: str
    workflow_sid: str
    activities: dict[str, str]
    workers: list[str]

    @property
    def path(self) -> str:
        return f"/v1/Workspaces/{self.sid}"


def make_workspace(
    api: Api,
    name: str,
    *,
    workers: int = 2,
    multi_task: bool = False,
    reservation_timeout: int | None = None,
    available: bool = True,
    event_callback_url: str | None = None,
) -> Workspace:
    """A workspace from the FIFO template (one queue taking everyone, one workflow) with
    `workers` workers, Available unless told otherwise."""
    ws = api.post(
        "/v1/Workspaces",
        FriendlyName=name,
        Template="FIFO",
        MultiTaskEnabled=multi_task,
        EventCallbackUrl=event_callback_url,
    )
    path = f"/v1/Workspaces/{ws['sid']}"
    activities = {a["friendly_name"]: a["sid"] for a in api.get(f"{path}/Activities")["activities"]}
    queue = api.get(f"{path}/TaskQueues")["task_queues"][0]["sid"]
    workflow = api.get(f"{path}/Workflows")["workflows"][0]["sid"]
    if reservation_timeout is not None:
        api.post(f"{path}/Workflows/{workflow}", TaskReservationTimeout=reservation_timeout)
    sids = [
        api.post(
            f"{path}/Workers",
            FriendlyName=f"{name}-worker-{i}",
            ActivitySid=activities["Available" if available else "Offline"],
        )["sid"]
        for i in range(workers)
    ]
    return Workspace(ws["sid"], queue, workflow, activities, sids)
