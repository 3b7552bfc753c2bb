"""The event loop a store opened on, and whether it is the one running here.

`asyncio.get_running_loop()` makes a `getpid()` system call on every call (CPython checks for a
fork); on the commit path that was 4% of a request. Only one loop runs on a thread at a time,
so "the loop I opened on is running, on this thread" answers the same question without it.
"""

from __future__ import annotations

import asyncio
import threading


class HomeLoop:
    """Made inside the loop a store opens on."""

    __slots__ = ("loop", "thread")

    def __init__(self) -> None:
        self.loop = asyncio.get_running_loop()
        self.thread = threading.get_ident()

    def is_running_here(self) -> bool:
        return self.thread == threading.get_ident() and self.loop.is_running()

    def running(self) -> asyncio.AbstractEventLoop:
        """The running loop: this one when it is, else whichever is (called from a loop)."""
        return self.loop if self.is_running_here() else asyncio.get_running_loop()
