"""PostgreSQL only: losing the writer's connection fails the batch cleanly, then recovers."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from urllib.parse import urlsplit

import asyncpg
import pytest

from support.databases import create_postgres_database, drop_postgres_database, execute_sql
from taskrouter.store import Put, StoreUnavailable
from taskrouter.store import postgres as pg_module
from taskrouter.store.postgres import PostgresStore

pytestmark = pytest.mark.postgres


@pytest.fixture
def pg_url() -> Iterator[str]:
    url = create_postgres_database()
    try:
        yield url
    finally:
        drop_postgres_database(url)


def pair(sid: str) -> list[Put]:
    row = {"account_sid": "AC1", "workspace_sid": "WS1", "body": {"sid": sid}}
    return [Put("workers", sid, row), Put("workers", sid + "b", row)]


def terminate(url: str, application: str) -> int:
    """Kill the store's server-side sessions of one kind, as an admin or a failover would."""
    database = urlsplit(url).path.lstrip("/")
    rows = execute_sql(
        url,
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
        f"WHERE datname = '{database}' AND application_name = '{application}'",
    )[0]
    return len(rows)


async def stored(store: PostgresStore) -> set[str]:
    return {r["sid"] for r in await store.load("workers")}


def test_writer_recovers_after_its_backend_is_terminated(pg_url: str) -> None:
    async def main() -> None:
        store = PostgresStore(pg_url)
        await store.open()
        try:
            await store.commit(pair("WK0"))
            assert terminate(pg_url, "taskrouter-writer") == 1
            outcomes: dict[str, bool] = {}
            for i in range(1, 6):
                try:
                    await store.commit(pair(f"WK{i}"))
                    outcomes[f"WK{i}"] = True
                except StoreUnavailable:
                    outcomes[f"WK{i}"] = False
            # At most the first commit after the loss fails; the writer then reconnects.
            assert all(list(outcomes.values())[1:]), outcomes
            sids = await stored(store)
            for sid, ok in outcomes.items():
                if ok:
                    assert {sid, sid + "b"} <= sids
                else:  # in doubt, but never half-applied
                    assert (sid in sids) == (sid + "b" in sids)
        finally:
            await store.close()

    asyncio.run(main())


def test_connection_lost_mid_transaction_is_retried_whole_on_a_new_one(pg_url: str) -> None:
    async def main() -> None:
        store = PostgresStore(pg_url)
        await store.open()
        blocker = await asyncpg.connect(pg_url)
        try:
            tx = blocker.transaction()
            await tx.start()
            await blocker.execute("LOCK TABLE workers IN EXCLUSIVE MODE")
            stuck = asyncio.create_task(store.commit(pair("WK1")))
            await asyncio.sleep(0.2)  # WK1 is inside its transaction, waiting for the lock
            queued = asyncio.create_task(store.commit(pair("WK2")))
            await asyncio.sleep(0.05)
            assert terminate(pg_url, "taskrouter-writer") == 1
            await asyncio.sleep(0.2)  # WK1 is retried on a new connection, behind the lock
            assert not stuck.done()
            await tx.rollback()
            # Whole-row upserts make the in-doubt batch safe to apply again: it succeeds.
            await stuck
            await queued
            await store.commit(pair("WK3"))
            assert await stored(store) == {"WK1", "WK1b", "WK2", "WK2b", "WK3", "WK3b"}
        finally:
            await blocker.close()
            await store.close()

    asyncio.run(main())


def test_unreachable_server_fails_commits_fast_then_recovers(
    pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pg_module, "CONNECT_WINDOW", 0.5)

    async def main() -> None:
        store = PostgresStore(pg_url)
        await store.open()
        try:
            real = store._dsn
            # Nothing listens on port 1: every reconnect attempt is refused.
            store._dsn = real.replace(urlsplit(real).netloc.rsplit(":", 1)[-1], "1", 1)
            terminate(pg_url, "taskrouter-writer")
            loop = asyncio.get_running_loop()
            started = loop.time()
            for i in range(2):
                with pytest.raises(StoreUnavailable):
                    await store.commit(pair(f"WKlost{i}"))
            assert loop.time() - started < 5
            store._dsn = real
            await store.commit(pair("WK1"))
            assert await stored(store) == {"WK1", "WK1b"}
        finally:
            await store.close()

    asyncio.run(main())


def test_reads_survive_terminated_pool_connections(pg_url: str) -> None:
    async def main() -> None:
        store = PostgresStore(pg_url)
        await store.open()
        try:
            await store.commit(pair("WK1"))
            assert await stored(store) == {"WK1", "WK1b"}
            assert terminate(pg_url, "taskrouter-read") >= 1
            await asyncio.sleep(0.1)
            assert await stored(store) == {"WK1", "WK1b"}
            assert await store.get("workers", "WK1") is not None
        finally:
            await store.close()

    asyncio.run(main())
