"""Search-style listing rules any face may use: partial name matches, a window on creation
time, sorting by any field of a record, and numbered pages.

Listings elsewhere filter by exact values; these are the looser rules of search APIs.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from operator import itemgetter
from typing import Any, TypeVar

T = TypeVar("T")


def contains(text: str | None, needle: str) -> bool:
    """`needle` occurs in `text`, ignoring case."""
    return text is not None and needle.casefold() in text.casefold()


def within(ms: int, start_ms: int | None, end_ms: int | None) -> bool:
    """`start_ms <= ms <= end_ms`, either bound optional."""
    return (start_ms is None or ms >= start_ms) and (end_ms is None or ms <= end_ms)


def ordered(
    items: Sequence[T],
    value: Callable[[T], Any],
    tiebreak: Callable[[T], str],
    *,
    descending: bool,
) -> list[T]:
    """`items` ordered by `value`, then by `tiebreak` ascending; items whose value is None
    come last in either direction."""
    by_tiebreak = sorted(items, key=tiebreak)
    values = list(map(value, by_tiebreak))
    present = [(v, item) for v, item in zip(values, by_tiebreak, strict=True) if v is not None]
    absent = [item for v, item in zip(values, by_tiebreak, strict=True) if v is None]
    # One type of value (the usual case) compares as is; mixed ones by type rank first.
    kinds = {type(v) for v, _ in present}
    if len(kinds) <= 1 or kinds <= {int, float}:
        present.sort(key=itemgetter(0), reverse=descending)
    else:
        present.sort(key=lambda pair: _key(pair[0]), reverse=descending)
    # Sorting is stable even with reverse=True: equal values keep the tiebreak order.
    return [item for _, item in present] + absent


def _key(value: Any) -> tuple[int, Any]:
    # Values of one field normally share a type; the rank keeps mixed ones comparable.
    if isinstance(value, bool):
        return (0, value)
    if isinstance(value, int | float):
        return (1, value)
    if isinstance(value, str):
        return (2, value)
    return (3, repr(value))


@dataclass(frozen=True, slots=True)
class Page:
    number: int
    size: int
    total: int

    @property
    def start(self) -> int:
        return self.number * self.size

    @property
    def pages(self) -> int:
        return -(-self.total // self.size)

    @property
    def has_next(self) -> bool:
        return self.start + self.size < self.total

    def slice(self, items: Sequence[T]) -> list[T]:
        return list(items[self.start : self.start + self.size])
