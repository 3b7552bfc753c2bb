"""Which workers belong to which task queues, kept incrementally (DESIGN principle 5).

A queue's TargetWorkers is evaluated when a worker's attributes change or a queue's expression
changes, never per task: membership is then a set lookup on the routing path.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

Predicate = Callable[[Mapping[str, Any]], bool]


class Membership:
    __slots__ = ("_frozen", "_predicates", "members", "queues_of")

    def __init__(self) -> None:
        self._predicates: dict[str, Predicate] = {}
        self.members: dict[str, set[str]] = {}
        self.queues_of: dict[str, set[str]] = {}
        # Immutable copies of `queues_of`, made on demand and dropped when a worker's queues
        # change: the ready index is refreshed after every assignment and compares them.
        self._frozen: dict[str, frozenset[str]] = {}

    def frozen_queues_of(self, worker_sid: str) -> frozenset[str]:
        frozen = self._frozen.get(worker_sid)
        if frozen is None:
            frozen = self._frozen[worker_sid] = frozenset(self.queues_of.get(worker_sid, ()))
        return frozen

    def set_queue(
        self, queue_sid: str, predicate: Predicate, workers: Iterable[tuple[str, Mapping[str, Any]]]
    ) -> None:
        """Add a queue, or re-evaluate every worker after its expression changed."""
        self._predicates[queue_sid] = predicate
        old = self.members.get(queue_sid, set())
        new = {sid for sid, attributes in workers if _matches(predicate, attributes)}
        for sid in old - new:
            self.queues_of[sid].discard(queue_sid)
            self._frozen.pop(sid, None)
        for sid in new - old:
            self.queues_of.setdefault(sid, set()).add(queue_sid)
            self._frozen.pop(sid, None)
        self.members[queue_sid] = new

    def remove_queue(self, queue_sid: str) -> None:
        self._predicates.pop(queue_sid, None)
        for sid in self.members.pop(queue_sid, set()):
            self.queues_of[sid].discard(queue_sid)
            self._frozen.pop(sid, None)

    def set_worker(self, worker_sid: str, attributes: Mapping[str, Any]) -> None:
        """Add a worker, or re-evaluate every queue after its attributes changed."""
        queues = self.queues_of.setdefault(worker_sid, set())
        self._frozen.pop(worker_sid, None)
        for queue_sid, predicate in self._predicates.items():
            if _matches(predicate, attributes):
                if queue_sid not in queues:
                    queues.add(queue_sid)
                    self.members[queue_sid].add(worker_sid)
            elif queue_sid in queues:
                queues.discard(queue_sid)
                self.members[queue_sid].discard(worker_sid)

    def remove_worker(self, worker_sid: str) -> None:
        self._frozen.pop(worker_sid, None)
        for queue_sid in self.queues_of.pop(worker_sid, set()):
            self.members[queue_sid].discard(worker_sid)

    def queues_matching(self, attributes: Mapping[str, Any]) -> list[str]:
        """Queues that would take a worker with these attributes (EvaluateWorkerAttributes)."""
        return [sid for sid, p in self._predicates.items() if _matches(p, attributes)]


def _matches(predicate: Predicate, attributes: Mapping[str, Any]) -> bool:
    # An expression that fails at run time on odd data excludes the worker rather than
    # breaking the whole re-index.
    try:
        return predicate(attributes)
    except Exception:
        return False
