"""The courier in a process of its own, so posting event callbacks never takes routing's CPU.

Each event callback costs a form, a signature and an HTTP exchange: on a busy server that is
more CPU than routing the task that caused it. `taskrouter serve` therefore runs the courier
(`courier.py`) in a child process, at a lower scheduling priority (`nice`, default 10) and
paced by the server's need for a CPU (`pacing.py`), so routing comes first when the
cores are busy and callbacks use what is left; on a machine with cores to spare it simply
runs beside the server.

They talk over a socket pair, in JSON lines. The server sends `{"below": sid}` when commits
of owed events finish (coalesced, at most one per `READ_GAP_S`, how often the child reads; see
`EventSystem` for when a bound is worth telling), and `{"stop": true}` when it stops. The
child sends `{"backlog": n}` (callbacks owed and not yet delivered) when that changes, and
its writes (cursors, failed and redelivered outbox rows) as `{"commit": id, "changes": [...]}`;
the server commits them and answers `{"committed": id, "error": null or why}`. Everything else
the child reads from the database: the owed events, cursors, failed and redelivered rows, and
auth tokens for signatures (re-read every `TOKENS_REFRESH_S`).

Why its writes go through the server: a SQLite database takes one writer at a time. When the
child committed its cursors itself, five times a second, each commit held the write lock
through its fsync, and the server's commits of routing waited behind it: 97 waits of up to
13 ms (132 ms in all) in two 15-second runs at 1,000 tasks/s, each a stall for every commit
of routing behind it. Handed to the server, they join the commit it makes anyway.

If the child dies, the server starts another, which resumes from the saved cursors (at least
once). If the server dies, the child sees the socket close and stops; what it had not saved
is delivered again by the next one.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Callable, Sequence
from typing import Any

import orjson

from taskrouter.domain.clock import SystemClock
from taskrouter.events import outbox
from taskrouter.events.archive import EventArchive
from taskrouter.events.courier import CURSORS, FLOOR, READ_GAP_S, EventCourier
from taskrouter.events.outbox import Delivery
from taskrouter.events.pacing import Pacer, SchedulerTimes
from taskrouter.events.sender import Sender, callback_sender
from taskrouter.events.settings import EventSettings
from taskrouter.store import Change, Delete, Put, Store, open_store

log = logging.getLogger("taskrouter.events.courier")

RESTART_AFTER_S = 1.0
STOP_WAIT_S = 10.0
TOKENS_REFRESH_S = 2.0
BACKLOG_REPORT_S = 0.5


class CourierProcess:
    """The server's side: starts the child, tells it the bound, restarts it if it dies.
    It answers the same calls as `EventCourier`, so the event system uses either."""

    def __init__(self, store: Store, archive: EventArchive) -> None:
        self._store = store
        self._archive = archive
        self._url = store.url
        self._below = ""
        self._sent = ""
        # What the child last said; None until a child (a new one too) has spoken.
        self._backlog: int | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._watch: asyncio.Task[None] | None = None
        self._send_scheduled = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping = False
        self._commits: set[asyncio.Task[None]] = set()

    async def start(self, below: str, make_sender: Callable[[], Sender]) -> None:
        # The child makes its own sender (`make_sender` is for the in-process courier).
        self._below = max(self._below, below)
        await self._spawn()

    async def stop(self) -> None:
        self._stopping = True
        if self._writer is not None:
            # The child saves its cursors (through us: `_listen` still serves) and exits.
            self._writer.write(orjson.dumps({"stop": True}) + b"\n")
        proc, self._proc = self._proc, None
        if proc is not None:
            try:
                await asyncio.to_thread(proc.wait, STOP_WAIT_S)
            except subprocess.TimeoutExpired:
                proc.kill()
                await asyncio.to_thread(proc.wait)
        if self._watch is not None:
            self._watch.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._watch
            self._watch = None
        for task in list(self._commits):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        if self._writer is not None:
            self._writer.close()
            self._writer = None

    def committed_below(self, below: str) -> None:
        if below <= self._below:
            return
        self._below = below
        if not self._send_scheduled and self._writer is not None and self._loop is not None:
            # The child reads the log at most every READ_GAP_S, so bounds sent more often
            # are read by nobody: coalesced over that gap, a busy server tells it ~200 times
            # a second instead of once per turn of its event loop (~1,000 at 1,000 tasks/s).
            self._send_scheduled = True
            self._loop.call_later(READ_GAP_S, self._send)

    async def redeliver(
        self, workspace_sid: str | None = None, sids: list[str] | None = None
    ) -> list[Delivery]:
        """Marked in the database; the child takes them within a second."""
        return await outbox.request_redelivery(self._store, workspace_sid=workspace_sid, sids=sids)

    async def backlog(self) -> int:
        if self._backlog is not None:
            return self._backlog
        # The child is starting: count from the saved floor, which may count some twice
        # but never reports none while some are owed.
        row = await self._store.get(CURSORS, FLOOR)
        floor = str(row["body"].get("event_sid", "")) if row is not None else ""
        return await self._archive.count_owed(floor)

    # -- plumbing ------------------------------------------------------------------------------

    async def _commit(
        self, writer: asyncio.StreamWriter | None, ident: Any, changes: list[list[Any]]
    ) -> None:
        """Commit the child's changes with ours, and tell it how that went."""
        try:
            await self._store.commit(decode_changes(changes))
            error = None
        except Exception as exc:
            error = f"{type(exc).__name__}: {exc}"
        if writer is not None and not writer.is_closing():
            writer.write(orjson.dumps({"committed": ident, "error": error}) + b"\n")

    def _send(self) -> None:
        self._send_scheduled = False
        if self._writer is None or self._below == self._sent:
            return
        self._sent = self._below
        self._writer.write(orjson.dumps({"below": self._below}) + b"\n")

    async def _spawn(self) -> None:
        ours, theirs = socket.socketpair()
        command = [sys.executable, "-m", "taskrouter.events.courier_process"]
        command += ["--database", self._url, "--fd", str(theirs.fileno())]
        try:
            self._proc = subprocess.Popen(command, pass_fds=(theirs.fileno(),))
        finally:
            theirs.close()
        reader, self._writer = await asyncio.open_connection(sock=ours)
        self._loop = asyncio.get_running_loop()
        self._backlog = None
        self._sent = ""
        self._send()
        self._watch = asyncio.create_task(self._listen(reader), name="taskrouter-courier-watch")

    async def _listen(self, reader: asyncio.StreamReader) -> None:
        while True:
            try:
                line = await reader.readline()
            except (ConnectionError, OSError, ValueError):
                line = b""  # a child killed mid-write resets the socket
            if not line:
                break
            with contextlib.suppress(ValueError, TypeError, KeyError):
                message = orjson.loads(line)
                if "commit" in message:
                    task = asyncio.create_task(
                        self._commit(self._writer, message["commit"], message["changes"])
                    )
                    self._commits.add(task)
                    task.add_done_callback(self._commits.discard)
                else:
                    self._backlog = int(message["backlog"])
        if self._stopping:
            return
        code = await asyncio.to_thread(self._proc.wait) if self._proc is not None else None
        log.error("the event courier process ended (exit %s); starting another", code)
        if self._writer is not None:
            self._writer.close()
            self._writer = None
        await asyncio.sleep(RESTART_AFTER_S)
        if not self._stopping:
            await self._spawn()


# -- the child ---------------------------------------------------------------------------------


class _Tokens:
    """Auth tokens by account SID, as the database has them."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self.by_account: dict[str, str] = {}

    async def refresh(self) -> None:
        rows = await self._store.load("accounts")
        self.by_account = {r["sid"]: str(r["auth_token"]) for r in rows}

    def __call__(self, account_sid: str) -> str | None:
        return self.by_account.get(account_sid)


async def _child(database_url: str, fd: int) -> None:
    settings = EventSettings.from_env()
    store = open_store(database_url)
    await store.open()
    # Nothing else runs on this process's loop: a read blocking it only delays the next post.
    archive = EventArchive(store, inline_reads=True, key_walks=True)
    tokens = _Tokens(store)
    await tokens.refresh()
    # The server started this child: its main thread is the one routing runs on.
    pacer = Pacer(SchedulerTimes(os.getppid()))
    reader, writer = await asyncio.open_connection(sock=socket.socket(fileno=fd))
    server = _Server(writer)
    courier = EventCourier(store, archive, SystemClock(), settings, pacer, server.commit)
    await courier.start("", lambda: callback_sender(settings, tokens))

    async def report() -> None:
        sent = -1
        loop = asyncio.get_running_loop()
        next_refresh = loop.time() + TOKENS_REFRESH_S
        while True:
            await asyncio.sleep(BACKLOG_REPORT_S)
            with contextlib.suppress(Exception):
                if loop.time() >= next_refresh:
                    next_refresh = loop.time() + TOKENS_REFRESH_S
                    await tokens.refresh()
                backlog = await courier.backlog()
                if backlog != sent:
                    writer.write(orjson.dumps({"backlog": backlog}) + b"\n")
                    sent = backlog

    stopping = asyncio.Event()

    async def listen() -> None:
        """Every line from the server: bounds, the answers to commits (while the courier stops
        too), and the word to stop. Ends when the server is gone."""
        try:
            while True:
                try:
                    line = await reader.readline()
                except (ConnectionError, OSError, ValueError):
                    line = b""
                if not line:
                    server.closed()  # it died: no commit will be answered
                    return
                message: dict[str, Any] = orjson.loads(line)
                if "committed" in message:
                    server.committed(message["committed"], message.get("error"))
                elif message.get("stop"):
                    stopping.set()
                else:
                    courier.committed_below(str(message.get("below", "")))
        finally:
            stopping.set()

    listening = asyncio.create_task(listen(), name="taskrouter-courier-listen")
    reporting = asyncio.create_task(report(), name="taskrouter-courier-report")
    try:
        await stopping.wait()
    finally:
        reporting.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await reporting
        await courier.stop()  # its last cursors, answered through `listen`
        listening.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await listening
        server.closed()
        await archive.close()
        await store.close()


class _Server:
    """The child's way to commit: through the server, which owns the database's one writer."""

    def __init__(self, writer: asyncio.StreamWriter) -> None:
        self._writer = writer
        self._waiting: dict[int, asyncio.Future[None]] = {}
        self._next = 0
        self._closed = False

    async def commit(self, changes: Sequence[Change]) -> None:
        if self._closed or self._writer.is_closing():
            raise ConnectionError("the server is gone")
        self._next += 1
        ident = self._next
        done = self._waiting[ident] = asyncio.get_running_loop().create_future()
        message = {"commit": ident, "changes": encode_changes(changes)}
        self._writer.write(orjson.dumps(message) + b"\n")
        try:
            await done
        finally:
            self._waiting.pop(ident, None)

    def committed(self, ident: int, error: str | None) -> None:
        done = self._waiting.get(ident)
        if done is None or done.done():
            return
        if error is None:
            done.set_result(None)
        else:
            done.set_exception(RuntimeError(f"the server could not commit: {error}"))

    def closed(self) -> None:
        self._closed = True
        for done in self._waiting.values():
            if not done.done():
                done.set_exception(ConnectionError("the server is gone"))


def encode_changes(changes: Sequence[Change]) -> list[list[Any]]:
    return [
        ["put", c.table, c.sid, c.row] if isinstance(c, Put) else ["delete", c.table, c.sid]
        for c in changes
    ]


def decode_changes(items: list[list[Any]]) -> list[Change]:
    changes: list[Change] = []
    for item in items:
        if item[0] == "put":
            changes.append(Put(str(item[1]), str(item[2]), dict(item[3])))
        elif item[0] == "delete":
            changes.append(Delete(str(item[1]), str(item[2])))
        else:
            raise ValueError(f"not a change: {item!r}")
    return changes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="taskrouter-courier")
    parser.add_argument("--database", required=True)
    parser.add_argument("--fd", type=int, required=True)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    # Ctrl-C in a terminal reaches the whole process group: the server's stop closes the
    # socket, and the child then saves its cursors before it exits.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    with contextlib.suppress(OSError, ValueError):
        os.nice(int(os.environ.get("TASKROUTER_COURIER_NICE", "10")))
    try:
        import uvloop

        uvloop.run(_child(args.database, args.fd))
    except ImportError:
        asyncio.run(_child(args.database, args.fd))
    return 0


if __name__ == "__main__":
    sys.exit(main())
