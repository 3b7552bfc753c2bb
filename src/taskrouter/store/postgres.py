"""The production store: PostgreSQL through asyncpg, with group commit on one writer connection.

A writer task owns one connection. Commits queue up while it is busy; each round it takes all
of them and applies them as one statement: every table's upsert and delete joined by WITH,
which PostgreSQL runs and commits as a single implicit transaction, in one round trip. Reads
go through a small pool, so they never wait behind a commit.

If the writer's connection breaks, the batch in flight fails with StoreUnavailable (it is
applied whole or not at all, never in part) and the writer reconnects with backoff before the
next batch; a batch that cannot get a connection within CONNECT_WINDOW fails the same way.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, TypeVar

import asyncpg

from taskrouter.store.base import Change
from taskrouter.store.errors import StoreClosed, StoreError, StoreUnavailable
from taskrouter.store.loops import HomeLoop
from taskrouter.store.migrations import upgrade_async
from taskrouter.store.plans import Op, TablePlan, plan
from taskrouter.store.rows import (
    Select,
    StoreStats,
    decode,
    order_term,
    prepare,
    select,
    table_spec,
)
from taskrouter.store.schema import TABLES

log = logging.getLogger(__name__)

T = TypeVar("T")

MAX_BATCH = 2048
READ_POOL_SIZE = 4


async def keep_session(conn: asyncpg.Connection) -> None:
    """How a read connection goes back to its pool. asyncpg's default sends a reset query
    (unlock advisory locks, close cursors, unlisten, reset settings) on every release: a round
    trip and a statement for the server after each read, for session state these readers never
    make. An open transaction is still rolled back by the pool before this runs."""


# How long a batch waits for a (re)connection before failing; short, so callers learn fast.
CONNECT_WINDOW = 5.0
BACKOFF_FIRST, BACKOFF_MAX = 0.05, 1.0
# A statement that hangs this long means a dead peer the kernel has not noticed yet.
COMMAND_TIMEOUT = 60.0


class _Pending:
    __slots__ = ("future", "ops")

    def __init__(self, ops: list[Op], future: asyncio.Future[None]) -> None:
        self.ops = ops
        self.future = future

    def resolve(self, error: BaseException | None) -> None:
        if self.future.done():  # the caller was cancelled; the outcome stands regardless
            return
        if error is None:
            self.future.set_result(None)
        else:
            self.future.set_exception(error)


_STOP = object()


_ARRAY_TYPE = {"text": "text[]", "int32": "integer[]", "int64": "bigint[]"}


# Tables in schema order, so the same kinds of change always make the same statement text
# (asyncpg prepares each text once and keeps it).
_TABLE_ORDER = {name: i for i, name in enumerate(TABLES)}


def _upsert(table: str, first: int) -> str:
    """An upsert taking one array per column, numbered from `first`.

    unnest beat executemany by ~15% per transaction here. plan() guarantees a sid appears
    once, as ON CONFLICT requires.
    """
    spec = TABLES[table]
    cols = ", ".join(spec.all_names)
    kinds = ["text", *(c.kind for c in spec.columns)]
    arrays = ", ".join(f"${i}::{_ARRAY_TYPE[k]}" for i, k in enumerate(kinds, first))
    updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in spec.column_names)
    return (
        f"INSERT INTO {table} ({cols}) SELECT * FROM unnest({arrays}) "
        f"ON CONFLICT (sid) DO UPDATE SET {updates}"
    )


def _delete(table: str, first: int) -> str:
    return f"DELETE FROM {table} WHERE sid = ANY(${first}::text[])"


# (table, is_delete) per part -> the statement text; a few shapes cover every command.
_statements: dict[tuple[tuple[str, bool], ...], str] = {}


def _statement(plans: list[TablePlan]) -> tuple[str, list[Any]]:
    """One statement applying every plan, and its arguments.

    Each upsert or delete is a part; all but the last go in WITH, the last is the main
    statement. The parts run on one snapshot, which is safe because plan() leaves each row
    to at most one part, and the statement commits whole or not at all.
    """
    parts: list[tuple[str, bool]] = []
    args: list[Any] = []
    for p in sorted(plans, key=lambda p: _TABLE_ORDER[p.table]):
        if p.upserts:
            parts.append((p.table, False))
            args.extend(list(c) for c in zip(*p.upserts, strict=True))
        if p.deletes:
            parts.append((p.table, True))
            args.append(p.deletes)
    shape = tuple(parts)
    sql = _statements.get(shape)
    if sql is None:
        texts: list[str] = []
        first = 1
        for table, is_delete in shape:
            if is_delete:
                texts.append(_delete(table, first))
                first += 1
            else:
                texts.append(_upsert(table, first))
                first += len(TABLES[table].all_names)
        head = ", ".join(f"p{i} AS ({text})" for i, text in enumerate(texts[:-1]))
        sql = _statements[shape] = (f"WITH {head} " if head else "") + texts[-1]
    return sql, args


_CONNECTION_ERRORS: tuple[type[BaseException], ...] = (
    OSError,
    TimeoutError,
    asyncpg.InterfaceError,  # includes "connection is closed"
    asyncpg.PostgresConnectionError,  # SQLSTATE class 08
    asyncpg.exceptions.OperatorInterventionError,  # 57: admin shutdown, pg_terminate_backend
)


def _dsn(url: str) -> str:
    # asyncpg takes both schemes; normalise so SQLAlchemy-style URLs work too.
    return "postgresql://" + url.split("://", 1)[1] if "://" in url else url


class PostgresStore:
    def __init__(self, url: str) -> None:
        self.url = url
        self.stats = StoreStats()
        self._dsn = _dsn(url)
        self._queue: asyncio.Queue[_Pending | object] = asyncio.Queue()
        self._conn: Any = None  # asyncpg.Connection; asyncpg ships no type stubs
        self._pool: Any = None
        self._writer: asyncio.Task[None] | None = None
        self._home: HomeLoop | None = None
        self._open = False

    # -- lifecycle -----------------------------------------------------------------------------

    async def open(self) -> None:
        if self._open:
            return
        await upgrade_async(self.url)
        self._conn = await self._connect()
        try:
            self._pool = await asyncpg.create_pool(
                self._dsn,
                min_size=1,
                max_size=READ_POOL_SIZE,
                server_settings={"application_name": "taskrouter-read"},
                reset=keep_session,
            )
        except BaseException:
            await self._conn.close()
            self._conn = None
            raise
        self._queue = asyncio.Queue()
        self._home = HomeLoop()
        self._writer = asyncio.create_task(self._write_loop(), name="taskrouter-pg-writer")
        self._open = True

    async def close(self) -> None:
        if not self._open:
            return
        self._open = False  # refuse new commits; those already queued still run
        self._queue.put_nowait(_STOP)
        if self._writer is not None:
            await self._writer
            self._writer = None
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                await conn.close(timeout=5)
            except Exception:  # already broken: nothing is left to flush, just let go
                conn.terminate()
        pool, self._pool = self._pool, None
        if pool is not None:
            try:
                await asyncio.wait_for(pool.close(), timeout=5)
            except Exception:
                pool.terminate()

    async def _connect(self) -> Any:
        return await asyncpg.connect(
            self._dsn,
            command_timeout=COMMAND_TIMEOUT,
            server_settings={"application_name": "taskrouter-writer"},
        )

    # -- writes --------------------------------------------------------------------------------

    async def commit(self, changes: Sequence[Change]) -> None:
        ops = prepare(changes)
        if not self._open:
            raise StoreClosed(f"store {self.url} is not open")
        if not ops:
            return
        loop = self._home.running() if self._home is not None else asyncio.get_running_loop()
        pending = _Pending(ops, loop.create_future())
        self._queue.put_nowait(pending)
        await pending.future

    async def _write_loop(self) -> None:
        stopping = False
        while not stopping:
            first = await self._queue.get()
            if first is _STOP:
                break
            assert isinstance(first, _Pending)
            batch = [first]
            while len(batch) < MAX_BATCH and not self._queue.empty():
                item = self._queue.get_nowait()
                if item is _STOP:
                    stopping = True
                    break
                assert isinstance(item, _Pending)
                batch.append(item)
            try:
                await self._apply(batch)
            except Exception as exc:  # a bug must not strand the waiters or kill the writer
                log.exception("writer failed")
                for pending in batch:
                    self._fail(pending, exc)

    async def _apply(self, batch: list[_Pending]) -> None:
        conn = await self._writer_connection()
        if conn is None:
            for pending in batch:
                self._fail(pending, StoreUnavailable(f"cannot connect to {self._where()}"))
            return
        try:
            await self._transaction(conn, [p.ops for p in batch])
        except Exception as exc:
            if self._lost(conn, exc):
                await self._drop(conn, exc)
                if await self._retry_after_reconnect(batch):
                    return
                for pending in batch:
                    self._fail(pending, StoreUnavailable(f"connection lost during commit: {exc}"))
                return
            if len(batch) == 1:
                self._fail(batch[0], exc)
                return
            # Someone's change broke the shared transaction: redo each commit on its own so
            # only the guilty caller fails.
            log.warning("group commit of %d failed (%s); retrying one by one", len(batch), exc)
            for i, pending in enumerate(batch):
                try:
                    await self._transaction(conn, [pending.ops])
                except Exception as one:
                    if self._lost(conn, one):
                        await self._drop(conn, one)
                        for rest in batch[i:]:
                            self._fail(rest, StoreUnavailable(f"connection lost: {one}"))
                        return
                    self._fail(pending, one)
                else:
                    self._succeed([pending])
            return
        self._succeed(batch)

    async def _retry_after_reconnect(self, batch: list[_Pending]) -> bool:
        """Apply a batch again on a new connection; True if that worked.

        The first try may or may not have committed before the connection died. Trying again
        is safe because every change is a whole-row upsert or a delete, so applying a batch
        twice leaves the same rows as applying it once, and nothing else was written between
        the two tries (this writer is the only one).
        """
        conn = await self._writer_connection()
        if conn is None:
            return False
        try:
            await self._transaction(conn, [p.ops for p in batch])
        except Exception as exc:
            if self._lost(conn, exc):
                await self._drop(conn, exc)
            else:
                log.warning("retrying a commit after reconnecting failed: %s", exc)
            return False
        log.info("commit of %d retried after reconnecting", len(batch))
        self._succeed(batch)
        return True

    async def _transaction(self, conn: Any, batches: list[list[Op]]) -> None:
        # One statement, not BEGIN, a statement per table and COMMIT: each round trip waits
        # for this process's event loop to come round, which under load is what a commit's
        # latency was made of.
        plans = plan(batches)
        if plans:
            sql, args = _statement(plans)
            await conn.execute(sql, *args)
        self.stats.transaction(len(batches))

    def _lost(self, conn: Any, exc: BaseException) -> bool:
        return bool(conn.is_closed()) or isinstance(exc, _CONNECTION_ERRORS)

    async def _drop(self, conn: Any, exc: BaseException) -> None:
        log.warning("writer connection to %s lost: %s", self._where(), exc)
        conn.terminate()
        self._conn = None

    async def _writer_connection(self) -> Any:
        """The live writer connection, reconnecting with backoff for up to CONNECT_WINDOW."""
        if self._conn is not None and not self._conn.is_closed():
            return self._conn
        self._conn = None
        loop = asyncio.get_running_loop()
        deadline = loop.time() + CONNECT_WINDOW
        delay = BACKOFF_FIRST
        while True:
            try:
                self._conn = await asyncio.wait_for(
                    self._connect(), timeout=max(0.1, deadline - loop.time())
                )
                log.info("writer reconnected to %s", self._where())
                return self._conn
            except (*_CONNECTION_ERRORS, asyncpg.PostgresError) as exc:
                if loop.time() + delay >= deadline:
                    log.warning("cannot reconnect to %s: %s", self._where(), exc)
                    return None
            await asyncio.sleep(delay)
            delay = min(delay * 2, BACKOFF_MAX)

    def _where(self) -> str:
        return self._dsn.rsplit("@", 1)[-1]  # no credentials in messages

    def _succeed(self, batch: list[_Pending]) -> None:
        self.stats.commits += len(batch)
        self.stats.changes += sum(len(p.ops) for p in batch)
        for pending in batch:
            pending.resolve(None)

    def _fail(self, pending: _Pending, exc: BaseException) -> None:
        self.stats.failed_commits += 1
        if not isinstance(exc, StoreError):
            error = StoreError(f"commit failed: {exc}")
            error.__cause__ = exc
            exc = error
        pending.resolve(exc)

    # -- reads ---------------------------------------------------------------------------------

    async def _read(self, fn: Callable[[Any], Awaitable[T]]) -> T:
        if not self._open or self._pool is None:
            raise StoreClosed(f"store {self.url} is not open")
        # A pooled connection may have died since its last use; reads are safe to repeat once.
        for attempt in (1, 2):
            try:
                async with self._pool.acquire() as conn:
                    return await fn(conn)
            except _CONNECTION_ERRORS as exc:
                if attempt == 2:
                    raise StoreUnavailable(f"read from {self._where()} failed: {exc}") from exc
        raise AssertionError("unreachable")

    async def load(self, table: str) -> list[dict[str, Any]]:
        names = table_spec(table).all_names
        sql = f"SELECT {', '.join(names)} FROM {table}"
        rows = await self._read(lambda c: c.fetch(sql))
        return [decode(names, r) for r in rows]

    async def get(self, table: str, sid: str) -> dict[str, Any] | None:
        names = table_spec(table).all_names
        sql = f"SELECT {', '.join(names)} FROM {table} WHERE sid = $1"
        row = await self._read(lambda c: c.fetchrow(sql, sid))
        return None if row is None else decode(names, row)

    async def query(
        self,
        table: str,
        where: Mapping[str, Any],
        *,
        order_by: str | None = None,
        limit: int | None = None,
    ) -> list[dict[str, Any]]:
        q = select(table, where, order_by, limit)
        sql, params = _select_sql(q)
        names = q.spec.all_names
        rows = await self._read(lambda c: c.fetch(sql, *params))
        return [decode(names, r) for r in rows]


def _select_sql(q: Select) -> tuple[str, list[Any]]:
    # Identifiers all come from the schema (select() checked them); values are bound.
    params: list[Any] = [value for _, value in q.equal]
    terms = [f"{name} = ${i}" for i, (name, _) in enumerate(q.equal, 1)]
    terms += [f"{name} IS NULL" for name in q.null]
    sql = f"SELECT {', '.join(q.spec.all_names)} FROM {q.spec.name}"
    if terms:
        sql += " WHERE " + " AND ".join(terms)
    sql += " ORDER BY " + ", ".join(
        order_term(q, name, desc, ' COLLATE "C"') for name, desc in q.order
    )
    if q.limit is not None:
        params.append(q.limit)
        sql += f" LIMIT ${len(params)}"
    return sql, params
