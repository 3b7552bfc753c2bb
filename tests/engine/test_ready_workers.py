"""The ready-worker index: what a routing decision walks, per queue and channel."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

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


def test_a_freed_worker_is_walked_in_every_queue_it_belongs_to() -> None:
    ready = ReadyWorkers()
    queues = frozenset(f"WQ{i}" for i in range(40))
    for queue in queues:
        ready.route((queue, VOICE))
    ready.set("WK1", (1, "WK1"), queues, frozenset({VOICE}))
    assert walk(ready, "WQ7", VOICE) == ["WK1"]
    ready.set("WK1", (1, "WK1"), queues, frozenset({CHAT}))  # reserved on voice
    assert all(walk(ready, queue, VOICE) == [] for queue in queues)
    ready.set("WK1", (9, "WK1"), queues, frozenset({VOICE, CHAT}))  # freed again
    assert all(walk(ready, queue, VOICE) == ["WK1"] for queue in queues)


@settings(max_examples=300, deadline=None)
@given(
    st.integers(0, 4),
    st.lists(st.tuples(st.integers(0, 3), st.integers(0, 40), st.integers(0, 2**16)), max_size=80),
)
def test_the_lists_always_read_as_the_ready_workers_in_idle_order(
    most_unlisted: int, steps: list[tuple[int, int, int]]
) -> None:
    """Whatever sequence of changes and reads, a slot walks exactly the ready workers in it."""
    all_queues = ["WQa", "WQb", "WQc"]
    all_channels = [VOICE, CHAT]
    ready = ReadyWorkers(most_unlisted)
    entries: dict[str, tuple[tuple[int, str], frozenset[str], frozenset[str]]] = {}
    routed: set[tuple[str, str]] = set()
    for op, who, bits in steps:
        worker = f"WK{who}"
        slot = (all_queues[bits % 3], all_channels[(bits >> 2) % 2])
        if op == 0:
            key = ((bits >> 3) % 4, worker)
            queues = frozenset(q for i, q in enumerate(all_queues) if bits >> (5 + i) & 1)
            channels = frozenset(c for i, c in enumerate(all_channels) if bits >> (8 + i) & 1)
            if channels:
                ready.set(worker, key, queues, channels)
                entries[worker] = (key, queues, channels)
        elif op == 1:
            ready.unset(worker)
            entries.pop(worker, None)
        elif op == 2:
            ready.route(slot)
            routed.add(slot)
        else:
            expected = sorted(
                key
                for key, queues, channels in entries.values()
                if slot in routed and slot[0] in queues and slot[1] in channels
            )
            assert list(ready.in_order(slot)) == expected
            assert ready.has_workers(slot) == bool(expected)
