"""Writing damage straight into a stopped server's rows, through the store interface."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from taskrouter.domain.entities import Reservation
from taskrouter.domain.sids import Prefix, new_sid
from taskrouter.service import records
from taskrouter.store import Change, Store, open_store

Edit = Callable[[Store], Awaitable[list[Change]]]


async def _rewrite(url: str, edit: Edit) -> None:
    store = open_store(url)
    await store.open()
    try:
        await store.commit(await edit(store))
    finally:
        await store.close()


def corrupt(url: str, edit: Edit) -> None:
    """Open the database, commit what `edit` returns, close it."""
    asyncio.run(_rewrite(url, edit))


async def _get(url: str, table: str, sid: str) -> dict[str, Any] | None:
    store = open_store(url)
    await store.open()
    try:
        return await store.get(table, sid)
    finally:
        await store.close()


def row(url: str, table: str, sid: str) -> dict[str, Any]:
    found = asyncio.run(_get(url, table, sid))
    assert found is not None, (table, sid)
    return found


def second_acceptance(task_sid: str, workers: list[str]) -> Edit:
    """A copy of the task's accepted reservation, for the first of `workers` not holding it."""

    async def edit(store: Store) -> list[Change]:
        first = (await store.query("reservations", {"task_sid": task_sid}))[0]
        second = Reservation.from_record(first["body"])
        second.sid = new_sid(Prefix.RESERVATION)
        second.worker_sid = next(w for w in workers if w != second.worker_sid)
        return [records.put(second)]

    return edit
