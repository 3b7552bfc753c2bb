"""The courier reads the event log only below commits still in flight: a commit that lands
after a later one must not be passed over (its events would never be delivered)."""

from __future__ import annotations

from pathlib import Path

from taskrouter.domain.entities import Workspace
from taskrouter.engine.state import WorkspaceState
from taskrouter.events.log import Batch, Emitted
from taskrouter.events.system import EventSystem
from taskrouter.store import open_store


class FixedClock:
    def now_ms(self) -> int:
        return 1_700_000_000_000


def _system(tmp_path: Path) -> tuple[EventSystem, WorkspaceState]:
    system = EventSystem(open_store(f"sqlite:///{tmp_path / 'db.sqlite'}"), FixedClock())
    ws = Workspace("WS" + "0" * 32, "AC" + "0" * 32, "ws", 0, 0, event_callback_url="http://x/")
    return system, WorkspaceState(ws)


def _record(system: EventSystem, state: WorkspaceState) -> Batch:
    batch = system.record(state, None, [Emitted("workspace.updated", state.workspace)])
    assert batch is not None and batch.owed
    return batch


def test_the_bound_waits_for_the_oldest_commit_in_flight(tmp_path: Path) -> None:
    system, state = _system(tmp_path)
    first, second = _record(system, state), _record(system, state)
    first_sid, second_sid = first.events[0]["sid"], second.events[0]["sid"]
    assert first_sid < second_sid
    assert system.committed_below() <= first_sid

    system.committed(second)  # the later commit lands first
    assert system.committed_below() <= first_sid, "would pass over the first batch's event"

    system.committed(first)
    assert system.committed_below() > second_sid


def test_a_failed_commit_no_longer_holds_the_bound(tmp_path: Path) -> None:
    system, state = _system(tmp_path)
    failed, landed = _record(system, state), _record(system, state)
    system.committed(landed)
    assert system.committed_below() <= failed.events[0]["sid"]
    system.abandoned(failed)
    assert system.committed_below() > landed.events[0]["sid"]
