"""A small HTTP/1.1 client for callbacks: POST a body, read the answer, keep the connection.

Why not httpx: deliveries run on the event loop that routes, and on these machines an httpx
POST cost ~1 ms of CPU against ~0.14 ms for this client (measured with a keep-alive receiver
in another process), which at several events per task decides how much routing is left.

What it does: http and https (the default TLS context, SNI), idle keep-alive connections per
origin, Content-Length, chunked and close-delimited answers, interim 1xx answers skipped.
A connection reused from the pool that turns out closed by the receiver is replaced once.
It never follows redirects and sends no Expect header. Timeouts are the caller's
(`asyncio.wait_for` around `post`); a cancelled request closes its connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

MAX_HEADER_BYTES = 64 * 1024
MAX_BODY_BYTES = 1024 * 1024
IDLE_PER_ORIGIN = 16

Origin = tuple[str, str, int]


class HttpError(Exception):
    """The exchange failed (connection, protocol); no usable answer."""


@dataclass(slots=True)
class HttpResponse:
    status_code: int
    headers: dict[str, str]  # lower-case names
    content: bytes


class _Connection:
    __slots__ = ("reader", "writer")

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    @property
    def usable(self) -> bool:
        return not self.writer.is_closing() and not self.reader.at_eof()

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.writer.close()


class HttpClient:
    def __init__(self, *, connect_timeout: float = 5.0, user_agent: str = "taskrouter") -> None:
        self._connect_timeout = connect_timeout
        self._user_agent = user_agent
        self._idle: dict[Origin, list[_Connection]] = {}
        self._ssl: ssl.SSLContext | None = None
        self._closed = False

    async def post(
        self, url: str, body: bytes, headers: Sequence[tuple[str, str]] = ()
    ) -> HttpResponse:
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        if scheme not in ("http", "https") or not parts.hostname:
            raise HttpError(f"cannot post to {url!r}")
        port = parts.port or (443 if scheme == "https" else 80)
        origin: Origin = (scheme, parts.hostname, port)
        host = parts.netloc.rsplit("@", 1)[-1]
        if not host.isascii():
            host = host.encode("idna").decode("ascii")
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        if not target.isascii():
            target = quote(target, safe="/?&=%:@!$'()*+,;~-._#[]")
        lines = [
            f"POST {target} HTTP/1.1",
            f"Host: {host}",
            f"User-Agent: {self._user_agent}",
            f"Content-Length: {len(body)}",
        ]
        lines.extend(f"{name}: {value}" for name, value in headers)
        request = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body
        for attempt in (1, 2):
            connection, reused = await self._acquire(origin)
            keep = False
            try:
                connection.writer.write(request)
                response, keep = await _read_response(connection.reader)
                return response
            except (asyncio.IncompleteReadError, ConnectionError) as exc:
                # A kept-alive connection the receiver closed meanwhile: once more, fresh.
                if reused and attempt == 1:
                    continue
                raise HttpError(f"{type(exc).__name__}: {exc}") from exc
            except (OSError, asyncio.LimitOverrunError, ValueError) as exc:
                raise HttpError(f"{type(exc).__name__}: {exc}") from exc
            finally:
                if keep and not self._closed:
                    self._release(origin, connection)
                else:
                    connection.close()
        raise AssertionError("unreachable")

    async def aclose(self) -> None:
        self._closed = True
        idle, self._idle = self._idle, {}
        for connections in idle.values():
            for connection in connections:
                connection.close()

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
        try:
            reader, writer = await asyncio.wait_for(
                asyncio.open_connection(
                    host,
                    port,
                    ssl=context,
                    server_hostname=host if context else None,
                    limit=MAX_HEADER_BYTES,
                ),
                self._connect_timeout,
            )
        except TimeoutError as exc:
            raise HttpError(f"could not connect to {host}:{port} in time") from exc
        except OSError as exc:
            raise HttpError(f"could not connect to {host}:{port}: {exc}") from exc
        return _Connection(reader, writer), False

    def _release(self, origin: Origin, connection: _Connection) -> None:
        idle = self._idle.setdefault(origin, [])
        if len(idle) < IDLE_PER_ORIGIN and connection.usable:
            idle.append(connection)
        else:
            connection.close()


async def _read_response(reader: asyncio.StreamReader) -> tuple[HttpResponse, bool]:
    """One answer; True with it when the connection may carry another request."""
    while True:
        head = await reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        version, _, rest = lines[0].partition(" ")
        if not version.startswith("HTTP/1."):
            raise ValueError(f"not an HTTP/1.x answer: {lines[0][:80]!r}")
        status = int(rest[:3])
        headers: dict[str, str] = {}
        for line in lines[1:]:
            if not line:
                continue
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        if 100 <= status < 200:
            continue  # interim answer (100 Continue, 103 Early Hints): the real one follows
        break
    keep = version == "HTTP/1.1" and "close" not in headers.get("connection", "").lower()
    if status in (204, 304):
        return HttpResponse(status, headers, b""), keep
    if "chunked" in headers.get("transfer-encoding", "").lower():
        content = await _read_chunked(reader)
    elif "content-length" in headers:
        length = int(headers["content-length"])
        if length > MAX_BODY_BYTES:
            raise ValueError(f"answer body of {length} bytes is too large")
        content = await reader.readexactly(length)
    else:
        content = await reader.read(MAX_BODY_BYTES)
        keep = False
    return HttpResponse(status, headers, content), keep


async def _read_chunked(reader: asyncio.StreamReader) -> bytes:
    parts: list[bytes] = []
    total = 0
    while True:
        size_line = await reader.readuntil(b"\r\n")
        size = int(size_line.split(b";", 1)[0].strip() or b"0", 16)
        if size == 0:
            while (await reader.readuntil(b"\r\n")) != b"\r\n":
                pass  # trailers
            return b"".join(parts)
        total += size
        if total > MAX_BODY_BYTES:
            raise ValueError("chunked answer body is too large")
        chunk = await reader.readexactly(size + 2)
        parts.append(chunk[:-2])
