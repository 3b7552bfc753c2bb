"""How the courier reads the event log: the owed events of one lane, read back after it
spilled, come from walking the log's key between two bounds, not from sorting everything the
workspace ever logged; and the courier's own process reads SQLite inline, on its loop."""

from __future__ import annotations

import asyncio
import sqlite3
from typing import Any

import pytest
from test_courier_backlog import FixedClock, _commit, _workspace

from taskrouter.events.archive import EventArchive
from taskrouter.events.system import EventSystem
from taskrouter.store import open_store
from taskrouter.store.migrations import sqlite_path


@pytest.mark.parametrize("inline_reads", [False, True])
def test_a_lane_reads_back_its_owed_events_in_order_between_the_bounds(
    database_url: str, inline_reads: bool
) -> None:
    async def scenario() -> None:
        store = open_store(database_url)
        await store.open()
        archive = EventArchive(store, inline_reads=inline_reads)
        try:
            system = EventSystem(store, FixedClock())
            owed, other = _workspace("1", "http://127.0.0.1:9/"), _workspace("2", "http://h/")
            for state in (owed, other, owed, other, owed):
                await _commit(store, system, state, 2)
            everything = await archive.owed("", "~", 100)
            mine = [e.sid for e in everything if e.workspace_sid == owed.sid]
            assert len(everything) == 10 and len(mine) == 6

            read = await archive.owed_of(owed.sid, mine[0], mine[4], 100)
            assert [e.sid for e in read] == mine[1:4], "strictly between the two bounds"
            assert all(e.body is not None and e.body["sid"] == e.sid for e in read)
            assert [e.sid for e in await archive.owed_of(owed.sid, "", "~", 2)] == mine[:2]
            # Inline: no thread was started to read.
            assert (archive._executor is None) == inline_reads or archive._postgres
        finally:
            await archive.close()
            await store.close()

    asyncio.run(scenario())


def test_reading_back_walks_the_key_and_sorts_nothing(tmp_path: Any) -> None:
    """With the workspace's index, SQLite sorted every event the workspace ever had on each
    read-back: its cost grew with the log, 30% of the courier's time on a log of minutes.
    The reads that leave spilled lanes out, and count their events, walk the key too (the
    count groups only what lies between the bounds)."""
    url = f"sqlite:///{tmp_path}/events.db"
    statements: list[tuple[str, list[Any]]] = []

    async def scenario() -> None:
        store = open_store(url)
        await store.open()
        archive = EventArchive(store, inline_reads=True)
        read = archive._read

        async def recording(text: str, params: list[Any]) -> list[tuple[Any, ...]]:
            statements.append((text, params))
            return await read(text, params)

        archive._read = recording  # type: ignore[method-assign]
        try:
            await archive.owed_of("WS" + "1" * 32, "EV0", "EV9", 10)
            # A read that leaves spilled lanes out, and the count of what they passed over.
            await archive.owed("EV0", "EV9", 10, ["WS" + "1" * 32, "WS" + "2" * 32])
            await archive.count_owed_by_workspace("EV0", "EV9", ["WS" + "1" * 32])
        finally:
            await archive.close()
            await store.close()

    asyncio.run(scenario())
    assert len(statements) == 3
    for text, params in statements:
        with sqlite3.connect(sqlite_path(url)) as conn:
            explained = conn.execute(f"EXPLAIN QUERY PLAN {text}", params)
            plan = " ".join(row[-1] for row in explained)
        assert "sqlite_autoindex_events_1" in plan and "sid>? AND sid<?" in plan, plan
        if "GROUP BY" not in text:
            assert "TEMP B-TREE" not in plan, plan
