"""One workspace taken through a known timeline on the clocked server, for the statistics tests.

Seconds after `t0` (the moment the workspace was built), with the clock moved only by the test:

    workers W1 (team a), W2 (team b), W3 (team a), all Offline at t0, video switched off;
    queues QA "Alpha" (team a, MaxReservedWorkers 2) and QB "Bravo" (team b);
    F1: type a -> QA (60 s) -> QB (100 s more), else QB; F2: -> QB; reservations time out
    after 30 s in both.

      0  T1 (F1 voice p5) and T8 (F1 video p0) enter QA
     10  T2 (F1 chat p1) enters QA
     20  W1 Available: R1 (T1) and R2 (T2) for W1
     25  R1 accepted                      (T1 waited 25 s)
     30  R2 rejected
     40  T3 (F2 voice p0) enters QB
     50  W2 Available: R3 (T3) for W2
     60  T8 moves QA -> QB (target timeout)
     70  T2 moves QA -> QB; R4 (T2) for W2
     80  R3 times out; W2 goes Offline
     90  R4 accepted                      (T2 waited 80 s, 20 s in QB)
    100  T3 canceled                      (waited 60 s)
    110  T1 completed
    120  T4 (F1 voice p2) enters QA: R5 for W1
    125  T4 canceled, R5 canceled         (waited 5 s)
    130  T2 wrapping;  140  T2 completed
    145  W3 Available
    150  T5 (F1 voice p0) enters QA: R6 (W1) and R7 (W3)
    153  R6 accepted, R7 rescinded        (T5 waited 3 s)
    160  T8 falls out of F1 and is canceled (waited 160 s); T6 (F2 chat p3) enters QB
    170  T7 (F1 chat p9) enters QA: R8 (W1) and R9 (W3)
    180  now
"""

from __future__ import annotations

from dataclasses import dataclass, field

from routing.helpers import World, config, iso


@dataclass
class Timeline:
    world: World
    t0_ms: int
    workers: dict[str, str] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)
    queues: dict[str, str] = field(default_factory=dict)
    flows: dict[str, str] = field(default_factory=dict)
    tasks: dict[str, str] = field(default_factory=dict)

    @property
    def ws(self) -> str:
        return self.world.sid

    def at(self, seconds: int) -> None:
        """Move the clock to t0 + seconds."""
        now = self.world.now_ms()
        target = self.t0_ms + seconds * 1000
        assert target >= now, f"t={seconds} is in the past"
        if target > now:
            self.world.advance((target - now) / 1000)

    def iso(self, seconds: int) -> str:
        return iso(self.t0_ms + seconds * 1000).strftime("%Y-%m-%dT%H:%M:%SZ")


def build(world: World) -> Timeline:
    with world.unchecked():
        return _build(world)


def _build(world: World) -> Timeline:
    ws = world.ws
    line = Timeline(world, world.now_ms())
    for name, team in (("W1", "a"), ("W2", "b"), ("W3", "a")):
        friendly = f"{name}-{world.sid[-6:]}"
        sid = world.worker(friendly, {"team": team}, activity="Offline")
        line.workers[name] = sid
        line.names[name] = friendly
        world.set_channel(sid, "video", available=False)
    line.queues["QA"] = world.queue("Alpha", 'team == "a"', max_reserved_workers=2)
    line.queues["QB"] = world.queue("Bravo", 'team == "b"')
    qa, qb = line.queues["QA"], line.queues["QB"]
    f1 = config(
        [
            {
                "filter_friendly_name": "a",
                "expression": 'type == "a"',
                "targets": [{"queue": qa, "timeout": 60}, {"queue": qb, "timeout": 100}],
            }
        ],
        default={"queue": qb},
    )
    line.flows["F1"] = world.workflow(f1, name="Flow one", reservation_timeout=30)
    line.flows["F2"] = world.workflow(
        config(default={"queue": qb}), name="Flow two", reservation_timeout=30
    )
    assert world.now_ms() == line.t0_ms, "building the workspace must not move the clock"

    def task(key: str, flow: str, channel: str, priority: int, kind: str = "a") -> None:
        line.tasks[key] = world.task(
            {"type": kind},
            workflow_sid=line.flows[flow],
            task_channel=channel,
            priority=priority,
        )

    def reservation_of(task_key: str, worker: str) -> str:
        for r in world.reservations(line.tasks[task_key], "pending"):
            if r.worker_sid == line.workers[worker]:
                assert r.sid is not None
                return r.sid
        raise AssertionError(f"no pending reservation of {task_key} for {worker}")

    def answer(task_key: str, worker: str, status: str) -> None:
        rsid = reservation_of(task_key, worker)
        ws.tasks(line.tasks[task_key]).reservations(rsid).update(reservation_status=status)

    task("T1", "F1", "voice", 5)
    task("T8", "F1", "video", 0)
    line.at(10)
    task("T2", "F1", "chat", 1)
    line.at(20)
    world.set_activity(line.workers["W1"], "Available")
    line.at(25)
    answer("T1", "W1", "accepted")
    line.at(30)
    answer("T2", "W1", "rejected")
    line.at(40)
    task("T3", "F2", "voice", 0, kind="b")
    line.at(50)
    world.set_activity(line.workers["W2"], "Available")
    line.at(60)
    line.at(70)
    line.at(80)
    assert world.activity_of(line.workers["W2"]) == "Offline"
    line.at(90)
    answer("T2", "W2", "accepted")
    line.at(100)
    ws.tasks(line.tasks["T3"]).update(assignment_status="canceled", reason="caller hung up")
    line.at(110)
    world.complete(line.tasks["T1"])
    line.at(120)
    task("T4", "F1", "voice", 2)
    line.at(125)
    ws.tasks(line.tasks["T4"]).update(assignment_status="canceled", reason="caller hung up")
    line.at(130)
    ws.tasks(line.tasks["T2"]).update(assignment_status="wrapping")
    line.at(140)
    world.complete(line.tasks["T2"])
    line.at(145)
    world.set_activity(line.workers["W3"], "Available")
    line.at(150)
    task("T5", "F1", "voice", 0)
    line.at(153)
    answer("T5", "W1", "accepted")
    line.at(160)
    assert world.status(line.tasks["T8"]) == "canceled"
    task("T6", "F2", "chat", 3, kind="b")
    line.at(170)
    task("T7", "F1", "chat", 9)
    line.at(180)
    assert world.status(line.tasks["T7"]) == "reserved"
    return line
