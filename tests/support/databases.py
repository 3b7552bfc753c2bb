"""Throwaway databases for tests: a SQLite file, or a fresh PostgreSQL database per use.

PostgreSQL is expected at POSTGRES_URL (override with TASKROUTER_TEST_POSTGRES_URL). When it is
not reachable the PostgreSQL tests skip on a developer's machine and FAIL in CI (CI=true):
there they must always run.
"""

from __future__ import annotations

import asyncio
import functools
import os
import secrets
import sqlite3
import threading
from collections.abc import Callable, Coroutine, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest

T = TypeVar("T")

POSTGRES_URL = os.environ.get(
    "TASKROUTER_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)
DATABASE_PREFIX = "taskrouter_t_"


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() == "true"


def _run(factory: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run a coroutine to completion on a private loop in its own thread.

    The helpers are plain functions so sync fixtures can call them, and a thread keeps them
    usable from code that already runs inside an event loop.
    """
    result: list[T] = []
    error: list[BaseException] = []

    def target() -> None:
        try:
            result.append(asyncio.run(factory()))
        except BaseException as exc:
            error.append(exc)

    thread = threading.Thread(target=target, name="test-postgres-admin")
    thread.start()
    thread.join()
    if error:
        raise error[0]
    return result[0]


def _with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/" + name))


async def _admin(sql: str, timeout: float = 10.0) -> None:
    conn = await asyncpg.connect(POSTGRES_URL, timeout=timeout)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@functools.cache
def postgres_problem() -> str | None:
    """None when PostgreSQL answers at POSTGRES_URL, else why not (checked once per session)."""
    try:
        _run(lambda: _admin("SELECT 1", timeout=3.0))
    except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, TimeoutError) as exc:
        return f"{type(exc).__name__}: {exc}"
    return None


def require_postgres() -> None:
    """Skip (locally) or fail (in CI) the calling test when PostgreSQL is unreachable."""
    problem = postgres_problem()
    if problem is None:
        return
    where = POSTGRES_URL.rsplit("@", 1)[-1]
    if in_ci():
        pytest.fail(
            f"PostgreSQL not reachable at {where} ({problem}); PostgreSQL tests must run in CI. "
            "Start it or point TASKROUTER_TEST_POSTGRES_URL at one.",
            pytrace=False,
        )
    pytest.skip(f"PostgreSQL not reachable at {where} ({problem}); these tests run in CI")


def create_postgres_database() -> str:
    """Create an empty database and return its URL; pair with drop_postgres_database."""
    require_postgres()
    name = DATABASE_PREFIX + secrets.token_hex(6)
    _run(lambda: _admin(f'CREATE DATABASE "{name}"'))
    return _with_database(POSTGRES_URL, name)


def drop_postgres_database(url: str) -> None:
    """Drop a database made by create_postgres_database, disconnecting anyone still on it."""
    name = urlsplit(url).path.lstrip("/")
    if not name.startswith(DATABASE_PREFIX) or not name.replace("_", "").isalnum():
        raise ValueError(f"refusing to drop {name!r}: not a test database")
    _run(lambda: _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
]
"""Parameters of fixtures that run their tests once per store."""


@contextmanager
def throwaway_database(backend: str, folder: Path) -> Iterator[str]:
    """A fresh, empty database on `backend` ("sqlite": a file in `folder`), dropped after."""
    if backend == "sqlite":
        yield f"sqlite:///{folder / 'taskrouter.db'}"
        return
    url = create_postgres_database()
    try:
        yield url
    finally:
        drop_postgres_database(url)


def execute_sql(url: str, *statements: str) -> list[list[tuple[Any, ...]]]:
    """Run raw statements against the database at `url` (either backend), outside any store.

    Returns each statement's rows. For tests that need to reach around the store: install a
    trigger, inspect the schema, count rows.
    """
    if url.startswith("sqlite:"):
        conn = sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None)
        try:
            return [conn.execute(sql).fetchall() for sql in statements]
        finally:
            conn.close()

    async def run() -> list[list[tuple[Any, ...]]]:
        conn = await asyncpg.connect(url)
        try:
            return [[tuple(r) for r in await conn.fetch(sql)] for sql in statements]
        finally:
            await conn.close()

    return _run(run)
