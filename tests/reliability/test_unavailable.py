"""A commit the database refuses is answered 503 with Retry-After, and changes nothing."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from starlette.testclient import TestClient

from support.in_process import app_with_account
from taskrouter.service.service import Service
from taskrouter.store import Change


def test_a_refused_commit_is_503_and_the_next_one_works(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    app, account = app_with_account(database_url)
    service: Service = app.state.service
    store = service.runtime.store
    real_commit = store.commit
    down = True

    async def flaky(changes: Sequence[Change]) -> None:
        if down:
            raise OSError("connection refused")
        await real_commit(changes)

    with TestClient(app) as client:
        auth = (account.sid, account.secret)
        monkeypatch.setattr(store, "commit", flaky)
        refused = client.post("/v1/Workspaces", data={"FriendlyName": "lost"}, auth=auth)
        assert refused.status_code == 503
        assert refused.json()["code"] == 20503
        assert refused.headers["Retry-After"] == "1"
        down = False
        assert client.get("/v1/Workspaces", auth=auth).json()["workspaces"] == []
        kept = client.post("/v1/Workspaces", data={"FriendlyName": "kept"}, auth=auth)
        assert kept.status_code == 201
