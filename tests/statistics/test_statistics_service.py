"""The statistics service in process: the history reaches back as far as events are retained,
and there is no cap on how many workers are counted."""

from __future__ import annotations

import asyncio

import pytest

from taskrouter.domain.errors import Invalid
from taskrouter.service.service import Service
from taskrouter.service.statistics import Span
from taskrouter.service.workers import WorkerFields, WorkerFilter
from taskrouter.store import open_store

DAY_MS = 86_400_000
MINUTE = 60_000


class Clock:
    def __init__(self) -> None:
        self.ms = 1_767_225_600_000

    def now_ms(self) -> int:
        return self.ms


def test_window_reaches_back_as_far_as_retention(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TASKROUTER_EVENT_RETENTION_DAYS", "90")

    async def run() -> None:
        clock = Clock()
        service = Service(open_store(database_url), clock)
        await service.start(deliver=True)
        try:
            account = await service.accounts.create("stats")
            state = await service.workspaces.create(account.sid, "retention")
            await service.workers.create(account.sid, state.sid, WorkerFields(friendly_name="a"))
            clock.ms += 89 * DAY_MS
            stats = service.statistics
            # Twilio stops at 30 days; here the worker's 89 days Offline are all in the window.
            old = stats.workers_cumulative(
                account.sid, state.sid, Span(start_ms=clock.ms - 89 * DAY_MS), None
            )
            assert old["start_time"] == "2026-01-01T00:00:00Z"
            offline = next(d for d in old["activity_durations"] if d["friendly_name"] == "Offline")
            assert offline["total"] == 89 * DAY_MS // 1000
            with pytest.raises(Invalid, match="90 days") as refused:
                stats.workspace_cumulative(account.sid, state.sid, Span(minutes=91 * 24 * 60), None)
            assert refused.value.param == "Minutes"
        finally:
            await service.stop()

    asyncio.run(run())


def test_every_worker_counts(database_url: str) -> None:
    async def run() -> None:
        clock = Clock()
        service = Service(open_store(database_url), clock)
        await service.start(deliver=True)
        try:
            account = await service.accounts.create("stats")
            state = await service.workspaces.create(account.sid, "crowd")
            available = next(
                a.sid for a in state.activities.values() if a.friendly_name == "Available"
            )
            for i in range(250):
                await service.workers.create(
                    account.sid,
                    state.sid,
                    WorkerFields(friendly_name=f"agent {i}", activity_sid=available),
                )
            clock.ms += 10 * MINUTE
            stats = service.statistics
            realtime = stats.workers_realtime(account.sid, state.sid, None)
            assert realtime["total_workers"] == 250
            counts = {a["friendly_name"]: a["workers"] for a in realtime["activity_statistics"]}
            assert counts == {"Offline": 0, "Available": 250, "Unavailable": 0}
            cumulative = stats.workers_cumulative(account.sid, state.sid, Span(), None)
            durations = {a["friendly_name"]: a for a in cumulative["activity_durations"]}
            # 250 workers, each Available for the 10 minutes since its creation.
            assert durations["Available"] == {
                "sid": available,
                "friendly_name": "Available",
                "avg": 600,
                "min": 600,
                "max": 600,
                "total": 250 * 600,
            }
            one = stats.workers_realtime(
                account.sid, state.sid, None, WorkerFilter(friendly_name="AGENT 7")
            )
            assert one["total_workers"] == 1
        finally:
            await service.stop()

    asyncio.run(run())
