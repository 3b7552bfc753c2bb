"""A small HTTP/1.1 client for callbacks: POST a body, read the answer, keep the connection.

Why not httpx: deliveries run on an event loop that has little CPU to spare, and on these
machines an httpx POST cost ~1 ms of CPU against ~0.14 ms for a client on asyncio's streams
(measured with a keep-alive receiver in another process), which at several events per task
decides how much routing is left. This one is an `asyncio.Protocol`, not streams: the answer
is parsed in `data_received` as it arrives, with no stream reader waking a coroutine per
read, and each URL's request line and fixed headers are built once; on a 2-core machine
that took a post from ~105 to 90-97 us of CPU (about 45 of which the kernel spends on the
loopback write itself).

What it does: http and https (the default TLS context, SNI), idle keep-alive connections per
origin, Content-Length, chunked and close-delimited answers, interim 1xx answers skipped.
A connection reused from the pool that turns out closed by the receiver is replaced once.
It never follows redirects, never pipelines, and sends no Expect header. Timeouts are the
caller's (`asyncio.timeout` around `post`); a cancelled request closes its connection.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

MAX_HEADER_BYTES = 64 * 1024
MAX_BODY_BYTES = 1024 * 1024
IDLE_PER_ORIGIN = 16
# URLs whose request head is kept (a server posts to a handful; a bound all the same).
KEPT_TARGETS = 1024

Origin = tuple[str, str, int]


class HttpError(Exception):
    """The exchange failed (connection, protocol); no usable answer."""


class _ClosedEarly(HttpError):
    """The receiver closed the connection before a byte of the answer came."""


@dataclass(slots=True)
class HttpResponse:
    status_code: int
    headers: dict[str, str]  # lower-case names
    content: bytes


@dataclass(frozen=True, slots=True)
class _Target:
    origin: Origin
    head: bytes  # request line, Host and User-Agent


class _Connection(asyncio.Protocol):
    """One connection, one exchange at a time: the answer is parsed as its bytes arrive."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.closed = False
        self._buffer = bytearray()
        self._eof = False
        self._answer: asyncio.Future[tuple[HttpResponse, bool]] | None = None

    @property
    def usable(self) -> bool:
        return not self.closed and self.transport is not None and not self.transport.is_closing()

    def exchange(self, request: bytes) -> asyncio.Future[tuple[HttpResponse, bool]]:
        """Send `request`; the future gives the answer, and whether the connection may be
        kept."""
        assert self.transport is not None
        self._buffer.clear()
        answer = self._answer = asyncio.get_running_loop().create_future()
        self.transport.write(request)
        return answer

    def close(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.close()

    # -- asyncio.Protocol ----------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self._buffer += data
        self._settle()

    def eof_received(self) -> bool:
        self._eof = True
        self._settle()
        return False  # close our side too

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self._eof = True
        self._settle(exc)

    def _settle(self, lost: Exception | None = None) -> None:
        answer = self._answer
        if answer is None or answer.done():
            return
        try:
            parsed = _parse(self._buffer, self._eof)
        except ValueError as exc:
            answer.set_exception(HttpError(f"ValueError: {exc}"))
            self._answer = None
            return
        if parsed is not None:
            answer.set_result(parsed)
            self._answer = None
        elif self._eof:
            if self._buffer:
                answer.set_exception(HttpError("the receiver closed the connection mid-answer"))
            else:
                reason = f": {lost}" if lost else ""
                answer.set_exception(_ClosedEarly(f"the receiver closed the connection{reason}"))
            self._answer = None


class HttpClient:
    def __init__(self, *, connect_timeout: float = 5.0, user_agent: str = "taskrouter") -> None:
        self._connect_timeout = connect_timeout
        self._user_agent = user_agent
        self._idle: dict[Origin, list[_Connection]] = {}
        self._targets: dict[str, _Target] = {}
        self._ssl: ssl.SSLContext | None = None
        self._closed = False

    async def post(
        self, url: str, body: bytes, headers: Sequence[tuple[str, str]] = ()
    ) -> HttpResponse:
        target = self._targets.get(url) or self._target(url)
        extra = "".join(f"{name}: {value}\r\n" for name, value in headers)
        request = b"".join(
            (
                target.head,
                f"Content-Length: {len(body)}\r\n{extra}\r\n".encode("latin-1"),
                body,
            )
        )
        for attempt in (1, 2):
            connection, reused = await self._acquire(target.origin)
            keep = False
            try:
                response, keep = await connection.exchange(request)
                return response
            except _ClosedEarly:
                # A kept-alive connection the receiver closed meanwhile: once more, fresh.
                if reused and attempt == 1:
                    continue
                raise
            except OSError as exc:
                raise HttpError(f"{type(exc).__name__}: {exc}") from exc
            finally:
                if keep and not self._closed:
                    self._release(target.origin, connection)
                else:
                    connection.close()
        raise AssertionError("unreachable")

    async def aclose(self) -> None:
        self._closed = True
        idle, self._idle = self._idle, {}
        for connections in idle.values():
            for connection in connections:
                connection.close()

    def _target(self, url: str) -> _Target:
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        try:
            hostname, port = parts.hostname, parts.port
        except ValueError as exc:  # a port out of range or not a number
            raise HttpError(f"cannot post to {url!r}: {exc}") from exc
        if scheme not in ("http", "https") or not hostname:
            raise HttpError(f"cannot post to {url!r}")
        origin: Origin = (scheme, hostname, port or (443 if scheme == "https" else 80))
        host = parts.netloc.rsplit("@", 1)[-1]
        if not host.isascii():
            host = host.encode("idna").decode("ascii")
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        if not path.isascii():
            path = quote(path, safe="/?&=%:@!$'()*+,;~-._#[]")
        head = f"POST {path} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: {self._user_agent}\r\n"
        if len(self._targets) >= KEPT_TARGETS:
            self._targets.clear()
        target = self._targets[url] = _Target(origin, head.encode("latin-1"))
        return target

    async def _acquire(self, origin: Origin) -> tuple[_Connection, bool]:
        idle = self._idle.get(origin)
        while idle:
            connection = idle.pop()
            if connection.usable:
                return connection, True
            connection.close()
        scheme, host, port = origin
        context = None
        if scheme == "https":
            if self._ssl is None:
                self._ssl = ssl.create_default_context()
            context = self._ssl
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(self._connect_timeout):
                _, connection = await loop.create_connection(
                    _Connection, host, port, ssl=context, server_hostname=host if context else None
                )
        except TimeoutError as exc:
            raise HttpError(f"could not connect to {host}:{port} in time") from exc
        except OSError as exc:
            raise HttpError(f"could not connect to {host}:{port}: {exc}") from exc
        return connection, False

    def _release(self, origin: Origin, connection: _Connection) -> None:
        idle = self._idle.setdefault(origin, [])
        if len(idle) < IDLE_PER_ORIGIN and connection.usable:
            idle.append(connection)
        else:
            connection.close()


def _parse(buffer: bytearray, eof: bool) -> tuple[HttpResponse, bool] | None:
    """The answer in `buffer` and whether the connection may carry another request; None
    while it is incomplete. `eof`: no more bytes will come (a body may end there)."""
    start = 0
    while True:
        end = buffer.find(b"\r\n\r\n", start)
        if end < 0:
            if len(buffer) - start > MAX_HEADER_BYTES:
                raise ValueError("the answer's head is too large")
            return None
        lines = buffer[start:end].decode("latin-1").split("\r\n")
        start = end + 4
        version, _, rest = lines[0].partition(" ")
        if not version.startswith("HTTP/1."):
            raise ValueError(f"not an HTTP/1.x answer: {lines[0][:80]!r}")
        status = int(rest[:3])
        headers: dict[str, str] = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        if not 100 <= status < 200:
            break  # interim answers (100 Continue, 103 Early Hints) come before the real one
    keep = version == "HTTP/1.1" and "close" not in headers.get("connection", "").lower()
    if status in (204, 304):
        return HttpResponse(status, headers, b""), keep
    if "chunked" in headers.get("transfer-encoding", "").lower():
        content = _chunked(buffer, start)
        if content is None:
            return None
    elif "content-length" in headers:
        length = int(headers["content-length"])
        if length > MAX_BODY_BYTES:
            raise ValueError(f"answer body of {length} bytes is too large")
        if len(buffer) - start < length:
            return None
        content = bytes(buffer[start : start + length])
    else:
        if len(buffer) - start > MAX_BODY_BYTES:
            raise ValueError("answer body is too large")
        if not eof:
            return None
        content, keep = bytes(buffer[start:]), False
    return HttpResponse(status, headers, content), keep


def _chunked(buffer: bytearray, start: int) -> bytes | None:
    """A chunked body from `start`, trailers skipped; None while incomplete."""
    parts: list[bytes] = []
    total = 0
    while True:
        line_end = buffer.find(b"\r\n", start)
        if line_end < 0:
            return None
        size = int(bytes(buffer[start:line_end]).split(b";", 1)[0].strip() or b"0", 16)
        start = line_end + 2
        if size == 0:
            while True:  # trailers, up to an empty line
                line_end = buffer.find(b"\r\n", start)
                if line_end < 0:
                    return None
                if line_end == start:
                    return b"".join(parts)
                start = line_end + 2
        total += size
        if total > MAX_BODY_BYTES:
            raise ValueError("chunked answer body is too large")
        if len(buffer) < start + size + 2:
            return None
        parts.append(bytes(buffer[start : start + size]))
        start += size + 2
