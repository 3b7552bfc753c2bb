"""Driving one company (a workspace) through the Twilio face to set it up and the CRM face
to work it, on a clocked server (`events.events_harness.EventServer`)."""

from __future__ import annotations

import json
import secrets
from typing import Any

import httpx

from events.events_harness import EventServer

RETENTION_DAYS = 2
DAY_MS = 86_400_000


class Company:
    """A fresh workspace with one queue taking every worker and a workflow into it."""

    def __init__(self, server: EventServer, *, reservation_timeout: int = 120) -> None:
        assert server.http is not None
        self.server = server
        self.http: httpx.Client = server.http
        created = self.twilio("POST", "/v1/Workspaces", FriendlyName=f"crm-{secrets.token_hex(4)}")
        self.sid: str = created["sid"]
        self.activity = {
            a["friendly_name"]: a["sid"]
            for a in self.twilio("GET", f"/v1/Workspaces/{self.sid}/Activities")["activities"]
        }
        self.queue = self.add_queue("Everyone", "1==1")
        self.workflow = self.twilio(
            "POST",
            f"{self.ws}/Workflows",
            FriendlyName="main",
            TaskReservationTimeout=str(reservation_timeout),
            Configuration=json.dumps(
                {"task_routing": {"filters": [], "default_filter": {"queue": self.queue}}}
            ),
        )["sid"]

    @property
    def ws(self) -> str:
        return f"/v1/Workspaces/{self.sid}"

    @property
    def co(self) -> str:
        return f"/companies/{self.sid}"

    # -- the Twilio face, for setting up -----------------------------------------------------

    def twilio(self, method: str, path: str, **form: str) -> dict[str, Any]:
        if method == "GET":
            response = self.http.get(path, params=form)
        else:
            response = self.http.request(method, path, data=form)
        assert response.status_code < 300, f"{method} {path}: {response.text}"
        return response.json() if response.content else {}

    def add_queue(self, name: str, target: str) -> str:
        queue = self.twilio(
            "POST", f"{self.ws}/TaskQueues", FriendlyName=name, TargetWorkers=target
        )
        return str(queue["sid"])

    def worker(self, name: str, available: bool = True, **attributes: Any) -> str:
        activity = self.activity["Available" if available else "Offline"]
        worker = self.twilio(
            "POST",
            f"{self.ws}/Workers",
            FriendlyName=name,
            ActivitySid=activity,
            Attributes=json.dumps(attributes),
        )
        return str(worker["sid"])

    def set_available(self, worker_sid: str, available: bool) -> None:
        activity = self.activity["Available" if available else "Offline"]
        self.twilio("POST", f"{self.ws}/Workers/{worker_sid}", ActivitySid=activity)

    def task(self, priority: int | None = None, **attributes: Any) -> str:
        form = {"Attributes": json.dumps(attributes), "WorkflowSid": self.workflow}
        if priority is not None:
            form["Priority"] = str(priority)
        # One millisecond apart, so creation order is a total order.
        self.server.advance(1)
        return str(self.twilio("POST", f"{self.ws}/Tasks", **form)["sid"])

    def twilio_task(self, sid: str) -> httpx.Response:
        return self.http.get(f"{self.ws}/Tasks/{sid}")

    def status(self, sid: str) -> str:
        return str(self.twilio("GET", f"{self.ws}/Tasks/{sid}")["assignment_status"])

    def reservations(self, task_sid: str, status: str | None = None) -> list[dict[str, Any]]:
        found = self.twilio("GET", f"{self.ws}/Tasks/{task_sid}/Reservations")["reservations"]
        return [r for r in found if status is None or r["reservation_status"] == status]

    def reserved_worker(self, task_sid: str) -> str | None:
        pending = self.reservations(task_sid, "pending")
        return str(pending[0]["worker_sid"]) if pending else None

    def accept(self, task_sid: str) -> str:
        """Accept the task's pending reservation; returns the worker."""
        (reservation,) = self.reservations(task_sid, "pending")
        self.twilio(
            "POST",
            f"{self.ws}/Tasks/{task_sid}/Reservations/{reservation['sid']}",
            ReservationStatus="accepted",
        )
        return str(reservation["worker_sid"])

    def complete(self, task_sid: str) -> None:
        self.twilio(
            "POST", f"{self.ws}/Tasks/{task_sid}", AssignmentStatus="completed", Reason="done"
        )

    def cancel(self, task_sid: str) -> None:
        self.twilio(
            "POST", f"{self.ws}/Tasks/{task_sid}", AssignmentStatus="canceled", Reason="gone"
        )

    def event_types(self, task_sid: str) -> list[str]:
        events = self.twilio("GET", f"{self.ws}/Events", TaskSid=task_sid, PageSize="1000")
        return [e["event_type"] for e in events["events"]]

    def audit(self) -> list[str]:
        """The engine's own invariant findings for this workspace (none expected)."""
        findings: list[str] = self.http.get("/_test/audit").json()["findings"].get(self.sid, [])
        return findings

    # -- the CRM face ------------------------------------------------------------------------

    def crm(
        self,
        method: str,
        path: str,
        *,
        params: Any = None,
        json_body: Any = None,
        expect: int = 200,
    ) -> Any:
        response = self.http.request(
            method,
            path if path.startswith("/") else f"{self.co}/{path}",
            params=params,
            json=json_body,
        )
        assert response.status_code == expect, (
            f"{method} {path}: {response.status_code} {response.text}"
        )
        return response.json()

    def live(self, **params: Any) -> list[dict[str, Any]]:
        data: list[dict[str, Any]] = self.crm("GET", "twilio-unterminated-tasks", params=params)[
            "data"
        ]
        return data

    def live_sids(self, **params: Any) -> list[str]:
        return [t["sid"] for t in self.live(**params)]
