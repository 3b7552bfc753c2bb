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


class _Ears:
    """Stands in for the courier: the bounds it was told."""

    def __init__(self) -> None:
        self.told: list[str] = []

    def committed_below(self, below: str) -> None:
        self.told.append(below)


def test_the_courier_hears_only_of_bounds_that_uncover_an_owed_event(tmp_path: Path) -> None:
    system, state = _system(tmp_path)
    ears = _Ears()
    system.courier = ears  # type: ignore[assignment]
    quiet = WorkspaceState(Workspace("WS" + "1" * 32, "AC" + "0" * 32, "quiet", 0, 0))

    def unowed() -> Batch:
        batch = system.record(quiet, None, [Emitted("workspace.updated", quiet.workspace)])
        assert batch is not None and not batch.owed
        return batch

    for _ in range(3):
        system.committed(unowed())
    assert ears.told == [], "no callback is owed: the courier has nothing to read"

    # An owed commit that lands while an older, unowed one is in flight: the bound cannot
    # pass the older one yet, and must be told again once it can.
    older, owed = unowed(), _record(system, state)
    system.committed(owed)
    assert ears.told and ears.told[-1] <= older.events[0]["sid"]
    system.committed(older)
    assert ears.told[-1] > owed.events[0]["sid"]

    told = len(ears.told)
    system.committed(unowed())
    assert len(ears.told) == told, "the owed event is already below the bound it was told"
