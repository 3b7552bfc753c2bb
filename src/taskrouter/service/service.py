"""The one service under every face: commands in, entities out."""

from __future__ import annotations

import asyncio
import logging

from taskrouter.domain.clock import Clock, SystemClock
from taskrouter.service.accounts import Accounts
from taskrouter.service.activities import Activities
from taskrouter.service.channels import TaskChannels, WorkerChannels
from taskrouter.service.companies import Companies
from taskrouter.service.figures import Figures
from taskrouter.service.history import TaskHistory
from taskrouter.service.live_tasks import LiveTasks
from taskrouter.service.lookup import Lookup
from taskrouter.service.queues import TaskQueues
from taskrouter.service.runtime import Runtime
from taskrouter.service.statistics import Statistics
from taskrouter.service.task_type_availability import TaskTypeAvailability
from taskrouter.service.tasks import Reservations, Tasks
from taskrouter.service.worker_tokens import WorkerTokens
from taskrouter.service.workers import Workers
from taskrouter.service.workflows import Workflows
from taskrouter.service.workspaces import Workspaces
from taskrouter.store import Store

log = logging.getLogger("taskrouter.service")

# The longest the timer loop sleeps, so a deadline set by a command is never missed by more.
MAX_TIMER_SLEEP_S = 0.05


class Service:
    def __init__(self, store: Store, clock: Clock | None = None) -> None:
        self.runtime = Runtime(store, clock or SystemClock())
        self.accounts = Accounts(self.runtime)
        self.workspaces = Workspaces(self.runtime)
        self.activities = Activities(self.runtime)
        self.task_channels = TaskChannels(self.runtime)
        self.task_queues = TaskQueues(self.runtime)
        self.workers = Workers(self.runtime)
        self.worker_channels = WorkerChannels(self.runtime)
        self.workflows = Workflows(self.runtime)
        self.tasks = Tasks(self.runtime)
        self.reservations = Reservations(self.runtime)
        self.lookup = Lookup(self.runtime)
        self.worker_tokens = WorkerTokens(self.runtime, self.accounts)
        # The CRM's task operations (seed 002).
        self.companies = Companies(self.runtime)
        self.history = TaskHistory(self.runtime, self.tasks)
        self.live_tasks = LiveTasks(self.runtime)
        self.task_type_availability = TaskTypeAvailability(self.runtime)
        self.figures = Figures(self.runtime)
        self.statistics = Statistics(self.runtime, self.workers)

    async def start(self, *, deliver: bool = False) -> None:
        """Open the store and load; `deliver` (the serving process only, not a CLI command)
        also replays the retained history for statistics and runs the event delivery loop and
        the event retention sweep."""
        await self.runtime.store.open()
        await self.runtime.load()
        await self.runtime.events.open(self.runtime.workspaces.values())
        if deliver:
            # Only a serving process answers statistics; a CLI command need not replay.
            await self.statistics.rebuild()
            await self.runtime.events.start_background(
                # A callable: a failed commit makes the runtime load a fresh dict.
                workspaces=lambda: self.runtime.workspaces,
                token_of=self._auth_token,
                reservations=self.reservations,
            )
        if deliver:
            # Matches made while loading become durable (and their events go out) before any
            # request; a CLI command must not write routing decisions behind a server's back.
            for state in list(self.runtime.workspaces.values()):
                await self.runtime.commit_with_engine(state)
        # Deadlines that passed while the server was down fire now, before any request.
        await self.tick()

    async def stop(self) -> None:
        await self.runtime.events.stop_background()
        await self.runtime.events.close()
        await self.runtime.store.close()

    def _auth_token(self, account_sid: str) -> str | None:
        """What signs an account's callbacks (X-Twilio-Signature)."""
        account = self.runtime.accounts.get(account_sid)
        return None if account is None else account.auth_token

    async def tick(self) -> int:
        """Fire every deadline due by the clock's now; returns how many workspaces acted."""
        now = self.runtime.clock.now_ms()
        due = [
            state
            for state in list(self.runtime.workspaces.values())
            if (deadline := state.engine.next_deadline()) is not None and deadline <= now
        ]
        for state in due:
            state.engine.advance()
        # Concurrently, so the workspaces share commits: one at a time, a busy store made the
        # last workspace's deadlines wait for every other's commit.
        await asyncio.gather(*(self.runtime.commit_with_engine(state) for state in due))
        return len(due)

    async def run_timers(self) -> None:
        """Keep firing deadlines until cancelled (a normally started server's clock)."""
        while True:
            try:
                await self.tick()
            except Exception:
                log.exception("firing deadlines failed; will retry")
            await asyncio.sleep(MAX_TIMER_SLEEP_S)
