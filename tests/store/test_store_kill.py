"""A reply means durable: kill -9 the committing process, and every acknowledged commit is there."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
from pathlib import Path

from taskrouter.store import open_store

COMMITTER = Path(__file__).with_name("committer.py")
ACKS_BEFORE_KILL = 400


def test_acknowledged_commits_survive_sigkill(database_url: str) -> None:
    proc = subprocess.Popen(
        [sys.executable, str(COMMITTER), database_url],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    acked: list[str] = []
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline() == "ready\n", proc.stderr and proc.stderr.read()
        while len(acked) < ACKS_BEFORE_KILL:
            line = proc.stdout.readline()
            assert line, f"committer died: {proc.stderr and proc.stderr.read()}"
            acked.append(line.strip())
        proc.send_signal(signal.SIGKILL)
        rest, _ = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    # Only whole lines were acknowledged; a torn last line was not.
    acked += [line for line in rest.split("\n")[:-1] if line]
    assert proc.returncode == -signal.SIGKILL

    async def stored() -> set[str]:
        store = open_store(database_url)
        await store.open()
        try:
            return {row["sid"] for row in await store.load("workers")}
        finally:
            await store.close()

    sids = asyncio.run(stored())
    missing = [sid for sid in acked if sid not in sids or sid + "b" not in sids]
    assert not missing, f"{len(missing)} acknowledged commits lost, e.g. {missing[:5]}"
    # Atomic per commit: never one row of a pair without the other.
    assert all((s[:-1] if s.endswith("b") else s + "b") in sids for s in sids)
