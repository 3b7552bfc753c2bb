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
    __slots__ = ("_by_slot", "_per_channel", "_where")

    def __init__(self) -> None:
        self._by_slot: dict[Slot, SortedList] = {}
        self._where: dict[str, tuple[Slot, TaskKey]] = {}
        self._per_channel: dict[str, int] = {}

    def add(self, task_sid: str, slot: Slot, key: TaskKey) -> None:
        self.discard(task_sid)
        tasks = self._by_slot.get(slot)
        if tasks is None:
            tasks = self._by_slot[slot] = SortedList()
        tasks.add(key)
        self._where[task_sid] = (slot, key)
        self._per_channel[slot[1]] = self._per_channel.get(slot[1], 0) + 1

    def discard(self, task_sid: str) -> None:
        found = self._where.pop(task_sid, None)
        if found is not None:
            slot, key = found
            self._by_slot[slot].remove(key)
            self._per_channel[slot[1]] -= 1

    def __contains__(self, task_sid: str) -> bool:
        return task_sid in self._where

    def in_order(self, slot: Slot) -> Iterator[TaskKey]:
        tasks = self._by_slot.get(slot)
        return iter(tasks) if tasks else iter(())

    def count(self, slot: Slot) -> int:
        tasks = self._by_slot.get(slot)
        return len(tasks) if tasks else 0

    def slots_of_queue(self, queue_sid: str) -> list[Slot]:
        return [slot for slot in self._by_slot if slot[0] == queue_sid]

    def has_channel(self, channel_sid: str) -> bool:
        return self._per_channel.get(channel_sid, 0) > 0

    def task_sids(self) -> list[str]:
        return list(self._where)


class ReadyWorkers:
    """Workers who can take a new reservation now, per queue, longest idle first.

    One list per queue, not per (queue, channel): a worker's idle key is the same on every
    channel, so an assignment re-lists it once. The channels it is ready on are kept beside
    and checked while walking the list.
    """

    __slots__ = ("_by_queue", "_channels", "_entries")

    def __init__(self) -> None:
        self._by_queue: dict[str, SortedList] = {}
        self._entries: dict[str, tuple[WorkerKey, tuple[str, ...]]] = {}
        self._channels: dict[str, frozenset[str]] = {}

    def set(
        self, worker_sid: str, key: WorkerKey, queues: tuple[str, ...], channels: frozenset[str]
    ) -> None:
        """List the worker in each of `queues`, ready on `channels` (not empty)."""
        self._channels[worker_sid] = channels
        entry = (key, queues)
        if self._entries.get(worker_sid) == entry:
            return
        self._unlist(worker_sid)
        for queue_sid in queues:
            workers = self._by_queue.get(queue_sid)
            if workers is None:
                workers = self._by_queue[queue_sid] = SortedList()
            workers.add(key)
        self._entries[worker_sid] = entry

    def unset(self, worker_sid: str) -> None:
        self._channels.pop(worker_sid, None)
        self._unlist(worker_sid)

    def _unlist(self, worker_sid: str) -> None:
        entry = self._entries.pop(worker_sid, None)
        if entry is not None:
            key, queues = entry
            for queue_sid in queues:
                self._by_queue[queue_sid].remove(key)

    def is_ready(self, worker_sid: str, channel_sid: str) -> bool:
        channels = self._channels.get(worker_sid)
        return channels is not None and channel_sid in channels

    def channels_of(self, worker_sid: str) -> frozenset[str]:
        return self._channels.get(worker_sid, frozenset())

    def in_order(self, queue_sid: str) -> Iterator[WorkerKey]:
        workers = self._by_queue.get(queue_sid)
        return iter(workers) if workers else iter(())
