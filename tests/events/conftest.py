"""Fixtures of the events suite.

`server`: one clocked server per backend for the whole module (sqlite, and postgres marked
`postgres`), on its own fresh database; tests each use their own workspaces. Tests that kill
or restart a server, or move its clock by days, start their own (`own_server`) on the per-test
`database_url`.

Callback settings are shortened so retries and budgets take seconds: first retry after 1 s,
doubling to at most 4 s, given up after 1 hour (of the test clock), event callbacks time out
after 3 s and assignment callbacks after 1 s.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterator
from pathlib import Path

import pytest
from events_harness import EventServer, Receiver, add_server_log, event_server

from support.databases import BACKENDS

SETTINGS = {
    "TASKROUTER_CALLBACK_RETRY_BASE_MS": "1000",
    "TASKROUTER_CALLBACK_RETRY_MAX_MS": "4000",
    "TASKROUTER_CALLBACK_RETRY_HOURS": "1",
    "TASKROUTER_CALLBACK_TIMEOUT_S": "3",
    "TASKROUTER_ASSIGNMENT_TIMEOUT_S": "1",
}


@pytest.fixture(scope="module", params=BACKENDS)
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[EventServer]:
    workdir = tmp_path_factory.mktemp(f"events-{request.param}")
    with event_server(request.param, workdir, SETTINGS) as srv:
        yield srv


@pytest.fixture
def own_server(database_url: str, tmp_path: Path) -> Iterator[Callable[..., EventServer]]:
    """Start servers of this test alone, on its own database; killed afterwards."""
    started: list[EventServer] = []

    def start(**env: str) -> EventServer:
        srv = EventServer(
            database_url,
            workdir=tmp_path / f"server{len(started)}",
            env={**SETTINGS, **env},
        )
        started.append(srv)
        return srv

    yield start
    for srv in started:
        srv.kill()


@pytest.fixture
def receivers() -> Iterator[Callable[..., Receiver]]:
    """Start recording HTTP receivers; all are stopped afterwards."""
    made: list[Receiver] = []

    def make(*args: object, **kwargs: object) -> Receiver:
        receiver = Receiver(*args, **kwargs).start()  # type: ignore[arg-type]
        made.append(receiver)
        return receiver

    yield make
    for receiver in made:
        receiver.stop()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    add_server_log(item, report, "events server log")
    return report
