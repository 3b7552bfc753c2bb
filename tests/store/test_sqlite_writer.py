"""The SQLite writer process: its messages, its death, and that it never outlives the server."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from taskrouter.store import Put, StoreError
from taskrouter.store.sqlite import SQLiteStore
from taskrouter.store.sqlite_writer import LOG_SIZE_LIMIT, Frames, frame

COMMITTER = Path(__file__).with_name("committer.py")


def worker(sid: str) -> Put:
    return Put("workers", sid, {"account_sid": "AC1", "workspace_sid": "WS1", "body": {"sid": sid}})


def large_worker(sid: str) -> Put:
    """A worker row of ~200 KB: a few of them grow the write-ahead log by megabytes."""
    body = {"pad": "x" * 200_000}
    return Put("workers", sid, {"account_sid": "AC1", "workspace_sid": "WS1", "body": body})


def children_of(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            if int(stat[stat.rindex(")") + 2 :].split()[1]) == pid:
                found.append(int(entry))
    return found


def gone(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return True
    return state[state.rindex(")") + 2] == "Z"  # a zombie has stopped; only its entry is left


@pytest.mark.parametrize("piece", [1, 3, 7, 4096])
def test_messages_come_back_whole_however_the_stream_is_cut(piece: int) -> None:
    messages = [[(1, [("workers", "WK1", ("WK1", "x" * 300))])], (2, [(1, None), (2, "no")]), []]
    stream = b"".join(frame(m) for m in messages)
    frames = Frames()
    received = []
    for start in range(0, len(stream), piece):
        received.extend(frames.feed(stream[start : start + piece]))
    assert received == messages


def test_a_writer_that_dies_fails_the_commits_it_held_and_another_takes_over(
    tmp_path: Path,
) -> None:
    path = tmp_path / "db.sqlite"

    async def main() -> None:
        store = SQLiteStore(f"sqlite:///{path}")
        await store.open()
        try:
            await store.commit([worker("WK1")])
            first = store._writer
            assert first is not None
            # Another connection holds the write lock, so the writer holds this commit.
            lock = sqlite3.connect(path, isolation_level=None)
            lock.execute("BEGIN IMMEDIATE")
            held = asyncio.ensure_future(store.commit([worker("WK2")]))
            await asyncio.sleep(0.1)
            assert not held.done()
            os.kill(first.proc.pid, signal.SIGKILL)
            with pytest.raises(StoreError, match="writer process ended"):
                await asyncio.wait_for(held, 10)
            lock.execute("ROLLBACK")
            lock.close()
            await store.commit([worker("WK3")])
            assert store._writer is not first
            assert sorted(r["sid"] for r in await store.load("workers")) == ["WK1", "WK3"]
        finally:
            await store.close()

    asyncio.run(main())


def test_closing_the_store_ends_its_writer(tmp_path: Path) -> None:
    async def main() -> int:
        store = SQLiteStore(f"sqlite:///{tmp_path / 'db.sqlite'}")
        await store.open()
        assert store._writer is not None
        pid = store._writer.proc.pid
        commits = [store.commit([worker(f"WK{i}")]) for i in range(50)]
        await asyncio.gather(*commits, store.close())
        return pid

    pid = asyncio.run(main())
    assert gone(pid)


def test_the_writer_does_not_outlive_a_server_killed_with_sigkill(tmp_path: Path) -> None:
    proc = subprocess.Popen(
        [sys.executable, str(COMMITTER), f"sqlite:///{tmp_path / 'db.sqlite'}"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline() == "ready\n"
        assert proc.stdout.readline()  # commits are flowing
        writers = children_of(proc.pid)
        assert len(writers) == 1
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    # The kernel ends it once its parent is gone; allow it the moment that takes.
    deadline = time.monotonic() + 10
    while not gone(writers[0]) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert gone(writers[0])


def test_the_write_ahead_log_is_copied_back_while_commits_pour_in(tmp_path: Path) -> None:
    """The writer checkpoints beside its commits rather than inside them; the log must still
    be copied back, or it would grow with every commit (40 MB here)."""
    path = tmp_path / "db.sqlite"

    async def main() -> None:
        store = SQLiteStore(f"sqlite:///{path}")
        await store.open()
        try:
            for i in range(200):
                await store.commit([large_worker(f"WK{i:03}")])
            assert len(await store.load("workers")) == 200
            # Checked while the store is open: closing the last connection removes the log.
            assert Path(f"{path}-wal").stat().st_size < 24_000_000
        finally:
            await store.close()

    asyncio.run(main())


def test_the_write_ahead_log_shrinks_back_once_copied(tmp_path: Path) -> None:
    """A log file that kept the size of its largest burst would no longer say how much it
    holds, and every later commit would ask for a checkpoint of its own. Once copied back, the
    log starts over cut back to `LOG_SIZE_LIMIT`."""
    path = tmp_path / "db.sqlite"
    wal = Path(f"{path}-wal")

    async def main() -> None:
        store = SQLiteStore(f"sqlite:///{path}")
        await store.open()
        try:
            largest = 0
            for i in range(40):
                await store.commit([large_worker(f"WK{i:03}")])
                largest = max(largest, wal.stat().st_size)
            assert largest > 3 * LOG_SIZE_LIMIT
            deadline = time.monotonic() + 10
            i = 0
            while wal.stat().st_size > LOG_SIZE_LIMIT and time.monotonic() < deadline:
                await store.commit([worker(f"WKsmall{i}")])
                i += 1
                await asyncio.sleep(0.01)
            assert wal.stat().st_size <= LOG_SIZE_LIMIT
            assert len(await store.load("workers")) == 40 + i
        finally:
            await store.close()

    asyncio.run(main())
