"""Run the real `taskrouter serve` (and the `taskrouter` admin commands) as subprocesses.

    server = TaskrouterServer("sqlite:///tmp/x.db", workdir=tmp_path, account=new_account())
    server.start()            # free port, waits for GET /healthz == 200 (up to 20 s)
    ...                       # server.base_url, server.account
    server.stop()             # SIGTERM; returns the exit code
    server.kill()             # SIGKILL

The server's stderr goes to `workdir/server-N.stderr.log` and stdout to `...stdout.log`;
`server.logs()` reads them back for failure reports. TWILIO_EDGE/TWILIO_REGION and proxy
settings are removed from its environment.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

READY_TIMEOUT = 20.0
STOP_TIMEOUT = 20.0
_serial = itertools.count(1)
_SCRUBBED = (
    "TWILIO_EDGE",
    "TWILIO_REGION",
    "TWILIO_ACCOUNT_SID",
    "TWILIO_AUTH_TOKEN",
    "TASKROUTER_DATABASE_URL",
    "TASKROUTER_ACCOUNT_SID",
    "TASKROUTER_AUTH_TOKEN",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "ALL_PROXY",
    "http_proxy",
    "https_proxy",
    "all_proxy",
)


@dataclass(frozen=True)
class Credentials:
    """HTTP Basic credentials: an AC SID and auth token, or an SK SID and secret."""

    sid: str
    secret: str
    account_sid: str | None = None  # the owning account of an API key


def new_account() -> Credentials:
    return Credentials("AC" + secrets.token_hex(16), secrets.token_hex(16))


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def clean_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _SCRUBBED}
    env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,localhost"
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra or {})
    return env


class ServerFailed(RuntimeError):
    pass


class TaskrouterServer:
    """One `python -m taskrouter serve` process on 127.0.0.1."""

    def __init__(
        self,
        database_url: str | None,
        *,
        workdir: Path,
        account: Credentials | None = None,
        public_url: str | None = None,
        port: int | None = None,
        env: dict[str, str] | None = None,
    ) -> None:
        """`database_url` None leaves out --database (the default, or $TASKROUTER_DATABASE_URL
        given in `env`); `workdir` is also the server's working directory."""
        self.database_url = database_url
        self.workdir = workdir
        self.account = account
        self.public_url = public_url
        self.port = port
        self.env = dict(env or {})
        self.proc: subprocess.Popen[bytes] | None = None
        self.stdout_path: Path | None = None
        self.stderr_path: Path | None = None

    @property
    def base_url(self) -> str:
        assert self.port is not None, "server not started"
        return f"http://127.0.0.1:{self.port}"

    @property
    def public_base(self) -> str:
        """Where the server's `url`, `links` and paging URLs must point."""
        return (self.public_url or self.base_url).rstrip("/")

    def command(self) -> list[str]:
        assert self.port is not None
        cmd = [
            sys.executable,
            "-m",
            "taskrouter",
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
        ]
        if self.database_url is not None:
            cmd += ["--database", self.database_url]
        if self.public_url:
            cmd += ["--public-url", self.public_url]
        return cmd

    def start(self, timeout: float = READY_TIMEOUT) -> TaskrouterServer:
        assert self.proc is None or self.proc.poll() is not None, "already running"
        if self.port is None:
            self.port = free_port()
        self.workdir.mkdir(parents=True, exist_ok=True)
        n = next(_serial)
        self.stdout_path = self.workdir / f"server-{n}.stdout.log"
        self.stderr_path = self.workdir / f"server-{n}.stderr.log"
        extra = dict(self.env)
        if self.account is not None:
            extra["TASKROUTER_ACCOUNT_SID"] = self.account.sid
            extra["TASKROUTER_AUTH_TOKEN"] = self.account.secret
        with self.stdout_path.open("wb") as out, self.stderr_path.open("wb") as err:
            self.proc = subprocess.Popen(
                self.command(),
                stdout=out,
                stderr=err,
                stdin=subprocess.DEVNULL,
                cwd=self.workdir,
                env=clean_env(extra),
            )
        self._wait_ready(timeout)
        return self

    def _wait_ready(self, timeout: float) -> None:
        assert self.proc is not None
        deadline = time.monotonic() + timeout
        last: object = None
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise ServerFailed(
                    f"taskrouter serve exited with {self.proc.returncode} before it was ready\n"
                    + self.logs()
                )
            try:
                response = httpx.get(f"{self.base_url}/healthz", timeout=2.0)
                if response.status_code == 200:
                    return
                last = f"HTTP {response.status_code}: {response.text[:200]}"
            except httpx.HTTPError as exc:
                last = exc
            time.sleep(0.05)
        self.kill()
        raise ServerFailed(
            f"taskrouter serve not ready after {timeout} s (last: {last!r})\n" + self.logs()
        )

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self, timeout: float = STOP_TIMEOUT) -> int:
        """SIGTERM and wait; returns the exit code (SIGKILL after `timeout`, then raises)."""
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill()
                raise ServerFailed(
                    f"taskrouter serve did not exit within {timeout} s of SIGTERM\n" + self.logs()
                ) from None
        return self.proc.returncode

    def kill(self) -> None:
        """SIGKILL, as a crash would."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(30)

    def stdout(self) -> str:
        return _read(self.stdout_path)

    def logs(self, limit: int = 20_000) -> str:
        text = (
            f"--- taskrouter serve ({(self.database_url or 'default').split('@')[-1]}, "
            f"port {self.port}) ---\n"
            f"--- stdout ---\n{self.stdout()}\n--- stderr ---\n{_read(self.stderr_path)}"
        )
        return text[-limit:]

    def __enter__(self) -> TaskrouterServer:
        if not self.running:
            self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.running:
            with contextlib.suppress(ServerFailed):
                self.stop()


def _read(path: Path | None) -> str:
    if path is None or not path.exists():
        return ""
    return path.read_text(errors="replace")


def run_cli(
    *args: str,
    database_url: str,
    env: dict[str, str] | None = None,
    timeout: float = 60.0,
    check: bool = True,
    cwd: Path | None = None,
) -> subprocess.CompletedProcess[str]:
    """`python -m taskrouter ARGS --database URL`; with `check`, a non-zero exit fails."""
    result = subprocess.run(
        [sys.executable, "-m", "taskrouter", *args, "--database", database_url],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=clean_env(env),
        stdin=subprocess.DEVNULL,
        cwd=cwd,
    )
    if check:
        assert result.returncode == 0, (
            f"taskrouter {' '.join(args)} exited {result.returncode}\n"
            f"stdout: {result.stdout}\nstderr: {result.stderr}"
        )
    return result


def cli_json(*args: str, database_url: str) -> Any:
    """Run an admin command that prints one JSON value on stdout, and parse it."""
    result = run_cli(*args, database_url=database_url)
    try:
        return json.loads(result.stdout)
    except ValueError:
        raise AssertionError(
            f"taskrouter {' '.join(args)} did not print JSON: {result.stdout!r}"
        ) from None


def create_account(database_url: str, friendly_name: str | None = None) -> Credentials:
    args = ["accounts", "create"]
    if friendly_name is not None:
        args += ["--friendly-name", friendly_name]
    out = cli_json(*args, database_url=database_url)
    return Credentials(out["sid"], out["auth_token"])


def create_api_key(database_url: str, account_sid: str) -> Credentials:
    out = cli_json("keys", "create", "--account", account_sid, database_url=database_url)
    return Credentials(out["sid"], out["secret"], account_sid=out["account_sid"])


class ServerFactory:
    """Starts servers for one test (the `server_factory` fixture); `cleanup` kills leftovers."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.started: list[TaskrouterServer] = []

    def __call__(
        self,
        database_url: str | None,
        *,
        account: Credentials | None = None,
        public_url: str | None = None,
        port: int | None = None,
        env: dict[str, str] | None = None,
        workdir: Path | None = None,
    ) -> TaskrouterServer:
        server = TaskrouterServer(
            database_url,
            workdir=workdir or self.root / f"server{len(self.started)}",
            account=account,
            public_url=public_url,
            port=port,
            env=env,
        )
        self.started.append(server)
        return server.start()

    def cleanup(self) -> None:
        for server in self.started:
            server.kill()
