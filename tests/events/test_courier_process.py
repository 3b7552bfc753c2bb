"""`taskrouter serve` posts event callbacks from a child process: if that process dies, the
server starts another and nothing is lost; when the server stops, the child goes too."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

from events_harness import Receiver, wait_until

from support.http_api import Api, make_workspace
from support.server import TaskrouterServer, new_account


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
