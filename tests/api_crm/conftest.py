"""Fixtures of the CRM face's suite (seed 002).

`server`: one clocked server per backend for the module (sqlite, and postgres marked
`postgres`), with a retention period of two days so tests can outlive it; each test works in
its own company (workspace). Tests move the clock forward only.
"""

from __future__ import annotations

from collections.abc import Generator, Iterator

import pytest
from crm_harness import RETENTION_DAYS, Company

from events.events_harness import EventServer, add_server_log, event_server
from support.databases import BACKENDS

SETTINGS = {
    "TASKROUTER_EVENT_RETENTION_DAYS": str(RETENTION_DAYS),
    "TASKROUTER_EVENT_SWEEP_MINUTES": "10",
}


@pytest.fixture(scope="module", params=BACKENDS)
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[EventServer]:
    workdir = tmp_path_factory.mktemp(f"crm-{request.param}")
    with event_server(request.param, workdir, SETTINGS) as srv:
        yield srv


@pytest.fixture
def company(server: EventServer) -> Company:
    return Company(server)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    add_server_log(item, report, "crm server log")
    return report
