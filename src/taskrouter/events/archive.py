"""Reading the stored event log: time windows, filters, pages, and what retention removes.

The store's own `query` knows only equalities; the Events API needs a time window, a SID
cursor and filters on fields inside the body. This module reads with its own connection
(SQLite: a read-only connection on one thread; PostgreSQL: a small asyncpg pool), never
writes, and filters in SQL (`json_extract` / `jsonb`), so a page costs one indexed query.
Writes (the retention sweep's deletes) go through the store like every other change.
Other readers of retained history (finished tasks, today's tallies) build their SQL with
`sql()` and run it through `select`, sharing this connection.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable, Collection
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import orjson

from taskrouter.store import Store
from taskrouter.store.migrations import sqlite_path
from taskrouter.store.schema import OWED

FIELDS = ("sid", "body")


@dataclass(slots=True)
class EventQuery:
    start_ms: int | None = None
    end_ms: int | None = None
    event_type: str | None = None
    sid: str | None = None
    # (data field, value) pairs that must all match, e.g. ("TaskSid", "WT...")
    data: list[tuple[str, str]] = field(default_factory=list)
    # a TaskChannel sid or unique name
    task_channel: str | None = None


@dataclass(frozen=True, slots=True)
class OwedEvent:
    """An event owed a callback, as the courier reads it from the log."""

    sid: str
    account_sid: str
    workspace_sid: str
    event_type: str
    callback_url: str
    body: dict[str, Any]


_OWED_COLUMNS = "sid, account_sid, workspace_sid, event_type, callback_url"
_OWED = f"SELECT {_OWED_COLUMNS}, body FROM events"


class _Sql:
    """Placeholders and JSON access, per dialect (`sid` ordering, `data` fields)."""

    def __init__(self, postgres: bool) -> None:
        self.postgres = postgres
        self.params: list[Any] = []

    def bind(self, value: Any) -> str:
        self.params.append(value)
        return f"${len(self.params)}" if self.postgres else "?"

    def data(self, key: str) -> str:
        if not key.isalnum():
            raise ValueError(f"bad event field name {key!r}")
        if self.postgres:
            return f"((body::jsonb)->'data'->>'{key}')"
        return f"json_extract(body, '$.data.{key}')"

    @property
    def sid(self) -> str:
        # SIDs compare by code point on both backends.
        return 'sid COLLATE "C"' if self.postgres else "sid"


class EventArchive:
    """`inline_reads`: SQLite reads run on the calling thread, blocking its event loop. Only
    for a loop that does nothing else (the courier's process): handing a read to a thread
    cost ~190 us of CPU against ~11 us for the query of an empty range.

    `key_walks`: every read walks an index in key order under a LIMIT, as the courier's do.
    On PostgreSQL its connections then plan no bitmap scans: with no statistics on a young log
    (or a log that grew since they were taken) the planner took a bitmap scan for cheaper,
    which read every matching row and sorted them all to return the first few hundred
    (35,002 rows and 198 ms for 125 owed events, where walking the index reads 125)."""

    def __init__(
        self, store: Store, *, inline_reads: bool = False, key_walks: bool = False
    ) -> None:
        self._inline_reads = inline_reads
        self._key_walks = key_walks
        self._url = store.url
        self._store = store
        self._postgres = store.url.startswith(("postgresql:", "postgres:"))
        self._pool: Any = None
        self._executor: ThreadPoolExecutor | None = None
        self._conn: sqlite3.Connection | None = None
        self._lock = asyncio.Lock()

    async def close(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            try:
                await asyncio.wait_for(pool.close(), timeout=5)
            except Exception:
                pool.terminate()
        executor, self._executor = self._executor, None
        conn, self._conn = self._conn, None
        if executor is not None:
            if conn is not None:
                await asyncio.get_running_loop().run_in_executor(executor, conn.close)
            executor.shutdown(wait=True)
        elif conn is not None:
            conn.close()

    # -- reads ---------------------------------------------------------------------------------

    async def fetch(self, workspace_sid: str, sid: str) -> dict[str, Any] | None:
        row = await self._store.get("events", sid)
        if row is None or row.get("workspace_sid") != workspace_sid:
            return None
        body: dict[str, Any] = row["body"]
        return body

    async def page(
        self, workspace_sid: str, query: EventQuery, *, before_sid: str | None, limit: int
    ) -> list[dict[str, Any]]:
        """Matching events, newest first, older than `before_sid` when given."""
        sql = _Sql(self._postgres)
        terms = [f"workspace_sid = {sql.bind(workspace_sid)}"]
        if query.start_ms is not None:
            terms.append(f"event_date_ms >= {sql.bind(query.start_ms)}")
        if query.end_ms is not None:
            terms.append(f"event_date_ms <= {sql.bind(query.end_ms)}")
        if query.event_type is not None:
            terms.append(f"event_type = {sql.bind(query.event_type)}")
        if query.sid is not None:
            terms.append(f"sid = {sql.bind(query.sid)}")
        if before_sid is not None:
            terms.append(f"{sql.sid} < {sql.bind(before_sid)}")
        for key, value in query.data:
            terms.append(f"{sql.data(key)} = {sql.bind(value)}")
        if query.task_channel is not None:
            value = sql.bind(query.task_channel)
            # PostgreSQL may use one parameter twice; SQLite's "?" needs it bound again.
            again = value if self._postgres else sql.bind(query.task_channel)
            terms.append(
                f"({sql.data('TaskChannelSid')} = {value}"
                f" OR {sql.data('TaskChannelUniqueName')} = {again})"
            )
        text = (
            f"SELECT sid, body FROM events WHERE {' AND '.join(terms)}"
            f" ORDER BY {sql.sid} DESC LIMIT {sql.bind(limit)}"
        )
        return [_body(r) for r in await self._read(text, sql.params)]

    async def after(self, workspace_sid: str, after_sid: str, limit: int) -> list[dict[str, Any]]:
        """Events of a workspace committed after `after_sid`, oldest first (stream resume)."""
        sql = _Sql(self._postgres)
        text = (
            f"SELECT sid, body FROM events WHERE workspace_sid = {sql.bind(workspace_sid)}"
            f" AND {sql.sid} > {sql.bind(after_sid)} ORDER BY {sql.sid} ASC"
            f" LIMIT {sql.bind(limit)}"
        )
        return [_body(r) for r in await self._read(text, sql.params)]

    async def replay(self, after_sid: str, limit: int) -> list[dict[str, Any]]:
        """Events of every workspace after `after_sid`, oldest first (statistics replay at
        start). Plain `ORDER BY sid` walks the primary key on both backends: event SIDs are
        "EV" and lowercase hex of one length, which every collation orders by code point."""
        sql = _Sql(self._postgres)
        text = (
            f"SELECT sid, body FROM events WHERE sid > {sql.bind(after_sid)}"
            f" ORDER BY sid ASC LIMIT {sql.bind(limit)}"
        )
        return [_body(r) for r in await self._read(text, sql.params)]

    async def owed(
        self, start_sid: str, below_sid: str, limit: int, skip: Collection[str] = ()
    ) -> list[OwedEvent]:
        """Events owed a callback with `start_sid <= sid < below_sid`, oldest first, but for
        the workspaces in `skip` (lanes that spilled: `count_owed_by_workspace` counts theirs,
        and they read them back later). It walks the owed events' index on PostgreSQL, the
        key on SQLite (plain `sid` comparisons: see `replay`)."""
        sql = _Sql(self._postgres)
        # Bound in the order they appear: SQLite's placeholders are positional.
        terms = [f"sid >= {sql.bind(start_sid)}", f"sid < {sql.bind(below_sid)}"]
        terms.append(OWED)
        if skip:
            terms.append(_among(sql, skip, negate=True))
        text = f"{_OWED} WHERE {' AND '.join(terms)} ORDER BY sid ASC LIMIT {sql.bind(limit)}"
        return [_owed(r) for r in await self._read(text, sql.params)]

    async def count_owed_by_workspace(
        self, start_sid: str, below_sid: str, workspaces: Collection[str]
    ) -> dict[str, int]:
        """How many events owed a callback each of `workspaces` has with `start_sid <= sid <
        below_sid` (those with none are left out). One row per workspace crosses, not one
        per event: a lane whose receiver is down passes over every event it is owed."""
        sql = _Sql(self._postgres)
        # Bound in the order they appear: SQLite's placeholders are positional.
        among = _among(sql, workspaces)
        text = (
            f"SELECT workspace_sid, count(*) FROM events WHERE {among}"
            f" AND sid >= {sql.bind(start_sid)} AND sid < {sql.bind(below_sid)} AND {OWED}"
            " GROUP BY workspace_sid"
        )
        return {str(ws): int(n) for ws, n in await self._read(text, sql.params)}

    async def owed_of(
        self, workspace_sid: str, after_sid: str, below_sid: str, limit: int
    ) -> list[OwedEvent]:
        """One workspace's events owed a callback with `after_sid < sid < below_sid`, in
        order, reading no more than it returns where only that workspace is owed callbacks
        (see `_among`)."""
        sql = _Sql(self._postgres)
        text = (
            f"{_OWED} WHERE {_among(sql, [workspace_sid])}"
            f" AND sid > {sql.bind(after_sid)} AND sid < {sql.bind(below_sid)} AND {OWED}"
            f" ORDER BY sid ASC LIMIT {sql.bind(limit)}"
        )
        return [_owed(r) for r in await self._read(text, sql.params)]

    async def count_owed(
        self,
        after_sid: str,
        workspace_sid: str | None = None,
        below_sid: str | None = None,
        *,
        inclusive: bool = False,
    ) -> int:
        """How many events owed a callback lie above `after_sid` (or at it, `inclusive`), and
        below `below_sid`."""
        sql = _Sql(self._postgres)
        terms = [
            f"sid {'>=' if inclusive else '>'} {sql.bind(after_sid)}",
            OWED,
        ]
        if workspace_sid is not None:
            terms.append(f"workspace_sid = {sql.bind(workspace_sid)}")
        if below_sid is not None:
            terms.append(f"sid < {sql.bind(below_sid)}")
        rows = await self._read(
            f"SELECT count(*) FROM events WHERE {' AND '.join(terms)}", sql.params
        )
        return int(rows[0][0])

    async def expired(self, cutoff_ms: int, workspace_sid: str | None, limit: int) -> list[str]:
        """SIDs of events older than `cutoff_ms` (one workspace's, or any)."""
        sql = _Sql(self._postgres)
        terms = [f"event_date_ms < {sql.bind(cutoff_ms)}"]
        if workspace_sid is not None:
            terms.insert(0, f"workspace_sid = {sql.bind(workspace_sid)}")
        text = f"SELECT sid FROM events WHERE {' AND '.join(terms)} LIMIT {sql.bind(limit)}"
        return [str(r[0]) for r in await self._read(text, sql.params)]

    def sql(self) -> _Sql:
        """A statement builder in this database's dialect, for `select`."""
        return _Sql(self._postgres)

    async def select(self, text: str, params: list[Any]) -> list[tuple[Any, ...]]:
        """Run a read-only statement built with `sql()`; rows as tuples."""
        return await self._read(text, params)

    async def newest_sid(self) -> str | None:
        rows = await self._read("SELECT max(sid) FROM events", [])
        return str(rows[0][0]) if rows and rows[0][0] is not None else None

    # -- plumbing ------------------------------------------------------------------------------

    async def _read(self, text: str, params: list[Any]) -> list[tuple[Any, ...]]:
        if self._postgres:
            pool = await self._postgres_pool()
            async with pool.acquire() as conn:
                return [tuple(r) for r in await conn.fetch(text, *params)]
        if self._inline_reads:
            return self._sqlite_read(text, params)
        executor = await self._sqlite_executor()
        run: Callable[[], list[tuple[Any, ...]]] = lambda: self._sqlite_read(text, params)  # noqa: E731
        return await asyncio.get_running_loop().run_in_executor(executor, run)

    async def _postgres_pool(self) -> Any:
        if self._pool is None:
            async with self._lock:
                if self._pool is None:
                    import asyncpg

                    from taskrouter.store.postgres import keep_session

                    dsn = "postgresql://" + self._url.split("://", 1)[1]
                    self._pool = await asyncpg.create_pool(
                        dsn,
                        min_size=1,
                        max_size=2,
                        server_settings={
                            "application_name": "taskrouter-events",
                            **({"enable_bitmapscan": "off"} if self._key_walks else {}),
                        },
                        reset=keep_session,
                    )
        return self._pool

    async def _sqlite_executor(self) -> ThreadPoolExecutor:
        if self._executor is None:
            self._executor = ThreadPoolExecutor(1, thread_name_prefix="taskrouter-events-read")
        return self._executor

    def _sqlite_read(self, text: str, params: list[Any]) -> list[tuple[Any, ...]]:
        # Runs on the archive's one thread, which owns the connection (or inline, on the
        # loop's).
        if self._conn is None:
            conn = sqlite3.connect(sqlite_path(self._url), isolation_level=None)
            conn.execute("PRAGMA busy_timeout = 10000")
            conn.execute("PRAGMA query_only = 1")
            self._conn = conn
        return self._conn.execute(text, params).fetchall()


def _among(sql: _Sql, workspaces: Collection[str], *, negate: bool = False) -> str:
    """`workspace_sid` is (not) one of `workspaces`, in a read bounded by `sid`.

    PostgreSQL finds them in the indexes of owed events (schema.py), by equality for one
    workspace, so that the scan comes out in SID order and stops at the LIMIT. On SQLite,
    which has no such index, the unary `+` keeps the planner off the index on (workspace_sid,
    event_date_ms), with which it sorted every event the workspace ever had on each read (30%
    of the courier's time at 1,000 tasks/s on a log of a few minutes): walking the key between
    the two bounds reads only what came since."""
    not_ = "NOT " if negate else ""
    if sql.postgres:
        if len(workspaces) == 1 and not negate:
            return f"workspace_sid = {sql.bind(next(iter(workspaces)))}"
        return f"{not_}workspace_sid = ANY({sql.bind(list(workspaces))}::text[])"
    listed = ", ".join(sql.bind(sid) for sid in workspaces)
    return f"+workspace_sid {not_}IN ({listed})"


def _owed(row: tuple[Any, ...]) -> OwedEvent:
    sid, account_sid, workspace_sid, event_type, url, body = row
    return OwedEvent(sid, account_sid, workspace_sid, event_type, url, orjson.loads(body))


def _body(row: tuple[Any, ...]) -> dict[str, Any]:
    body: dict[str, Any] = orjson.loads(row[1])
    return body
