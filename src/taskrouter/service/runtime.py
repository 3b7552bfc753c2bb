"""What every command shares: the store, the clock, the accounts and the workspaces in memory.

Commands change memory synchronously (one event loop, so no two interleave) and then await
`commit`, which returns once the store made the changes durable. If a commit fails, memory is
rebuilt from the store so it never shows what was not written.
"""

from __future__ import annotations

import gc
import logging
from collections.abc import Callable, Sequence
from typing import Any

from taskrouter.domain.clock import Clock
from taskrouter.domain.entities import (
    Account,
    Activity,
    ApiKey,
    Reservation,
    Task,
    TaskChannel,
    TaskQueue,
    Worker,
    WorkerChannel,
    Workflow,
    Workspace,
)
from taskrouter.domain.errors import NotFound
from taskrouter.domain.workflow_config import parse_configuration
from taskrouter.engine.engine import Outcome, WorkspaceEngine
from taskrouter.engine.state import WorkspaceState
from taskrouter.events.log import Emitted
from taskrouter.events.settings import EventSettings
from taskrouter.events.system import EventSystem
from taskrouter.limits import RateLimiter, ServerLimits
from taskrouter.service import records
from taskrouter.stats.book import StatsBook
from taskrouter.store import Change, Store

log = logging.getLogger("taskrouter.service")


CLOSED_VISIBLE_MS = 300_000


class CommitFailed(Exception):
    """The store did not take a change; nothing of it is visible afterwards."""


class Runtime:
    def __init__(self, store: Store, clock: Clock, events: EventSettings | None = None) -> None:
        self.store = store
        self.clock = clock
        self.accounts: dict[str, Account] = {}
        self.api_keys: dict[str, ApiKey] = {}
        self.workspaces: dict[str, WorkspaceState] = {}
        # Event log, outbox delivery, live streams and retention (taskrouter.events).
        self.events = EventSystem(store, clock, events)
        # Live task indexes and retained history for statistics (taskrouter.stats).
        self.stats = StatsBook(self.events.settings.retention_ms)
        # Set by the serving process (taskrouter.limits).
        self.limits = ServerLimits()
        self.rate_limiter: RateLimiter | None = None
        # Called with each command's outcome once it is durable (metrics count from it).
        self.observers: list[Callable[[Outcome], None]] = []

    def attach_engine(self, state: WorkspaceState) -> WorkspaceEngine:
        engine = WorkspaceEngine(state, self.clock)
        state.engine = engine
        return engine

    async def commit_with_engine(
        self,
        state: WorkspaceState,
        changes: Sequence[Change] = (),
        events: Sequence[Emitted] = (),
    ) -> None:
        """Commit `changes` together with everything the workspace's engine changed, and the
        events of both (`events`: those the service itself caused)."""
        outcome = state.engine.drain()
        batch = list(changes)
        for group in (
            outcome.tasks,
            outcome.reservations,
            outcome.workers,
            outcome.worker_channels,
        ):
            batch.extend(records.put(entity) for entity in group.values())
        recorded = self.events.record(state, outcome, events)
        if recorded is not None:
            batch.extend(recorded.changes)
        if batch:
            try:
                await self.commit(batch)
            except BaseException:
                if recorded is not None:
                    self.events.abandoned(recorded)
                raise
        if recorded is not None:
            self.events.committed(recorded)
        self.stats.committed(
            state.sid,
            outcome.tasks.values(),
            recorded.events if recorded is not None else (),
            self.clock.now_ms(),
        )
        for observe in self.observers:
            observe(outcome)

    async def commit(self, changes: Sequence[Change]) -> None:
        try:
            await self.store.commit(changes)
        except Exception as exc:
            log.exception("commit failed; reloading state from the store")
            await self.load()
            raise CommitFailed(str(exc)) from exc

    def workspace(self, account_sid: str, workspace_sid: str) -> WorkspaceState:
        state = self.workspaces.get(workspace_sid)
        # Another account's workspace is answered exactly like a missing one.
        if state is None or state.workspace.account_sid != account_sid:
            raise NotFound(f"The requested resource /Workspaces/{workspace_sid} was not found")
        return state

    async def load(self, *, settle: bool = True) -> None:
        """Rebuild everything from the store (start, and after a failed commit); `settle=False`
        leaves pending tasks unmatched, as stored (see `WorkspaceEngine.restore`)."""
        # Loading makes millions of objects and no garbage cycles; the collector's passes
        # over the growing heap were a sixth of a start with 500,000 tasks.
        collecting = gc.isenabled()
        gc.disable()
        try:
            await self._load(settle)
        finally:
            if collecting:
                gc.enable()

    async def _load(self, settle: bool) -> None:
        self.accounts = {
            r["sid"]: Account.from_record(r["body"]) for r in await self._rows("accounts")
        }
        self.api_keys = {
            r["sid"]: ApiKey.from_record(r["body"]) for r in await self._rows("api_keys")
        }
        workspaces: dict[str, WorkspaceState] = {}
        for row in await self._rows("workspaces"):
            ws = Workspace.from_record(row["body"])
            workspaces[ws.sid] = WorkspaceState(ws)
        for row in await self._rows("activities"):
            activity = Activity.from_record(row["body"])
            workspaces[activity.workspace_sid].activities[activity.sid] = activity
        for row in await self._rows("task_channels"):
            channel = TaskChannel.from_record(row["body"])
            workspaces[channel.workspace_sid].channels[channel.sid] = channel
        for row in await self._rows("workers"):
            worker = Worker.from_record(row["body"])
            state = workspaces[worker.workspace_sid]
            state.workers[worker.sid] = worker
            state.index_worker(worker)  # no queue yet: this only records its attributes
            state.worker_names[worker.friendly_name.lower()] = worker.sid
            state.worker_channels[worker.sid] = {}
        for row in await self._rows("worker_channels"):
            wc = WorkerChannel.from_record(row["body"])
            workspaces[wc.workspace_sid].worker_channels[wc.worker_sid][wc.task_channel_sid] = wc
        for row in await self._rows("task_queues"):
            queue = TaskQueue.from_record(row["body"])
            state = workspaces[queue.workspace_sid]
            state.queues[queue.sid] = queue
            state.index_queue(queue)
        for row in await self._rows("workflows"):
            workflow = Workflow.from_record(row["body"])
            state = workspaces[workflow.workspace_sid]
            state.workflows[workflow.sid] = workflow
            state.configurations[workflow.sid] = parse_configuration(
                workflow.configuration, state.queues.__contains__
            )
        # Tasks still live, and finished ones still inside their fetchable window.
        now = self.clock.now_ms()
        tasks: dict[str, list[Task]] = {sid: [] for sid in workspaces}
        for row in await self._rows("tasks"):
            task = Task.from_record(row["body"])
            if task.deleted or task.workspace_sid not in workspaces:
                continue
            if task.date_closed is None or task.date_closed + CLOSED_VISIBLE_MS > now:
                tasks[task.workspace_sid].append(task)
        reservations: dict[str, list[Reservation]] = {sid: [] for sid in workspaces}
        for row in await self._rows("reservations"):
            reservation = Reservation.from_record(row["body"])
            if reservation.workspace_sid in reservations:
                reservations[reservation.workspace_sid].append(reservation)
        for sid, state in workspaces.items():
            self.attach_engine(state).restore(tasks[sid], reservations[sid], settle=settle)
        self.workspaces = workspaces
        self.stats.reload(workspaces.values())

    async def _rows(self, table: str) -> list[dict[str, Any]]:
        rows = await self.store.load(table)
        # Lists answer in creation order; keep memory in that order from the start.
        rows.sort(key=lambda r: (r["body"].get("date_created", 0), r["sid"]))
        return rows
