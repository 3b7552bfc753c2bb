"""Fixtures of the Twilio v1 acceptance suite.

One real `taskrouter serve` per backend for the whole session (`twilio_server`, parametrized
`sqlite`/`postgres`), each test in its own workspace. Tests that need their own server
(durability, CLI, --public-url) use `server_factory` with the per-test `database_url`.

When a test fails, the logs of the servers it used are attached to its report.
"""

from __future__ import annotations

import secrets
from collections.abc import Generator, Iterator
from pathlib import Path

import pytest
from twilio.rest import Client
from twilio.rest.taskrouter.v1.workspace import WorkspaceContext, WorkspaceInstance

from support.databases import BACKENDS, throwaway_database
from support.server import (
    Credentials,
    ServerFactory,
    TaskrouterServer,
    create_account,
    create_api_key,
    new_account,
)
from support.twilio_client import RawApi, make_client, recorder_of


@pytest.fixture(scope="session", params=BACKENDS)
def twilio_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[TaskrouterServer]:
    """The real server on a free port, on its own fresh database, for the whole session."""
    workdir = tmp_path_factory.mktemp(f"twilio-{request.param}")
    with throwaway_database(request.param, workdir) as url:
        server = TaskrouterServer(url, workdir=workdir, account=new_account())
        try:
            server.start()
            yield server
        finally:
            if server.running:
                server.stop()


@pytest.fixture(scope="session")
def second_account(twilio_server: TaskrouterServer) -> Credentials:
    """Another account on the same server, made with `taskrouter accounts create`."""
    assert twilio_server.database_url is not None
    return create_account(twilio_server.database_url, "second account")


@pytest.fixture(scope="session")
def api_key(twilio_server: TaskrouterServer) -> Credentials:
    """An API key of the main account, made with `taskrouter keys create`."""
    assert twilio_server.account is not None and twilio_server.database_url is not None
    return create_api_key(twilio_server.database_url, twilio_server.account.sid)


def _client(server: TaskrouterServer, creds: Credentials) -> Client:
    return make_client(
        server.base_url,
        creds.sid,
        creds.secret,
        account_sid=creds.account_sid,
        public_base=server.public_base,
    )


@pytest.fixture
def client(twilio_server: TaskrouterServer) -> Iterator[Client]:
    """twilio-python for the main account; every response it gets is checked against the spec."""
    assert twilio_server.account is not None
    c = _client(twilio_server, twilio_server.account)
    yield c
    recorder_of(c).assert_clean()


@pytest.fixture
def client_b(twilio_server: TaskrouterServer, second_account: Credentials) -> Iterator[Client]:
    c = _client(twilio_server, second_account)
    yield c
    recorder_of(c).assert_clean()


@pytest.fixture
def raw(twilio_server: TaskrouterServer) -> Iterator[RawApi]:
    """httpx with the main account's credentials; every response is checked too."""
    assert twilio_server.account is not None
    api = RawApi(
        twilio_server.base_url,
        (twilio_server.account.sid, twilio_server.account.secret),
        public_base=twilio_server.public_base,
    )
    yield api
    api.close()
    api.recorder.assert_clean()


@pytest.fixture
def workspace(client: Client, request: pytest.FixtureRequest) -> WorkspaceInstance:
    """A fresh workspace (Template NONE) of the main account, for this test alone."""
    name = f"{request.node.name[:40]}-{secrets.token_hex(3)}"
    return client.taskrouter.v1.workspaces.create(friendly_name=name)


@pytest.fixture
def ws(client: Client, workspace: WorkspaceInstance) -> WorkspaceContext:
    """`client.taskrouter.v1.workspaces(<fresh workspace sid>)`."""
    return client.taskrouter.v1.workspaces(workspace.sid)


@pytest.fixture
def server_factory(tmp_path: Path) -> Iterator[ServerFactory]:
    """Start extra servers for one test; any still running afterwards is killed."""
    factory = ServerFactory(tmp_path)
    yield factory
    factory.cleanup()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    if report.failed:
        funcargs = getattr(item, "funcargs", {})
        servers: list[TaskrouterServer] = []
        if isinstance(funcargs.get("twilio_server"), TaskrouterServer):
            servers.append(funcargs["twilio_server"])
        factory = funcargs.get("server_factory")
        if isinstance(factory, ServerFactory):
            servers += factory.started
        for server in servers:
            report.sections.append(
                (f"taskrouter server log (port {server.port})", server.logs(8_000))
            )
    return report
