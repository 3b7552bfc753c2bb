"""Commit forever from many concurrent callers, printing each sid once it is acknowledged.

Run by test_store_kill.py, which SIGKILLs this process mid-stream and then checks that every
printed sid is in the database. Usage: python committer.py DATABASE_URL
"""

from __future__ import annotations

import asyncio
import sys

from taskrouter.store import Put, open_store

CALLERS = 16


async def main(url: str) -> None:
    store = open_store(url)
    await store.open()
    out = sys.stdout
    out.write("ready\n")
    out.flush()

    async def caller(n: int) -> None:
        i = 0
        while True:
            sid = f"WK{n:02}{i:08}"
            i += 1
            body = {"sid": sid, "pad": "x" * 200}
            row = {"account_sid": "AC1", "workspace_sid": "WS1", "body": body}
            await store.commit([Put("workers", sid, row), Put("workers", sid + "b", row)])
            out.write(sid + "\n")
            out.flush()

    await asyncio.gather(*(caller(n) for n in range(CALLERS)))


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
