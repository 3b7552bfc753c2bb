"""Which task types each worker takes: read, replace, and routing told at once."""

from __future__ import annotations

from typing import Any

from taskrouter.domain.errors import Invalid
from taskrouter.domain.task_types import MAX_TYPE_NAME
from taskrouter.engine.state import WorkspaceState
from taskrouter.events.log import Emitted
from taskrouter.service import records
from taskrouter.service.runtime import Runtime

PARAM = "availableByUserConfig"


class TaskTypeAvailability:
    def __init__(self, runtime: Runtime) -> None:
        self._rt = runtime

    def get(self, state: WorkspaceState) -> dict[str, dict[str, bool]]:
        # Workers deleted since keep no entry in what is shown.
        return {
            sid: dict(types)
            for sid, types in state.workspace.task_type_availability.items()
            if sid in state.workers
        }

    async def replace(self, state: WorkspaceState, config: Any) -> dict[str, dict[str, bool]]:
        """`config`: {worker SID or friendly name: {task type: available}}; the whole
        availability becomes this one (types not named stay available)."""
        normalized = _normalize(state, config)
        changed = state.set_task_type_availability(normalized)
        state.engine.task_types_changed(sorted(changed))
        ws = state.workspace
        ws.date_updated = self._rt.clock.now_ms()
        await self._rt.commit_with_engine(
            state, [records.put(ws)], [Emitted("workspace.updated", ws)]
        )
        return self.get(state)


def _normalize(state: WorkspaceState, config: Any) -> dict[str, dict[str, bool]]:
    if not isinstance(config, dict):
        raise Invalid(f"{PARAM} must be an object of users", param=PARAM)
    out: dict[str, dict[str, bool]] = {}
    for user, types in config.items():
        worker_sid = user if user in state.workers else state.worker_names.get(str(user).lower())
        if worker_sid is None:
            raise Invalid(
                f"{PARAM}: {user!r} is neither a worker SID nor a worker's friendly name",
                param=PARAM,
            )
        if not isinstance(types, dict):
            raise Invalid(f"{PARAM}[{user!r}] must be an object of task types", param=PARAM)
        entry = out.setdefault(worker_sid, {})
        for name, available in types.items():
            if not name or len(name) > MAX_TYPE_NAME:
                raise Invalid(
                    f"{PARAM}[{user!r}]: task type names are 1 to {MAX_TYPE_NAME} characters",
                    param=PARAM,
                )
            if not isinstance(available, bool):
                raise Invalid(
                    f"{PARAM}[{user!r}][{name!r}] must be true or false, got {available!r}",
                    param=PARAM,
                )
            entry[name] = available
    return out
