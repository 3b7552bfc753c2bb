"""Workflows: the routing configuration that sends each task to its queues."""

from __future__ import annotations

from dataclasses import dataclass

from taskrouter.domain.entities import Workflow
from taskrouter.domain.errors import Conflict, Invalid, NotFound
from taskrouter.domain.sids import Prefix, new_sid
from taskrouter.domain.workflow_config import WorkflowConfiguration, parse_configuration
from taskrouter.engine.state import WorkspaceState
from taskrouter.events.log import Emitted
from taskrouter.service import records, validation
from taskrouter.service.runtime import Runtime

MAX_RESERVATION_TIMEOUT = 86_400


@dataclass(slots=True)
class WorkflowFields:
    friendly_name: str | None = None
    configuration: str | None = None
    assignment_callback_url: str | None = None
    fallback_assignment_callback_url: str | None = None
    task_reservation_timeout: int | None = None
    re_evaluate_tasks: bool | None = None
    # Refuse a name another workflow of the workspace already has.
    unique_name: bool = False


class Workflows:
    def __init__(self, runtime: Runtime) -> None:
        self._rt = runtime

    def list(
        self, account_sid: str, workspace_sid: str, friendly_name: str | None = None
    ) -> list[Workflow]:
        state = self._rt.workspace(account_sid, workspace_sid)
        return [
            w
            for w in state.workflows.values()
            if friendly_name is None or w.friendly_name == friendly_name
        ]

    def fetch(self, account_sid: str, workspace_sid: str, sid: str) -> Workflow:
        return _workflow(self._rt.workspace(account_sid, workspace_sid), sid)

    async def create(
        self, account_sid: str, workspace_sid: str, fields: WorkflowFields
    ) -> Workflow:
        state = self._rt.workspace(account_sid, workspace_sid)
        if fields.friendly_name is None:
            raise Invalid("FriendlyName is required", param="FriendlyName")
        if fields.configuration is None:
            raise Invalid("Configuration is required", param="Configuration")
        now = self._rt.clock.now_ms()
        workflow = Workflow(
            new_sid(Prefix.WORKFLOW),
            account_sid,
            workspace_sid,
            fields.friendly_name,
            fields.configuration,
            now,
            now,
        )
        configuration = _apply(state, workflow, fields)
        # In memory before the commit's await, so a concurrent create sees the name taken
        # (a failed commit reloads memory from the store).
        state.workflows[workflow.sid] = workflow
        state.configurations[workflow.sid] = configuration
        await self._rt.commit_with_engine(
            state, [records.put(workflow)], [Emitted("workflow.created", workflow)]
        )
        return workflow

    async def update(
        self, account_sid: str, workspace_sid: str, sid: str, fields: WorkflowFields
    ) -> Workflow:
        state = self._rt.workspace(account_sid, workspace_sid)
        workflow = _workflow(state, sid)
        configuration = _apply(state, workflow, fields)
        workflow.date_updated = self._rt.clock.now_ms()
        state.configurations[sid] = configuration
        state.engine.workflow_changed(sid, bool(fields.re_evaluate_tasks))
        await self._rt.commit_with_engine(
            state, [records.put(workflow)], [Emitted("workflow.updated", workflow)]
        )
        return workflow

    async def delete(self, account_sid: str, workspace_sid: str, sid: str) -> None:
        state = self._rt.workspace(account_sid, workspace_sid)
        workflow = _workflow(state, sid)
        live = sum(
            1
            for t in state.engine.tasks.values()
            if t.workflow_sid == sid and t.date_closed is None
        )
        if live:
            raise Invalid(f"Workflow {sid} still routes {live} task(s); they must finish first")
        del state.workflows[sid]
        state.configurations.pop(sid, None)
        await self._rt.commit_with_engine(
            state, [records.delete(workflow)], [Emitted("workflow.deleted", workflow)]
        )


def _apply(
    state: WorkspaceState, workflow: Workflow, fields: WorkflowFields
) -> WorkflowConfiguration:
    """Validate every field, then change the workflow; returns its compiled configuration."""
    if fields.friendly_name is not None:
        validation.friendly_name(fields.friendly_name)
        if fields.unique_name:
            for other in state.workflows.values():
                if other.friendly_name == fields.friendly_name and other.sid != workflow.sid:
                    raise Conflict(
                        f"A Workflow named {fields.friendly_name!r} already exists ({other.sid})",
                        param="FriendlyName",
                    )
    text = fields.configuration if fields.configuration is not None else workflow.configuration
    configuration = parse_configuration(text, state.queues.__contains__)
    if fields.task_reservation_timeout is not None:
        validation.integer(
            fields.task_reservation_timeout, "TaskReservationTimeout", 1, MAX_RESERVATION_TIMEOUT
        )
    callback = validation.http_url(fields.assignment_callback_url, "AssignmentCallbackUrl")
    fallback = validation.http_url(
        fields.fallback_assignment_callback_url, "FallbackAssignmentCallbackUrl"
    )

    if fields.friendly_name is not None:
        workflow.friendly_name = fields.friendly_name
    workflow.configuration = text
    if fields.assignment_callback_url is not None:
        workflow.assignment_callback_url = callback
    if fields.fallback_assignment_callback_url is not None:
        workflow.fallback_assignment_callback_url = fallback
    if fields.task_reservation_timeout is not None:
        workflow.task_reservation_timeout = fields.task_reservation_timeout
    return configuration


def _workflow(state: WorkspaceState, sid: str) -> Workflow:
    workflow = state.workflows.get(sid)
    if workflow is None:
        raise NotFound(
            f"The requested resource /Workspaces/{state.sid}/Workflows/{sid} was not found"
        )
    return workflow
