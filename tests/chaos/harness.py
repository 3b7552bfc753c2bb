"""The chaos run: load from several clients while the server is killed and restarted.

Used by tests/chaos (short) and bench/soak.py (as long as you like). Several client threads
create tasks and answer reservations (accept, reject, or leave them to time out) and complete
assigned tasks; meanwhile the server is SIGKILLed at random moments and started again on the
same database and port, and on PostgreSQL its connections are cut under it. Afterwards,
with the server stopped, `verify` reads the database itself and checks what must hold.
"""

from __future__ import annotations

import json
import random
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from events.events_harness import Receiver
from support.http_api import Api, make_workspace
from support.server import TaskrouterServer, new_account, run_cli

ACCEPTED_ONCE = ("accepted", "wrapping", "completed")
LIVE = ("pending", "reserved", "assigned", "wrapping")


@dataclass
class ChaosReport:
    seconds: float = 0.0
    kills: int = 0
    live_tasks_at_kill: list[int] = field(default_factory=list)
    requests_in_flight_at_kill: list[int] = field(default_factory=list)
    connection_cuts: int = 0
    connections_cut: int = 0
    # Commits whose database connection died under them and that the store applied again.
    commits_retried: int = 0
    # Findings of the server's own audit (every second) during the run.
    audit_findings: int = 0
    tasks_answered: int = 0
    requests: Counter[str] = field(default_factory=Counter)
    server_errors: list[str] = field(default_factory=list)
    events_logged: int = 0
    events_received: int = 0
    problems: list[str] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        return {
            "seconds": round(self.seconds, 1),
            "kills": self.kills,
            "live_tasks_at_kill": self.live_tasks_at_kill,
            "requests_in_flight_at_kill": self.requests_in_flight_at_kill,
            "connection_cuts": self.connection_cuts,
            "connections_cut": self.connections_cut,
            "commits_retried": self.commits_retried,
            "audit_findings": self.audit_findings,
            "tasks_answered": self.tasks_answered,
            "requests": dict(self.requests),
            "server_errors": len(self.server_errors),
            "events_logged": self.events_logged,
            "events_received": self.events_received,
            "problems": self.problems,
        }


class _Load:
    """The client threads and what they saw."""

    def __init__(self, base_url: str, auth: tuple[str, str], ws_path: str, workers: list[str]):
        self.base_url = base_url
        self.auth = auth
        self.ws_path = ws_path
        self.workers = workers
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.answered: set[str] = set()
        self.requests: Counter[str] = Counter()
        self.server_errors: list[str] = []
        self.in_flight = 0

    def run(self, clients: int, seed: int) -> list[threading.Thread]:
        threads = [
            threading.Thread(target=self._client, args=(random.Random(seed + i),), daemon=True)
            for i in range(clients)
        ]
        for thread in threads:
            thread.start()
        return threads

    def _call(self, http: httpx.Client, op: str, method: str, path: str, **form: str) -> Any:
        with self.lock:
            self.in_flight += 1
        try:
            response = http.request(method, path, data=form or None)
        except httpx.TransportError:
            with self.lock:
                self.requests["transport_error"] += 1
            time.sleep(0.05)  # the server is down: give it a moment to come back
            return None
        finally:
            with self.lock:
                self.in_flight -= 1
        with self.lock:
            self.requests[op] += 1
            if response.status_code >= 500:
                self.server_errors.append(f"{method} {path} {response.status_code} {response.text}")
        return response

    def _client(self, rng: random.Random) -> None:
        with httpx.Client(base_url=self.base_url, auth=self.auth, timeout=10) as http:
            while not self.stop.is_set():
                roll = rng.random()
                if roll < 0.35:
                    self._create(http, rng)
                elif roll < 0.85:
                    self._answer(http, rng)
                else:
                    self._complete(http, rng)

    def _create(self, http: httpx.Client, rng: random.Random) -> None:
        attributes = json.dumps({"n": rng.randrange(1_000_000)})
        response = self._call(
            http, "create", "POST", f"{self.ws_path}/Tasks", Attributes=attributes
        )
        if response is not None and response.status_code == 201:
            with self.lock:
                self.answered.add(response.json()["sid"])

    def _answer(self, http: httpx.Client, rng: random.Random) -> None:
        worker = rng.choice(self.workers)
        path = f"{self.ws_path}/Workers/{worker}/Reservations"
        response = self._call(http, "list", "GET", path, ReservationStatus="pending")
        if response is None or response.status_code != 200:
            return
        pending = response.json()["reservations"]
        if not pending:
            return
        roll = rng.random()
        if roll < 0.2:
            return  # left alone: it times out
        status = "accepted" if roll < 0.8 else "rejected"
        self._call(http, status, "POST", f"{path}/{pending[0]['sid']}", ReservationStatus=status)

    def _complete(self, http: httpx.Client, rng: random.Random) -> None:
        response = self._call(
            http, "list", "GET", f"{self.ws_path}/Tasks", AssignmentStatus="assigned", PageSize="20"
        )
        if response is None or response.status_code != 200:
            return
        tasks = response.json()["tasks"]
        if tasks:
            task = rng.choice(tasks)["sid"]
            self._call(
                http,
                "complete",
                "POST",
                f"{self.ws_path}/Tasks/{task}",
                AssignmentStatus="completed",
                Reason="chaos",
            )


def _live_tasks(server: TaskrouterServer) -> int:
    try:
        text = httpx.get(f"{server.base_url}/metrics", timeout=5).text
    except httpx.HTTPError:
        return -1
    total = 0
    for line in text.splitlines():
        for status in LIVE:
            if line.startswith(f'taskrouter_tasks{{status="{status}"}}'):
                total += int(float(line.rsplit(" ", 1)[1]))
    return total


def _outbox_depth(server: TaskrouterServer) -> float:
    text = httpx.get(f"{server.base_url}/metrics", timeout=5).text
    for line in text.splitlines():
        if line.startswith("taskrouter_outbox_depth "):
            return float(line.rsplit(" ", 1)[1])
    return -1.0


def cut_postgres_connections(database_url: str) -> int:
    """Terminate every PostgreSQL backend serving `database_url`'s database, the way a
    database restart or a network cut ends them; returns how many were ended."""
    import asyncio

    import asyncpg  # type: ignore[import-untyped]

    database = database_url.rsplit("/", 1)[-1]
    admin = database_url.rsplit("/", 1)[0] + "/postgres"

    async def cut() -> int:
        conn = await asyncpg.connect(admin.replace("postgresql+asyncpg", "postgresql"))
        try:
            rows = await conn.fetch(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = $1 AND pid <> pg_backend_pid()",
                database,
            )
        finally:
            await conn.close()
        return sum(1 for r in rows if r[0])

    return asyncio.run(cut())


def run_chaos(
    database_url: str,
    workdir: Path,
    *,
    seconds: float,
    kills: int,
    clients: int = 4,
    workers: int = 6,
    seed: int = 10,
    cut_connections: bool = False,
) -> ChaosReport:
    report = ChaosReport()
    rng = random.Random(seed)
    account = new_account()
    receiver = Receiver().start()
    server = TaskrouterServer(
        database_url,
        workdir=workdir,
        account=account,
        env={
            # Redeliveries after a restart should not wait minutes in a short run.
            "TASKROUTER_CALLBACK_RETRY_BASE_MS": "100",
            "TASKROUTER_CALLBACK_RETRY_MAX_MS": "1000",
            "TASKROUTER_AUDIT_INTERVAL": "1",
        },
    )
    server.start()
    started = time.monotonic()
    try:
        api = Api(server.base_url, account)
        ws = make_workspace(
            api,
            "chaos",
            workers=workers,
            reservation_timeout=1,
            event_callback_url=receiver.url(),
        )
        api.close()
        load = _Load(server.base_url, (account.sid, account.secret), ws.path, ws.workers)
        threads = load.run(clients, seed)
        # Kills and cuts spread over the run at random moments.
        faults = ["kill"] * kills + (["cut"] * max(1, kills // 2) if cut_connections else [])
        rng.shuffle(faults)
        gap = seconds / (len(faults) + 1)
        for fault in faults:
            time.sleep(rng.uniform(0.5 * gap, 1.5 * gap))
            if fault == "kill":
                report.live_tasks_at_kill.append(_live_tasks(server))
                with load.lock:
                    report.requests_in_flight_at_kill.append(load.in_flight)
                server.kill()
                report.kills += 1
                server.start()
            else:
                report.connections_cut += cut_postgres_connections(database_url)
                report.connection_cuts += 1
        time.sleep(gap)
        load.stop.set()
        for thread in threads:
            thread.join(30)
        report.requests = load.requests
        report.server_errors = load.server_errors
        report.tasks_answered = len(load.answered)
        # Every event must reach the receiver: wait for the outbox to drain.
        deadline = time.monotonic() + 60
        while _outbox_depth(server) != 0 and time.monotonic() < deadline:
            time.sleep(0.1)
        server.stop()
        report.seconds = time.monotonic() - started
        logs = [log.read_text(errors="replace") for log in workdir.glob("server-*.stderr.log")]
        report.commits_retried = sum(text.count("retried after reconnecting") for text in logs)
        report.audit_findings = sum(text.count("audit: ") for text in logs)
        if report.audit_findings:
            report.problems.append(
                f"the server's audit found {report.audit_findings} broken invariants under load"
            )
        verify(database_url, ws.sid, load.answered, receiver, report)
    finally:
        server.kill()
        receiver.stop()
    return report


def verify(
    database_url: str,
    workspace_sid: str,
    answered: set[str],
    receiver: Receiver,
    report: ChaosReport,
) -> None:
    """Read the stopped server's database and note every broken promise in `report`."""
    import asyncio

    from taskrouter.store import open_store

    async def rows() -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
        store = open_store(database_url)
        await store.open()
        try:
            return (
                await store.load("tasks"),
                await store.load("reservations"),
                await store.query("events", {"workspace_sid": workspace_sid}),
            )
        finally:
            await store.close()

    tasks, reservations, events = asyncio.run(rows())
    problems = report.problems
    stored = {t["sid"]: t["body"] for t in tasks}
    lost = answered - stored.keys()
    if lost:
        problems.append(f"{len(lost)} tasks answered 201 are missing: {sorted(lost)[:5]}")
    accepted: Counter[str] = Counter()
    for r in reservations:
        body = r["body"]
        if body["reservation_status"] in ACCEPTED_ONCE:
            accepted[body["task_sid"]] += 1
        task = stored.get(body["task_sid"])
        if task is None:
            problems.append(f"reservation {r['sid']} has no task")
            continue
        if body["reservation_status"] == "pending" and task["assignment_status"] != "reserved":
            problems.append(
                f"reservation {r['sid']} pending but task {task['sid']} is not reserved"
            )
        if body["reservation_status"] == "accepted" and task["assignment_status"] != "assigned":
            problems.append(
                f"reservation {r['sid']} accepted but task is {task['assignment_status']}"
            )
    twice = [sid for sid, n in accepted.items() if n > 1]
    if twice:
        problems.append(f"{len(twice)} tasks assigned more than once: {twice[:5]}")
    logged = {e["sid"] for e in events}
    received = {r.form["Sid"] for r in receiver.events(workspace_sid)}
    report.events_logged = len(logged)
    report.events_received = len(received & logged)
    missing = logged - received
    if missing:
        kinds = Counter(e["event_type"] for e in events if e["sid"] in missing)
        problems.append(
            f"{len(missing)} of {len(logged)} events never reached the receiver: {dict(kinds)}"
        )
    check = run_cli("check", "--json", database_url=database_url, check=False)
    if check.returncode != 0:
        problems.append(f"taskrouter check: {check.stdout[:2000]} {check.stderr[-2000:]}")
    if report.server_errors:
        problems.append(f"{len(report.server_errors)} 5xx answers: {report.server_errors[:3]}")
