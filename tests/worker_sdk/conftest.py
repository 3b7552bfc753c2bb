"""Fixtures of the Worker SDK tests: the pinned SDK installed, one Node driver, and clocked
servers (one per store, shared by the directory; each test builds its own workspace)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from routing.helpers import ClockedServer
from support.databases import create_postgres_database, drop_postgres_database, in_ci
from support.server import Credentials, create_api_key
from worker_sdk.sdk import SdkDriver, install_sdk


@pytest.fixture(scope="session")
def sdk_driver() -> Iterator[SdkDriver]:
    problem = install_sdk()
    if problem is not None:
        if in_ci():
            pytest.fail(problem)
        pytest.skip(problem)
    driver = SdkDriver()
    try:
        yield driver
    finally:
        driver.close()


@pytest.fixture
def sdk(sdk_driver: SdkDriver) -> Iterator[SdkDriver]:
    """The driver; a test fails if the SDK threw anywhere while it ran."""
    yield sdk_driver
    assert not sdk_driver.uncaught, "the SDK threw:\n" + "\n".join(sdk_driver.uncaught)


class SdkServer:
    """A clocked server and an API key of its account to sign worker tokens with."""

    def __init__(self, server: ClockedServer, key: Credentials) -> None:
        self.server = server
        self.key = key


def _start(database_url: str, workdir: Path) -> SdkServer:
    server = ClockedServer(database_url, workdir=workdir)
    server.start()
    key = create_api_key(database_url, server.account.sid)
    return SdkServer(server, key)


@pytest.fixture(scope="session")
def sqlite_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SdkServer]:
    root = tmp_path_factory.mktemp("sdk-sqlite")
    started = _start(f"sqlite:///{root / 'taskrouter.db'}", root)
    try:
        yield started
    finally:
        started.server.stop()


@pytest.fixture(scope="session")
def postgres_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SdkServer]:
    url = create_postgres_database()
    try:
        started = _start(url, tmp_path_factory.mktemp("sdk-postgres"))
        try:
            yield started
        finally:
            started.server.stop()
    finally:
        drop_postgres_database(url)


@pytest.fixture(
    params=[
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
    ]
)
def any_server(request: pytest.FixtureRequest) -> SdkServer:
    """Each store in turn (for the main flow)."""
    server: SdkServer = request.getfixturevalue(f"{request.param}_server")
    return server
