"""The request limits Twilio documents can be set for a server: attributes, page size and
expressions, on every face, refused in the face's own format."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from support.http_api import Api, make_workspace
from support.server import TaskrouterServer, new_account
from taskrouter.limits import ServerLimits


@pytest.fixture(scope="module")
def strict_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TaskrouterServer]:
    folder: Path = tmp_path_factory.mktemp("strict")
    server = TaskrouterServer(
        f"sqlite:///{folder / 'taskrouter.db'}",
        workdir=folder,
        account=new_account(),
        env={
            "TASKROUTER_MAX_ATTRIBUTES": "40",
            "TASKROUTER_MAX_PAGE_SIZE": "5",
            "TASKROUTER_MAX_EXPRESSION_LENGTH": "30",
            "TASKROUTER_MAX_EXPRESSION_DEPTH": "2",
        },
    )
    server.start()
    try:
        yield server
    finally:
        server.stop()


def test_a_server_refuses_what_is_over_its_own_limits(strict_server: TaskrouterServer) -> None:
    assert strict_server.account is not None
    api = Api(strict_server.base_url, strict_server.account)
    try:
        ws = make_workspace(api, "strict", workers=1)
        workers = f"{ws.path}/Workers"
        fits = json.dumps({"skills": ["a", "b", "c"], "n": 1})
        assert len(fits) <= 40
        api.post(workers, FriendlyName="fits", Attributes=fits)
        over = api.call("POST", workers, (400,), FriendlyName="big", Attributes="x" * 41)
        assert "longer than 40 characters" in over.json()["message"]

        api.call("GET", workers, PageSize=5)
        page = api.call("GET", workers, (400,), PageSize=6)
        assert "between 1 and 5" in page.json()["message"]
        cpaas = api.http.get(
            "/taskrouter/workers/search", params={"workspaceSid": ws.sid, "pageSize": "6"}
        )
        assert cpaas.status_code == 400

        queues = f"{ws.path}/TaskQueues"
        long = api.call("POST", queues, (400,), FriendlyName="q", TargetWorkers="a == 1 " * 6)
        assert "longer than 30 characters" in long.text
        deep = api.call("POST", queues, (400,), FriendlyName="q2", TargetWorkers="((( a == 1)))")
        assert "deeper than 2 levels" in deep.text
        names = [q["friendly_name"] for q in api.get(queues)["task_queues"]]
        assert "q" not in names and "q2" not in names
        assert "big" not in [w["friendly_name"] for w in api.get(workers)["workers"]]
    finally:
        api.close()


def test_limits_out_of_range_are_refused_at_start() -> None:
    with pytest.raises(ValueError, match="depth"):
        ServerLimits.from_env({"TASKROUTER_MAX_EXPRESSION_DEPTH": "65"})
    with pytest.raises(ValueError, match="at least 1"):
        ServerLimits.from_env({"TASKROUTER_MAX_PAGE_SIZE": "0"})
