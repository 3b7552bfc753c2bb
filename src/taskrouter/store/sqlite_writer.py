"""The SQLite writer process: applies group commits to the database file, one transaction each.

The server sends it commits over a socket; it takes every commit that has arrived, applies them
in one transaction (one fsync for all) and answers with each commit's outcome. It runs in a
process of its own because a writer thread shares the server's GIL: SQLite lets go of the GIL
for each statement it runs, and while the event loop is busy every statement then waited up to
the interpreter's switch interval to take it back, so a transaction lasted as long as the
server stayed busy, and the server waited for the transaction. Checkpoints run on a thread of
the writer's own, beside the commits (see `Checkpoints`).

Frames, both ways: a 4-byte big-endian length, then a pickle.
  - to the writer, first: per table, its upsert and its delete statement (so the writer needs
    no schema); then lists of (commit id, ops) as `rows.prepare` makes them;
  - from the writer, first: None once it has opened the database, or why it could not; then
    (commits in the shared transaction or 0, [(commit id, error or None)]).

Run as `python -m taskrouter.store.sqlite_writer DATABASE_PATH SOCKET_FD`.
"""

from __future__ import annotations

import contextlib
import pickle
import signal
import socket
import sqlite3
import struct
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from taskrouter.store.plans import Op, plan

HEADER = struct.Struct(">I")
# Bounds a transaction's size, so one huge burst cannot hold the write lock for long.
MAX_BATCH = 2048
BUSY_TIMEOUT_MS = 10_000
# How often the writer looks again for the write lock another connection holds (the event
# courier's cursors, a CLI command). SQLite's own busy handler sleeps ever longer, up to 100 ms
# a time, so a lock held for 2 ms could stall every commit waiting on the writer for ~80 ms.
LOCK_POLL_S = 0.0005
READ_SIZE = 1 << 20
# SQLite's own threshold for a checkpoint: 1,000 pages of the default 4 KiB.
CHECKPOINT_BYTES = 1000 * 4096
# What the log file is cut back to when it starts over. Left alone, it keeps the largest size it
# ever had; its size then no longer tells how much it holds, and every commit wakes the thread
# for a checkpoint (and an fsync of the database file) of its own. At 1,000 tasks/s that was a
# third of the writer's time; the writer's share of a core went from 58-60% to 49-53%.
LOG_SIZE_LIMIT = CHECKPOINT_BYTES // 4
# Pages in the log past which the writer checkpoints itself (see `Checkpoints.committed`).
CHECKPOINT_LIMIT_FRAMES = 4 * 1000

Outcome = tuple[int, str | None]  # (commit id, why it failed, or None)
Statements = dict[str, tuple[str, str]]  # table -> (upsert, delete)


def frame(message: Any) -> bytes:
    payload = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    return HEADER.pack(len(payload)) + payload


class Frames:
    """Whole messages out of a byte stream that arrives in arbitrary pieces."""

    def __init__(self) -> None:
        self._buffer = bytearray()

    def feed(self, data: bytes) -> Iterator[Any]:
        self._buffer += data
        buffer = self._buffer
        start = 0
        while len(buffer) - start >= HEADER.size:
            (size,) = HEADER.unpack_from(buffer, start)
            end = start + HEADER.size + size
            if len(buffer) < end:
                break
            yield pickle.loads(memoryview(buffer)[start + HEADER.size : end])
            start = end
        del buffer[:start]


def connect(path: Path, *, readonly: bool) -> sqlite3.Connection:
    # isolation_level=None: we issue BEGIN/COMMIT ourselves; reads run each in autocommit so
    # every read sees everything committed before it started.
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    if readonly:
        conn.execute("PRAGMA query_only = 1")
    else:
        # Setting the mode takes a lock that another connection's open write transaction
        # refuses at once, whatever the busy timeout; reading it takes none. A database the
        # migrations have set up is in WAL mode already.
        if conn.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
            conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = FULL")
        conn.execute("PRAGMA busy_timeout = 0")  # `_begin_immediate` waits instead
    return conn


def _begin_immediate(conn: sqlite3.Connection) -> None:
    """Take the write lock, looking again every `LOCK_POLL_S` while another connection holds
    it (the writer's connection has no busy timeout of its own)."""
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            conn.execute("BEGIN IMMEDIATE")
            return
        except sqlite3.OperationalError as exc:
            busy = exc.sqlite_errorcode & 0xFF == sqlite3.SQLITE_BUSY  # and its extended codes
            if not busy or time.monotonic() >= deadline:
                raise
        time.sleep(LOCK_POLL_S)


def transaction(conn: sqlite3.Connection, sql: Statements, batches: list[list[Op]]) -> None:
    _begin_immediate(conn)
    try:
        for p in plan(batches):
            upsert, delete = sql[p.table]
            if p.upserts:
                conn.executemany(upsert, p.upserts)
            if p.deletes:
                conn.executemany(delete, [(sid,) for sid in p.deletes])
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            # The first error is the one worth reporting; a failed rollback adds nothing.
            with contextlib.suppress(sqlite3.Error):
                conn.execute("ROLLBACK")
        raise


def apply(
    conn: sqlite3.Connection, sql: Statements, commits: list[tuple[int, list[Op]]]
) -> tuple[int, list[Outcome]]:
    """Apply `commits` in one transaction: (how many shared it, or 0, and each one's outcome)."""
    try:
        transaction(conn, sql, [ops for _, ops in commits])
    except Exception as exc:
        if len(commits) == 1:
            return 0, [(commits[0][0], str(exc))]
        # Someone's change broke the shared transaction: redo each commit on its own so only
        # the guilty caller fails.
        outcomes: list[Outcome] = []
        for commit_id, ops in commits:
            try:
                transaction(conn, sql, [ops])
            except Exception as one:
                outcomes.append((commit_id, str(one)))
            else:
                outcomes.append((commit_id, None))
        return 0, outcomes
    return len(commits), [(commit_id, None) for commit_id, _ in commits]


class Checkpoints:
    """Copies the WAL back into the database file on a thread of its own, so no commit waits
    for it. SQLite runs the checkpoint inside whichever commit takes the WAL past 1,000 pages,
    and every commit sharing that transaction waits for it; as the file grew, the server spent
    ever more time waiting on those commits (bench/e2e.py's sustained phase on SQLite, 5 s
    phases one after another: 3,233 -> 2,752 tasks/s by a 580 MB file, the main thread busy
    92% -> 87%). Here, 3,350-3,460 tasks/s throughout, the main thread busy 95-98%."""

    def __init__(self, path: Path) -> None:
        self._wal = Path(f"{path}-wal")
        self._conn = connect(path, readonly=False)
        self._wanted = threading.Event()
        self._stopping = False
        # Frames in the log when a checkpoint last looked (page writes since it started over).
        self._frames = 0
        self._thread = threading.Thread(target=self._run, name="checkpoints", daemon=True)
        self._thread.start()

    def committed(self, conn: sqlite3.Connection) -> None:
        """After each commit on `conn`, the writer's connection."""
        if self._frames >= CHECKPOINT_LIMIT_FRAMES:
            # Commits that never pause outrun a checkpoint beside them: the log starts over
            # only once a checkpoint has caught up before the next commit begins. So past the
            # limit the writer checkpoints itself, as SQLite would have.
            with contextlib.suppress(sqlite3.Error):
                _, frames, copied = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
                # All copied: the next commit starts the log over.
                self._frames = 0 if copied == frames else frames
            return
        try:
            size = self._wal.stat().st_size
        except OSError:
            return
        if size >= CHECKPOINT_BYTES:
            self._wanted.set()

    def _run(self) -> None:
        while True:
            self._wanted.wait()
            self._wanted.clear()
            if self._stopping:
                return
            with contextlib.suppress(sqlite3.Error):
                _, self._frames, _ = self._conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()

    def stop(self) -> None:
        self._stopping = True
        self._wanted.set()
        self._thread.join()
        self._conn.close()


def serve(conn: sqlite3.Connection, sock: socket.socket, checkpoints: Checkpoints) -> None:
    """Answer commits until the server closes its end."""
    frames = Frames()
    sql: Statements | None = None
    waiting: list[tuple[int, list[Op]]] = []
    while True:
        data = sock.recv(READ_SIZE)
        if not data:
            return
        # Whatever else has arrived joins this transaction.
        sock.setblocking(False)
        with contextlib.suppress(BlockingIOError):
            while more := sock.recv(READ_SIZE):
                data += more
        sock.setblocking(True)
        for message in frames.feed(data):
            if sql is None:
                sql = message
            else:
                waiting.extend(message)
        while waiting:
            assert sql is not None
            commits, waiting = waiting[:MAX_BATCH], waiting[MAX_BATCH:]
            shared, outcomes = apply(conn, sql, commits)
            sock.sendall(frame((shared, outcomes)))
            checkpoints.committed(conn)


def _die_with_parent() -> None:
    """A server killed with -9 takes its writer along, mid-transaction or not: SQLite rolls an
    unfinished one back, exactly as if the writer had been a thread."""
    with contextlib.suppress(Exception):
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        pr_set_pdeathsig = 1
        libc.prctl(pr_set_pdeathsig, signal.SIGKILL)


def main(argv: list[str]) -> None:
    path, fd = Path(argv[0]), int(argv[1])
    _die_with_parent()
    # The server handles Ctrl-C and SIGTERM, then closes the socket; the writer finishes what
    # it was sent first.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    sock = socket.socket(fileno=fd)
    try:
        conn = connect(path, readonly=False)
        conn.execute("PRAGMA wal_autocheckpoint = 0")  # `Checkpoints` does it
        conn.execute(f"PRAGMA journal_size_limit = {LOG_SIZE_LIMIT}")
        checkpoints = Checkpoints(path)
    except Exception as exc:
        sock.sendall(frame(str(exc)))
        raise
    sock.sendall(frame(None))  # ready
    try:
        serve(conn, sock, checkpoints)
    finally:
        checkpoints.stop()
        conn.close()
        sock.close()


if __name__ == "__main__":
    main(sys.argv[1:])
