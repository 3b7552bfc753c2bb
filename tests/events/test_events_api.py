"""The Events REST resource through twilio-python: every filter, the time window, token paging,
fetch; each response is checked against the spec's `event` schema by the recording client.
Retention: events older than the retention period are removed by the background sweep."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from events_harness import EventServer, wait_until
from scenario import (
    Workspace,
    add_queue,
    add_task,
    add_worker,
    add_workflow,
    new_workspace,
    reservations,
)

from support.twilio_client import raises_twilio, recorder_of


def _world(server: EventServer) -> dict[str, Any]:
    """Two workers, two queues, two tasks (one accepted), all inside the last minute."""
    ws = new_workspace(server)
    sales = add_queue(ws, "Sales", "team == 'sales'")
    support = add_queue(ws, "Support", "team == 'support'")
    flow = add_workflow(
        ws,
        {
            "task_routing": {
                "filters": [{"expression": "kind == 'support'", "targets": [{"queue": support}]}],
                "default_filter": {"queue": sales},
            }
        },
    )
    ann = add_worker(ws, "ann", {"team": "sales"}, "Available")
    ben = add_worker(ws, "ben", {"team": "support"}, "Available")
    sale = add_task(ws, flow, {"kind": "sale"})
    ticket = ws.ctx.tasks.create(
        attributes='{"kind": "support"}', workflow_sid=flow, task_channel="chat"
    ).sid
    accepted = reservations(ws, sale)[0]
    ws.ctx.tasks(sale).reservations(accepted.sid).update(reservation_status="accepted")
    return {
        "ws": ws,
        "sales": sales,
        "support": support,
        "flow": flow,
        "ann": ann,
        "ben": ben,
        "sale": sale,
        "ticket": ticket,
        "reservation": accepted.sid,
    }


def _all(ws: Workspace, **filters: Any) -> list[Any]:
    return list(ws.ctx.events.list(page_size=1000, **filters))


def test_list_is_newest_first_and_each_filter_selects_exactly_its_events(
    server: EventServer,
) -> None:
    w = _world(server)
    ws: Workspace = w["ws"]
    everything = _all(ws)
    assert everything, "no events listed"
    sids = [e.sid for e in everything]
    assert sids == sorted(sids, reverse=True), "not newest first"
    assert everything[-1].event_type == "workspace.created"
    assert {e.workspace_sid for e in everything} == {ws.sid}

    def expect(filters: dict[str, Any], keep: Callable[[Any], bool]) -> list[Any]:
        got = _all(ws, **filters)
        wanted = [e.sid for e in everything if keep(e)]
        assert wanted, f"the world has no events for {filters}"
        assert [e.sid for e in got] == wanted, f"filter {filters}"
        return got

    data = lambda e, key: (e.event_data or {}).get(key)  # noqa: E731
    expect({"event_type": "task.created"}, lambda e: e.event_type == "task.created")
    by_task = expect({"task_sid": w["sale"]}, lambda e: data(e, "task_sid") == w["sale"])
    assert {e.event_type for e in by_task} >= {
        "task.created",
        "task-queue.entered",
        "reservation.created",
        "reservation.accepted",
    }
    expect({"worker_sid": w["ben"]}, lambda e: data(e, "worker_sid") == w["ben"])
    expect(
        {"reservation_sid": w["reservation"]},
        lambda e: data(e, "reservation_sid") == w["reservation"],
    )
    expect({"task_queue_sid": w["support"]}, lambda e: data(e, "task_queue_sid") == w["support"])
    expect({"workflow_sid": w["flow"]}, lambda e: data(e, "workflow_sid") == w["flow"])
    chat = expect({"task_channel": "chat"}, lambda e: data(e, "task_channel_unique_name") == "chat")
    channel_sid = data(chat[0], "task_channel_sid")
    expect({"task_channel": channel_sid}, lambda e: data(e, "task_channel_sid") == channel_sid)
    one = everything[3]
    assert [e.sid for e in _all(ws, sid=one.sid)] == [one.sid]
    both = _all(ws, event_type="reservation.created", worker_sid=w["ann"])
    assert [e.event_type for e in both] == ["reservation.created"]
    assert _all(ws, task_sid=w["sale"], worker_sid=w["ben"]) == []
    recorder_of(server.client).assert_clean()  # type: ignore[arg-type]


def test_fetch_and_the_event_shape(server: EventServer) -> None:
    w = _world(server)
    ws: Workspace = w["ws"]
    created = _all(ws, event_type="reservation.created", task_sid=w["sale"])[0]
    event = ws.ctx.events(created.sid).fetch()
    assert event.sid == created.sid
    assert event.event_type == "reservation.created"
    assert event.resource_type == "reservation"
    assert event.resource_sid == w["reservation"]
    assert event.resource_url.endswith(f"/Tasks/{w['sale']}/Reservations/{w['reservation']}")
    assert event.url.endswith(f"/v1/Workspaces/{ws.sid}/Events/{event.sid}")
    assert event.account_sid == server.account.sid
    assert event.event_date_ms and isinstance(event.event_date, datetime)
    d = event.event_data
    assert d["task_sid"] == w["sale"] and d["worker_sid"] == w["ann"]
    assert d["worker_name"] == "ann" and d["task_queue_sid"] == w["sales"]
    assert d["workspace_sid"] == ws.sid and d["task_assignment_status"] == "reserved"
    assert event.description
    with raises_twilio(server.client, 404):  # type: ignore[arg-type]
        ws.ctx.events("EV" + "0" * 32).fetch()
    other = new_workspace(server)
    with raises_twilio(server.client, 404):  # type: ignore[arg-type]
        other.ctx.events(event.sid).fetch()
    recorder_of(server.client).assert_clean()  # type: ignore[arg-type]


def test_minutes_start_date_and_end_date_choose_the_window(server: EventServer) -> None:
    ws = new_workspace(server)
    add_queue(ws, "early")
    early = _all(ws)
    assert len(early) == 2
    before = server.now_ms()
    server.advance(20 * 60_000)
    add_queue(ws, "late")
    # Default: the last 15 minutes.
    assert [e.event_type for e in _all(ws)] == ["task-queue.created"]
    assert len(_all(ws, minutes=30)) == 3
    assert len(_all(ws, minutes=10)) == 1
    moment = lambda ms: datetime.fromtimestamp(ms / 1000, tz=UTC)  # noqa: E731
    window = _all(ws, start_date=moment(before - 60_000), end_date=moment(before + 60_000))
    assert [e.sid for e in window] == [e.sid for e in early]
    later = _all(ws, start_date=moment(before + 60_000))
    assert [e.event_type for e in later] == ["task-queue.created"]
    recorder_of(server.client).assert_clean()  # type: ignore[arg-type]


def test_token_paging_walks_every_event_once(server: EventServer) -> None:
    ws = new_workspace(server)
    for i in range(7):
        add_queue(ws, f"q{i}")
    everything = _all(ws)
    assert len(everything) == 8
    recorder = recorder_of(server.client)  # type: ignore[arg-type]
    before = len(recorder.exchanges)
    paged = list(ws.ctx.events.stream(page_size=3))
    assert [e.sid for e in paged] == [e.sid for e in everything]
    assert len(recorder.exchanges) - before == 3  # 3 + 3 + 2, following next_page_url
    page = ws.ctx.events.page(page_size=3)
    assert len(list(page)) == 3
    raw = recorder.last.json()
    next_url = raw["meta"]["next_page_url"]
    assert "PageToken=PA" in next_url and "PageSize=3" in next_url
    assert raw["meta"]["key"] == "events"
    with raises_twilio(server.client, 400):  # type: ignore[arg-type]
        ws.ctx.events.page(page_token="PAnot-a-token")
    recorder_of(server.client).assert_clean()  # type: ignore[arg-type]


def test_bad_filters_are_refused(server: EventServer) -> None:
    ws = new_workspace(server)
    with raises_twilio(server.client, 400):  # type: ignore[arg-type]
        list(ws.ctx.events.list(task_sid="WK" + "0" * 32))
    with raises_twilio(server.client, 400):  # type: ignore[arg-type]
        list(ws.ctx.events.list(page_size=1001))
    assert server.http is not None
    response = server.http.get(f"/v1/Workspaces/{ws.sid}/Events", params={"Minutes": "x"})
    assert response.status_code == 400 and response.json()["code"] == 20001


@pytest.mark.timeout(120)
def test_retention_sweep_removes_events_past_the_period(
    own_server: Callable[..., EventServer],
) -> None:
    server = own_server(
        TASKROUTER_EVENT_RETENTION_DAYS="2", TASKROUTER_EVENT_SWEEP_MINUTES="10"
    ).start()
    ws = new_workspace(server)
    add_queue(ws, "old")
    old = _all(ws)
    assert len(old) == 2
    server.advance(86_400_000)  # one day: still kept
    add_queue(ws, "newer")
    server.advance(20 * 60_000)
    assert server.http is not None
    first = f"/v1/Workspaces/{ws.sid}/Events/{old[0].sid}"
    assert server.http.get(first).status_code == 200
    server.advance(86_400_000 + 3_600_000)  # the first two are now past two days
    wait_until(
        lambda: server.http is not None and server.http.get(first).status_code == 404,
        what="the sweep",
    )
    kept = _all(ws, minutes=4 * 24 * 60)
    assert [e.event_type for e in kept] == ["task-queue.created"]
    assert kept[0].sid not in {e.sid for e in old}
