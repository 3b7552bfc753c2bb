"""Fixtures of the CRM face's suite (seed 002).

`server`: one clocked server per backend for the module (sqlite, and postgres marked
`postgres`), with a retention period of two days so tests can outlive it; each test works in
its own company (workspace). Tests move the clock forward only.
"""

from __future__ import annotations

from collections.abc import Generator, Iterator

import pytest
from crm_harness import RETENTION_DAYS, Company

from events.events_harness import EventServer
from support.databases import BACKENDS, throwaway_database

SETTINGS = {
    "TASKROUTER_EVENT_RETENTION_DAYS": str(RETENTION_DAYS),
    "TASKROUTER_EVENT_SWEEP_MINUTES": "10",
}


@pytest.fixture(scope="module", params=BACKENDS)
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[EventServer]:
    workdir = tmp_path_factory.mktemp(f"crm-{request.param}")
    with throwaway_database(request.param, workdir) as url:
        srv = EventServer(url, workdir=workdir, env=SETTINGS)
        try:
            srv.start()
            yield srv
        finally:
            srv.kill()


@pytest.fixture
def company(server: EventServer) -> Company:
    return Company(server)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    if report.failed:
        srv = getattr(item, "funcargs", {}).get("server")
        if isinstance(srv, EventServer):
            report.sections.append(("crm server log", srv.logs()[-8_000:]))
    return report
