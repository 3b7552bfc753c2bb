"""The live state of one workspace, held in memory by the process that owns it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from taskrouter.domain.entities import (
    Activity,
    TaskChannel,
    TaskQueue,
    Worker,
    WorkerChannel,
    Workflow,
    Workspace,
)
from taskrouter.domain.task_types import blocked_types
from taskrouter.domain.workflow_config import WorkflowConfiguration
from taskrouter.engine.membership import Membership
from taskrouter.expressions import Context, compile_expression

if TYPE_CHECKING:
    from taskrouter.engine.engine import WorkspaceEngine


@dataclass(slots=True)
class WorkspaceState:
    workspace: Workspace
    activities: dict[str, Activity] = field(default_factory=dict)
    channels: dict[str, TaskChannel] = field(default_factory=dict)
    queues: dict[str, TaskQueue] = field(default_factory=dict)
    workers: dict[str, Worker] = field(default_factory=dict)
    # worker sid -> task channel sid -> that worker's channel
    worker_channels: dict[str, dict[str, WorkerChannel]] = field(default_factory=dict)
    workflows: dict[str, Workflow] = field(default_factory=dict)
    configurations: dict[str, WorkflowConfiguration] = field(default_factory=dict)
    membership: Membership = field(default_factory=Membership)
    # lower-cased friendly name -> worker sid: names are unique case-insensitively
    worker_names: dict[str, str] = field(default_factory=dict)
    # worker sid -> task types it gets no reservations for (from the workspace's
    # task_type_availability; `set_task_type_availability` keeps the two in step)
    blocked_task_types: dict[str, frozenset[str]] = field(default_factory=dict)
    # Set right after construction: the engine needs the state it routes over.
    engine: WorkspaceEngine = field(init=False)

    def __post_init__(self) -> None:
        self.blocked_task_types = blocked_types(self.workspace.task_type_availability)

    @property
    def sid(self) -> str:
        return self.workspace.sid

    def clear(self) -> None:
        """Empty every collection: the workspace is deleted (see `WorkspaceEngine.release`)."""
        for held in (
            self.activities,
            self.channels,
            self.queues,
            self.workers,
            self.worker_channels,
            self.workflows,
            self.configurations,
            self.worker_names,
            self.blocked_task_types,
        ):
            held.clear()
        self.membership = Membership()

    def set_task_type_availability(self, config: dict[str, dict[str, bool]]) -> set[str]:
        """Replace the availability; returns the workers whose blocked types changed."""
        before = self.blocked_task_types
        self.workspace.task_type_availability = config
        self.blocked_task_types = blocked_types(config)
        return {
            sid
            for sid in before.keys() | self.blocked_task_types.keys()
            if before.get(sid) != self.blocked_task_types.get(sid)
        }

    def channel_by_sid_or_name(self, key: str) -> TaskChannel | None:
        channel = self.channels.get(key)
        if channel is not None:
            return channel
        return next((c for c in self.channels.values() if c.unique_name == key), None)

    def index_queue(self, queue: TaskQueue) -> None:
        # An empty TargetWorkers is allowed: nobody is a member, tasks wait to be moved.
        predicate = (
            compile_expression(queue.target_workers, Context.WORKER)
            if queue.target_workers.strip()
            else _nobody
        )
        self.membership.set_queue(queue.sid, predicate)

    def index_worker(self, worker: Worker) -> None:
        self.membership.set_worker(worker.sid, worker.parsed_attributes)

    def workflows_using_queue(self, queue_sid: str) -> list[Workflow]:
        return [
            self.workflows[sid]
            for sid, configuration in self.configurations.items()
            if queue_sid in configuration.queue_sids()
        ]


def _nobody(_attributes: object) -> bool:
    return False
