"""Paging: several pages via next_page_url, meta shape and URLs, PageSize limits, PageToken."""

from __future__ import annotations

import secrets
from urllib.parse import parse_qs, urlsplit

import pytest
from twilio.rest import Client
from twilio.rest.taskrouter.v1.workspace import WorkspaceContext, WorkspaceInstance

from support.server import ServerFactory, TaskrouterServer, new_account
from support.spec import check_response
from support.twilio_client import (
    RawApi,
    assert_raw_error,
    make_client,
    recorder_of,
)


def _make_workers(ws: WorkspaceContext, n: int, prefix: str = "w") -> list[str]:
    return [ws.workers.create(friendly_name=f"{prefix}{i:03d}").sid for i in range(n)]


def test_sdk_follows_next_page_url_across_pages(
    client: Client,
    ws: WorkspaceContext,
    workspace: WorkspaceInstance,
    twilio_server: TaskrouterServer,
) -> None:
    created = _make_workers(ws, 7)
    recorder = recorder_of(client)
    before = len(recorder.exchanges)

    listed = ws.workers.list(page_size=2)

    sids = [w.sid for w in listed]
    assert len(sids) == len(set(sids)), "a worker appeared twice"
    assert set(sids) == set(created), "paging lost or invented workers"
    pages = [e for e in recorder.exchanges[before:] if e.method == "GET"]
    assert len(pages) == 4, [p.url for p in pages]  # 2 + 2 + 2 + 1
    base = f"{twilio_server.base_url}/v1/Workspaces/{workspace.sid}/Workers"
    for number, page in enumerate(pages):
        body = page.json()
        meta = body["meta"]
        assert meta["key"] == "workers"
        assert meta["page_size"] == 2
        assert meta["page"] == number  # notes a.1: Page=<n+1> in next_page_url
        assert len(body["workers"]) == (2 if number < 3 else 1)
        for field in ("url", "first_page_url"):
            assert meta[field].startswith(base + "?"), meta[field]
        if number < 3:
            assert meta["next_page_url"].startswith(base + "?"), meta["next_page_url"]
            # The SDK asked for exactly what the server said was next.
            assert pages[number + 1].url == meta["next_page_url"]
        else:
            assert meta["next_page_url"] is None
        if number > 0:
            assert "PageToken" in parse_qs(urlsplit(page.url).query)


def test_page_objects_and_stream(ws: WorkspaceContext) -> None:
    created = _make_workers(ws, 5)
    first = ws.workers.page(page_size=2)
    seen = [w.sid for w in first]
    assert len(seen) == 2
    second = first.next_page()
    assert second is not None
    seen += [w.sid for w in second]
    third = second.next_page()
    assert third is not None
    seen += [w.sid for w in third]
    assert third.next_page() is None
    assert sorted(seen) == sorted(created)
    assert len({w.sid for w in ws.workers.stream(page_size=3)}) == 5
    assert len(ws.workers.list(limit=3, page_size=2)) == 3


def test_next_page_url_keeps_filters(client: Client, ws: WorkspaceContext) -> None:
    available = next(a.sid for a in ws.activities.list() if a.friendly_name == "Available")
    wanted = {
        ws.workers.create(friendly_name=f"on{i}", activity_sid=available).sid for i in range(5)
    }
    _make_workers(ws, 3, prefix="off")
    recorder = recorder_of(client)
    before = len(recorder.exchanges)
    listed = ws.workers.list(activity_name="Available", page_size=2)
    assert {w.sid for w in listed} == wanted
    pages = recorder.exchanges[before:]
    assert len(pages) == 3
    for page in pages[:-1]:
        query = parse_qs(urlsplit(page.json()["meta"]["next_page_url"]).query)
        assert query["ActivityName"] == ["Available"]
        assert query["PageSize"] == ["2"]


def test_paging_survives_deletes_between_pages(ws: WorkspaceContext) -> None:
    created = _make_workers(ws, 6)
    first = ws.workers.page(page_size=2)
    first_sids = [w.sid for w in first]
    # Delete a worker already shown: the next page must neither skip nor repeat anything.
    ws.workers(first_sids[0]).delete()
    rest: list[str] = []
    page = first.next_page()
    while page is not None:
        rest += [w.sid for w in page]
        page = page.next_page()
    assert len(rest) == len(set(rest))
    assert not set(rest) & set(first_sids)
    assert set(first_sids) | set(rest) == set(created)


def test_default_page_size_is_50(
    raw: RawApi, ws: WorkspaceContext, workspace: WorkspaceInstance
) -> None:
    _make_workers(ws, 51)
    response = raw.get(f"/v1/Workspaces/{workspace.sid}/Workers")
    body = response.json()
    assert body["meta"]["page_size"] == 50
    assert len(body["workers"]) == 50
    assert body["meta"]["next_page_url"] is not None
    last = raw.get(body["meta"]["next_page_url"]).json()
    assert len(last["workers"]) == 1
    assert last["meta"]["next_page_url"] is None
    full = raw.get(f"/v1/Workspaces/{workspace.sid}/Workers", params={"PageSize": 1000}).json()
    assert len(full["workers"]) == 51
    assert full["meta"]["page_size"] == 1000


@pytest.mark.parametrize("size", ["0", "1001", "-5", "many"])
def test_page_size_out_of_range(raw: RawApi, workspace: WorkspaceInstance, size: str) -> None:
    response = raw.get(f"/v1/Workspaces/{workspace.sid}/Activities", params={"PageSize": size})
    assert_raw_error(response, 400, mentions="PageSize")


def test_page_size_bounds_accepted(raw: RawApi, workspace: WorkspaceInstance) -> None:
    for size in (1, 1000):
        response = raw.get(f"/v1/Workspaces/{workspace.sid}/Activities", params={"PageSize": size})
        assert response.status_code == 200
        assert response.json()["meta"]["page_size"] == size
        assert len(response.json()["activities"]) == min(size, 3)


@pytest.mark.parametrize("token", ["garbage", "PA", "PT!!!", "PAWK" + "0" * 32 + "x"])
def test_invalid_page_token(raw: RawApi, workspace: WorkspaceInstance, token: str) -> None:
    response = raw.get(
        f"/v1/Workspaces/{workspace.sid}/Activities", params={"PageSize": 1, "PageToken": token}
    )
    # 20001 is the generic bad request; Twilio's own code for this is 21481 (notes a.1).
    assert_raw_error(response, 400, code=(20001, 21481), mentions="PageToken")


def test_workspace_list_pages(client: Client) -> None:
    name = f"paged-{secrets.token_hex(4)}"
    created = {client.taskrouter.v1.workspaces.create(friendly_name=name).sid for _ in range(3)}
    recorder = recorder_of(client)
    before = len(recorder.exchanges)
    listed = client.taskrouter.v1.workspaces.list(friendly_name=name, page_size=1)
    assert {w.sid for w in listed} == created
    assert len(listed) == 3
    assert len(recorder.exchanges) - before == 3


def test_meta_urls_follow_the_host_header(raw: RawApi, workspace: WorkspaceInstance) -> None:
    # Without --public-url, URLs are built from the request's Host.
    host = "http://tr.example.internal:8443"
    response = raw.request(
        "GET",
        f"/v1/Workspaces/{workspace.sid}/Activities",
        params={"PageSize": 1},
        headers={"Host": "tr.example.internal:8443"},
        check=False,  # checked below against that host
    )
    problems = check_response(
        "GET",
        str(response.request.url),
        response.status_code,
        response.headers.get("content-type"),
        response.text,
        public_base=host,
    )
    assert not problems, problems
    body = response.json()
    prefix = f"{host}/v1/Workspaces/{workspace.sid}/Activities"
    assert body["meta"]["url"].startswith(prefix + "?")
    assert body["meta"]["first_page_url"].startswith(prefix + "?")
    assert body["meta"]["next_page_url"].startswith(prefix + "?")
    assert body["activities"][0]["url"].startswith(prefix + "/WA")


def test_public_url_is_used_for_every_url(database_url: str, server_factory: ServerFactory) -> None:
    public = "https://taskrouter.example.com"
    server = server_factory(database_url, account=new_account(), public_url=public)
    assert server.account is not None
    client = make_client(
        server.base_url, server.account.sid, server.account.secret, public_base=public
    )
    # Every response is checked: url, links and meta URLs must start with the public URL.
    workspace = client.taskrouter.v1.workspaces.create(friendly_name="public")
    assert workspace.url == f"{public}/v1/Workspaces/{workspace.sid}"
    ws = client.taskrouter.v1.workspaces(workspace.sid)
    for i in range(3):
        ws.workers.create(friendly_name=f"p{i}")
    recorder = recorder_of(client)
    before = len(recorder.exchanges)
    assert len(ws.workers.list(page_size=1)) == 3  # followed next_page_url on the public host
    for page in recorder.exchanges[before:]:
        meta = page.json()["meta"]
        assert meta["url"].startswith(f"{public}/v1/Workspaces/{workspace.sid}/Workers?")
    recorder.assert_clean()
