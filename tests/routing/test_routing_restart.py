"""kill -9 in the middle of a scenario, start again on the same database, and the scenario
ends as it does without the kill; deadlines that passed while the server was down fire at
start. Also: a normally started server has no movable clock."""

from __future__ import annotations

import signal
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from routing.helpers import DEFAULT_START_MS, ClockedServer, World, config
from support.databases import create_postgres_database, drop_postgres_database
from support.server import TaskrouterServer, new_account
from support.twilio_client import make_client

NewDatabase = Callable[[], str]


@pytest.fixture
def new_database(database_url: str, tmp_path: Path) -> Iterator[NewDatabase]:
    """More fresh databases of the same backend as `database_url`."""
    made: list[str] = []

    def make() -> str:
        if database_url.startswith("sqlite"):
            url = f"sqlite:///{tmp_path / f'extra-{len(made)}.db'}"
        else:
            url = create_postgres_database()
        made.append(url)
        return url

    yield make
    for url in made:
        if not url.startswith("sqlite"):
            drop_postgres_database(url)


@dataclass
class Scenario:
    """Sales and support: tasks waiting, open reservations and running deadlines, then the
    rest of the day. `tasks` and `workers` map tags and names to SIDs, so two runs compare."""

    world: World
    start_ms: int
    tasks: dict[str, str] = field(default_factory=dict)
    workers: dict[str, str] = field(default_factory=dict)

    def at(self, seconds: int) -> None:
        """Move the clock to `seconds` after the scenario's start."""
        now = self.world.now_ms()
        target = self.start_ms + seconds * 1000
        assert target >= now, f"t={seconds} is in the past"
        self.world.advance((target - now) / 1000)

    def task(self, tag: str, attributes: dict[str, Any], **kwargs: Any) -> None:
        self.tasks[tag] = self.world.task({"tag": tag, **attributes}, **kwargs)

    def reservation_of(self, tag: str, worker: str) -> str:
        found = self.world.ws.tasks(self.tasks[tag]).reservations.list(
            worker_sid=self.workers[worker], reservation_status="pending"
        )
        assert len(found) == 1, f"{tag} has no pending reservation for {worker}"
        return str(found[0].sid)

    def accept(self, tag: str, worker: str) -> None:
        sid = self.reservation_of(tag, worker)
        self.world.ws.tasks(self.tasks[tag]).reservations(sid).update(reservation_status="accepted")

    def complete(self, tag: str, reason: str) -> None:
        self.world.ws.tasks(self.tasks[tag]).update(assignment_status="completed", reason=reason)

    def outcome(self) -> dict[str, Any]:
        ws = self.world.ws
        names = {sid: name for name, sid in self.workers.items()}
        tasks = {}
        for tag, sid in self.tasks.items():
            task = ws.tasks(sid).fetch()
            offers = sorted(
                (names[str(r.worker_sid)], str(r.reservation_status))
                for r in ws.tasks(sid).reservations.list()
            )
            tasks[tag] = (
                task.assignment_status,
                task.reason,
                task.task_queue_friendly_name,
                offers,
            )
        workers = {
            name: ws.workers(sid).fetch().activity_name for name, sid in self.workers.items()
        }
        return {"tasks": tasks, "workers": workers}


def _first_half(world: World) -> Scenario:
    """t=0..10: builds the workspace and leaves pending tasks, a pending reservation, and
    reservation, target and TTL deadlines running."""
    scenario = Scenario(world, world.now_ms())
    sales = world.queue("Sales", "team == 'sales'")
    overflow = world.queue("Overflow", "team == 'overflow'")
    support = world.queue("Support", "team == 'support'")
    world.workflow(
        config(
            [
                {
                    "expression": "type == 'sales'",
                    "targets": [
                        {"queue": sales, "timeout": 60},
                        {"queue": overflow, "timeout": 60},
                    ],
                }
            ],
            {"queue": support},
        ),
        reservation_timeout=30,
    )
    w = scenario.workers
    w["s1"] = world.worker("s1", {"team": "sales"})
    w["s2"] = world.worker("s2", {"team": "sales"}, activity="Unavailable")
    w["o1"] = world.worker("o1", {"team": "overflow"})
    w["p1"] = world.worker("p1", {"team": "support"})
    scenario.task("S1", {"type": "sales"})  # reserved by s1, times out at t=30
    scenario.at(1)
    scenario.task("S2", {"type": "sales"})  # waits in Sales, moves to Overflow at t=61
    scenario.at(2)
    scenario.task("P1", {"type": "support"})  # reserved by p1
    scenario.at(3)
    scenario.task("P2", {"type": "support"}, timeout=100)  # waits; TTL at t=103
    scenario.at(4)
    scenario.task("S3", {"type": "sales"}, priority=5)  # waits in Sales, ahead of S2
    scenario.at(10)
    scenario.accept("P1", "p1")
    world.check_invariants()
    return scenario


def _second_half(scenario: Scenario) -> None:
    world = scenario.world
    scenario.at(35)  # S1's reservation timed out at t=30: s1 is Offline, S1 waits again
    assert world.status(scenario.tasks["S1"]) == "pending"
    scenario.at(40)
    world.set_activity(scenario.workers["s2"], "Available")  # takes S3 (priority 5) first
    scenario.accept("S3", "s2")
    scenario.at(60)  # S1 moves to Overflow: o1
    scenario.at(70)
    scenario.accept("S1", "o1")
    scenario.at(80)
    scenario.complete("S1", "sold")  # o1 takes S2 (in Overflow since t=61)
    scenario.at(95)
    scenario.complete("P1", "helped")  # p1 takes P2
    scenario.at(103)  # P2's TTL
    scenario.at(110)  # o1's reservation of S2 times out
    scenario.at(121)  # S2 falls off its last target
    scenario.at(125)
    scenario.complete("S3", "sold")


EXPECTED = {
    "tasks": {
        "S1": ("completed", "sold", "Overflow", [("o1", "completed"), ("s1", "timeout")]),
        "S2": ("canceled", "Workflow Timeout", "Overflow", [("o1", "timeout")]),
        "S3": ("completed", "sold", "Sales", [("s2", "completed")]),
        "P1": ("completed", "helped", "Support", [("p1", "completed")]),
        "P2": ("canceled", "Task TTL Exceeded", "Support", [("p1", "canceled")]),
    },
    "workers": {"s1": "Offline", "s2": "Available", "o1": "Offline", "p1": "Available"},
}


def test_kill_9_mid_scenario_ends_like_an_uninterrupted_run(
    database_url: str, new_database: NewDatabase, tmp_path: Path
) -> None:
    account = new_account()
    straight = ClockedServer(new_database(), workdir=tmp_path / "straight", account=account)
    straight.start()
    try:
        scenario = _first_half(World(straight))
        _second_half(scenario)
        uninterrupted = scenario.outcome()
    finally:
        straight.stop()
    assert uninterrupted == EXPECTED

    server = ClockedServer(database_url, workdir=tmp_path / "killed", account=account)
    server.start()
    try:
        scenario = _first_half(World(server))
        before = scenario.outcome()
        clock = server.last_now_ms
        assert clock == scenario.start_ms + 10_000
        assert server.proc is not None
        server.kill()
        assert server.proc.returncode == -signal.SIGKILL
        server.start(start_ms=clock)
        world = World(server, workspace_sid=scenario.world.sid)
        world.check_invariants()
        scenario.world = world
        assert scenario.outcome() == before  # nothing lost, nothing fired early
        _second_half(scenario)
        assert scenario.outcome() == uninterrupted
    finally:
        server.stop()


def test_deadlines_that_passed_while_down_fire_at_start(database_url: str, tmp_path: Path) -> None:
    server = ClockedServer(database_url, workdir=tmp_path)
    server.start(start_ms=DEFAULT_START_MS)
    try:
        world = World(server)
        first = world.queue("First", "team == 'first'")
        second = world.queue("Second", "team == 'second'")
        world.workflow(
            config(
                [
                    {
                        "expression": "1 == 1",
                        "targets": [{"queue": first, "timeout": 60}, {"queue": second}],
                    }
                ]
            ),
            reservation_timeout=30,
        )
        holder = world.worker("holder", {"team": "first"})
        world.worker("helper", {"team": "second"}, activity="Unavailable")
        reserved = world.task({"tag": "reserved"})
        waiting = world.task({"tag": "waiting"})
        short = world.task({"tag": "short"}, timeout=45)
        assert world.reserved_worker(reserved) == holder
        world.advance(10)
        server.kill()
        # Down from t=10 to t=70: the reservation timeout (30), TTL (45) and target timeout
        # (60) all passed.
        server.start(start_ms=DEFAULT_START_MS + 70_000)
        assert server.http is not None
        audit = server.http.get("/_test/audit").json()["findings"]
        assert audit.get(world.sid, []) == []
        world = World(server, workspace_sid=world.sid)
        (reservation,) = world.reservations(reserved)
        assert reservation.reservation_status == "timeout"
        assert world.activity_of(holder) == "Offline"
        ttl = world.fetch(short)
        assert (ttl.assignment_status, ttl.reason) == ("canceled", "Task TTL Exceeded")
        assert world.fetch(reserved).task_queue_friendly_name == "Second"
        assert world.fetch(waiting).task_queue_friendly_name == "Second"
        world.check_invariants()
    finally:
        server.stop()


def test_a_normally_started_server_has_no_movable_clock(database_url: str, tmp_path: Path) -> None:
    account = new_account()
    with TaskrouterServer(database_url, workdir=tmp_path, account=account) as server:
        for method, path, body in (
            ("POST", "/_test/clock", {"advance_ms": 86_400_000}),
            ("POST", "/_test/clock", {"set_ms": 0}),
            ("GET", "/_test/audit", None),
        ):
            response = httpx.request(
                method,
                f"{server.base_url}{path}",
                json=body,
                auth=(account.sid, account.secret),
                timeout=10.0,
            )
            assert response.status_code == 404, f"{method} {path}: {response.status_code}"
        client = make_client(server.base_url, account.sid, account.secret)
        workspace = client.taskrouter.v1.workspaces.create(friendly_name="wall clock")
        assert workspace.date_created is not None
        # It runs on the wall clock, not on an injected one.
        assert abs((workspace.date_created - datetime.now(UTC)).total_seconds()) < 120
