"""The window columns under cumulative statistics agree with a plain scan of the same facts."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from taskrouter.stats.series import BLOCK, Durations, Moments
from taskrouter.stats.timeline import Timeline

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
    cutoff = (start + end) // 2
    series.prune(cutoff)
    moments.prune(cutoff)
    kept = [value for at, value in items if at >= cutoff and start <= at <= end]
    assert series.summary(start, end).total == sum(kept)
    assert moments.count(start, end) == len(kept)


def test_timeline_clips_stints_to_the_window() -> None:
    timeline = Timeline()
    timeline.change(100, "offline")
    timeline.change(100, "offline")  # no change, no new stint
    timeline.change(250, "available")
    timeline.change(400, "offline")
    assert list(timeline.stints(0, 1000)) == [
        ("offline", 150),
        ("available", 150),
        ("offline", 600),
    ]
    assert list(timeline.stints(200, 300)) == [("offline", 50), ("available", 50)]
    assert list(timeline.stints(500, 600)) == [("offline", 100)]
    timeline.prune(300)
    assert list(timeline.stints(300, 500)) == [("available", 100), ("offline", 100)]
