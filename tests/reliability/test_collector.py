"""The server's garbage collector: young and middle generations on their own, full
collections while no request is being served, or at the latest every few minutes."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Iterator

import pytest

from taskrouter import collector
from taskrouter.collector import FULL_AT_LATEST_S, FullCollections, collect_when_idle


@pytest.fixture
def thresholds() -> Iterator[None]:
    before = gc.get_threshold()
    try:
        yield
    finally:
        gc.set_threshold(*before)


def test_a_full_collection_waits_for_a_pause_in_requests() -> None:
    decide = FullCollections(last_full=0.0, last_requests=0)
    assert not decide.due(1.0, requests=40, promotions=3)  # requests started since
    assert not decide.due(2.0, requests=90, promotions=3)
    assert decide.due(3.0, requests=90, promotions=3)  # none since the last look
    assert not decide.due(4.0, requests=90, promotions=0)  # idle, but nothing to walk


def test_a_load_that_never_pauses_gets_one_at_the_latest_interval() -> None:
    decide = FullCollections(last_full=0.0, last_requests=0)
    requests = 0
    now = 0.0
    collected_at = []
    while now < 2 * FULL_AT_LATEST_S + 1:
        now += 0.25
        requests += 100
        if decide.due(now, requests, promotions=1):
            collected_at.append(now)
    assert collected_at == [FULL_AT_LATEST_S, 2 * FULL_AT_LATEST_S]


def test_the_interval_counts_from_the_last_full_collection_idle_ones_too() -> None:
    decide = FullCollections(last_full=0.0, last_requests=0)
    assert decide.due(100.0, requests=0, promotions=1)  # idle
    assert not decide.due(FULL_AT_LATEST_S + 1, requests=5, promotions=1)
    assert decide.due(FULL_AT_LATEST_S + 100, requests=10, promotions=1)


def test_the_server_loop_collects_once_requests_stop() -> None:
    """Driven by a fake clock: requests arrive for 2 s, then stop."""
    now = [0.0]
    requests = [0]
    collections: list[float] = []
    looks = [0]

    async def sleep(seconds: float) -> None:
        now[0] += seconds
        looks[0] += 1
        if now[0] <= 2.0:
            requests[0] += 50
        if looks[0] > 20:
            raise asyncio.CancelledError

    async def main() -> None:
        with pytest.raises(asyncio.CancelledError):
            await collect_when_idle(
                lambda: requests[0],
                clock=lambda: now[0],
                sleep=sleep,
                promotions=lambda: 0 if collections else 2,
                collect=lambda: collections.append(now[0]),
            )

    asyncio.run(main())
    # The first look with no request since the one before, and only once: nothing was
    # promoted after it.
    assert collections == [2.25]


def test_automatic_collections_never_walk_the_old_generation(thresholds: None) -> None:
    collector.configure()
    generations: list[int] = []

    def record(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            generations.append(info["generation"])

    gc.callbacks.append(record)
    try:
        kept = []
        for i in range(1_000_000):
            node: dict[str, object] = {"n": i}
            node["self"] = node  # a cycle, as garbage
            if i % 10 == 0:
                kept.append([i])  # survivors, promoted by young collections
    finally:
        gc.callbacks.remove(record)
    # More middle collections than CPython's default (10) lets pass before a full one.
    assert generations.count(1) > 10
    assert 2 not in generations
    assert gc.get_count()[2] > 0  # promotions waiting for the server's full collection
    del kept
