"""How the courier reads the event log: the owed events of one lane, read back after it
spilled, come from walking the log's key between two bounds, not from sorting everything the
workspace ever logged; and the courier's own process reads SQLite inline, on its loop."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from test_courier_backlog import FixedClock, _commit, _workspace

from taskrouter.events.archive import EventArchive
from taskrouter.events.system import EventSystem
from taskrouter.store import Put, open_store


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


WS_OWED, WS_QUIET = "WS" + "1" * 32, "WS" + "2" * 32


async def _log(store: Any, count: int) -> list[str]:
    """`count` events, alternately owed a callback (WS_OWED's) and not (WS_QUIET's), in SID
    order; the SIDs of the owed ones."""
    owed: list[str] = []
    for first in range(0, count, 1000):
        changes = []
        for n in range(first, min(first + 1000, count)):
            sid = f"EV{n:032x}"
            workspace = WS_OWED if n % 2 == 0 else WS_QUIET
            if workspace == WS_OWED:
                owed.append(sid)
            # About as long as a real event's body: the planner weighs the pages it would read.
            body = {"sid": sid, "workspace_sid": workspace, "data": {"n": n, "pad": "x" * 500}}
            row = {
                "account_sid": "AC" + "0" * 32,
                "workspace_sid": workspace,
                "event_type": "workspace.updated",
                "event_date_ms": 1_700_000_000_000 + n,
                "resource_sid": workspace,
                "callback_url": "http://127.0.0.1:9/" if workspace == WS_OWED else None,
                "body": body,
            }
            changes.append(Put("events", sid, row))
        await store.commit(changes)
    return owed


def _inline(text: str, params: list[Any]) -> str:
    """A PostgreSQL statement with its `$n` parameters written in, for EXPLAIN."""
    for n in range(len(params), 0, -1):
        value = params[n - 1]
        if isinstance(value, list):
            literal = "'{" + ",".join(value) + "}'"
        elif isinstance(value, str):
            literal = "'" + value.replace("'", "''") + "'"
        else:
            literal = str(value)
        text = text.replace(f"${n}", literal)
    return text


def test_the_courier_reads_only_the_rows_it_returns(database_url: str) -> None:
    """A lane that spilled reads its owed events back in SID order with nothing sorted: on
    PostgreSQL from the index of owed events, through the courier's reader (`key_walks`),
    where with no statistics on a young log it had read and sorted every event since the
    lane's last one; on SQLite by walking the key between the two bounds, where it had sorted
    every event the workspace ever had (30% of the courier's time on a log of minutes). The
    count of what spilled lanes passed over, and the read that leaves them out, are read the
    same way, and on PostgreSQL walk the owed events alone, not every event logged."""
    statements: list[tuple[str, list[Any]]] = []
    plans: list[str] = []

    async def scenario() -> None:
        store = open_store(database_url)
        await store.open()
        archive = EventArchive(store, inline_reads=True, key_walks=True)
        read = archive._read

        async def recording(text: str, params: list[Any]) -> list[tuple[Any, ...]]:
            statements.append((text, params))
            return await read(text, params)

        try:
            # Past ~30,000 events, PostgreSQL with no statistics on the table preferred a
            # bitmap scan and a sort of everything in the range.
            owed = await _log(store, 40_000)
            archive._read = recording  # type: ignore[method-assign]
            back = await archive.owed_of(WS_OWED, owed[10], owed[-1], 100)
            assert [e.sid for e in back] == owed[11:111]
            counted = await archive.count_owed_by_workspace(owed[0], owed[-1], [WS_OWED])
            assert counted == {WS_OWED: len(owed) - 1}
            rest = await archive.owed(owed[0], owed[-1], 10, [WS_QUIET])
            assert [e.sid for e in rest] == owed[:10]
            archive._read = read  # type: ignore[method-assign]
            for text, params in statements:
                if archive._postgres:
                    rows = await archive.select(f"EXPLAIN {_inline(text, params)}", [])
                else:
                    rows = await archive.select(f"EXPLAIN QUERY PLAN {text}", params)
                plans.append(" ".join(str(row[-1]) for row in rows))
        finally:
            await archive.close()
            await store.close()

    asyncio.run(scenario())
    read_back, count, rest = plans
    if database_url.startswith("sqlite"):
        # No index of owed events here: every read walks the key between its two bounds.
        for plan in plans:
            assert "sqlite_autoindex_events_1 (sid>? AND sid<?)" in plan, plan
        for plan in (read_back, rest):
            assert "TEMP B-TREE" not in plan, plan
        return
    assert "ix_events_owed_by_workspace" in read_back, read_back
    for plan in (read_back, rest):
        for sorting in ("Sort", "Bitmap"):
            assert sorting not in plan, plan
    assert "ix_events_owed" in count, count
    # The events owed nothing (half of this log) are not walked.
    assert "ix_events_owed " in rest, rest
