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

    def add_all(self, entries: list[tuple[str, Slot, TaskKey]]) -> None:
        """`add` for many tasks not waiting yet (a start): each slot sorted once, not per task."""
        by_slot: dict[Slot, list[TaskKey]] = {}
        for task_sid, slot, key in entries:
            keys = by_slot.get(slot)
            if keys is None:
                keys = by_slot[slot] = []
            keys.append(key)
            self._where[task_sid] = (slot, key)
        for slot, keys in by_slot.items():
            tasks = self._by_slot.get(slot)
            if tasks is None:
                tasks = self._by_slot[slot] = SortedList()
            tasks.update(keys)
            self._waiting.setdefault(slot[1], set()).add(slot[0])
            self._per_channel[slot[1]] = self._per_channel.get(slot[1], 0) + len(keys)

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

    def first(self, slot: Slot) -> TaskKey:
        """The slot's first task; the slot must hold one (see `queues_waiting_on`)."""
        first: TaskKey = self._by_slot[slot][0]
        return first

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
    cost of a decision. Lists exist only for slots tasks have been routed to (`route`):
    workers carry every channel of the workspace and often belong to dozens of queues, most
    of which never see a task.

    A worker who becomes ready on a channel is listed in that channel's slots lazily: in a
    slot when it is read, in all of them once a few such workers have gathered. A freed
    worker is usually reserved again within the same command, from one queue, so it is
    listed in and removed from that one slot instead of every routed queue it belongs to.
    """

    __slots__ = (
        "_by_slot",
        "_entries",
        "_members",
        "_most_unlisted",
        "_queues_of",
        "_routed",
        "_unlisted",
    )

    def __init__(self, most_unlisted: int = 16) -> None:
        self._by_slot: dict[Slot, SortedList] = {}
        self._entries: dict[str, tuple[WorkerKey, frozenset[str], frozenset[str]]] = {}
        # channel -> the queues with an ordered list on it.
        self._routed: dict[str, set[str]] = {}
        # The queues each worker was last set with, kept while it is not ready, and per queue
        # those workers: a slot routed late lists its ready workers from these alone.
        self._queues_of: dict[str, frozenset[str]] = {}
        self._members: dict[str, set[str]] = {}
        # worker -> channel -> the queues it is listed in so far, for the (worker, channel)
        # pairs not yet listed in every routed slot; any other ready channel is fully listed.
        self._unlisted: dict[str, dict[str, set[str]]] = {}
        # Bounded, so a read walks only a few; a start sets thousands of workers at once.
        self._most_unlisted = most_unlisted

    def route(self, slot: Slot) -> None:
        """Keep an ordered list for `slot` from now on (a task waits on it)."""
        queue_sid, channel_sid = slot
        routed = self._routed.get(channel_sid)
        if routed is None:
            routed = self._routed[channel_sid] = set()
        elif queue_sid in routed:
            return
        routed.add(queue_sid)
        entries = self._entries
        keys = []
        for worker_sid in self._members.get(queue_sid, ()):
            entry = entries.get(worker_sid)
            if entry is not None and channel_sid in entry[2]:
                keys.append(entry[0])
                listed = self._unlisted.get(worker_sid, {}).get(channel_sid)
                if listed is not None:
                    listed.add(queue_sid)
        if keys:
            self._by_slot.setdefault(slot, SortedList()).update(keys)

    def set(
        self, worker_sid: str, key: WorkerKey, queues: frozenset[str], channels: frozenset[str]
    ) -> None:
        """List the worker in each of `queues`, ready on `channels` (not empty)."""
        old = self._entries.get(worker_sid)
        # Queues come cached from the membership: the same object unless they changed.
        if old is not None and old[0] == key and (old[1] is queues or old[1] == queues):
            if old[2] == channels:
                return
            self._delist(worker_sid, key, queues, old[2] - channels)
            self._entries[worker_sid] = (key, queues, channels)
            self._defer(worker_sid, channels - old[2])
        else:
            if old is not None:
                self._delist(worker_sid, *old)
            self._remember_queues(worker_sid, queues)
            self._entries[worker_sid] = (key, queues, channels)
            self._defer(worker_sid, channels)

    def unset(self, worker_sid: str) -> None:
        old = self._entries.pop(worker_sid, None)
        if old is not None:
            self._delist(worker_sid, *old)

    def forget(self, worker_sid: str) -> None:
        """The worker is gone for good."""
        self.unset(worker_sid)
        self._remember_queues(worker_sid, frozenset())
        del self._queues_of[worker_sid]

    def _defer(self, worker_sid: str, channels: frozenset[str]) -> None:
        routed = self._routed
        pending = None
        for channel_sid in channels:
            if routed.get(channel_sid):
                if pending is None:
                    pending = self._unlisted.setdefault(worker_sid, {})
                pending[channel_sid] = set()
        if pending is not None and len(self._unlisted) > self._most_unlisted:
            self.list_all()

    def _delist(
        self, worker_sid: str, key: WorkerKey, queues: frozenset[str], channels: frozenset[str]
    ) -> None:
        """Take the worker off its lists on `channels`."""
        by_slot = self._by_slot
        routed = self._routed
        pending = self._unlisted.get(worker_sid)
        for channel_sid in channels:
            listed: set[str] | frozenset[str] | None = (
                pending.pop(channel_sid, None) if pending is not None else None
            )
            if listed is None:
                on_channel = routed.get(channel_sid)
                if not on_channel:
                    continue
                listed = queues & on_channel
            for queue_sid in listed:
                by_slot[(queue_sid, channel_sid)].remove(key)
        if pending is not None and not pending:
            del self._unlisted[worker_sid]

    def _list_slot(self, slot: Slot) -> None:
        """List in `slot` the workers it is still owed, before it is read."""
        queue_sid, channel_sid = slot
        entries = self._entries
        for worker_sid, pending in self._unlisted.items():
            listed = pending.get(channel_sid)
            if listed is None or queue_sid in listed:
                continue
            key, queues, _ = entries[worker_sid]
            if queue_sid in queues and queue_sid in self._routed[channel_sid]:
                self._insert(slot, key)
                listed.add(queue_sid)

    def list_all(self) -> None:
        """List every worker still owed a place in every routed slot it belongs to."""
        entries = self._entries
        for worker_sid, pending in self._unlisted.items():
            key, queues, _ = entries[worker_sid]
            for channel_sid, listed in pending.items():
                for queue_sid in queues & self._routed[channel_sid]:
                    if queue_sid not in listed:
                        self._insert((queue_sid, channel_sid), key)
        self._unlisted.clear()

    def _insert(self, slot: Slot, key: WorkerKey) -> None:
        workers = self._by_slot.get(slot)
        if workers is None:
            workers = self._by_slot[slot] = SortedList()
        workers.add(key)

    def _remember_queues(self, worker_sid: str, queues: frozenset[str]) -> None:
        before = self._queues_of.get(worker_sid)
        if before is queues:
            return
        members = self._members
        if before is not None:
            for queue_sid in before - queues:
                members[queue_sid].discard(worker_sid)
            queues_added = queues - before
        else:
            queues_added = queues
        for queue_sid in queues_added:
            found = members.get(queue_sid)
            if found is None:
                found = members[queue_sid] = set()
            found.add(worker_sid)
        self._queues_of[worker_sid] = queues

    def is_ready(self, worker_sid: str, channel_sid: str) -> bool:
        entry = self._entries.get(worker_sid)
        return entry is not None and channel_sid in entry[2]

    def ready_on(self, channel_sid: str) -> list[str]:
        """Every worker ready on the channel, whatever the slot lists hold."""
        return [sid for sid, entry in self._entries.items() if channel_sid in entry[2]]

    def is_listed(self, worker_sid: str, slot: Slot) -> bool:
        """Ready on the slot's channel and a member of its queue."""
        entry = self._entries.get(worker_sid)
        return entry is not None and slot[1] in entry[2] and slot[0] in entry[1]

    def channels_of(self, worker_sid: str) -> frozenset[str]:
        entry = self._entries.get(worker_sid)
        return entry[2] if entry is not None else frozenset()

    def has_workers(self, slot: Slot) -> bool:
        if self._unlisted:
            self._list_slot(slot)
        return bool(self._by_slot.get(slot))

    def in_order(self, slot: Slot) -> Iterator[WorkerKey]:
        """The workers ready on the slot's channel among the queue's, longest idle first."""
        if self._unlisted:
            self._list_slot(slot)
        workers = self._by_slot.get(slot)
        return iter(workers) if workers else iter(())
