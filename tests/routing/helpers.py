"""Shared machinery of the routing scenario tests.

- `ClockedServer`: `python -m support.clocked_server` as a subprocess, whose clock only moves
  when a test says so (`advance`), and which can be SIGKILLed and started again on the same
  database at a chosen clock value.
- `World`: one workspace on such a server, driven through the official twilio-python client.
  Every write the client makes (each POST and DELETE) and every clock move is followed by
  `check_invariants`, which asks the engine's own audit (`GET /_test/audit`) AND re-derives the
  invariants from the public API alone, so the audit is cross-checked:
    1. a worker never holds more active reservations than its capacity (per channel when
       multitasking, one task at a time when single-tasking; direct-to-worker tasks that
       ignore capacity excepted), and the channels' `assigned_tasks` and
       `available_capacity_percentage` agree with the reservations;
    2. a task never has two accepted reservations, and never two open ones for one worker;
    3. no task is pending while an eligible, available worker with capacity sits idle
       (judged from queue membership, activity, channel capacity and availability, and who
       declined the task; tasks in a target with an `expression` or known worker are left to
       the engine's audit, since judging them would need the expression engine under test);
    4. every reservation reads the same through its task and through its worker, and its
       status agrees with its task's status.
"""

from __future__ import annotations

import itertools
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from twilio.http.response import Response
from twilio.rest import Client
from twilio.rest.taskrouter.v1.workspace import WorkspaceContext
from twilio.rest.taskrouter.v1.workspace.task import TaskInstance
from twilio.rest.taskrouter.v1.workspace.task.reservation import ReservationInstance

from support.server import Credentials, clean_env, free_port, new_account
from support.twilio_client import LocalRecordingHttpClient, Recorder

REPO_ROOT = Path(__file__).resolve().parents[2]
TESTS_DIR = REPO_ROOT / "tests"
READY_TIMEOUT = 30.0
DEFAULT_START_MS = 1_767_225_600_000  # 2026-01-01T00:00:00Z, the clocked server's default

OPEN = ("pending", "accepted", "wrapping")  # reservations that occupy capacity
_serial = itertools.count(1)


class ServerFailed(RuntimeError):
    pass


# -- the server -------------------------------------------------------------------------------


class ClockedServer:
    """One `support.clocked_server` process on 127.0.0.1 (see tests/support/clocked_server.py)."""

    def __init__(
        self, database_url: str, *, workdir: Path, account: Credentials | None = None
    ) -> None:
        self.database_url = database_url
        self.workdir = workdir
        self.account = account or new_account()
        self.port: int | None = None
        self.proc: subprocess.Popen[bytes] | None = None
        self.last_now_ms: int | None = None
        self._stderr: Path | None = None
        self.http: httpx.Client | None = None

    @property
    def base_url(self) -> str:
        assert self.port is not None, "server not started"
        return f"http://127.0.0.1:{self.port}"

    def start(self, start_ms: int | None = None) -> ClockedServer:
        assert self.proc is None or self.proc.poll() is not None, "already running"
        self.port = free_port()
        self.workdir.mkdir(parents=True, exist_ok=True)
        n = next(_serial)
        self._stderr = self.workdir / f"clocked-{n}.stderr.log"
        command = [
            sys.executable,
            "-m",
            "support.clocked_server",
            "--port",
            str(self.port),
            "--database",
            self.database_url,
        ]
        if start_ms is not None:
            command += ["--start-ms", str(start_ms)]
        pythonpath = os.pathsep.join(
            p for p in (str(TESTS_DIR), os.environ.get("PYTHONPATH", "")) if p
        )
        env = clean_env(
            {
                "PYTHONPATH": pythonpath,
                "TASKROUTER_ACCOUNT_SID": self.account.sid,
                "TASKROUTER_AUTH_TOKEN": self.account.secret,
            }
        )
        stdout = self.workdir / f"clocked-{n}.stdout.log"
        with stdout.open("wb") as out, self._stderr.open("wb") as err:
            self.proc = subprocess.Popen(
                command,
                stdout=out,
                stderr=err,
                stdin=subprocess.DEVNULL,
                cwd=REPO_ROOT,
                env=env,
            )
        self._wait_ready()
        self.http = httpx.Client(
            base_url=self.base_url,
            auth=(self.account.sid, self.account.secret),
            timeout=30.0,
        )
        # No clock call here: a restarted server must fire overdue deadlines by itself.
        self.last_now_ms = start_ms
        return self

    def _wait_ready(self) -> None:
        assert self.proc is not None
        deadline = time.monotonic() + READY_TIMEOUT
        last: object = None
        while time.monotonic() < deadline:  # polling for readiness only
            if self.proc.poll() is not None:
                raise ServerFailed(f"clocked server exited {self.proc.returncode}\n{self.logs()}")
            try:
                response = httpx.get(f"{self.base_url}/healthz", timeout=2.0)
                if response.status_code == 200:
                    return
                last = response.status_code
            except httpx.HTTPError as exc:
                last = exc
            time.sleep(0.05)
        self.kill()
        raise ServerFailed(f"clocked server not ready ({last!r})\n{self.logs()}")

    def logs(self) -> str:
        if self._stderr is None or not self._stderr.exists():
            return ""
        return self._stderr.read_text(errors="replace")[-20_000:]

    def _close_http(self) -> None:
        if self.http is not None:
            self.http.close()
            self.http = None

    def kill(self) -> None:
        """SIGKILL, as a crash would."""
        self._close_http()
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(30)

    def stop(self) -> None:
        self._close_http()
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.kill()

    # The test clock.

    def _clock(self, body: dict[str, int]) -> int:
        assert self.http is not None
        response = self.http.post("/_test/clock", json=body)
        assert response.status_code == 200, f"clock move failed: {response.text}\n{self.logs()}"
        now = int(response.json()["now_ms"])
        self.last_now_ms = now
        return now

    def now_ms(self) -> int:
        return self._clock({"advance_ms": 0})

    def advance_ms(self, ms: int) -> int:
        return self._clock({"advance_ms": ms})

    def audit(self) -> dict[str, list[str]]:
        assert self.http is not None
        response = self.http.get("/_test/audit")
        assert response.status_code == 200, response.text
        findings: dict[str, list[str]] = response.json()["findings"]
        return findings


# -- the client -------------------------------------------------------------------------------


class CheckingHttpClient(LocalRecordingHttpClient):
    """Records and spec-checks every exchange; after each write, runs `after_write`."""

    def __init__(self, base_url: str, recorder: Recorder) -> None:
        super().__init__(base_url, recorder)
        self.after_write: Callable[[], None] | None = None

    def request(  # type: ignore[override]
        self,
        method: str,
        url: str,
        params: dict[str, object] | None = None,
        data: dict[str, object] | None = None,
        headers: dict[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        timeout: float | None = None,
        allow_redirects: bool = False,
    ) -> Response:
        response = super().request(
            method,
            url,
            params=params,
            data=data,
            headers=headers,
            auth=auth,
            timeout=timeout,
            allow_redirects=allow_redirects,
        )
        if method.upper() in ("POST", "DELETE") and self.after_write is not None:
            self.after_write()
        return response


def make_checking_client(server: ClockedServer) -> tuple[Client, CheckingHttpClient]:
    recorder = Recorder(public_base=server.base_url)
    http_client = CheckingHttpClient(server.base_url, recorder)
    sid = server.account.sid
    client = Client(
        sid, server.account.secret, http_client=http_client, environment={"TWILIO_ACCOUNT_SID": sid}
    )
    client.taskrouter.base_url = server.base_url
    return client, http_client


# -- one workspace ------------------------------------------------------------------------------


def etag_of(headers: dict[str, str]) -> str | None:
    """The ETag of a `*_with_http_info` answer (twilio-python keeps the header names as sent)."""
    return next((v for k, v in headers.items() if k.lower() == "etag"), None)


def iso(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=UTC)


def config(
    filters: list[dict[str, Any]] | None = None, default: dict[str, Any] | None = None
) -> str:
    """A workflow Configuration string."""
    routing: dict[str, Any] = {"filters": filters or []}
    if default is not None:
        routing["default_filter"] = default
    return json.dumps({"task_routing": routing})


@dataclass
class Snapshot:
    """The workspace as the public API shows it, read in one go."""

    tasks: dict[str, dict[str, Any]] = field(default_factory=dict)
    workers: dict[str, dict[str, Any]] = field(default_factory=dict)
    activities: dict[str, dict[str, Any]] = field(default_factory=dict)
    workflows: dict[str, dict[str, Any]] = field(default_factory=dict)
    task_reservations: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    worker_reservations: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    worker_channels: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    queue_members: dict[str, set[str]] = field(default_factory=dict)


class World:
    """One workspace on a clocked server, with invariants checked after every step."""

    def __init__(
        self,
        server: ClockedServer,
        *,
        multi_task: bool = True,
        prioritize_queue_order: str | None = None,
        name: str = "routing",
        workspace_sid: str | None = None,
    ) -> None:
        """A new workspace, or (with `workspace_sid`) one that exists on the server."""
        self.server = server
        self.client, self.http_client = make_checking_client(server)
        self.checks = 0
        self.checking = False  # off while the workspace is being built
        workspaces = self.client.taskrouter.v1.workspaces
        if workspace_sid is None:
            options: dict[str, Any] = {}
            if prioritize_queue_order:
                options["prioritize_queue_order"] = prioritize_queue_order
            created = workspaces.create(
                friendly_name=name, multi_task_enabled=multi_task, **options
            )
            assert created.sid is not None
            workspace_sid = created.sid
        self.sid: str = workspace_sid
        self.ws: WorkspaceContext = workspaces(self.sid)
        self.multi_task = bool(self.ws.fetch().multi_task_enabled)
        self.activity = {a.friendly_name: a.sid for a in self.ws.activities.list()}
        self.channel = {c.unique_name: c.sid for c in self.ws.task_channels.list()}
        self.http_client.after_write = self._after_write
        self.checking = True

    @property
    def recorder(self) -> Recorder:
        return self.http_client.recorder

    # Building.

    def add_activity(self, name: str, *, available: bool) -> str:
        activity = self.ws.activities.create(friendly_name=name, available=available)
        assert activity.sid is not None
        self.activity[name] = activity.sid
        return activity.sid

    def queue(self, name: str, target_workers: str = "1==1", **kwargs: Any) -> str:
        queue = self.ws.task_queues.create(
            friendly_name=name, target_workers=target_workers, **kwargs
        )
        assert queue.sid is not None
        return queue.sid

    def workflow(
        self,
        configuration: str,
        *,
        name: str = "flow",
        reservation_timeout: int | None = None,
    ) -> str:
        kwargs: dict[str, Any] = {}
        if reservation_timeout is not None:
            kwargs["task_reservation_timeout"] = reservation_timeout
        workflow = self.ws.workflows.create(
            friendly_name=name, configuration=configuration, **kwargs
        )
        assert workflow.sid is not None
        return workflow.sid

    def simple_workflow(self, queue_sid: str, **kwargs: Any) -> str:
        return self.workflow(config(default={"queue": queue_sid}), **kwargs)

    def worker(
        self, name: str, attributes: dict[str, Any] | None = None, activity: str = "Available"
    ) -> str:
        worker = self.ws.workers.create(
            friendly_name=name,
            attributes=json.dumps(attributes or {}),
            activity_sid=self.activity[activity],
        )
        assert worker.sid is not None
        return worker.sid

    def task(self, attributes: dict[str, Any] | None = None, **kwargs: Any) -> str:
        task = self.ws.tasks.create(attributes=json.dumps(attributes or {}), **kwargs)
        assert task.sid is not None
        return task.sid

    # Reading.

    def fetch(self, task_sid: str) -> TaskInstance:
        return self.ws.tasks(task_sid).fetch()

    def status(self, task_sid: str) -> str:
        status = self.fetch(task_sid).assignment_status
        return str(status)

    def reservations(self, task_sid: str, status: str | None = None) -> list[ReservationInstance]:
        kwargs = {"reservation_status": status} if status else {}
        return list(self.ws.tasks(task_sid).reservations.list(**kwargs))

    def only_pending(self, task_sid: str) -> ReservationInstance:
        pending = self.reservations(task_sid, "pending")
        assert len(pending) == 1, f"task {task_sid}: {len(pending)} pending reservations"
        return pending[0]

    def reserved_worker(self, task_sid: str) -> str:
        worker_sid = self.only_pending(task_sid).worker_sid
        assert worker_sid is not None
        return worker_sid

    def activity_of(self, worker_sid: str) -> str:
        return str(self.ws.workers(worker_sid).fetch().activity_name)

    def accept(self, task_sid: str) -> str:
        """Accept the task's one pending reservation; returns the worker's sid."""
        reservation = self.only_pending(task_sid)
        self.ws.tasks(task_sid).reservations(reservation.sid).update(reservation_status="accepted")
        assert reservation.worker_sid is not None
        return reservation.worker_sid

    def reject(self, task_sid: str, **kwargs: Any) -> str:
        reservation = self.only_pending(task_sid)
        self.ws.tasks(task_sid).reservations(reservation.sid).update(
            reservation_status="rejected", **kwargs
        )
        assert reservation.worker_sid is not None
        return reservation.worker_sid

    def complete(self, task_sid: str, reason: str = "done") -> None:
        self.ws.tasks(task_sid).update(assignment_status="completed", reason=reason)

    def set_activity(self, worker_sid: str, activity: str, **kwargs: Any) -> None:
        self.ws.workers(worker_sid).update(activity_sid=self.activity[activity], **kwargs)

    def set_channel(self, worker_sid: str, channel: str, **kwargs: Any) -> None:
        self.ws.workers(worker_sid).worker_channels(channel).update(**kwargs)

    # Time.

    def now_ms(self) -> int:
        return self.server.now_ms()

    def advance(self, seconds: float) -> int:
        """Move the server's clock (firing every deadline due), then check the invariants."""
        now = self.server.advance_ms(int(seconds * 1000))
        self._after_write()
        return now

    # Invariants.

    @contextmanager
    def unchecked(self, *, check_after: bool = True) -> Iterator[None]:
        """Skip the per-step checks inside (bulk set-up); by default checks once at the end."""
        self.checking = False
        try:
            yield
        finally:
            self.checking = True
        if check_after:
            self.check_invariants()

    def _after_write(self) -> None:
        if self.checking:
            self.check_invariants()

    def _get(self, path: str, **params: Any) -> list[dict[str, Any]]:
        """Every item of a list resource, following the pages."""
        http = self.server.http
        assert http is not None
        url: str | None = f"/v1/Workspaces/{self.sid}/{path}"
        query: dict[str, Any] | None = {"PageSize": 1000, **params}
        items: list[dict[str, Any]] = []
        while url is not None:
            response = http.get(url, params=query)
            assert response.status_code == 200, f"GET {url}: {response.status_code} {response.text}"
            body = response.json()
            items.extend(body[body["meta"]["key"]])
            url, query = body["meta"]["next_page_url"], None
        return items

    def snapshot(self) -> Snapshot:
        snap = Snapshot()
        snap.tasks = {t["sid"]: t for t in self._get("Tasks")}
        snap.workers = {w["sid"]: w for w in self._get("Workers")}
        snap.activities = {a["sid"]: a for a in self._get("Activities")}
        snap.workflows = {w["sid"]: w for w in self._get("Workflows")}
        # Nothing moves between these reads: the clock stands still and no one else writes.
        paths = [f"Tasks/{sid}/Reservations" for sid in snap.tasks]
        for sid in snap.workers:
            paths += [f"Workers/{sid}/Reservations", f"Workers/{sid}/Channels"]
        if len(paths) > 32:
            with ThreadPoolExecutor(8) as pool:
                lists = dict(zip(paths, pool.map(self._get, paths), strict=True))
        else:
            lists = {path: self._get(path) for path in paths}
        for sid in snap.tasks:
            snap.task_reservations[sid] = lists[f"Tasks/{sid}/Reservations"]
        for sid in snap.workers:
            snap.worker_reservations[sid] = lists[f"Workers/{sid}/Reservations"]
            snap.worker_channels[sid] = lists[f"Workers/{sid}/Channels"]
        for queue_sid in {t["task_queue_sid"] for t in snap.tasks.values()} - {None}:
            snap.queue_members[queue_sid] = {
                w["sid"] for w in self._get("Workers", TaskQueueSid=queue_sid)
            }
        return snap

    def check_invariants(self) -> None:
        self.checks += 1
        findings = self.server.audit().get(self.sid, [])
        assert not findings, "the engine's own audit found:\n" + "\n".join(findings)
        problems = invariant_problems(self.snapshot(), multi_task=self.multi_task)
        assert not problems, "invariants broken (public API):\n" + "\n".join(problems)


# -- the invariants, from the public API alone --------------------------------------------------


def _ignores_capacity(task: dict[str, Any] | None, worker_sid: str) -> bool:
    return (
        task is not None
        and task.get("routing_target") == worker_sid
        and task.get("ignore_capacity") is not False
    )


def _plain_queue(snap: Snapshot, task: dict[str, Any]) -> bool:
    """True when every workflow target that can hold the task in its queue takes any member
    (no target expression, no known worker), so any idle member could take it."""
    queue_sid = task["task_queue_sid"]
    if task.get("routing_target") == queue_sid:
        return True
    workflow = snap.workflows.get(task.get("workflow_sid") or "")
    if workflow is None:
        return False
    routing = json.loads(workflow["configuration"]).get("task_routing", {})
    targets: list[dict[str, Any]] = []
    for filter_ in routing.get("filters", []):
        inherited = None
        for target in filter_.get("targets", []):
            inherited = target.get("queue", inherited)
            targets.append({**target, "queue": inherited})
    if routing.get("default_filter"):
        targets.append(routing["default_filter"])
    for target in targets:
        if target.get("queue") != queue_sid:
            continue
        if any(
            k in target for k in ("expression", "known_worker_sid", "known_worker_friendly_name")
        ):
            return False
    return True


def invariant_problems(snap: Snapshot, *, multi_task: bool) -> list[str]:
    problems: list[str] = []
    by_sid: dict[str, dict[str, Any]] = {}
    # 4. The two views of every reservation agree, and agree with their task.
    for task_sid, reservations in snap.task_reservations.items():
        for r in reservations:
            if r["task_sid"] != task_sid:
                problems.append(
                    f"reservation {r['sid']} listed under task {task_sid} names {r['task_sid']}"
                )
            by_sid[r["sid"]] = r
    seen_from_workers: set[str] = set()
    for worker_sid, reservations in snap.worker_reservations.items():
        for r in reservations:
            seen_from_workers.add(r["sid"])
            if r["worker_sid"] != worker_sid:
                problems.append(
                    f"reservation {r['sid']} listed under worker {worker_sid}"
                    f" names {r['worker_sid']}"
                )
            twin = by_sid.get(r["sid"])
            if twin is None:
                problems.append(
                    f"reservation {r['sid']} of worker {worker_sid} is not under its task"
                    f" {r['task_sid']}"
                )
            elif (twin["reservation_status"], twin["task_sid"], twin["worker_sid"]) != (
                r["reservation_status"],
                r["task_sid"],
                r["worker_sid"],
            ):
                problems.append(
                    f"reservation {r['sid']} reads {twin['reservation_status']} through its task"
                    f" but {r['reservation_status']} through its worker"
                )
    for r in by_sid.values():
        if r["worker_sid"] in snap.workers and r["sid"] not in seen_from_workers:
            problems.append(
                f"reservation {r['sid']} of task {r['task_sid']} is not under worker"
                f" {r['worker_sid']}"
            )
    for task_sid, task in snap.tasks.items():
        status = task["assignment_status"]
        reservations = snap.task_reservations[task_sid]
        count = {s: 0 for s in ("pending", "accepted", "wrapping", "completed")}
        for r in reservations:
            if r["reservation_status"] in count:
                count[r["reservation_status"]] += 1
        # 2. Never two accepted reservations.
        if count["accepted"] + count["wrapping"] + count["completed"] > 1:
            problems.append(f"task {task_sid} has {count} accepted reservations")
        open_workers = [r["worker_sid"] for r in reservations if r["reservation_status"] in OPEN]
        if len(open_workers) != len(set(open_workers)):
            problems.append(f"task {task_sid} has two open reservations for one worker")
        expected = {
            "pending": count["pending"] == 0 and count["accepted"] + count["wrapping"] == 0,
            "reserved": count["pending"] >= 1 and count["accepted"] + count["wrapping"] == 0,
            "assigned": count["accepted"] == 1 and count["pending"] + count["wrapping"] == 0,
            "wrapping": count["wrapping"] == 1 and count["pending"] + count["accepted"] == 0,
            "completed": count["pending"] + count["accepted"] + count["wrapping"] == 0,
            "canceled": count["pending"] + count["accepted"] + count["wrapping"] == 0,
        }
        if not expected.get(status, False):
            problems.append(
                f"task {task_sid} is {status} but its reservations are"
                f" {[r['reservation_status'] for r in reservations]}"
            )
    # 1. Capacity, and the channels' own counters.
    active: dict[str, dict[str, int]] = {}
    for worker_sid, reservations in snap.worker_reservations.items():
        per_channel = active.setdefault(worker_sid, {})
        counted = 0
        for r in reservations:
            task = snap.tasks.get(r["task_sid"])
            if r["reservation_status"] not in OPEN or task is None:
                continue
            channel = task["task_channel_sid"]
            per_channel[channel] = per_channel.get(channel, 0) + 1
            if not _ignores_capacity(task, worker_sid):
                counted += 1
        if not multi_task and counted > 1:
            problems.append(
                f"worker {worker_sid} holds {counted} tasks in a single-tasking workspace"
            )
        for wc in snap.worker_channels[worker_sid]:
            channel = wc["task_channel_sid"]
            held = [
                r
                for r in reservations
                if r["reservation_status"] in OPEN
                and (snap.tasks.get(r["task_sid"]) or {}).get("task_channel_sid") == channel
            ]
            limited = [
                r for r in held if not _ignores_capacity(snap.tasks[r["task_sid"]], worker_sid)
            ]
            capacity = wc["configured_capacity"]
            if multi_task and len(limited) > capacity:
                problems.append(
                    f"worker {worker_sid} holds {len(limited)} reservations on channel"
                    f" {wc['task_channel_unique_name']} over its capacity {capacity}"
                )
            accepted = sum(1 for r in held if r["reservation_status"] in ("accepted", "wrapping"))
            if wc["assigned_tasks"] != accepted:
                problems.append(
                    f"worker {worker_sid} channel {wc['task_channel_unique_name']} shows"
                    f" assigned_tasks {wc['assigned_tasks']} but holds {accepted} accepted"
                )
            free = max(capacity - len(held), 0)
            percentage = free * 100 // capacity if capacity > 0 else 0
            if wc["available_capacity_percentage"] != percentage:
                problems.append(
                    f"worker {worker_sid} channel {wc['task_channel_unique_name']} shows"
                    f" available_capacity_percentage {wc['available_capacity_percentage']},"
                    f" expected {percentage}"
                )
    # 3. No pending task while an eligible worker sits idle.
    for task_sid, task in snap.tasks.items():
        if task["assignment_status"] != "pending":
            continue
        declined = {
            r["worker_sid"]
            for r in snap.task_reservations[task_sid]
            if r["reservation_status"] in ("rejected", "timeout")
        }
        channel = task["task_channel_sid"]
        target = task.get("routing_target") or ""
        if target.startswith("WK"):
            worker = snap.workers.get(target)
            if worker is None or target in declined:
                continue
            if task.get("ignore_capacity") is not False or _can_take(
                snap, target, channel, multi_task, active
            ):
                problems.append(f"task {task_sid} waits although its worker {target} could take it")
            continue
        queue_sid = task["task_queue_sid"]
        if queue_sid is None or not _plain_queue(snap, task):
            continue
        for worker_sid in sorted(snap.queue_members.get(queue_sid, set()) - declined):
            if _can_take(snap, worker_sid, channel, multi_task, active):
                problems.append(
                    f"task {task_sid} is pending in queue {queue_sid} while worker {worker_sid}"
                    " is available with capacity"
                )
                break
    return problems


def _can_take(
    snap: Snapshot,
    worker_sid: str,
    channel_sid: str,
    multi_task: bool,
    active: dict[str, dict[str, int]],
) -> bool:
    worker = snap.workers.get(worker_sid)
    if worker is None or not snap.activities[worker["activity_sid"]]["available"]:
        return False
    held = active.get(worker_sid, {})
    if not multi_task and sum(held.values()) > 0:
        return False
    for wc in snap.worker_channels.get(worker_sid, []):
        if wc["task_channel_sid"] == channel_sid:
            return bool(wc["available"]) and held.get(channel_sid, 0) < wc["configured_capacity"]
    return False
