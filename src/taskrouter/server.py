"""Running the ASGI app under uvicorn, the way taskrouter wants it run."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import signal
import socket
from collections.abc import Iterator

import uvicorn
from starlette.applications import Starlette

from taskrouter import collector


class _Server(uvicorn.Server):
    """uvicorn's server, plus freezing what the start loaded and running full collections
    while idle (`collector.py`), minus re-raising SIGTERM after a clean shutdown.

    uvicorn sends itself the signal it caught once it has shut down, so the process would die
    "killed by SIGTERM" even though every request and commit finished; a service that stopped
    cleanly exits 0.
    """

    _full_collections: asyncio.Task[None] | None = None

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.should_exit:
            return  # it could not listen, and stops without serving
        # What the start loaded (the state of every workspace) and what was imported live as
        # long as the process: out of the collector's sight, a full collection walks only what
        # changed since. Right after a start with no workspace, a full collection took 17-20 ms
        # (86,000 objects, nearly all of them functions, types and other module contents), a
        # stall for every request in flight; after the freeze it takes under 0.1 ms.
        gc.collect()
        gc.freeze()
        self._full_collections = asyncio.create_task(
            collector.collect_when_idle(lambda: self.server_state.total_requests),
            name="taskrouter-full-collections",
        )

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        if self._full_collections is not None:
            self._full_collections.cancel()
        await super().shutdown(sockets)

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, self.handle_exit)
        yield


def run_server(app: Starlette, host: str, port: int, *, max_connections: int = 0) -> None:
    """`max_connections`: connections served at once, 503 beyond (0: no limit)."""
    collector.configure()
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        loop="uvloop",
        http="httptools",
        log_level="warning",
        access_log=False,
        timeout_graceful_shutdown=10,
        # Worker SDK frames are small JSON: compressing them would cost each socket its own
        # zlib state (most of its memory) and CPU on every frame, for little gain.
        ws_per_message_deflate=False,
        limit_concurrency=max_connections or None,
    )
    _Server(config).run()
