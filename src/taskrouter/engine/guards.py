"""Guards: a necessary condition read off a queue's expression, so membership is evaluated
only for the workers (or queues) that could possibly match.

`skills HAS 'billing' AND level >= 3` can hold only for a worker whose `skills` has an element
equal to 'billing'. Workers are indexed by the values at each guarded path, so adding a queue
evaluates its expression on those few workers, and a worker's change evaluates only the
queues whose guard its values meet (plus the unguarded ones). Keys are deliberately loose (a
superset of what the expression's equality accepts); the full expression always decides.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from taskrouter.expressions import And, Comparison, Literal, Node, Op, Path
from taskrouter.expressions.values import numeric_value

Key = tuple[str, object]
GuardPath = tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Guard:
    path: GuardPath
    keys: frozenset[Key]


def guard_of(node: Node | None) -> Guard | None:
    """The first indexable equality, HAS or IN test that the whole expression requires."""
    if isinstance(node, And):
        for item in node.items:
            guard = guard_of(item)
            if guard is not None:
                return guard
        return None
    if not isinstance(node, Comparison):
        return None
    op, left, right = node.op, node.left, node.right
    if isinstance(left, Literal) and isinstance(right, Path):
        mirrored = op.mirrored
        if mirrored is None:
            return None
        op, left, right = mirrored, right, left
    if not isinstance(left, Path) or not isinstance(right, Literal):
        return None
    if not all(isinstance(segment, str) for segment in left.segments):
        return None  # [any] and indexes: not worth indexing
    value = right.value
    keys: set[Key] = set()
    if op is Op.EQ or op is Op.HAS:
        if not isinstance(value, tuple):
            keys = scalar_keys(value)
    elif op is Op.IN and isinstance(value, tuple):
        for element in value:
            keys |= scalar_keys(element)
    if not keys:
        return None  # null literals and other shapes: left to plain evaluation
    return Guard(tuple(str(s) for s in left.segments), frozenset(keys))


def scalar_keys(value: object) -> set[Key]:
    """What equality could match `value` on: its text, and its number if it reads as one."""
    if isinstance(value, bool):
        return {("b", value)}
    if isinstance(value, int | float):
        return {("n", value)}
    if isinstance(value, str):
        number = numeric_value(value)
        return {("s", value)} if number is None else {("s", value), ("n", number)}
    return set()


def value_keys(attributes: Mapping[str, Any], path: GuardPath) -> frozenset[Key]:
    """The keys of the value at `path`, and of each element when it is an array."""
    value: Any = attributes
    for segment in path:
        if not isinstance(value, Mapping):
            return frozenset()
        value = value.get(segment)
    if isinstance(value, list | tuple):
        keys: set[Key] = set()
        for element in value:
            keys |= scalar_keys(element)
        return frozenset(keys)
    return frozenset(scalar_keys(value))


def union(groups: Iterable[set[str] | None]) -> set[str]:
    found: set[str] = set()
    for group in groups:
        if group:
            found |= group
    return found
