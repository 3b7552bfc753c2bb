"""`taskrouter serve` posts event callbacks from a child process: if that process dies, the
server starts another and nothing is lost; when the server stops, the child goes too. The
child's writes reach the database through the server."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from pathlib import Path
from typing import Any

import orjson
import pytest
from events_harness import Receiver, wait_until

from support.http_api import Api, make_workspace
from support.server import TaskrouterServer, new_account
from taskrouter.events.archive import EventArchive
from taskrouter.events.courier import CURSORS, FLOOR
from taskrouter.events.courier_process import CourierProcess, decode_changes, encode_changes
from taskrouter.store import Change, Delete, Put, open_store


def _couriers(database_url: str) -> list[int]:
    """PIDs of courier processes serving `database_url`."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            command = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"taskrouter.events.courier_process" in command and database_url.encode() in command:
            found.append(int(entry.name))
    return found


def test_a_dead_courier_is_replaced_and_nothing_is_lost(database_url: str, tmp_path: Path) -> None:
    account = new_account()
    rx = Receiver().start()
    server = TaskrouterServer(database_url, workdir=tmp_path, account=account).start()
    api = Api(server.base_url, account)
    try:
        ws = make_workspace(api, "couriered", workers=1, event_callback_url=rx.url())
        wait_until(lambda: len(rx.events(ws.sid)) >= 2, timeout=60, what="the set-up events")
        (courier,) = wait_until(lambda: _couriers(database_url), what="the courier process")

        os.kill(courier, signal.SIGKILL)
        api.post(f"{ws.path}/TaskQueues", FriendlyName="made while the courier was dead")
        wait_until(
            lambda: "task-queue.created" in rx.event_types(ws.sid),
            timeout=60,
            what="the event made while the courier was dead",
        )
        replacement = wait_until(lambda: _couriers(database_url), timeout=30, what="a new courier")
        assert courier not in replacement

        logged = [e["sid"] for e in api.get(f"{ws.path}/Events", PageSize=100)["events"]]
        received = {r.form["Sid"] for r in rx.events(ws.sid)}
        assert set(logged) <= received, "an event was lost with the courier"
        sids = [r.form["Sid"] for r in rx.unique_events(ws.sid)]
        assert sids == sorted(sids)
    finally:
        api.close()
        server.stop()
        rx.stop()
    deadline = time.monotonic() + 15
    while _couriers(database_url) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _couriers(database_url) == [], "the courier outlived its server"


class _Wire:
    """Stands in for the socket to the child: keeps what the server writes to it."""

    def __init__(self) -> None:
        self.lines: list[dict[str, Any]] = []

    def write(self, data: bytes) -> None:
        self.lines.extend(orjson.loads(line) for line in data.splitlines())

    def is_closing(self) -> bool:
        return False


def test_the_childs_writes_are_committed_by_the_server_all_or_none(database_url: str) -> None:
    """The child hands its cursors and outbox rows to the server, so a SQLite database keeps
    one writer: the server commits them and says how it went."""

    async def scenario() -> None:
        store = open_store(database_url)
        await store.open()
        try:
            server = CourierProcess(store, EventArchive(store))
            wire = _Wire()
            cursor = Put(CURSORS, "WS" + "1" * 32, {"body": {"event_sid": "EV" + "2" * 32}})
            changes = encode_changes([cursor, Delete(CURSORS, FLOOR)])
            await server._commit(wire, 7, orjson.loads(orjson.dumps(changes)))  # type: ignore[arg-type]
            assert wire.lines == [{"committed": 7, "error": None}]
            saved = await store.get(CURSORS, cursor.sid)
            assert saved is not None and saved["body"] == {"event_sid": "EV" + "2" * 32}

            moved = Put(CURSORS, cursor.sid, {"body": {"event_sid": "EV" + "3" * 32}})
            bad = Put("no_such_table", "x", {"body": {}})
            await server._commit(wire, 8, encode_changes([moved, bad]))  # type: ignore[arg-type]
            assert wire.lines[1]["committed"] == 8 and wire.lines[1]["error"]
            saved = await store.get(CURSORS, cursor.sid)
            assert saved is not None and saved["body"] == {"event_sid": "EV" + "2" * 32}
        finally:
            await store.close()

    asyncio.run(scenario())


def test_changes_cross_the_socket_unchanged() -> None:
    changes: list[Change] = [
        Put("outbox", "EV1", {"status": "failed", "attempts": 3, "body": {"url": "http://h/"}}),
        Delete("outbox", "EV2"),
    ]
    assert decode_changes(orjson.loads(orjson.dumps(encode_changes(changes)))) == changes
    with pytest.raises(ValueError):
        decode_changes([["truncate", "outbox"]])
