"""The embedded store: one SQLite file in WAL mode, written by one thread with group commit.

Callers hand their validated changes to the writer thread and await a future. The thread takes
everything queued, applies it in one transaction and resolves every waiter: one fsync
(synchronous=FULL) covers all of them, which is what makes FULL as fast as NORMAL here.
Reads use their own connections on a small thread pool, so they never wait behind a commit.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import sqlite3
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from taskrouter.store.base import Change
from taskrouter.store.errors import StoreClosed, StoreError
from taskrouter.store.migrations import sqlite_path, upgrade_async
from taskrouter.store.rows import (
    Op,
    Select,
    StoreStats,
    decode,
    order_term,
    plan,
    prepare,
    select,
    table_spec,
)
from taskrouter.store.schema import TABLES

log = logging.getLogger(__name__)

T = TypeVar("T")

# Bounds a transaction's size, so one huge burst cannot hold the write lock for long.
MAX_BATCH = 2048
READ_THREADS = 2
BUSY_TIMEOUT_MS = 10_000
# How often the writer looks again for the write lock another connection holds (the event
# courier's cursors, a CLI command). SQLite's own busy handler sleeps ever longer, up to 100 ms
# a time, so a lock held for 2 ms could stall every commit waiting on the writer for ~80 ms.
LOCK_POLL_S = 0.0005


class _Pending:
    """One commit() call waiting on the writer thread."""

    __slots__ = ("future", "loop", "ops")

    def __init__(self, ops: list[Op], loop: asyncio.AbstractEventLoop) -> None:
        self.ops = ops
        self.loop = loop
        self.future: asyncio.Future[None] = loop.create_future()


def _resolve(outcomes: list[tuple[_Pending, BaseException | None]]) -> None:
    """Settle waiters from the writer thread: one wake-up per event loop, not one per waiter."""
    by_loop: dict[asyncio.AbstractEventLoop, list[tuple[asyncio.Future[None], Any]]] = {}
    for pending, error in outcomes:
        by_loop.setdefault(pending.loop, []).append((pending.future, error))
    for loop, settled in by_loop.items():
        # RuntimeError: that loop has closed, so nobody is waiting any more.
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(_settle, settled)


def _settle(settled: list[tuple[asyncio.Future[None], BaseException | None]]) -> None:
    for future, error in settled:
        if future.done():  # the caller was cancelled; the commit happened (or not) regardless
            continue
        if error is None:
            future.set_result(None)
        else:
            future.set_exception(error)


_STOP = object()


def _statements() -> dict[str, tuple[str, str]]:
    """Per table: the upsert and the delete, built only from schema identifiers."""
    out: dict[str, tuple[str, str]] = {}
    for name, spec in TABLES.items():
        cols = ", ".join(spec.all_names)
        marks = ", ".join("?" for _ in spec.all_names)
        updates = ", ".join(f"{c} = excluded.{c}" for c in spec.column_names)
        out[name] = (
            f"INSERT INTO {name} ({cols}) VALUES ({marks}) "
            f"ON CONFLICT (sid) DO UPDATE SET {updates}",
            f"DELETE FROM {name} WHERE sid = ?",
        )
    return out


_SQL = _statements()


def _begin_immediate(conn: sqlite3.Connection) -> None:
    """Take the write lock, looking again every `LOCK_POLL_S` while another connection holds
    it (the writer's connection has no busy timeout of its own)."""
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            conn.execute("BEGIN IMMEDIATE")
            return
        except sqlite3.OperationalError as exc:
            busy = exc.sqlite_errorcode & 0xFF == sqlite3.SQLITE_BUSY  # and its extended codes
            if not busy or time.monotonic() >= deadline:
                raise
        time.sleep(LOCK_POLL_S)


def _connect(path: Path, *, readonly: bool) -> sqlite3.Connection:
    # isolation_level=None: we issue BEGIN/COMMIT ourselves; reads run each in autocommit so
    # every read sees everything committed before it started.
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    if readonly:
        conn.execute("PRAGMA query_only = 1")
    else:
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = FULL")
        conn.execute("PRAGMA busy_timeout = 0")  # `_begin_immediate` waits instead
    return conn


class SQLiteStore:
    def __init__(self, url: str) -> None:
        self.url = url
        self.path = sqlite_path(url)
        self.stats = StoreStats()
        self._queue: queue.SimpleQueue[_Pending | object] = queue.SimpleQueue()
        self._writer: threading.Thread | None = None
        self._readers: ThreadPoolExecutor | None = None
        self._local = threading.local()
        self._read_conns: list[sqlite3.Connection] = []
        self._read_lock = threading.Lock()
        self._open = False

    # -- lifecycle -----------------------------------------------------------------------------

    async def open(self) -> None:
        if self._open:
            return
        await upgrade_async(self.url)
        conn = await asyncio.to_thread(_connect, self.path, readonly=False)
        self._writer = threading.Thread(
            target=self._write_loop, args=(conn,), name="taskrouter-sqlite-writer", daemon=True
        )
        self._writer.start()
        self._readers = ThreadPoolExecutor(
            READ_THREADS, thread_name_prefix="taskrouter-sqlite-read"
        )
        self._open = True

    async def close(self) -> None:
        if not self._open:
            return
        self._open = False  # refuse new commits; those already queued still run
        self._queue.put(_STOP)
        if self._writer is not None:
            await asyncio.to_thread(self._writer.join)
            self._writer = None
        if self._readers is not None:
            self._readers.shutdown(wait=True)
            self._readers = None
        with self._read_lock:
            for conn in self._read_conns:
                conn.close()
            self._read_conns.clear()
        self._local = threading.local()

    # -- writes --------------------------------------------------------------------------------

    async def commit(self, changes: Sequence[Change]) -> None:
        ops = prepare(changes)
        if not self._open:
            raise StoreClosed(f"store {self.url} is not open")
        if not ops:
            return
        pending = _Pending(ops, asyncio.get_running_loop())
        self._queue.put(pending)
        await pending.future

    def _write_loop(self, conn: sqlite3.Connection) -> None:
        try:
            stopping = False
            while not stopping:
                first = self._queue.get()
                if first is _STOP:
                    break
                assert isinstance(first, _Pending)
                batch = [first]
                while len(batch) < MAX_BATCH:
                    try:
                        item = self._queue.get_nowait()
                    except queue.Empty:
                        break
                    if item is _STOP:
                        stopping = True
                        break
                    assert isinstance(item, _Pending)
                    batch.append(item)
                try:
                    self._apply(conn, batch)
                except Exception as exc:  # a bug must not strand the waiters or kill the thread
                    log.exception("writer failed")
                    _resolve([(p, self._failed(p, exc)) for p in batch])
        finally:
            conn.close()

    def _apply(self, conn: sqlite3.Connection, batch: list[_Pending]) -> None:
        try:
            self._transaction(conn, [p.ops for p in batch])
        except Exception as exc:
            if len(batch) == 1:
                _resolve([(batch[0], self._failed(batch[0], exc))])
                return
            # Someone's change broke the shared transaction: redo each commit on its own so
            # only the guilty caller fails.
            log.warning("group commit of %d failed (%s); retrying one by one", len(batch), exc)
            outcomes: list[tuple[_Pending, BaseException | None]] = []
            for pending in batch:
                try:
                    self._transaction(conn, [pending.ops])
                except Exception as one:
                    outcomes.append((pending, self._failed(pending, one)))
                else:
                    self._succeeded(pending)
                    outcomes.append((pending, None))
            _resolve(outcomes)
            return
        for pending in batch:
            self._succeeded(pending)
        _resolve([(pending, None) for pending in batch])

    def _transaction(self, conn: sqlite3.Connection, batches: list[list[Op]]) -> None:
        _begin_immediate(conn)
        try:
            for p in plan(batches):
                upsert, delete = _SQL[p.table]
                if p.upserts:
                    conn.executemany(upsert, p.upserts)
                if p.deletes:
                    conn.executemany(delete, [(sid,) for sid in p.deletes])
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                # The first error is the one worth reporting; a failed rollback adds nothing.
                with contextlib.suppress(sqlite3.Error):
                    conn.execute("ROLLBACK")
            raise
        self.stats.transaction(len(batches))

    def _succeeded(self, pending: _Pending) -> None:
        self.stats.commits += 1
        self.stats.changes += len(pending.ops)

    def _failed(self, pending: _Pending, exc: Exception) -> StoreError:
        self.stats.failed_commits += 1
        error = StoreError(f"commit failed: {exc}")
        error.__cause__ = exc
        return error

    # -- reads ---------------------------------------------------------------------------------

    def _reader(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = _connect(self.path, readonly=True)
            self._local.conn = conn
            with self._read_lock:
                self._read_conns.append(conn)
        return conn

    async def _read(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        if not self._open or self._readers is None:
            raise StoreClosed(f"store {self.url} is not open")
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._readers, lambda: fn(self._reader()))

    async def load(self, table: str) -> list[dict[str, Any]]:
        names = table_spec(table).all_names
        sql = f"SELECT {', '.join(names)} FROM {table}"
        rows = await self._read(lambda c: c.execute(sql).fetchall())
        return [decode(names, r) for r in rows]

    async def get(self, table: str, sid: str) -> dict[str, Any] | None:
        names = table_spec(table).all_names
        sql = f"SELECT {', '.join(names)} FROM {table} WHERE sid = ?"
        row = await self._read(lambda c: c.execute(sql, (sid,)).fetchone())
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
        rows = await self._read(lambda c: c.execute(sql, params).fetchall())
        return [decode(names, r) for r in rows]


def _select_sql(q: Select) -> tuple[str, list[Any]]:
    # Identifiers all come from the schema (select() checked them); values are bound.
    terms = [f"{name} = ?" for name, _ in q.equal] + [f"{name} IS NULL" for name in q.null]
    params: list[Any] = [value for _, value in q.equal]
    sql = f"SELECT {', '.join(q.spec.all_names)} FROM {q.spec.name}"
    if terms:
        sql += " WHERE " + " AND ".join(terms)
    sql += " ORDER BY " + ", ".join(order_term(q, name, desc) for name, desc in q.order)
    if q.limit is not None:
        sql += " LIMIT ?"
        params.append(q.limit)
    return sql, params
