"""The two orderings routing reads on every decision.

`PendingTasks`: per (queue, channel), the waiting tasks in the order the queue hands them out.
`ReadyWorkers`: per queue, the workers who could take a new reservation now, longest idle
first, with the channels each is ready on. Both change incrementally when one task or one
worker changes.
"""

from __future__ import annotations

from collections.abc import Iterator

from sortedcontainers import SortedList

Slot = tuple[str, str]  # (task queue sid, task channel sid)
TaskKey = tuple[int, int, str]
WorkerKey = tuple[int, str]


def fifo_key(priority: int, virtual_start_time: int, sid: str) -> TaskKey:
    """Higher priority first, then oldest virtual start time."""
    return (-priority, virtual_start_time, sid)


def lifo_key(priority: int, virtual_start_time: int, sid: str) -> TaskKey:
    """Newest first; LIFO queues ignore priority."""
    return (0, -virtual_start_time, sid)


class PendingTasks:
    __slots__ = ("_by_slot", "_per_channel", "_waiting", "_where")

    def __init__(self) -> None:
        self._by_slot: dict[Slot, SortedList] = {}
        self._where: dict[str, tuple[Slot, TaskKey]] = {}
        self._per_channel: dict[str, int] = {}
        # Per channel, the queues with a task waiting on it: a freed worker intersects its
        # own queues with these instead of looking into each of its (often hundreds of) queues.
        self._waiting: dict[str, set[str]] = {}

    def add(self, task_sid: str, slot: Slot, key: TaskKey) -> None:
        self.discard(task_sid)
        tasks = self._by_slot.get(slot)
        if tasks is None:
            tasks = self._by_slot[slot] = SortedList()
        if not tasks:
            self._waiting.setdefault(slot[1], set()).add(slot[0])
        tasks.add(key)
        self._where[task_sid] = (slot, key)
        self._per_channel[slot[1]] = self._per_channel.get(slot[1], 0) + 1

    def discard(self, task_sid: str) -> None:
        found = self._where.pop(task_sid, None)
        if found is not None:
            slot, key = found
            tasks = self._by_slot[slot]
            tasks.remove(key)
            if not tasks:
                self._waiting[slot[1]].discard(slot[0])
            self._per_channel[slot[1]] -= 1

    def queues_waiting_on(self, channel_sid: str) -> set[str]:
        return self._waiting.get(channel_sid) or set()

    def __contains__(self, task_sid: str) -> bool:
        return task_sid in self._where

    def in_order(self, slot: Slot) -> Iterator[TaskKey]:
        tasks = self._by_slot.get(slot)
        return iter(tasks) if tasks else iter(())

    def has_channel(self, channel_sid: str) -> bool:
        return self._per_channel.get(channel_sid, 0) > 0

    def task_sids(self) -> list[str]:
        return list(self._where)


class ReadyWorkers:
    """Workers who can take a new reservation now, per (queue, channel), longest idle first.

    Lists are per slot rather than per queue so a worker whose only free capacity is on
    another channel is never walked past: with multi-channel workers that walk dominated the
    cost of a decision. Lists exist only for channels tasks have been routed on (`route`):
    workers carry every channel of the workspace, most of which never see a task, and each
    listed channel multiplies what an assignment costs to re-list. A change of channels alone
    touches only the slots of those channels; a change of idle key or queues re-lists the
    worker everywhere.
    """

    __slots__ = ("_by_slot", "_entries", "_routed")

    def __init__(self) -> None:
        self._by_slot: dict[Slot, SortedList] = {}
        self._entries: dict[str, tuple[WorkerKey, frozenset[str], frozenset[str]]] = {}
        self._routed: set[str] = set()

    def route(self, channel_sid: str) -> None:
        """Keep ordered lists for `channel_sid` from now on (a task waits on it)."""
        if channel_sid in self._routed:
            return
        self._routed.add(channel_sid)
        only = frozenset((channel_sid,))
        for key, queues, channels in self._entries.values():
            if channel_sid in channels:
                self._add(key, queues, only)

    def set(
        self, worker_sid: str, key: WorkerKey, queues: frozenset[str], channels: frozenset[str]
    ) -> None:
        """List the worker in each of `queues`, ready on `channels` (not empty)."""
        old = self._entries.get(worker_sid)
        if old is not None and old[0] == key and old[1] == queues:
            if old[2] == channels:
                return
            self._remove(key, queues, old[2] - channels)
            self._add(key, queues, channels - old[2])
        else:
            if old is not None:
                self._remove(*old)
            self._add(key, queues, channels)
        self._entries[worker_sid] = (key, queues, channels)

    def unset(self, worker_sid: str) -> None:
        old = self._entries.pop(worker_sid, None)
        if old is not None:
            self._remove(*old)

    def _add(self, key: WorkerKey, queues: frozenset[str], channels: frozenset[str]) -> None:
        by_slot = self._by_slot
        listed = channels & self._routed
        for queue_sid in queues:
            for channel_sid in listed:
                workers = by_slot.get((queue_sid, channel_sid))
                if workers is None:
                    workers = by_slot[(queue_sid, channel_sid)] = SortedList()
                workers.add(key)

    def _remove(self, key: WorkerKey, queues: frozenset[str], channels: frozenset[str]) -> None:
        by_slot = self._by_slot
        listed = channels & self._routed
        for queue_sid in queues:
            for channel_sid in listed:
                by_slot[(queue_sid, channel_sid)].remove(key)

    def is_ready(self, worker_sid: str, channel_sid: str) -> bool:
        entry = self._entries.get(worker_sid)
        return entry is not None and channel_sid in entry[2]

    def is_listed(self, worker_sid: str, slot: Slot) -> bool:
        """Ready on the slot's channel and a member of its queue."""
        entry = self._entries.get(worker_sid)
        return entry is not None and slot[1] in entry[2] and slot[0] in entry[1]

    def channels_of(self, worker_sid: str) -> frozenset[str]:
        entry = self._entries.get(worker_sid)
        return entry[2] if entry is not None else frozenset()

    def in_order(self, slot: Slot) -> Iterator[WorkerKey]:
        """The workers ready on the slot's channel among the queue's, longest idle first."""
        workers = self._by_slot.get(slot)
        return iter(workers) if workers else iter(())
