"""The window columns under cumulative statistics agree with a plain scan of the same facts."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from taskrouter.stats.history import History
from taskrouter.stats.series import BLOCK, Durations, Moments

facts = st.lists(
    st.tuples(st.integers(0, 5_000), st.integers(0, 400_000)), min_size=0, max_size=3 * BLOCK
)
window = st.tuples(st.integers(-10, 5_010), st.integers(-10, 5_010))


@settings(max_examples=60, deadline=None)
@given(facts, window, st.integers(0, 400_000), st.booleans())
def test_durations_answer_like_a_scan(
    items: list[tuple[int, int]], bounds: tuple[int, int], limit: int, in_order: bool
) -> None:
    if in_order:
        items = sorted(items, key=lambda item: item[0])
    series = Durations()
    moments = Moments()
    for at, value in items:
        series.add(at, value)
        moments.add(at)
    start, end = bounds
    inside = [value for at, value in items if start <= at <= end]
    summary = series.summary(start, end)
    assert summary.count == len(inside) == moments.count(start, end)
    assert summary.total == sum(inside)
    assert (summary.least, summary.most) == ((min(inside), max(inside)) if inside else (0, 0))
    assert series.at_most(start, end, limit) == sum(1 for v in inside if v <= limit)
    # Pruning forgets what is older than the cutoff; windows that start at or after it are
    # answered as before.
    cutoff = min(start, end)
    series.prune(cutoff)
    moments.prune(cutoff)
    assert series.summary(start, end) == summary
    assert series.at_most(start, end, limit) == sum(1 for v in inside if v <= limit)
    assert moments.count(start, end) == len(inside)
    series.add(5_000, 7)
    later = [value for at, value in items if start <= at <= 5_000] + [7] * (start <= 5_000)
    assert series.summary(start, 5_000).total == sum(later)


def test_activity_stints_are_clipped_to_the_window() -> None:
    history = History("WS")

    def change(at: int, worker: str, activity: str) -> None:
        data = {"WorkerSid": worker, "WorkerActivitySid": activity}
        history.observe({"event_type": "worker.activity.update", "event_date_ms": at, "data": data})

    history.seed_worker("WK1", "offline", 100)
    change(100, "WK1", "offline")  # no change, no new stint
    change(250, "WK1", "available")
    change(400, "WK1", "offline")
    history.seed_worker("WK2", "available", 0)

    def stints(start: int, end: int, workers: tuple[str, ...] = ("WK1",)) -> dict[str, Any]:
        found = history.activity_stints(workers, start, end)
        return {k: (v.count, v.total, v.least, v.most) for k, v in found.items()}

    assert stints(0, 1000) == {"offline": (2, 750, 150, 600), "available": (1, 150, 150, 150)}
    assert stints(200, 300) == {"offline": (1, 50, 50, 50), "available": (1, 50, 50, 50)}
    assert stints(500, 600) == {"offline": (1, 100, 100, 100)}
    assert stints(500, 600, ("WK1", "WK2", "WK3")) == {
        "offline": (1, 100, 100, 100),
        "available": (1, 100, 100, 100),
    }
    history.prune(300)
    assert stints(300, 500) == {"available": (1, 100, 100, 100), "offline": (1, 100, 100, 100)}


changes = st.lists(
    st.tuples(
        st.sampled_from(["WK1", "WK2", "WK3"]), st.integers(0, 1_000), st.sampled_from("abc")
    ),
    max_size=40,
)


@settings(max_examples=60, deadline=None)
@given(changes, window)
def test_all_workers_answer_like_each_worker_visited(
    moves: list[tuple[str, int, str]], bounds: tuple[int, int]
) -> None:
    """The shortcut for workers who did not change inside the window gives what visiting every
    worker gives."""
    history = History("WS")
    for worker, at, activity in moves:
        data = {"WorkerSid": worker, "WorkerActivitySid": activity}
        history.observe({"event_type": "worker.activity.update", "event_date_ms": at, "data": data})
    history.seed_worker("WK4", "a", 10)
    start, end = sorted(bounds)
    every = history.activity_stints(["WK1", "WK2", "WK3", "WK4"], start, end)
    assert history.activity_stints(None, start, end) == every
