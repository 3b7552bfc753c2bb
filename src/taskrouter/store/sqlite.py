"""The embedded store: one SQLite file in WAL mode, written by one process with group commit.

Callers hand their validated changes to the store and await a future. The event loop passes
them to the writer process (`sqlite_writer`), which applies everything that has arrived in one
transaction and answers: one fsync (synchronous=FULL) covers every waiter, which is what makes
FULL as fast as NORMAL here. Both ends of that exchange live on the event loop, so no thread
of this process ever waits for the GIL to hand a commit on.
Reads use their own connections on a small thread pool, so they never wait behind a commit.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import socket
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar, cast

from taskrouter.store.base import Change
from taskrouter.store.errors import StoreClosed, StoreError
from taskrouter.store.loops import HomeLoop
from taskrouter.store.migrations import sqlite_path, upgrade_async
from taskrouter.store.plans import Op
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
from taskrouter.store.sqlite_writer import Frames, Outcome, Statements, connect, frame

log = logging.getLogger(__name__)

T = TypeVar("T")

READ_THREADS = 2

Waiter = tuple[list[Op], "asyncio.Future[None]"]


def _statements() -> Statements:
    """Per table: the upsert and the delete, built only from schema identifiers."""
    out: Statements = {}
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


class _Writer(asyncio.Protocol):
    """The event loop's end of the socket to one writer process."""

    def __init__(self, stats: StoreStats, proc: subprocess.Popen[bytes]) -> None:
        self.stats = stats
        self.proc = proc
        self.transport: asyncio.Transport | None = None
        self.in_flight: dict[int, Waiter] = {}
        self.loop = loop = asyncio.get_running_loop()
        self.ready: asyncio.Future[None] = loop.create_future()
        self.ended: asyncio.Future[None] = loop.create_future()
        self._ids = itertools.count()
        self._outbox: list[tuple[int, list[Op]]] = []
        self._frames = Frames()

    @property
    def alive(self) -> bool:
        return not self.ended.done()

    def send(self, ops: list[Op], future: asyncio.Future[None]) -> None:
        """Queue one commit; everything queued in one turn of the loop leaves as one message."""
        commit_id = next(self._ids)
        self.in_flight[commit_id] = (ops, future)
        if not self._outbox:
            self.loop.call_soon(self._flush)
        self._outbox.append((commit_id, ops))

    def _flush(self) -> None:
        outbox, self._outbox = self._outbox, []
        if self.transport is not None and self.alive:
            self.transport.write(frame(outbox))

    def finish(self) -> None:
        """Send what is queued and say that nothing more follows; the writer answers it all,
        then exits."""
        self._flush()
        if self.transport is not None and self.alive:
            self.transport.write_eof()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports are not subclasses of asyncio's, though they do all it does.
        self.transport = cast(asyncio.Transport, transport)
        self.transport.write(frame(_SQL))

    def data_received(self, data: bytes) -> None:
        for message in self._frames.feed(data):
            if not self.ready.done():
                if message is None:
                    self.ready.set_result(None)
                else:
                    self.ready.set_exception(StoreError(f"cannot open the database: {message}"))
                continue
            shared, outcomes = message
            if shared:
                self.stats.transaction(shared)
            self._settle(outcomes)

    def _settle(self, outcomes: list[Outcome]) -> None:
        stats = self.stats
        for commit_id, error in outcomes:
            ops, future = self.in_flight.pop(commit_id)
            if error is None:
                stats.commits += 1
                stats.changes += len(ops)
                _settle_future(future, None, self.loop)
            else:
                stats.failed_commits += 1
                _settle_future(future, StoreError(f"commit failed: {error}"), self.loop)

    def eof_received(self) -> bool:
        return False  # close our end too

    def connection_lost(self, exc: Exception | None) -> None:
        if self.in_flight:
            log.error("the SQLite writer ended with %d commits unanswered", len(self.in_flight))
            gone = StoreError("commit failed: the SQLite writer process ended")
            for _, future in self.in_flight.values():
                _settle_future(future, gone, self.loop)
            self.in_flight.clear()
        if not self.ready.done():
            self.ready.set_exception(StoreError("the SQLite writer process ended at its start"))
        if not self.ended.done():
            self.ended.set_result(None)


def _settle_future(
    future: asyncio.Future[None], error: BaseException | None, running: asyncio.AbstractEventLoop
) -> None:
    """Settle `future` from `running`'s thread, which may not be the loop it belongs to."""
    loop = future.get_loop()
    if loop is running:
        _set(future, error)
    else:
        # RuntimeError: that loop has closed, so nobody is waiting any more.
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(_set, future, error)


def _set(future: asyncio.Future[None], error: BaseException | None) -> None:
    if future.done():  # the caller was cancelled; the commit happened (or not) regardless
        return
    if error is None:
        future.set_result(None)
    else:
        future.set_exception(error)


class SQLiteStore:
    def __init__(self, url: str) -> None:
        self.url = url
        self.path = sqlite_path(url)
        self.stats = StoreStats()
        self._home: HomeLoop | None = None
        self._writer: _Writer | None = None
        self._starting: asyncio.Lock | None = None
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
        self._home = HomeLoop()
        self._starting = asyncio.Lock()
        self._writer = await self._start_writer()
        self._readers = ThreadPoolExecutor(
            READ_THREADS, thread_name_prefix="taskrouter-sqlite-read"
        )
        self._open = True

    async def close(self) -> None:
        if not self._open:
            return
        self._open = False  # refuse new commits; those already sent still run
        writer, self._writer = self._writer, None
        if writer is not None:
            writer.finish()
            await writer.ended
            await asyncio.to_thread(writer.proc.wait)
        if self._readers is not None:
            self._readers.shutdown(wait=True)
            self._readers = None
        with self._read_lock:
            for conn in self._read_conns:
                conn.close()
            self._read_conns.clear()
        self._local = threading.local()

    async def _start_writer(self) -> _Writer:
        """Start a writer process, from the event loop's thread: the writer dies with the
        thread that started it (see `sqlite_writer`), and this one lives as long as the store."""
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        command = [sys.executable, "-m", "taskrouter.store.sqlite_writer"]
        command += [str(self.path), str(theirs.fileno())]
        try:
            # A session of its own: Ctrl-C in a terminal reaches the server, which finishes its
            # commits and then closes the socket, rather than the writer in mid-transaction.
            proc = subprocess.Popen(
                command,
                pass_fds=(theirs.fileno(),),
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        finally:
            theirs.close()
        loop = asyncio.get_running_loop()
        _, writer = await loop.create_unix_connection(lambda: _Writer(self.stats, proc), sock=ours)
        try:
            await writer.ready
        except BaseException:
            writer.finish()
            await asyncio.to_thread(proc.wait)
            raise
        return writer

    # -- writes --------------------------------------------------------------------------------

    async def commit(self, changes: Sequence[Change]) -> None:
        ops = prepare(changes)
        if not self._open:
            raise StoreClosed(f"store {self.url} is not open")
        if not ops:
            return
        home = self._home
        assert home is not None
        if home.is_running_here():
            future = home.loop.create_future()
            await self._send(ops, future)
        else:
            future = asyncio.get_running_loop().create_future()
            asyncio.run_coroutine_threadsafe(self._send(ops, future), home.loop)
        await future

    async def _send(self, ops: list[Op], future: asyncio.Future[None]) -> None:
        writer = self._writer
        if writer is None or not writer.alive:
            writer = await self._restart_writer()
            if writer is None:
                assert self._home is not None
                closed = StoreClosed(f"store {self.url} is not open")
                _settle_future(future, closed, self._home.loop)
                return
        writer.send(ops, future)

    async def _restart_writer(self) -> _Writer | None:
        """A writer that died (killed, out of memory) is replaced at the next commit; the
        commits it held have failed, and the service reloads its state after such a failure."""
        assert self._starting is not None
        async with self._starting:
            if self._open and (self._writer is None or not self._writer.alive):
                if self._writer is not None:
                    await asyncio.to_thread(self._writer.proc.wait)
                log.warning("starting a new SQLite writer process")
                self._writer = await self._start_writer()
            return self._writer if self._open else None

    # -- reads ---------------------------------------------------------------------------------

    def _reader(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = connect(self.path, readonly=True)
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
