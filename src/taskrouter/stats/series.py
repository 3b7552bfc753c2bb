"""Time-ordered columns of facts, answering window questions without scanning them.

`Moments` holds when something happened; a window's count is two bisections. `Durations`
also holds a value per moment (a wait in ms) with a running total, so a window's total is two
lookups, and per-block minimum, maximum and sorted copies, so its min, max and "how many at
most N" touch whole blocks instead of every value. Appends in time order are O(1) amortised;
a moment older than the newest (a clock set back) is inserted and the blocks rebuilt.
"""

from __future__ import annotations

from array import array
from bisect import bisect_left, bisect_right
from dataclasses import dataclass

BLOCK = 256


class Moments:
    __slots__ = ("times",)

    def __init__(self) -> None:
        self.times = array("q")

    def add(self, at: int) -> None:
        times = self.times
        if not times or at >= times[-1]:
            times.append(at)
        else:
            times.insert(bisect_right(times, at), at)

    def count(self, start: int, end: int) -> int:
        """How many moments fall in [start, end]."""
        return max(bisect_right(self.times, end) - bisect_left(self.times, start), 0)

    def prune(self, cutoff: int) -> None:
        del self.times[: bisect_left(self.times, cutoff)]

    def __len__(self) -> int:
        return len(self.times)


@dataclass(slots=True)
class Summary:
    """count, total, min and max of the values in a window (ms); zeros when empty."""

    count: int = 0
    total: int = 0
    least: int = 0
    most: int = 0

    def merge(self, other: Summary) -> None:
        if not other.count:
            return
        if not self.count:
            self.least, self.most = other.least, other.most
        else:
            self.least = min(self.least, other.least)
            self.most = max(self.most, other.most)
        self.count += other.count
        self.total += other.total


class Durations:
    __slots__ = ("block_max", "block_min", "block_sorted", "running", "times", "values")

    def __init__(self) -> None:
        self.times = array("q")
        self.values = array("q")
        # running[i] = sum of values[:i]
        self.running = array("q", [0])
        self.block_min = array("q")
        self.block_max = array("q")
        # sorted copies of the full blocks only; the last, partial block is read directly
        self.block_sorted: list[array[int]] = []

    def __len__(self) -> int:
        return len(self.times)

    def add(self, at: int, value: int) -> None:
        times = self.times
        if times and at < times[-1]:
            index = bisect_right(times, at)
            times.insert(index, at)
            self.values.insert(index, value)
            self._rebuild(index)
            return
        index = len(times)
        times.append(at)
        self.values.append(value)
        self.running.append(self.running[-1] + value)
        block = index // BLOCK
        if block == len(self.block_min):
            self.block_min.append(value)
            self.block_max.append(value)
        else:
            if value < self.block_min[block]:
                self.block_min[block] = value
            if value > self.block_max[block]:
                self.block_max[block] = value
        if index % BLOCK == BLOCK - 1:
            self.block_sorted.append(array("q", sorted(self.values[index - BLOCK + 1 :])))

    def _rebuild(self, index: int) -> None:
        """Recompute totals and blocks from `index` on (a late moment was inserted there);
        a moment only a little late costs only the tail after it."""
        values = self.values
        block = index // BLOCK
        first = block * BLOCK
        del self.running[first + 1 :]
        total = self.running[first]
        for value in values[first:]:
            total += value
            self.running.append(total)
        del self.block_min[block:]
        del self.block_max[block:]
        del self.block_sorted[block:]
        for start in range(first, len(values), BLOCK):
            chunk = values[start : start + BLOCK]
            self.block_min.append(min(chunk))
            self.block_max.append(max(chunk))
            if len(chunk) == BLOCK:
                self.block_sorted.append(array("q", sorted(chunk)))

    def prune(self, cutoff: int) -> None:
        """Drop the whole blocks older than `cutoff`, so nothing needs recomputing; the few
        older values left lie before every window the service accepts."""
        blocks = bisect_left(self.times, cutoff) // BLOCK
        if blocks:
            drop = blocks * BLOCK
            del self.times[:drop]
            del self.values[:drop]
            # running totals stay valid as differences
            del self.running[:drop]
            del self.block_min[:blocks]
            del self.block_max[:blocks]
            del self.block_sorted[:blocks]

    def span(self, start: int, end: int) -> tuple[int, int]:
        """Index range [i, j) of the moments in [start, end]."""
        return bisect_left(self.times, start), bisect_right(self.times, end)

    def summary(self, start: int, end: int) -> Summary:
        i, j = self.span(start, end)
        if i >= j:
            return Summary()
        values = self.values
        first, last = i // BLOCK, (j - 1) // BLOCK
        if first == last:
            chunk = values[i:j]
            least, most = min(chunk), max(chunk)
        else:
            head = values[i : (first + 1) * BLOCK]
            tail = values[last * BLOCK : j]
            least = min(min(head), min(tail))
            most = max(max(head), max(tail))
            if last > first + 1:
                least = min(least, min(self.block_min[first + 1 : last]))
                most = max(most, max(self.block_max[first + 1 : last]))
        return Summary(j - i, self.running[j] - self.running[i], least, most)

    def at_most(self, start: int, end: int, limit: int) -> int:
        """How many values in the window are <= limit."""
        i, j = self.span(start, end)
        if i >= j:
            return 0
        values = self.values
        first, last = i // BLOCK, (j - 1) // BLOCK
        if first == last:
            return sum(1 for v in values[i:j] if v <= limit)
        found = sum(1 for v in values[i : (first + 1) * BLOCK] if v <= limit)
        found += sum(1 for v in values[last * BLOCK : j] if v <= limit)
        # Blocks strictly between the first and the last are full, so sorted copies exist.
        for block in range(first + 1, last):
            found += bisect_right(self.block_sorted[block], limit)
        return found
