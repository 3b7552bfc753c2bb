"""Migrations: create the declared schema, record the head revision, and rerun as a no-op."""

from __future__ import annotations

import asyncio
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, create_engine
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from support.databases import execute_sql
from taskrouter.store import Put, open_store
from taskrouter.store.migrations import head, upgrade
from taskrouter.store.schema import POSTGRES_ONLY, TABLES, metadata


def schema_differences(url: str) -> list[Any]:
    """What autogenerate would change to make the database match schema.py (nothing, we hope)."""

    def compare(connection: Connection) -> list[Any]:
        def declared_here(obj: Any, name: str | None, kind: str, *_: Any) -> bool:
            return connection.dialect.name == "postgresql" or name not in POSTGRES_ONLY

        opts = {"compare_type": True, "include_object": declared_here}
        context = MigrationContext.configure(connection, opts=opts)
        return list(compare_metadata(context, metadata))

    if url.startswith("sqlite:"):
        engine = create_engine(url, poolclass=NullPool)
        with engine.connect() as connection:
            return compare(connection)

    async def run() -> list[Any]:
        engine = create_async_engine(make_url(url).set(drivername="postgresql+asyncpg"))
        try:
            async with engine.connect() as connection:
                return await connection.run_sync(compare)
        finally:
            await engine.dispose()

    return asyncio.run(run())


def versions(url: str) -> list[tuple[Any, ...]]:
    return execute_sql(url, "SELECT version_num FROM alembic_version")[0]


def test_upgrade_builds_the_declared_schema_and_is_idempotent(database_url: str) -> None:
    upgrade(database_url)
    assert versions(database_url) == [(head(),)]
    assert schema_differences(database_url) == []
    upgrade(database_url)
    assert versions(database_url) == [(head(),)]


def test_open_migrates_and_keeps_data_across_upgrades(database_url: str) -> None:
    async def main() -> None:
        store = open_store(database_url)
        await store.open()
        await store.commit([Put("workspaces", "WS1", {"account_sid": "AC1", "body": {"n": 1}})])
        await store.close()
        await store.open()  # migrates again: a no-op
        try:
            assert [r["sid"] for r in await store.load("workspaces")] == ["WS1"]
        finally:
            await store.close()

    asyncio.run(main())
    upgrade(database_url)
    assert versions(database_url) == [(head(),)]


def test_every_table_loads_empty_after_upgrade(database_url: str) -> None:
    async def main() -> None:
        store = open_store(database_url)
        await store.open()
        try:
            for table in TABLES:
                assert await store.load(table) == [], table
        finally:
            await store.close()

    asyncio.run(main())
