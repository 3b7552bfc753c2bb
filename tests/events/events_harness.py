"""Machinery of the events tests: real HTTP receivers, and a clocked server to drive.

- `Receiver`: an HTTP/1.1 server on 127.0.0.1 (its own thread) that records every request it
  gets (path, headers, form fields) and answers as the test says: a status, a JSON body, a
  delay, or "hang". It can go down (port closed, open connections dropped) and come back on
  the same port.
- `EventServer`: `python -m support.clocked_server` as a subprocess with event settings from
  the environment; its clock moves only when the test says so (`advance`), and it can be
  SIGKILLed and started again on the same database at a chosen clock value.
- `wait_until`: polls a condition with a timeout (the only waiting these tests do).
"""

from __future__ import annotations

import contextlib
import itertools
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import parse_qsl

import httpx
import pytest
from twilio.request_validator import RequestValidator
from twilio.rest import Client

from support.databases import throwaway_database
from support.server import Credentials, clean_env, free_port, new_account
from support.twilio_client import make_client

REPO_ROOT = Path(__file__).resolve().parents[2]
TESTS_DIR = REPO_ROOT / "tests"
READY_TIMEOUT = 30.0
T = TypeVar("T")
_serial = itertools.count(1)


def wait_until(condition: Callable[[], T], timeout: float = 10.0, what: str = "") -> T:
    """Poll `condition` until it returns something truthy; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what or condition}")
        time.sleep(0.02)


def advance_until(
    server: EventServer,
    condition: Callable[[], T],
    *,
    step_ms: int = 4_000,
    timeout: float = 15.0,
    what: str = "",
) -> T:
    """Move the server's clock on by `step_ms` until `condition` holds (retries are due on the
    clock; the delivery loop looks at it every 0.1 s)."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what or condition}")
        server.advance(step_ms)
        time.sleep(0.15)


# -- receivers ---------------------------------------------------------------------------------


@dataclass
class Received:
    path: str
    url: str
    headers: dict[str, str]
    form: dict[str, str]
    pairs: list[tuple[str, str]]
    at: float = field(default_factory=time.monotonic)

    def signature_valid(self, auth_token: str) -> bool:
        signature = self.headers.get("x-twilio-signature", "")
        return bool(RequestValidator(auth_token).validate(self.url, self.form, signature))


@dataclass
class Answer:
    status: int = 204
    body: bytes = b""
    content_type: str = "application/json"
    delay_s: float = 0.0
    hang: bool = False


Responder = Callable[[Received], Answer]


class Receiver:
    def __init__(self, responder: Responder | None = None, port: int | None = None) -> None:
        self.port = port or free_port()
        self.responder: Responder = responder or (lambda _r: Answer())
        self.received: list[Received] = []
        self._lock = threading.Lock()
        self._release = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._sockets: set[socket.socket] = set()

    def url(self, path: str = "/events") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    # lifecycle

    def start(self) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self) -> None:
                super().setup()
                with receiver._lock:
                    receiver._sockets.add(self.connection)

            def finish(self) -> None:
                with receiver._lock:
                    receiver._sockets.discard(self.connection)
                super().finish()

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                raw = self.rfile.read(length).decode()
                pairs = parse_qsl(raw, keep_blank_values=True)
                got = Received(
                    path=self.path,
                    url=f"http://127.0.0.1:{receiver.port}{self.path}",
                    headers={k.lower(): v for k, v in self.headers.items()},
                    form=dict(pairs),
                    pairs=pairs,
                )
                answer = receiver.responder(got)
                with receiver._lock:
                    receiver.received.append(got)
                if answer.hang:
                    receiver._release.wait(60)
                    self.close_connection = True
                    return
                if answer.delay_s:
                    time.sleep(answer.delay_s)
                self.send_response(answer.status)
                self.send_header("Content-Type", answer.content_type)
                self.send_header("Content-Length", str(len(answer.body)))
                self.end_headers()
                self.wfile.write(answer.body)

        self._release.clear()
        server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        server.daemon_threads = True
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Go down: stop listening and drop every open connection."""
        self._release.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        with self._lock:
            for sock in list(self._sockets):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                sock.close()
            self._sockets.clear()

    # what arrived

    def requests(self, path: str | None = None) -> list[Received]:
        with self._lock:
            return [r for r in self.received if path is None or r.path == path]

    def events(self, workspace_sid: str | None = None) -> list[Received]:
        return [
            r
            for r in self.requests()
            if "EventType" in r.form
            and (workspace_sid is None or r.form.get("WorkspaceSid") == workspace_sid)
        ]

    def event_types(self, workspace_sid: str | None = None) -> list[str]:
        return [r.form["EventType"] for r in self.events(workspace_sid)]

    def unique_events(self, workspace_sid: str | None = None) -> list[Received]:
        """In arrival order, each event once (deliveries are at least once)."""
        seen: set[str] = set()
        out = []
        for r in self.events(workspace_sid):
            if r.form["Sid"] not in seen:
                seen.add(r.form["Sid"])
                out.append(r)
        return out


# -- the server --------------------------------------------------------------------------------


class EventServer:
    """One `support.clocked_server` process on 127.0.0.1."""

    def __init__(
        self,
        database_url: str,
        *,
        workdir: Path,
        account: Credentials | None = None,
        env: dict[str, str] | None = None,
    ) -> None:
        self.database_url = database_url
        self.workdir = workdir
        self.account = account or new_account()
        self.env = env or {}
        self.port: int | None = None
        self.proc: subprocess.Popen[bytes] | None = None
        self.last_now_ms: int | None = None
        self._stderr: Path | None = None
        self.http: httpx.Client | None = None
        self.client: Client | None = None

    @property
    def base_url(self) -> str:
        assert self.port is not None, "server not started"
        return f"http://127.0.0.1:{self.port}"

    @property
    def auth_token(self) -> str:
        return self.account.secret

    def start(self, start_ms: int | None = None) -> EventServer:
        assert self.proc is None or self.proc.poll() is not None, "already running"
        self.port = free_port()
        self.workdir.mkdir(parents=True, exist_ok=True)
        n = next(_serial)
        self._stderr = self.workdir / f"events-server-{n}.stderr.log"
        command = [
            sys.executable,
            "-m",
            "support.clocked_server",
            "--port",
            str(self.port),
            "--database",
            self.database_url,
        ]
        if start_ms is not None:
            command += ["--start-ms", str(start_ms)]
        pythonpath = os.pathsep.join(
            p for p in (str(TESTS_DIR), os.environ.get("PYTHONPATH", "")) if p
        )
        env = clean_env(
            {
                "PYTHONPATH": pythonpath,
                "TASKROUTER_ACCOUNT_SID": self.account.sid,
                "TASKROUTER_AUTH_TOKEN": self.account.secret,
                **self.env,
            }
        )
        stdout = self.workdir / f"events-server-{n}.stdout.log"
        with stdout.open("wb") as out, self._stderr.open("wb") as err:
            self.proc = subprocess.Popen(
                command,
                stdout=out,
                stderr=err,
                stdin=subprocess.DEVNULL,
                cwd=REPO_ROOT,
                env=env,
            )
        self._wait_ready()
        self.http = httpx.Client(
            base_url=self.base_url, auth=(self.account.sid, self.account.secret), timeout=30.0
        )
        self.client = make_client(self.base_url, self.account.sid, self.account.secret)
        self.last_now_ms = self.now_ms()
        return self

    def _wait_ready(self) -> None:
        assert self.proc is not None
        deadline = time.monotonic() + READY_TIMEOUT
        last: object = None
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"server exited {self.proc.returncode}\n{self.logs()}")
            try:
                response = httpx.get(f"{self.base_url}/healthz", timeout=2.0)
                if response.status_code == 200:
                    return
                last = response.status_code
            except httpx.HTTPError as exc:
                last = exc
            time.sleep(0.05)
        self.kill()
        raise AssertionError(f"server not ready ({last!r})\n{self.logs()}")

    def logs(self) -> str:
        if self._stderr is None or not self._stderr.exists():
            return ""
        return self._stderr.read_text(errors="replace")[-20_000:]

    def _close_clients(self) -> None:
        if self.http is not None:
            self.http.close()
            self.http = None
        self.client = None

    def kill(self) -> None:
        """SIGKILL, as a crash would."""
        self._close_clients()
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(30)

    def stop(self) -> None:
        self._close_clients()
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.kill()

    # the test clock

    def _clock(self, body: dict[str, int]) -> int:
        assert self.http is not None
        response = self.http.post("/_test/clock", json=body)
        assert response.status_code == 200, f"clock move failed: {response.text}\n{self.logs()}"
        now = int(response.json()["now_ms"])
        self.last_now_ms = now
        return now

    def now_ms(self) -> int:
        return self._clock({"advance_ms": 0})

    def advance(self, ms: int) -> int:
        return self._clock({"advance_ms": ms})

    # shortcuts

    def ws(self, sid: str) -> Any:
        assert self.client is not None
        return self.client.taskrouter.v1.workspaces(sid)


@contextlib.contextmanager
def event_server(backend: str, workdir: Path, settings: dict[str, str]) -> Iterator[EventServer]:
    """A started EventServer on a fresh database of `backend`; killed and dropped after."""
    with throwaway_database(backend, workdir) as url:
        srv = EventServer(url, workdir=workdir, env=settings)
        try:
            srv.start()
            yield srv
        finally:
            srv.kill()


def add_server_log(item: pytest.Item, report: pytest.TestReport, title: str) -> None:
    """On a failed test, attach the tail of its `server` fixture's log to the report."""
    srv = getattr(item, "funcargs", {}).get("server")
    if report.failed and isinstance(srv, EventServer):
        report.sections.append((title, srv.logs()[-8_000:]))
