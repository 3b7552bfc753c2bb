"""Removing events, and finished tasks with their reservations, older than the retention
period (default 30 days; a task's age counts from when it closed).

A sweep runs every `sweep_interval_ms` of the service clock: per live workspace through the
(workspace_sid, event_date_ms) index, and once a day across the whole table, which also
catches the events of deleted workspaces. Failed deliveries older than the period go too
(their events are gone, so they could not be sent again). Deletes go through the store in
batches.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from taskrouter.domain.clock import Clock
from taskrouter.events import outbox
from taskrouter.events.archive import EventArchive
from taskrouter.events.finished_tasks import FinishedTasks
from taskrouter.events.settings import DAY_MS, EventSettings
from taskrouter.store import Change, Delete, Store

log = logging.getLogger("taskrouter.events.retention")

BATCH = 500


class Retention:
    def __init__(
        self, store: Store, archive: EventArchive, clock: Clock, settings: EventSettings
    ) -> None:
        self._store = store
        self._archive = archive
        self._finished = FinishedTasks(archive)
        self._clock = clock
        self._settings = settings
        self._next_ms: int | None = None
        self._next_full_ms: int | None = None

    def due(self) -> bool:
        return self._next_ms is None or self._clock.now_ms() >= self._next_ms

    async def sweep(self, workspace_sids: Iterable[str]) -> int:
        """Delete what is past retention now; returns how many events went."""
        now = self._clock.now_ms()
        self._next_ms = now + self._settings.sweep_interval_ms
        cutoff = now - self._settings.retention_ms
        scopes: list[str | None] = list(workspace_sids)
        if self._next_full_ms is None or now >= self._next_full_ms:
            self._next_full_ms = now + DAY_MS
            scopes.append(None)
        removed = 0
        for scope in scopes:
            while True:
                sids = await self._archive.expired(cutoff, scope, BATCH)
                if not sids:
                    break
                await self._store.commit([Delete("events", sid) for sid in sids])
                removed += len(sids)
                if len(sids) < BATCH:
                    break
        tasks = 0
        for scope in scopes:
            tasks += await self._sweep_tasks(cutoff, scope)
        failed = await self._store.query(outbox.TABLE, {"status": outbox.FAILED})
        stale = [row["sid"] for row in failed if row["created_ms"] < cutoff]
        for start in range(0, len(stale), BATCH):
            await self._store.commit(
                [Delete(outbox.TABLE, sid) for sid in stale[start : start + BATCH]]
            )
        if removed or stale or tasks:
            log.info(
                "removed %d events, %d finished tasks and %d failed deliveries older than %d ms",
                removed,
                tasks,
                len(stale),
                self._settings.retention_ms,
            )
        return removed

    async def _sweep_tasks(self, cutoff: int, scope: str | None) -> int:
        removed = 0
        while True:
            sids = await self._finished.expired(cutoff, scope, BATCH)
            if not sids:
                return removed
            reservations = await self._finished.reservations_of(sids)
            changes: list[Change] = [Delete("reservations", sid) for sid in reservations]
            changes.extend(Delete("tasks", sid) for sid in sids)
            await self._store.commit(changes)
            removed += len(sids)
            if len(sids) < BATCH:
                return removed
