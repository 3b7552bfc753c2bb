"""Schema migrations (Alembic), run by `Store.open()` and by `taskrouter db upgrade`.

Alembic is configured here rather than from an .ini so the package needs no config file.
PostgreSQL migrates through SQLAlchemy's asyncpg dialect (the driver the store already uses);
SQLite through the stdlib driver. Both run every pending revision in one transaction, so a
failed upgrade leaves the schema as it was.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, create_engine, event
from sqlalchemy.engine import make_url

_HERE = Path(__file__).resolve().parent
# Any constant works; it only has to be the same for every process migrating one database.
_PG_LOCK_KEY = 0x7461736B726F7574  # "taskrout"


def config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(_HERE))
    return cfg


def _run(connection: Connection) -> None:
    cfg = config()
    cfg.attributes["connection"] = connection
    command.upgrade(cfg, "head")


def sqlite_path(url: str) -> Path:
    """The file of `sqlite:///relative/path` or `sqlite:////absolute/path`."""
    if not url.startswith("sqlite:///") or "?" in url:
        raise ValueError(f"expected sqlite:///path without options, got {url!r}")
    path = url.removeprefix("sqlite:///")
    if not path or path == ":memory:":
        raise ValueError(f"a SQLite store needs a file path, got {url!r}")
    return Path(path)


def _upgrade_sqlite(url: str) -> None:
    path = sqlite_path(url)
    path.parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(f"sqlite:///{path}", connect_args={"timeout": 30})

    # pysqlite would run DDL outside any transaction; taking over BEGIN makes the upgrade
    # atomic and, being IMMEDIATE, serialises two processes upgrading the same file.
    @event.listens_for(engine, "connect")
    def _autocommit(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None

    @event.listens_for(engine, "begin")
    def _begin(connection: Connection) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    try:
        with engine.begin() as connection:
            _run(connection)
    finally:
        engine.dispose()


def _run_locked(connection: Connection) -> None:
    # Released at COMMIT: two processes starting together take turns instead of both
    # creating the same tables.
    connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_PG_LOCK_KEY})")
    _run(connection)


async def _upgrade_postgres(url: str) -> None:
    try:
        from sqlalchemy.ext.asyncio import create_async_engine
        from sqlalchemy.pool import NullPool

        engine = create_async_engine(
            make_url(url).set(drivername="postgresql+asyncpg"), poolclass=NullPool
        )
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise RuntimeError("PostgreSQL migrations need sqlalchemy[asyncio] (greenlet)") from exc
    try:
        async with engine.begin() as connection:
            await connection.run_sync(_run_locked)
    finally:
        await engine.dispose()


async def upgrade_async(url: str) -> None:
    """Bring the database at `url` to the newest revision; a no-op when it is there already."""
    if url.startswith("sqlite:"):
        await asyncio.to_thread(_upgrade_sqlite, url)
    elif url.startswith(("postgresql:", "postgres:")):
        await _upgrade_postgres(url)
    else:
        raise ValueError(f"unsupported database URL {url!r}")


def upgrade(url: str) -> None:
    """`upgrade_async` for callers without an event loop (the CLI runs it in a thread)."""
    asyncio.run(upgrade_async(url))


def head() -> str:
    """The newest revision, as `alembic_version.version_num` holds it once upgraded."""
    from alembic.script import ScriptDirectory

    revision = ScriptDirectory.from_config(config()).get_current_head()
    assert revision is not None
    return revision
