"""Durability: kill -9 loses nothing that was answered; SIGTERM finishes in-flight work, exits 0.

Each test starts its own server on a fresh database (`database_url`: sqlite and postgres),
with a fixed --public-url so `url`/`links` are the same before and after a restart on
another port.
"""

from __future__ import annotations

import json
import signal
import subprocess
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import pytest
from twilio.base.exceptions import TwilioException
from twilio.rest import Client

from support.server import ServerFactory, TaskrouterServer, new_account
from support.twilio_client import RawApi, make_client, raises_twilio, recorder_of

PUBLIC = "http://taskrouter.test"


def _client(server: TaskrouterServer) -> Client:
    assert server.account is not None
    return make_client(
        server.base_url,
        server.account.sid,
        server.account.secret,
        public_base=server.public_base,
    )


def _raw(server: TaskrouterServer) -> RawApi:
    assert server.account is not None
    return RawApi(
        server.base_url,
        (server.account.sid, server.account.secret),
        public_base=server.public_base,
    )


def _snapshot(server: TaskrouterServer, ws: str) -> dict[str, Any]:
    """Every readable fact of a workspace: each collection in full, each instance fetched."""
    raw = _raw(server)
    try:
        base = f"/v1/Workspaces/{ws}"
        state: dict[str, Any] = {base: raw.get(base).json()}
        for collection in ("Activities", "TaskChannels", "TaskQueues", "Workers", "Workflows"):
            body = raw.get(f"{base}/{collection}", params={"PageSize": 1000}).json()
            records = sorted(body[body["meta"]["key"]], key=lambda r: r["sid"])
            state[collection] = records
            for record in records:
                path = f"{base}/{collection}/{record['sid']}"
                response = raw.get(path)
                state[path] = response.json()
                if collection == "Workers":
                    state[path + " ETag"] = response.headers.get("ETag")
                    channels = raw.get(f"{path}/Channels").json()["channels"]
                    state[path + "/Channels"] = sorted(channels, key=lambda r: r["sid"])
        for queue in state["TaskQueues"]:
            members = raw.get(f"{base}/Workers", params={"TaskQueueSid": queue["sid"]}).json()
            state[f"members {queue['sid']}"] = sorted(w["sid"] for w in members["workers"])
        raw.recorder.assert_clean()
        return state
    finally:
        raw.close()


def _build_world(client: Client) -> tuple[str, str]:
    """Create and change one of everything; returns (workspace sid, a deleted worker's sid)."""
    workspaces = client.taskrouter.v1.workspaces
    created = workspaces.create(
        friendly_name="Durable",
        template="FIFO",
        event_callback_url="https://example.com/events",
        events_filter="task.created,worker.activity.update",
    )
    ws = workspaces(created.sid)
    lunch = ws.activities.create(friendly_name="Lunch", available=False)
    ws.activities(lunch.sid).update(friendly_name="Long lunch")
    ws.update(timeout_activity_sid=lunch.sid, prioritize_queue_order="LIFO")
    email = ws.task_channels.create(
        friendly_name="Email", unique_name="email", channel_optimized_routing=True
    )
    support = ws.task_queues.create(
        friendly_name="Support", target_workers='skills HAS "support"', max_reserved_workers=3
    )
    ws.task_queues(support.sid).update(task_order="LIFO")
    available = next(a.sid for a in ws.activities.list() if a.friendly_name == "Available")
    alice = ws.workers.create(
        friendly_name="Alice", attributes='{"skills": ["support"]}', activity_sid=available
    )
    ws.workers(alice.sid).update(attributes='{"skills": ["support", "sales"], "level": 2}')
    bob = ws.workers.create(friendly_name="Bob", attributes='{"skills": ["sales"]}')
    ws.workers(bob.sid).worker_channels("email").update(capacity=4, available=False)
    gone = ws.workers.create(friendly_name="Gone")
    ws.workers(gone.sid).delete()
    ws.workflows.create(
        friendly_name="Inbound",
        configuration=json.dumps({"task_routing": {"default_filter": {"queue": support.sid}}}),
        task_reservation_timeout=45,
        assignment_callback_url="https://example.com/assign",
    )
    ws.task_channels(email.sid).update(friendly_name="E-mail")
    return created.sid, gone.sid


def test_everything_answered_survives_kill_9(
    database_url: str, server_factory: ServerFactory
) -> None:
    account = new_account()
    server = server_factory(database_url, account=account, public_url=PUBLIC)
    client = _client(server)
    ws, gone = _build_world(client)
    recorder_of(client).assert_clean()
    before = _snapshot(server, ws)
    assert len(before["Workers"]) == 2

    server.kill()
    assert server.proc is not None and server.proc.returncode == -signal.SIGKILL

    again = server_factory(database_url, account=account, public_url=PUBLIC)
    after = _snapshot(again, ws)
    changed = sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))
    assert not changed, f"differs after kill -9 and restart: {changed}"
    client = _client(again)
    with raises_twilio(client, 404, code=20404):
        client.taskrouter.v1.workspaces(ws).workers(gone).fetch()
    # And it keeps working: writes after the restart are fine.
    client.taskrouter.v1.workspaces(ws).workers.create(friendly_name="Carol")


@dataclass
class Burst:
    """Threads that create workers and make each Available, recording every answered step."""

    ws: str
    available: str
    answered: list[tuple[str, str]] = field(default_factory=list)  # appends are atomic
    problems: list[str] = field(default_factory=list)
    stopping: threading.Event = field(default_factory=threading.Event)
    threads: list[threading.Thread] = field(default_factory=list)

    def run(self, server: TaskrouterServer, n: int) -> None:
        client = _client(server)
        workers = client.taskrouter.v1.workspaces(self.ws).workers
        i = 0
        while True:
            try:
                worker = workers.create(friendly_name=f"t{n}-{i}")
                self.answered.append(("created", worker.sid))
                workers(worker.sid).update(activity_sid=self.available)
                self.answered.append(("available", worker.sid))
            except (TwilioException, OSError) as exc:
                # Refused or cut connections are expected once the server is going away.
                if not self.stopping.is_set():
                    self.problems.append(f"thread {n}: {exc!r}")
                return
            except Exception as exc:  # e.g. a SpecViolation: the test must see it
                self.problems.append(f"thread {n}: {exc!r}")
                return
            i += 1

    def stop(self) -> None:
        self.stopping.set()

    def join(self) -> list[tuple[str, str]]:
        for t in self.threads:
            t.join(30)
        assert not self.problems, "\n".join(self.problems)
        return list(self.answered)


def _start_burst(server: TaskrouterServer, threads: int = 8) -> Burst:
    client = _client(server)
    workspace = client.taskrouter.v1.workspaces.create(friendly_name="Burst")
    ws = client.taskrouter.v1.workspaces(workspace.sid)
    available = next(a.sid for a in ws.activities.list() if a.friendly_name == "Available")
    burst = Burst(workspace.sid, available)
    for n in range(threads):
        t = threading.Thread(target=burst.run, args=(server, n), daemon=True)
        burst.threads.append(t)
        t.start()
    return burst


def _wait_for(answered: list[tuple[str, str]], count: int, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while len(answered) < count:
        assert time.monotonic() < deadline, f"only {len(answered)} answers in {timeout} s"
        time.sleep(0.01)


def _check_answered(
    server: TaskrouterServer, ws: str, available: str, answered: list[tuple[str, str]]
) -> None:
    raw = _raw(server)
    try:
        body = raw.get(f"/v1/Workspaces/{ws}/Workers", params={"PageSize": 1000}).json()
        stored = {w["sid"]: w for w in body["workers"]}
        created = [sid for kind, sid in answered if kind == "created"]
        made_available = [sid for kind, sid in answered if kind == "available"]
        lost = [sid for sid in created if sid not in stored]
        assert not lost, f"{len(lost)} of {len(created)} answered creates lost, e.g. {lost[:3]}"
        reverted = [sid for sid in made_available if stored[sid]["activity_sid"] != available]
        assert not reverted, f"{len(reverted)} answered activity updates lost: {reverted[:3]}"
    finally:
        raw.close()


def test_concurrent_writes_survive_kill_9(database_url: str, server_factory: ServerFactory) -> None:
    account = new_account()
    server = server_factory(database_url, account=account, public_url=PUBLIC)
    burst = _start_burst(server)
    _wait_for(burst.answered, 300)
    burst.stop()
    server.kill()  # while requests are in flight
    answered = burst.join()
    assert len(answered) >= 300

    again = server_factory(database_url, account=account, public_url=PUBLIC)
    _check_answered(again, burst.ws, burst.available, answered)


def test_sigterm_finishes_in_flight_work_and_exits_0(
    database_url: str, server_factory: ServerFactory
) -> None:
    account = new_account()
    server = server_factory(database_url, account=account, public_url=PUBLIC)
    burst = _start_burst(server)
    _wait_for(burst.answered, 100)
    assert server.proc is not None
    burst.stop()
    started = time.monotonic()
    server.proc.send_signal(signal.SIGTERM)
    try:
        code = server.proc.wait(15)
    except subprocess.TimeoutExpired:
        pytest.fail("taskrouter serve still running 15 s after SIGTERM\n" + server.logs())
    elapsed = time.monotonic() - started
    answered = burst.join()
    logs = server.logs()

    again = server_factory(database_url, account=account, public_url=PUBLIC)
    _check_answered(again, burst.ws, burst.available, answered)
    assert elapsed < 10, f"took {elapsed:.1f} s to stop"
    assert code == 0, f"exit code {code} after SIGTERM\n{logs}"


def test_sigterm_on_an_idle_server_is_prompt(
    database_url: str, server_factory: ServerFactory
) -> None:
    server = server_factory(database_url, account=new_account())
    client = _client(server)
    client.taskrouter.v1.workspaces.create(friendly_name="idle")
    started = time.monotonic()
    assert server.stop() == 0
    assert time.monotonic() - started < 5
