"""Counts and sums over a workspace's event log since a moment, done by the database.

For the CRM's figures of "today"; the statistics module (issue 6) keeps cumulative figures of
its own, and these reads may move there. Each is one grouped query on the
(workspace_sid, event_date_ms) index.
"""

from __future__ import annotations

from collections.abc import Iterable

from taskrouter.events.archive import EventArchive


class Tallies:
    def __init__(self, archive: EventArchive) -> None:
        self._archive = archive

    async def counts(
        self, workspace_sid: str, since_ms: int, event_types: Iterable[str], by: str
    ) -> dict[tuple[str, str], int]:
        """How many events of each type per value of the data field `by` (e.g. WorkerSid)."""
        types = list(event_types)
        if not types:
            return {}
        sql = self._archive.sql()
        key = sql.data(by)
        # SQLite's "?" binds by position: bind in the order the text reads.
        where = (
            f" WHERE workspace_sid = {sql.bind(workspace_sid)}"
            f" AND event_date_ms >= {sql.bind(since_ms)}"
        )
        marks = ", ".join(sql.bind(t) for t in types)
        text = (
            f"SELECT event_type, {key}, count(*) FROM events{where}"
            f" AND event_type IN ({marks}) GROUP BY 1, 2"
        )
        rows = await self._archive.select(text, sql.params)
        return {(str(r[0]), str(r[1])): int(r[2]) for r in rows if r[1] is not None}

    async def time_left_in_activities(
        self, workspace_sid: str, since_ms: int
    ) -> dict[tuple[str, str], int]:
        """Per (worker, activity), the milliseconds after `since_ms` spent in an activity the
        worker has since left (each change event tells the time spent in the previous one)."""
        sql = self._archive.sql()
        worker, previous = sql.data("WorkerSid"), sql.data("WorkerPreviousActivitySid")
        spent = f"CAST({sql.data('WorkerTimeInPreviousActivityMs')} AS BIGINT)"
        head = (
            f"SELECT {worker}, {previous}, SUM(CASE WHEN {spent} > event_date_ms -"
            f" {sql.bind(since_ms)} THEN event_date_ms - {sql.bind(since_ms)} ELSE {spent} END)"
        )
        text = (
            f"{head} FROM events WHERE workspace_sid = {sql.bind(workspace_sid)}"
            f" AND event_date_ms >= {sql.bind(since_ms)}"
            f" AND event_type = {sql.bind('worker.activity.update')}"
            f" AND {previous} IS NOT NULL GROUP BY 1, 2"
        )
        rows = await self._archive.select(text, sql.params)
        return {(str(r[0]), str(r[1])): int(r[2]) for r in rows if r[0] is not None}
