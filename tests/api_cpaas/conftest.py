"""Fixtures of the CPaaS face suite: one clocked server per backend for the session (its
clock moves only when a test says so), and a fresh account per test, so searches, which span
an account's workspaces, see only what the test made."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from api_cpaas.cpaas_client import CpaasClient
from routing.helpers import ClockedServer
from support.databases import BACKENDS, throwaway_database
from support.server import Credentials, cli_json

EMAIL = "cspadmin1@nmorgtest1.com"


@pytest.fixture(scope="session", params=BACKENDS)
def cpaas_database(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    with throwaway_database(request.param, tmp_path_factory.mktemp("cpaas-db")) as url:
        yield url


@pytest.fixture(scope="session")
def cpaas_server(
    cpaas_database: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ClockedServer]:
    server = ClockedServer(cpaas_database, workdir=tmp_path_factory.mktemp("cpaas-server"))
    server.start()
    try:
        yield server
    finally:
        server.stop()


def new_account(
    server: ClockedServer, email: str | None = EMAIL, *, via_cli: bool = False
) -> Credentials:
    """A fresh account: made by the test server's control route, or `via_cli` with
    `taskrouter accounts create`, as an operator would (slower: a process)."""
    if via_cli:
        args = ["accounts", "create", "--friendly-name", "cpaas test"]
        if email is not None:
            args += ["--email", email]
        out = cli_json(*args, database_url=server.database_url)
    else:
        assert server.http is not None
        response = server.http.post("/_test/accounts", json={"email": email})
        assert response.status_code == 200, response.text
        out = response.json()
    return Credentials(out["sid"], out["auth_token"])


@pytest.fixture
def api(cpaas_server: ClockedServer) -> Iterator[CpaasClient]:
    client = CpaasClient(cpaas_server.base_url, new_account(cpaas_server))
    try:
        yield client
    finally:
        client.close()
