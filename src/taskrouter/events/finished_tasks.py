"""Finished tasks as the store keeps them after the engine forgets them, until retention ends.

The engine drops a completed, canceled or deleted task from memory 5 minutes after it closed
(the Twilio face then answers 404); its last row stays in `tasks`, with `date_closed_ms` set,
until the retention sweep removes it with its reservations. Reads go through the event
archive's read connection, newest first by (date_closed_ms, sid), one indexed query a page.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

from taskrouter.events.archive import EventArchive

# A place in the newest-first order: (date_closed_ms, sid) of a task shown.
Cursor = tuple[int, str]


@dataclass(frozen=True, slots=True)
class FinishedPage:
    tasks: list[dict[str, Any]]
    # Whether more tasks lie beyond each end of this page.
    more_before: bool
    more_after: bool


class FinishedTasks:
    def __init__(self, archive: EventArchive) -> None:
        self._archive = archive

    async def page(
        self,
        workspace_sid: str,
        since_ms: int,
        *,
        after: Cursor | None = None,
        before: Cursor | None = None,
        limit: int,
    ) -> FinishedPage:
        """Up to `limit` task records closed at or after `since_ms`, newest first: those
        following `after`, or those just preceding `before` (both in that order)."""
        backwards = before is not None
        cursor = before if backwards else after
        sql = self._archive.sql()
        sid = sql.sid
        terms = [
            f"workspace_sid = {sql.bind(workspace_sid)}",
            f"date_closed_ms >= {sql.bind(since_ms)}",
        ]
        if cursor is not None:
            op = ">" if backwards else "<"
            closed, task_sid = cursor
            terms.append(
                f"(date_closed_ms {op} {sql.bind(closed)} OR"
                f" (date_closed_ms = {sql.bind(closed)} AND {sid} {op} {sql.bind(task_sid)}))"
            )
        order = "ASC" if backwards else "DESC"
        text = (
            f"SELECT body FROM tasks WHERE {' AND '.join(terms)}"
            f" ORDER BY date_closed_ms {order}, {sid} {order} LIMIT {sql.bind(limit + 1)}"
        )
        rows = [_decode(r[0]) for r in await self._archive.select(text, sql.params)]
        more = len(rows) > limit
        rows = rows[:limit]
        if backwards:
            rows.reverse()
            return FinishedPage(rows, more_before=more, more_after=True)
        return FinishedPage(rows, more_before=cursor is not None, more_after=more)

    async def expired(self, cutoff_ms: int, workspace_sid: str | None, limit: int) -> list[str]:
        """SIDs of tasks closed before `cutoff_ms` (one workspace's, or any)."""
        sql = self._archive.sql()
        terms = [f"date_closed_ms < {sql.bind(cutoff_ms)}"]
        if workspace_sid is not None:
            terms.insert(0, f"workspace_sid = {sql.bind(workspace_sid)}")
        text = f"SELECT sid FROM tasks WHERE {' AND '.join(terms)} LIMIT {sql.bind(limit)}"
        return [str(r[0]) for r in await self._archive.select(text, sql.params)]

    async def reservations_of(self, task_sids: list[str]) -> list[str]:
        if not task_sids:
            return []
        sql = self._archive.sql()
        marks = ", ".join(sql.bind(sid) for sid in task_sids)
        text = f"SELECT sid FROM reservations WHERE task_sid IN ({marks})"
        return [str(r[0]) for r in await self._archive.select(text, sql.params)]


def _decode(body: Any) -> dict[str, Any]:
    value: dict[str, Any] = orjson.loads(body)
    return value
