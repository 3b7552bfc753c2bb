"""Statistics of a workspace, its queues, workflows and workers, for every face.

Real-time figures come from the engine's live state (`stats.realtime`); cumulative ones from
the retained history the runtime keeps as events are committed (`stats.cumulative`), which
`rebuild` replays from the event log once at start. A window reaches back as far as events
are retained, and no further.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from taskrouter.domain.errors import Invalid, NotFound
from taskrouter.domain.sids import Prefix, is_sid
from taskrouter.engine.state import WorkspaceState
from taskrouter.events.settings import DAY_MS, MINUTE_MS
from taskrouter.service.runtime import Runtime
from taskrouter.service.workers import WorkerFilter, Workers
from taskrouter.stats import cumulative, realtime
from taskrouter.stats.cumulative import Level, Window
from taskrouter.stats.history import History

DEFAULT_MINUTES = 15
REPLAY_BATCH = 5_000
MAX_BULK_QUEUES = 50


@dataclass(slots=True)
class Span:
    """The window a request asked for: `Minutes`, or `StartDate`/`EndDate` (epoch ms)."""

    minutes: int | None = None
    start_ms: int | None = None
    end_ms: int | None = None


class Statistics:
    def __init__(self, runtime: Runtime, workers: Workers) -> None:
        self._rt = runtime
        self._workers = workers

    # -- start ---------------------------------------------------------------------------------

    async def rebuild(self) -> None:
        """Replay the retained event log, in commit order, into each workspace's history."""
        rt = self._rt
        now = rt.clock.now_ms()
        cutoff = now - rt.stats.retention_ms
        histories = {sid: History(sid) for sid in rt.workspaces}
        after = Prefix.EVENT.value
        while True:
            bodies = await rt.events.archive.replay(after, REPLAY_BATCH)
            for body in bodies:
                history = histories.get(body["workspace_sid"])
                if history is not None and body["event_date_ms"] >= cutoff:
                    history.observe(body)
            if len(bodies) < REPLAY_BATCH:
                break
            after = bodies[-1]["sid"]
        for sid, state in rt.workspaces.items():
            history = rt.stats.histories[sid] = histories[sid]
            for worker in state.workers.values():
                history.seed_worker(
                    worker.sid, worker.activity_sid, max(worker.date_status_changed, cutoff)
                )

    # -- parameters ----------------------------------------------------------------------------

    def window(self, span: Span) -> Window:
        now = self._rt.clock.now_ms()
        start, end, minutes = span.start_ms, span.end_ms, span.minutes
        if minutes is not None:
            if start is not None or end is not None:
                raise Invalid(
                    "Minutes cannot be combined with StartDate or EndDate", param="Minutes"
                )
            if minutes <= 0:
                raise Invalid(f"Minutes must be a positive integer, got {minutes}", param="Minutes")
        if start is None and end is None:
            start, end = now - (minutes or DEFAULT_MINUTES) * MINUTE_MS, now
        elif start is None:
            assert end is not None
            start = end - DEFAULT_MINUTES * MINUTE_MS
        elif end is None:
            end = now
        if end < start:
            raise Invalid("EndDate is before StartDate", param="EndDate")
        retention = self._rt.stats.retention_ms
        if start < now - retention:
            days = retention / DAY_MS
            shown = f"{days:g} days" if days >= 1 else f"{retention // MINUTE_MS} minutes"
            raise Invalid(
                f"Statistics reach back only as far as events are retained ({shown});"
                " ask for a later StartDate or fewer Minutes",
                param="Minutes" if minutes is not None else "StartDate",
            )
        return Window(start, end)

    @staticmethod
    def split_by(values: Sequence[str] | None) -> list[int] | None:
        if not values:
            return None
        thresholds: list[int] = []
        for value in values:
            try:
                seconds = int(value)
            except ValueError:
                raise Invalid(
                    f"SplitByWaitTime takes whole seconds, comma-separated; got {value!r}",
                    param="SplitByWaitTime",
                ) from None
            if seconds < 0:
                raise Invalid(
                    f"SplitByWaitTime thresholds must not be negative, got {seconds}",
                    param="SplitByWaitTime",
                )
            if seconds not in thresholds:
                thresholds.append(seconds)
        return thresholds

    @staticmethod
    def channel(state: WorkspaceState, key: str | None) -> str | None:
        if key is None or key == "":
            return None
        channel = state.channel_by_sid_or_name(key)
        if channel is None:
            raise Invalid(
                f"TaskChannel {key!r} is not a TaskChannel of this workspace (SID or unique name)",
                param="TaskChannel",
            )
        return channel.sid

    # -- workspace -----------------------------------------------------------------------------

    def workspace_realtime(
        self, account_sid: str, workspace_sid: str, channel: str | None
    ) -> dict[str, Any]:
        state = self._rt.workspace(account_sid, workspace_sid)
        channel_sid = self.channel(state, channel)
        live = self._rt.stats.live_tasks(state.sid)
        tasks = state.engine.tasks
        out = realtime.task_figures(
            (tasks[sid] for sid in live.filed if sid in tasks), self._now(), channel_sid
        )
        activity, total, _ = realtime.worker_figures(state, state.workers.values(), channel_sid)
        out["activity_statistics"] = activity
        out["total_workers"] = total
        return out

    def workspace_cumulative(
        self,
        account_sid: str,
        workspace_sid: str,
        span: Span,
        channel: str | None,
        split_by: Sequence[str] | None = None,
    ) -> dict[str, Any]:
        state = self._rt.workspace(account_sid, workspace_sid)
        return cumulative.figures(
            self._rt.stats.history(state.sid),
            Level.WORKSPACE,
            state.sid,
            self.window(span),
            self.channel(state, channel),
            self.split_by(split_by),
        )

    # -- task queues ---------------------------------------------------------------------------

    def queue_realtime(
        self, account_sid: str, workspace_sid: str, queue_sid: str, channel: str | None
    ) -> dict[str, Any]:
        state = self._rt.workspace(account_sid, workspace_sid)
        _require(state.queues, queue_sid, state.sid, "TaskQueues")
        return self._queue_realtime(state, queue_sid, self.channel(state, channel))

    def _queue_realtime(
        self, state: WorkspaceState, queue_sid: str, channel_sid: str | None
    ) -> dict[str, Any]:
        live = self._rt.stats.live_tasks(state.sid)
        tasks = state.engine.tasks
        out = realtime.task_figures(
            (tasks[sid] for sid in live.in_queue(queue_sid) if sid in tasks),
            self._now(),
            channel_sid,
            relative=True,
        )
        workers = state.workers
        members = state.membership.members.get(queue_sid, set())
        activity, total, available = realtime.worker_figures(
            state, filter(None, map(workers.get, members)), channel_sid
        )
        out["activity_statistics"] = activity
        out["total_eligible_workers"] = total
        out["total_available_workers"] = available
        return out

    def bulk_realtime(
        self, account_sid: str, workspace_sid: str, queue_sids: Sequence[str]
    ) -> list[dict[str, Any]]:
        """Real-time figures of 1 to 50 queues; a well-formed SID of no queue here (another
        workspace's, or a deleted one) answers with zeros."""
        state = self._rt.workspace(account_sid, workspace_sid)
        if not 1 <= len(queue_sids) <= MAX_BULK_QUEUES:
            raise Invalid(
                f"QueueSids must list 1 to {MAX_BULK_QUEUES} TaskQueue SIDs, got {len(queue_sids)}",
                param="QueueSids",
            )
        for sid in queue_sids:
            if not isinstance(sid, str) or not is_sid(sid, Prefix.TASK_QUEUE):
                raise Invalid(
                    f"QueueSids holds {sid!r}, which is not a TaskQueue SID (WQ followed by 32"
                    " hex digits)",
                    param="QueueSids",
                )
        out: list[dict[str, Any]] = []
        for sid in queue_sids:
            if sid in state.queues:
                figures = self._queue_realtime(state, sid, None)
            else:
                figures = realtime.task_figures((), self._now(), None, relative=True)
                activity, _, _ = realtime.worker_figures(state, (), None)
                figures.update(
                    activity_statistics=activity,
                    total_eligible_workers=0,
                    total_available_workers=0,
                )
            out.append({"task_queue_sid": sid, **figures})
        return out

    def queue_cumulative(
        self,
        account_sid: str,
        workspace_sid: str,
        queue_sid: str,
        span: Span,
        channel: str | None,
        split_by: Sequence[str] | None = None,
    ) -> dict[str, Any]:
        state = self._rt.workspace(account_sid, workspace_sid)
        _require(state.queues, queue_sid, state.sid, "TaskQueues")
        return cumulative.figures(
            self._rt.stats.history(state.sid),
            Level.QUEUE,
            queue_sid,
            self.window(span),
            self.channel(state, channel),
            self.split_by(split_by),
        )

    def queues_statistics(
        self,
        account_sid: str,
        workspace_sid: str,
        queue_sids: Sequence[str],
        span: Span,
        channel: str | None,
        split_by: Sequence[str] | None = None,
    ) -> list[tuple[dict[str, Any], dict[str, Any]]]:
        """(cumulative, realtime) of each queue, with the parameters checked once."""
        state = self._rt.workspace(account_sid, workspace_sid)
        window = self.window(span)
        channel_sid = self.channel(state, channel)
        thresholds = self.split_by(split_by)
        history = self._rt.stats.history(state.sid)
        return [
            (
                cumulative.figures(history, Level.QUEUE, sid, window, channel_sid, thresholds),
                self._queue_realtime(state, sid, channel_sid),
            )
            for sid in queue_sids
        ]

    def check_query(
        self,
        account_sid: str,
        workspace_sid: str,
        span: Span,
        channel: str | None,
        split_by: Sequence[str] | None,
    ) -> None:
        """Reject bad parameters before anything is computed (a list page may be empty)."""
        state = self._rt.workspace(account_sid, workspace_sid)
        self.window(span)
        self.channel(state, channel)
        self.split_by(split_by)

    # -- workflows -----------------------------------------------------------------------------

    def workflow_realtime(
        self, account_sid: str, workspace_sid: str, workflow_sid: str, channel: str | None
    ) -> dict[str, Any]:
        state = self._rt.workspace(account_sid, workspace_sid)
        _require(state.workflows, workflow_sid, state.sid, "Workflows")
        channel_sid = self.channel(state, channel)
        live = self._rt.stats.live_tasks(state.sid)
        tasks = state.engine.tasks
        return realtime.task_figures(
            (tasks[sid] for sid in live.in_workflow(workflow_sid) if sid in tasks),
            self._now(),
            channel_sid,
        )

    def workflow_cumulative(
        self,
        account_sid: str,
        workspace_sid: str,
        workflow_sid: str,
        span: Span,
        channel: str | None,
        split_by: Sequence[str] | None = None,
    ) -> dict[str, Any]:
        state = self._rt.workspace(account_sid, workspace_sid)
        _require(state.workflows, workflow_sid, state.sid, "Workflows")
        return cumulative.figures(
            self._rt.stats.history(state.sid),
            Level.WORKFLOW,
            workflow_sid,
            self.window(span),
            self.channel(state, channel),
            self.split_by(split_by),
        )

    # -- workers -------------------------------------------------------------------------------

    def _worker_sids(
        self, account_sid: str, workspace_sid: str, where: WorkerFilter | None
    ) -> list[str] | None:
        if where is None or (
            where.task_queue_sid is None
            and where.task_queue_name is None
            and where.friendly_name is None
        ):
            return None
        return [w.sid for w in self._workers.list(account_sid, workspace_sid, where)]

    def workers_realtime(
        self,
        account_sid: str,
        workspace_sid: str,
        channel: str | None,
        where: WorkerFilter | None = None,
    ) -> dict[str, Any]:
        state = self._rt.workspace(account_sid, workspace_sid)
        channel_sid = self.channel(state, channel)
        sids = self._worker_sids(account_sid, workspace_sid, where)
        workers = state.workers.values() if sids is None else [state.workers[s] for s in sids]
        activity, total, _ = realtime.worker_figures(state, workers, channel_sid)
        return {"activity_statistics": activity, "total_workers": total}

    def workers_cumulative(
        self,
        account_sid: str,
        workspace_sid: str,
        span: Span,
        channel: str | None,
        where: WorkerFilter | None = None,
    ) -> dict[str, Any]:
        state = self._rt.workspace(account_sid, workspace_sid)
        window = self.window(span)
        channel_sid = self.channel(state, channel)
        sids = self._worker_sids(account_sid, workspace_sid, where)
        return cumulative.worker_figures(
            self._rt.stats.history(state.sid),
            realtime.ordered_activities(state),
            sids,
            window,
            channel_sid,
        )

    def worker_cumulative(
        self,
        account_sid: str,
        workspace_sid: str,
        worker_sid: str,
        span: Span,
        channel: str | None,
    ) -> dict[str, Any]:
        state = self._rt.workspace(account_sid, workspace_sid)
        _require(state.workers, worker_sid, state.sid, "Workers")
        return cumulative.worker_figures(
            self._rt.stats.history(state.sid),
            realtime.ordered_activities(state),
            [worker_sid],
            self.window(span),
            self.channel(state, channel),
        )

    def _now(self) -> int:
        return self._rt.clock.now_ms()


def _require(table: dict[str, Any], sid: str, workspace_sid: str, path: str) -> None:
    if sid not in table:
        raise NotFound(
            f"The requested resource /Workspaces/{workspace_sid}/{path}/{sid} was not found"
        )
