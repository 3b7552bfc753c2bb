"""The ready-worker index: what a routing decision walks, per queue and channel."""

from __future__ import annotations

from taskrouter.engine.indexes import ReadyWorkers

VOICE, CHAT = "TCvoice", "TCchat"


def walk(ready: ReadyWorkers, queue: str, channel: str) -> list[str]:
    return [sid for _, sid in ready.in_order((queue, channel))]


def test_a_worker_is_walked_only_on_the_channels_it_can_take() -> None:
    ready = ReadyWorkers()
    ready.route(("WQa", VOICE))
    ready.route(("WQa", CHAT))
    ready.set("WK1", (10, "WK1"), frozenset({"WQa"}), frozenset({VOICE}))
    ready.set("WK2", (20, "WK2"), frozenset({"WQa"}), frozenset({VOICE, CHAT}))
    assert walk(ready, "WQa", VOICE) == ["WK1", "WK2"]
    assert walk(ready, "WQa", CHAT) == ["WK2"]


def test_longest_idle_first_and_relisting_on_a_new_key() -> None:
    ready = ReadyWorkers()
    ready.route(("WQa", VOICE))
    ready.route(("WQb", VOICE))
    ready.set("WK1", (10, "WK1"), frozenset({"WQa", "WQb"}), frozenset({VOICE}))
    ready.set("WK2", (5, "WK2"), frozenset({"WQa"}), frozenset({VOICE}))
    assert walk(ready, "WQa", VOICE) == ["WK2", "WK1"]
    ready.set("WK2", (30, "WK2"), frozenset({"WQa"}), frozenset({VOICE}))  # just got an assignment
    assert walk(ready, "WQa", VOICE) == ["WK1", "WK2"]
    ready.set("WK1", (10, "WK1"), frozenset({"WQb"}), frozenset({VOICE}))  # left queue a
    assert walk(ready, "WQa", VOICE) == ["WK2"]
    assert walk(ready, "WQb", VOICE) == ["WK1"]


def test_losing_and_regaining_a_channel_touches_only_that_channel() -> None:
    ready = ReadyWorkers()
    ready.route(("WQa", VOICE))
    ready.route(("WQa", CHAT))
    ready.set("WK1", (1, "WK1"), frozenset({"WQa"}), frozenset({VOICE, CHAT}))
    ready.set("WK1", (1, "WK1"), frozenset({"WQa"}), frozenset({CHAT}))
    assert walk(ready, "WQa", VOICE) == []
    assert walk(ready, "WQa", CHAT) == ["WK1"]
    assert not ready.is_ready("WK1", VOICE)
    ready.unset("WK1")
    assert walk(ready, "WQa", CHAT) == []
    assert not ready.is_listed("WK1", ("WQa", CHAT))


def test_a_slot_routed_late_lists_the_workers_already_ready_on_it() -> None:
    ready = ReadyWorkers()
    ready.set("WK1", (1, "WK1"), frozenset({"WQa", "WQb"}), frozenset({VOICE, CHAT}))
    ready.set("WK2", (2, "WK2"), frozenset({"WQa"}), frozenset({CHAT}))
    ready.route(("WQa", VOICE))
    assert walk(ready, "WQa", VOICE) == ["WK1"]
    assert walk(ready, "WQa", CHAT) == []  # nothing has waited on chat yet
    assert walk(ready, "WQb", VOICE) == []  # nor in queue b
    assert ready.is_listed("WK1", ("WQa", VOICE))
    ready.route(("WQa", CHAT))
    assert walk(ready, "WQa", CHAT) == ["WK1", "WK2"]
    ready.route(("WQb", VOICE))
    assert walk(ready, "WQb", VOICE) == ["WK1"]
    ready.unset("WK1")
    assert walk(ready, "WQa", VOICE) == walk(ready, "WQb", VOICE) == []
    assert walk(ready, "WQa", CHAT) == ["WK2"]


def test_a_worker_not_ready_when_a_slot_is_routed_is_listed_once_ready() -> None:
    ready = ReadyWorkers()
    ready.set("WK1", (1, "WK1"), frozenset({"WQa"}), frozenset({VOICE}))
    ready.unset("WK1")  # took work
    ready.route(("WQa", VOICE))
    assert walk(ready, "WQa", VOICE) == []
    ready.set("WK1", (5, "WK1"), frozenset({"WQa"}), frozenset({VOICE}))
    assert walk(ready, "WQa", VOICE) == ["WK1"]
    ready.forget("WK1")
    assert walk(ready, "WQa", VOICE) == []
