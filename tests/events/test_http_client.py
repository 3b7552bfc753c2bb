"""The callbacks' HTTP/1.1 client against scripted raw servers: framing, keep-alive, and
receivers that drop connections."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest

from support.server import free_port
from taskrouter.events.http import HttpClient, HttpError

Script = Callable[[asyncio.StreamReader, asyncio.StreamWriter, int], Awaitable[bool]]


async def _read_request(reader: asyncio.StreamReader) -> bytes:
    head = await reader.readuntil(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":")[1])
    return head + await reader.readexactly(length)


async def _serve(script: Script) -> tuple[asyncio.Server, int, list[bytes], list[int]]:
    """A server running `script` per request; returns it, its port, requests, connections."""
    requests: list[bytes] = []
    connections: list[int] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connections.append(1)
        try:
            while True:
                requests.append(await _read_request(reader))
                if not await script(reader, writer, len(requests)):
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    port = free_port()
    server = await asyncio.start_server(handle, "127.0.0.1", port)
    return server, port, requests, connections


def run(coroutine: Awaitable[None]) -> None:
    asyncio.run(coroutine)  # type: ignore[arg-type]


def test_content_length_answers_reuse_one_connection() -> None:
    async def script(_r: asyncio.StreamReader, w: asyncio.StreamWriter, n: int) -> bool:
        body = f'{{"n": {n}}}'.encode()
        w.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n")
        w.write(f"Content-Length: {len(body)}\r\n\r\n".encode() + body)
        return True

    async def go() -> None:
        server, port, requests, connections = await _serve(script)
        client = HttpClient()
        for i in range(1, 4):
            answer = await client.post(
                f"http://127.0.0.1:{port}/cb?x=1", b"A=1&B=2", [("X-Test", "yes")]
            )
            assert answer.status_code == 200 and answer.content == f'{{"n": {i}}}'.encode()
            assert answer.headers["content-type"] == "application/json"
        assert len(connections) == 1
        first = requests[0].decode()
        assert first.startswith("POST /cb?x=1 HTTP/1.1\r\n")
        assert f"Host: 127.0.0.1:{port}\r\n" in first and "X-Test: yes\r\n" in first
        assert "Content-Length: 7\r\n" in first and first.endswith("\r\n\r\nA=1&B=2")
        await client.aclose()
        server.close()

    run(go())


def test_chunked_interim_and_close_delimited_answers() -> None:
    async def script(_r: asyncio.StreamReader, w: asyncio.StreamWriter, n: int) -> bool:
        if n == 1:
            w.write(b"HTTP/1.1 100 Continue\r\n\r\n")
            w.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
            w.write(b"5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n")
            return True
        w.write(b"HTTP/1.0 202 Accepted\r\n\r\nuntil the end")
        await w.drain()
        return False

    async def go() -> None:
        server, port, _, connections = await _serve(script)
        client = HttpClient()
        answer = await client.post(f"http://127.0.0.1:{port}/", b"")
        assert (answer.status_code, answer.content) == (200, b"hello world")
        answer = await client.post(f"http://127.0.0.1:{port}/", b"")
        assert (answer.status_code, answer.content) == (202, b"until the end")
        assert len(connections) == 1
        await client.aclose()
        server.close()

    run(go())


def test_a_kept_connection_the_receiver_closed_is_replaced() -> None:
    async def script(_r: asyncio.StreamReader, w: asyncio.StreamWriter, n: int) -> bool:
        w.write(b"HTTP/1.1 204 No Content\r\n\r\n")
        await w.drain()
        return False  # closes after answering, without saying so

    async def go() -> None:
        server, port, requests, connections = await _serve(script)
        client = HttpClient()
        for _ in range(3):
            assert (await client.post(f"http://127.0.0.1:{port}/", b"x")).status_code == 204
            await asyncio.sleep(0.01)
        assert len(requests) == 3 and len(connections) == 3
        await client.aclose()
        server.close()

    run(go())


def test_unreachable_and_garbled_receivers_raise() -> None:
    async def script(_r: asyncio.StreamReader, w: asyncio.StreamWriter, n: int) -> bool:
        w.write(b"SMTP ready\r\n\r\n")
        return False

    async def go() -> None:
        client = HttpClient(connect_timeout=2)
        with pytest.raises(HttpError):
            await client.post(f"http://127.0.0.1:{free_port()}/", b"")
        with pytest.raises(HttpError):
            await client.post("ftp://127.0.0.1/", b"")
        server, port, _, _ = await _serve(script)
        with pytest.raises(HttpError):
            await client.post(f"http://127.0.0.1:{port}/", b"")
        await client.aclose()
        server.close()

    run(go())


def test_an_answer_that_arrives_a_byte_at_a_time_is_read_whole() -> None:
    answer = b"HTTP/1.1 200 OK\r\nContent-Length: 11\r\nX-Why: slow\r\n\r\nhello world"

    async def script(_r: asyncio.StreamReader, w: asyncio.StreamWriter, n: int) -> bool:
        for i in range(len(answer)):
            w.write(answer[i : i + 1])
            await w.drain()
            await asyncio.sleep(0)
        return True

    async def go() -> None:
        server, port, _, connections = await _serve(script)
        client = HttpClient()
        for _ in range(2):
            reply = await client.post(f"http://127.0.0.1:{port}/", b"x")
            assert (reply.status_code, reply.content) == (200, b"hello world")
            assert reply.headers["x-why"] == "slow"
        assert len(connections) == 1
        await client.aclose()
        server.close()

    run(go())


def test_a_receiver_that_hangs_up_mid_answer_fails_the_post() -> None:
    async def script(_r: asyncio.StreamReader, w: asyncio.StreamWriter, n: int) -> bool:
        w.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nnot a hundred bytes")
        await w.drain()
        return False

    async def go() -> None:
        server, port, _, _ = await _serve(script)
        client = HttpClient()
        with pytest.raises(HttpError, match="mid-answer"):
            await client.post(f"http://127.0.0.1:{port}/", b"x")
        await client.aclose()
        server.close()

    run(go())
