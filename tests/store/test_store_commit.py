"""Group commit: atomic per caller, shared between callers, durable once acknowledged."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from support.databases import execute_sql
from taskrouter.store import Put, StoreError, open_store
from taskrouter.store.postgres import PostgresStore
from taskrouter.store.sqlite import SQLiteStore

AnyStore = SQLiteStore | PostgresStore


def worker(sid: str, account: str = "AC1") -> Put:
    return Put(
        "workers", sid, {"account_sid": account, "workspace_sid": "WS1", "body": {"sid": sid}}
    )


def opened(url: str) -> AnyStore:
    store = open_store(url)
    assert isinstance(store, SQLiteStore | PostgresStore)
    return store


@asynccontextmanager
async def writes_blocked(url: str) -> AsyncIterator[None]:
    """Hold a lock that stalls the store's writer, so commits pile up behind it."""
    if url.startswith("sqlite:"):
        conn = sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None)
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            conn.execute("ROLLBACK")
            conn.close()
    else:
        pg = await asyncpg.connect(url)
        tx = pg.transaction()
        await tx.start()
        await pg.execute("LOCK TABLE workers IN EXCLUSIVE MODE")
        try:
            yield
        finally:
            await tx.rollback()
            await pg.close()


def install_reject_trigger(url: str) -> None:
    """Make the database itself refuse workers of account BAD: a failure only it can see."""
    if url.startswith("sqlite:"):
        execute_sql(
            url,
            "CREATE TRIGGER reject_bad BEFORE INSERT ON workers WHEN NEW.account_sid = 'BAD' "
            "BEGIN SELECT RAISE(ABORT, 'rejected by test trigger'); END",
        )
    else:
        execute_sql(
            url,
            "CREATE FUNCTION reject_bad() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            "IF NEW.account_sid = 'BAD' THEN RAISE EXCEPTION 'rejected by test trigger'; END IF; "
            "RETURN NEW; END $$",
            "CREATE TRIGGER reject_bad BEFORE INSERT ON workers FOR EACH ROW "
            "EXECUTE FUNCTION reject_bad()",
        )


async def settle(coros: list[Any]) -> list[BaseException | None]:
    results = await asyncio.gather(*coros, return_exceptions=True)
    return [r if isinstance(r, BaseException) else None for r in results]


def test_database_refusal_fails_only_the_guilty_commit(database_url: str) -> None:
    async def main() -> None:
        store = opened(database_url)
        await store.open()
        install_reject_trigger(database_url)
        try:
            # Alone: the commit fails whole, nothing of it lands.
            with pytest.raises(StoreError, match="rejected by test trigger"):
                await store.commit([worker("WKa"), worker("WKb", "BAD")])
            assert await store.load("workers") == []

            # Grouped with others: stall the writer so all of these share one transaction.
            async with writes_blocked(database_url):
                first = asyncio.create_task(store.commit([worker("WK0")]))
                await asyncio.sleep(0.2)  # the writer is now stuck on the lock with WK0
                good = [store.commit([worker(f"WK{i}"), worker(f"WK{i}x")]) for i in range(1, 6)]
                bad = store.commit([worker("WKc"), worker("WKd", "BAD")])
                gathered = asyncio.ensure_future(settle([*good, bad]))
                await asyncio.sleep(0.05)
            await first
            results = await gathered
            assert results[:-1] == [None] * 5
            assert isinstance(results[-1], StoreError)
            assert store.stats.failed_commits == 2

            # And the writer is healthy afterwards.
            await store.commit([worker("WKafter")])
            sids = sorted(r["sid"] for r in await store.load("workers"))
            expected = ["WK0", *(f"WK{i}{x}" for i in range(1, 6) for x in ("", "x")), "WKafter"]
            assert sids == sorted(expected)
        finally:
            await store.close()

    asyncio.run(main())


def test_concurrent_commits_share_transactions(database_url: str) -> None:
    async def main() -> None:
        store = opened(database_url)
        await store.open()
        try:
            n = 500
            await asyncio.gather(*(store.commit([worker(f"WK{i:04}")]) for i in range(n)))
            assert store.stats.commits == n
            assert store.stats.transactions < n / 5
            assert len(await store.load("workers")) == n

            # Behind a stalled writer everything queued goes in one transaction.
            before = store.stats.transactions
            async with writes_blocked(database_url):
                first = asyncio.create_task(store.commit([worker("WKfirst")]))
                await asyncio.sleep(0.2)
                rest = asyncio.ensure_future(
                    asyncio.gather(*(store.commit([worker(f"WKq{i}")]) for i in range(200)))
                )
                await asyncio.sleep(0.05)
            await first
            await rest
            assert store.stats.transactions - before == 2
        finally:
            await store.close()

    asyncio.run(main())


def test_acknowledged_commits_survive_close_and_reopen(database_url: str) -> None:
    async def main() -> None:
        store = opened(database_url)
        await store.open()
        await store.commit([worker("WK1")])
        # Commits queued when close() starts are finished, not dropped.
        tasks = [asyncio.create_task(store.commit([worker(f"WKq{i}")])) for i in range(50)]
        await asyncio.sleep(0)
        await store.close()
        assert all(t.done() and t.exception() is None for t in tasks)

        again = opened(database_url)
        await again.open()
        try:
            assert len(await again.load("workers")) == 51
            await again.commit([worker("WK2")])
            assert await again.get("workers", "WK2") is not None
        finally:
            await again.close()

    asyncio.run(main())


def test_empty_commit_is_a_no_op(database_url: str) -> None:
    async def main() -> None:
        store = opened(database_url)
        await store.open()
        try:
            await store.commit([])
            assert store.stats.transactions == 0
        finally:
            await store.close()

    asyncio.run(main())


def test_cancelled_caller_does_not_break_the_writer(database_url: str) -> None:
    async def main() -> None:
        store = opened(database_url)
        await store.open()
        try:
            async with writes_blocked(database_url):
                t = asyncio.create_task(store.commit([worker("WK1")]))
                await asyncio.sleep(0.1)
                t.cancel()
            with pytest.raises(asyncio.CancelledError):
                await t
            # The cancelled change still commits (it was already handed over) and the writer
            # goes on.
            await store.commit([worker("WK2")])
            assert {r["sid"] for r in await store.load("workers")} == {"WK1", "WK2"}
        finally:
            await store.close()

    asyncio.run(main())


def test_the_sqlite_writer_takes_the_lock_as_soon_as_it_is_free(tmp_path: Path) -> None:
    """Another connection (the event courier, a CLI command) holds the write lock for 250 ms.
    SQLite's own busy handler would sleep ever longer and look again only at 328 ms; the writer
    looks every half millisecond, so the commit lands right after the release."""
    path = tmp_path / "lock.db"
    url = f"sqlite:///{path}"

    async def main() -> float:
        store = opened(url)
        await store.open()
        try:
            await store.commit([worker("WK0")])
            holder = sqlite3.connect(path, isolation_level=None)
            holder.execute("BEGIN IMMEDIATE")
            commit = asyncio.ensure_future(store.commit([worker("WK1")]))
            await asyncio.sleep(0.25)
            holder.execute("ROLLBACK")
            released = time.perf_counter()
            await commit
            holder.close()
            assert len(await store.load("workers")) == 2
            return time.perf_counter() - released
        finally:
            await store.close()

    assert asyncio.run(main()) < 0.04
