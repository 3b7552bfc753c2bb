"""Which workers belong to which task queues, kept incrementally (DESIGN principle 5).

A queue's TargetWorkers is evaluated when a worker's attributes change or a queue's expression
changes, never per task: membership is then a set lookup on the routing path. Guards
(`guards.py`) narrow each evaluation to the workers or queues that could match, which is what
keeps a start with thousands of queues and workers, or one worker's re-index, short.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from taskrouter.engine.guards import Guard, GuardPath, Key, guard_of, union, value_keys

Predicate = Callable[[Mapping[str, Any]], bool]


class Membership:
    __slots__ = (
        "_attributes",
        "_frozen",
        "_guards",
        "_predicates",
        "_queues_by_key",
        "_unguarded",
        "_worker_keys",
        "_workers_by_key",
        "members",
        "queues_of",
    )

    def __init__(self) -> None:
        self._predicates: dict[str, Predicate] = {}
        self.members: dict[str, set[str]] = {}
        self.queues_of: dict[str, set[str]] = {}
        # Immutable copies of `queues_of`, made on demand and dropped when a worker's queues
        # change: the ready index is refreshed after every assignment and compares them.
        self._frozen: dict[str, frozenset[str]] = {}
        # Guard indexes: per guarded path, key -> queues that require it, key -> workers
        # whose value there has it; and each worker's keys per path, to update on change.
        self._guards: dict[str, Guard] = {}
        self._unguarded: set[str] = set()
        self._queues_by_key: dict[GuardPath, dict[Key, set[str]]] = {}
        self._workers_by_key: dict[GuardPath, dict[Key, set[str]]] = {}
        self._worker_keys: dict[str, dict[GuardPath, frozenset[Key]]] = {}
        self._attributes: dict[str, Mapping[str, Any]] = {}

    def frozen_queues_of(self, worker_sid: str) -> frozenset[str]:
        frozen = self._frozen.get(worker_sid)
        if frozen is None:
            frozen = self._frozen[worker_sid] = frozenset(self.queues_of.get(worker_sid, ()))
        return frozen

    # -- queues ----------------------------------------------------------------------------

    def set_queue(self, queue_sid: str, predicate: Predicate) -> None:
        """Add a queue, or re-evaluate the workers after its expression changed. Every worker
        is known from `set_worker`."""
        self._forget_guard(queue_sid)
        # The bare generated function, when there is one: a worker's re-index calls every
        # candidate queue's predicate, and the wrapper's extra call is a fifth of that.
        self._predicates[queue_sid] = getattr(predicate, "predicate", predicate)
        guard = guard_of(getattr(predicate, "node", None))
        if guard is None:
            self._unguarded.add(queue_sid)
            candidates: Sequence[tuple[str, Mapping[str, Any]]] = list(self._attributes.items())
        else:
            self._guards[queue_sid] = guard
            by_key = self._queues_by_key.setdefault(guard.path, {})
            for key in guard.keys:
                by_key.setdefault(key, set()).add(queue_sid)
            index = self._path_index(guard.path)
            attributes_of = self._attributes
            candidates = [
                (sid, attributes_of[sid])
                for sid in sorted(union(index.get(key) for key in guard.keys))
            ]
        old = self.members.get(queue_sid, set())
        new = _members(predicate, candidates)
        for sid in old - new:
            self.queues_of[sid].discard(queue_sid)
            self._frozen.pop(sid, None)
        for sid in new - old:
            self.queues_of.setdefault(sid, set()).add(queue_sid)
            self._frozen.pop(sid, None)
        self.members[queue_sid] = new

    def remove_queue(self, queue_sid: str) -> None:
        self._predicates.pop(queue_sid, None)
        self._forget_guard(queue_sid)
        for sid in self.members.pop(queue_sid, set()):
            self.queues_of[sid].discard(queue_sid)
            self._frozen.pop(sid, None)

    def _forget_guard(self, queue_sid: str) -> None:
        self._unguarded.discard(queue_sid)
        guard = self._guards.pop(queue_sid, None)
        if guard is not None:
            by_key = self._queues_by_key[guard.path]
            for key in guard.keys:
                by_key[key].discard(queue_sid)

    # -- workers ---------------------------------------------------------------------------

    def set_worker(self, worker_sid: str, attributes: Mapping[str, Any]) -> None:
        """Add a worker, or re-evaluate the queues it could belong to after its attributes
        changed."""
        self._index_values(worker_sid, attributes)
        candidates = set(self._unguarded)
        for path, keys in self._worker_keys[worker_sid].items():
            by_key = self._queues_by_key.get(path, {})
            candidates |= union(by_key.get(key) for key in keys)
        queues = self.queues_of.setdefault(worker_sid, set())
        self._frozen.pop(worker_sid, None)
        predicates = self._predicates
        for queue_sid in queues - candidates:
            queues.discard(queue_sid)
            self.members[queue_sid].discard(worker_sid)
        for queue_sid in candidates:
            if _matches(predicates[queue_sid], attributes):
                if queue_sid not in queues:
                    queues.add(queue_sid)
                    self.members[queue_sid].add(worker_sid)
            elif queue_sid in queues:
                queues.discard(queue_sid)
                self.members[queue_sid].discard(worker_sid)

    def remove_worker(self, worker_sid: str) -> None:
        self._frozen.pop(worker_sid, None)
        self._unindex_values(worker_sid)
        self._attributes.pop(worker_sid, None)
        for queue_sid in self.queues_of.pop(worker_sid, set()):
            self.members[queue_sid].discard(worker_sid)

    def queues_matching(self, attributes: Mapping[str, Any]) -> list[str]:
        """Queues that would take a worker with these attributes (EvaluateWorkerAttributes)."""
        return [sid for sid, p in self._predicates.items() if _matches(p, attributes)]

    # -- the value index -------------------------------------------------------------------

    def _path_index(self, path: GuardPath) -> dict[Key, set[str]]:
        index = self._workers_by_key.get(path)
        if index is None:
            # A path no queue guarded before: index every known worker's value there.
            index = self._workers_by_key[path] = {}
            for sid, attributes in self._attributes.items():
                keys = value_keys(attributes, path)
                self._worker_keys[sid][path] = keys
                for key in keys:
                    index.setdefault(key, set()).add(sid)
        return index

    def _index_values(self, worker_sid: str, attributes: Mapping[str, Any]) -> None:
        self._unindex_values(worker_sid)
        self._attributes[worker_sid] = attributes
        mine: dict[GuardPath, frozenset[Key]] = {}
        for path, index in self._workers_by_key.items():
            keys = mine[path] = value_keys(attributes, path)
            for key in keys:
                index.setdefault(key, set()).add(worker_sid)
        self._worker_keys[worker_sid] = mine

    def _unindex_values(self, worker_sid: str) -> None:
        for path, keys in self._worker_keys.pop(worker_sid, {}).items():
            index = self._workers_by_key[path]
            for key in keys:
                index[key].discard(worker_sid)


def _members(predicate: Predicate, workers: Sequence[tuple[str, Mapping[str, Any]]]) -> set[str]:
    """The workers the predicate takes; in one batched evaluation when the expression offers
    it (a queue added at start meets every candidate worker at once)."""
    many = getattr(predicate, "evaluate_many", None)
    if many is not None:
        try:
            taken: list[bool] = many([attributes for _, attributes in workers])
        except Exception:
            pass  # someone's odd data breaks the batch: judge workers one by one below
        else:
            return {sid for (sid, _), ok in zip(workers, taken, strict=True) if ok}
    return {sid for sid, attributes in workers if _matches(predicate, attributes)}


def _matches(predicate: Predicate, attributes: Mapping[str, Any]) -> bool:
    # An expression that fails at run time on odd data excludes the worker rather than
    # breaking the whole re-index.
    try:
        return predicate(attributes)
    except Exception:
        return False
