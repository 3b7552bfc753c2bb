"""Workers: the people who take tasks, their attributes, activity and channels."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from taskrouter.domain.entities import Worker
from taskrouter.domain.errors import Conflict, Invalid, NotFound, PreconditionFailed
from taskrouter.domain.sids import Prefix, new_sid
from taskrouter.engine.state import WorkspaceState
from taskrouter.events.log import Emitted
from taskrouter.expressions import Context, ExpressionError, compile_expression
from taskrouter.service import records, validation
from taskrouter.service.channels import new_worker_channel
from taskrouter.service.runtime import Runtime
from taskrouter.store import Change


@dataclass(slots=True)
class WorkerFilter:
    activity_name: str | None = None
    activity_sid: str | None = None
    available: bool | None = None
    friendly_name: str | None = None
    target_workers_expression: str | None = None
    task_queue_sid: str | None = None
    task_queue_name: str | None = None


@dataclass(slots=True)
class WorkerFields:
    friendly_name: str | None = None
    activity_sid: str | None = None
    attributes: str | None = None
    reject_pending_reservations: bool | None = None


class Workers:
    def __init__(self, runtime: Runtime) -> None:
        self._rt = runtime

    def list(self, account_sid: str, workspace_sid: str, where: WorkerFilter) -> list[Worker]:
        state = self._rt.workspace(account_sid, workspace_sid)
        workers = list(state.workers.values())
        activities = state.activities
        if where.activity_sid is not None:
            workers = [w for w in workers if w.activity_sid == where.activity_sid]
        if where.activity_name is not None:
            workers = [
                w
                for w in workers
                if activities[w.activity_sid].friendly_name == where.activity_name
            ]
        if where.available is not None:
            workers = [
                w for w in workers if activities[w.activity_sid].available == where.available
            ]
        if where.friendly_name is not None:
            name = where.friendly_name.lower()
            workers = [w for w in workers if w.friendly_name.lower() == name]
        if where.task_queue_sid is not None or where.task_queue_name is not None:
            queue_sids = {
                q.sid
                for q in state.queues.values()
                if (where.task_queue_sid is None or q.sid == where.task_queue_sid)
                and (where.task_queue_name is None or q.friendly_name == where.task_queue_name)
            }
            members: set[str] = set()
            for sid in queue_sids:
                members |= state.membership.members.get(sid, set())
            workers = [w for w in workers if w.sid in members]
        if where.target_workers_expression is not None:
            try:
                predicate = compile_expression(where.target_workers_expression, Context.WORKER)
            except ExpressionError as exc:
                raise Invalid(
                    f"TargetWorkersExpression is not a valid expression: {exc}",
                    param="TargetWorkersExpression",
                ) from None
            workers = [w for w in workers if predicate(_listing_root(state, w))]
        return workers

    def fetch(self, account_sid: str, workspace_sid: str, sid: str) -> Worker:
        return _worker(self._rt.workspace(account_sid, workspace_sid), sid)

    async def create(self, account_sid: str, workspace_sid: str, fields: WorkerFields) -> Worker:
        state = self._rt.workspace(account_sid, workspace_sid)
        if fields.friendly_name is None:
            raise Invalid("FriendlyName is required", param="FriendlyName")
        _check_name(state, fields.friendly_name, None)
        text, parsed = validation.attributes(fields.attributes or "{}")
        activity_sid = fields.activity_sid or state.workspace.default_activity_sid
        if activity_sid is None or activity_sid not in state.activities:
            raise Invalid(
                f"ActivitySid {activity_sid} is not an Activity of this workspace",
                param="ActivitySid",
            )
        now = self._rt.clock.now_ms()
        worker = Worker(
            new_sid(Prefix.WORKER),
            account_sid,
            workspace_sid,
            fields.friendly_name,
            activity_sid,
            text,
            now,
            now,
            now,
            parsed_attributes=parsed,
        )
        channels = {c.sid: new_worker_channel(worker, c, now) for c in state.channels.values()}
        changes: list[Change] = [records.put(worker)]
        changes.extend(records.put(wc) for wc in channels.values())
        state.workers[worker.sid] = worker
        state.worker_names[worker.friendly_name.lower()] = worker.sid
        state.worker_channels[worker.sid] = channels
        state.index_worker(worker)
        # A worker created available may take waiting work at once, in the same commit.
        created = Emitted("worker.created", worker, {"WorkerActivitySid": activity_sid})
        state.engine.worker_changed(worker)
        await self._rt.commit_with_engine(state, changes, [created])
        return worker

    async def update(
        self,
        account_sid: str,
        workspace_sid: str,
        sid: str,
        fields: WorkerFields,
        if_match: str | None = None,
    ) -> Worker:
        state = self._rt.workspace(account_sid, workspace_sid)
        worker = _worker(state, sid)
        _check_version(worker, if_match)
        if fields.friendly_name is not None:
            _check_name(state, fields.friendly_name, worker.sid)
        parsed: dict[str, Any] | None = None
        if fields.attributes is not None:
            _, parsed = validation.attributes(fields.attributes)
        if fields.activity_sid is not None and fields.activity_sid not in state.activities:
            raise Invalid(
                f"ActivitySid {fields.activity_sid} is not an Activity of this workspace",
                param="ActivitySid",
            )

        now = self._rt.clock.now_ms()
        events: list[Emitted] = []
        if fields.friendly_name is not None:
            del state.worker_names[worker.friendly_name.lower()]
            worker.friendly_name = fields.friendly_name
            state.worker_names[worker.friendly_name.lower()] = worker.sid
        if fields.attributes is not None and parsed is not None:
            if fields.attributes != worker.attributes:
                events.append(Emitted("worker.attributes.update", worker))
            worker.attributes = fields.attributes
            worker.parsed_attributes = parsed
            state.index_worker(worker)
        if fields.activity_sid is not None and fields.activity_sid != worker.activity_sid:
            worker.activity_sid = fields.activity_sid
            worker.date_status_changed = now
            activity = {"WorkerActivitySid": fields.activity_sid}
            events.insert(0, Emitted("worker.activity.update", worker, activity))
        worker.date_updated = now
        worker.version += 1
        state.engine.worker_changed(worker, reject_pending=bool(fields.reject_pending_reservations))
        await self._rt.commit_with_engine(state, [records.put(worker)], events)
        return worker

    async def delete(
        self, account_sid: str, workspace_sid: str, sid: str, if_match: str | None = None
    ) -> None:
        state = self._rt.workspace(account_sid, workspace_sid)
        worker = _worker(state, sid)
        _check_version(worker, if_match)
        if state.engine.holds_work(sid):
            raise Invalid(
                f"Worker {sid} holds open reservations or tasks; complete or cancel them before"
                " deleting the worker"
            )
        changes: list[Change] = [records.delete(worker)]
        changes.extend(records.delete(wc) for wc in state.worker_channels.pop(sid, {}).values())
        del state.workers[sid]
        state.worker_names.pop(worker.friendly_name.lower(), None)
        state.membership.remove_worker(sid)
        state.engine.worker_removed(sid)
        await self._rt.commit_with_engine(state, changes, [Emitted("worker.deleted", worker)])


def _listing_root(state: WorkspaceState, worker: Worker) -> dict[str, Any]:
    """What TargetWorkersExpression sees: the attributes plus the worker's own fields."""
    activity = state.activities[worker.activity_sid]
    return worker.parsed_attributes | {
        "sid": worker.sid,
        "friendly_name": worker.friendly_name,
        "activity_sid": worker.activity_sid,
        "activity_name": activity.friendly_name,
    }


def _check_name(state: WorkspaceState, name: str, own_sid: str | None) -> None:
    validation.friendly_name(name)
    other = state.worker_names.get(name.lower())
    if other is not None and other != own_sid:
        raise Conflict(
            f"A Worker with FriendlyName {name!r} already exists ({other})",
            param="FriendlyName",
        )


def _check_version(worker: Worker, if_match: str | None) -> None:
    if if_match is not None and if_match.strip('"') != str(worker.version):
        raise PreconditionFailed(
            f"Worker {worker.sid} is at version {worker.version}, not {if_match}"
        )


def _worker(state: WorkspaceState, sid: str) -> Worker:
    worker = state.workers.get(sid)
    if worker is None:
        raise NotFound(
            f"The requested resource /Workspaces/{state.sid}/Workers/{sid} was not found"
        )
    return worker
