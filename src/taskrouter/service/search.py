"""Search-style listing rules any face may use: partial name matches, a window on creation
time, sorting by any field of a record, and numbered pages.

Listings elsewhere filter by exact values; these are the looser rules of search APIs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

T = TypeVar("T")


def contains(text: str | None, needle: str) -> bool:
    """`needle` occurs in `text`, ignoring case."""
    return text is not None and needle.casefold() in text.casefold()


def within(ms: int, start_ms: int | None, end_ms: int | None) -> bool:
    """`start_ms <= ms <= end_ms`, either bound optional."""
    return (start_ms is None or ms >= start_ms) and (end_ms is None or ms <= end_ms)


def sort_records(
    records: list[dict[str, Any]], field: str, *, descending: bool, tiebreak: str = "sid"
) -> list[dict[str, Any]]:
    """Records ordered by `field`, then by `tiebreak` ascending; records without a value for
    `field` (missing or null) come last in either direction."""
    records = sorted(records, key=lambda r: str(r.get(tiebreak, "")))
    present = [r for r in records if r.get(field) is not None]
    absent = [r for r in records if r.get(field) is None]
    present.sort(key=lambda r: _key(r[field]), reverse=descending)
    return present + absent


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
