"""The unmodified twilio-taskrouter Worker SDK, driven from Python through `driver.js`.

`SdkDriver` runs one Node process; `driver.worker(...)` connects one SDK Worker in it and
returns a `SdkWorker` whose calls (`set_activity`, `accept`, ...) are the SDK's own methods and
whose `wait(name)` returns the next event of that name the SDK emitted. Every wait is for
something the server sends; nothing here sleeps to let time pass.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from twilio.jwt.access_token import AccessToken
from twilio.jwt.access_token.grants import TaskRouterGrant

from support.server import Credentials, clean_env

HERE = Path(__file__).resolve().parent
SDK_VERSION = "2.1.1"
WAIT_S = 20.0


def install_sdk() -> str | None:
    """Make sure node_modules holds the pinned SDK; returns why it cannot, or None."""
    installed = HERE / "node_modules" / "twilio-taskrouter" / "package.json"
    if installed.exists() and json.loads(installed.read_text())["version"] == SDK_VERSION:
        return None
    npm = shutil.which("npm")
    if npm is None or shutil.which("node") is None:
        return "Node.js and npm are needed for the Worker SDK tests"
    result = subprocess.run(
        [npm, "ci", "--no-audit", "--no-fund"],
        cwd=HERE,
        capture_output=True,
        text=True,
        timeout=300,
        env=clean_env(),
    )
    if result.returncode != 0:
        return f"npm ci failed:\n{result.stdout}\n{result.stderr}"
    return None


def worker_token(
    key: Credentials, workspace_sid: str, worker_sid: str, now_s: int, ttl_s: int = 3600
) -> str:
    """An Access Token made by twilio-python, valid from the server's `now_s`."""
    assert key.account_sid is not None
    token = AccessToken(
        key.account_sid,
        key.sid,
        key.secret,
        identity=worker_sid,
        nbf=now_s,
        valid_until=now_s + ttl_s,
    )
    token.add_grant(
        TaskRouterGrant(workspace_sid=workspace_sid, worker_sid=worker_sid, role="worker")
    )
    jwt: str = token.to_jwt()
    return jwt


class SdkError(AssertionError):
    pass


class SdkDriver:
    def __init__(self) -> None:
        env = clean_env({"NODE_OPTIONS": ""})
        self.proc = subprocess.Popen(
            ["node", str(HERE / "driver.js")],
            cwd=HERE,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        self._lock = threading.Condition()
        self._replies: dict[int, dict[str, Any]] = {}
        self.events: list[dict[str, Any]] = []
        self.uncaught: list[str] = []
        self._next = 0
        self._serial = 0
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            message = json.loads(line)
            with self._lock:
                kind = message["type"]
                if kind == "reply":
                    self._replies[message["req"]] = message
                elif kind == "event":
                    message["taken"] = False
                    self.events.append(message)
                else:
                    self.uncaught.append(message["message"])
                self._lock.notify_all()

    def send(self, cmd: str, **fields: Any) -> int:
        with self._lock:
            self._next += 1
            req = self._next
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps({"req": req, "cmd": cmd, **fields}) + "\n")
        self.proc.stdin.flush()
        return req

    def reply(self, req: int, timeout: float = WAIT_S) -> dict[str, Any]:
        with self._lock:
            if not self._lock.wait_for(lambda: req in self._replies, timeout):
                raise SdkError(f"no reply to request {req} within {timeout} s")
            return self._replies.pop(req)

    def call(self, cmd: str, **fields: Any) -> Any:
        answer = self.reply(self.send(cmd, **fields))
        if not answer["ok"]:
            raise SdkError(f"{cmd} failed in the SDK: {answer['error']}")
        return answer["value"]

    def wait(
        self,
        worker: str,
        name: str,
        where: Callable[[dict[str, Any]], bool] | None = None,
        timeout: float = WAIT_S,
    ) -> dict[str, Any]:
        """The first event not yet taken that matches; it is then taken."""

        def find() -> dict[str, Any] | None:
            for event in self.events:
                if (
                    not event["taken"]
                    and event["worker"] == worker
                    and event["name"] == name
                    and (where is None or where(event))
                ):
                    return event
            return None

        with self._lock:
            found: dict[str, Any] | None = None

            def ready() -> bool:
                nonlocal found
                found = find()
                return found is not None or bool(self.uncaught)

            self._lock.wait_for(ready, timeout)
            if self.uncaught:
                raise SdkError("the SDK threw:\n" + "\n".join(self.uncaught))
            if found is None:
                seen = [(e["name"], e.get("message")) for e in self.events if e["worker"] == worker]
                raise SdkError(f"{worker}: no {name} event within {timeout} s; saw {seen}")
            found["taken"] = True
            return found

    def seen(self, worker: str, name: str) -> list[dict[str, Any]]:
        with self._lock:
            return [e for e in self.events if e["worker"] == worker and e["name"] == name]

    def worker(self, name: str, token: str, base_url: str, **options: Any) -> SdkWorker:
        self._serial += 1
        worker = SdkWorker(self, f"{name}-{self._serial}")
        ws_url = base_url.replace("http://", "ws://") + "/v1/wschannels"
        self.call(
            "connect",
            id=worker.id,
            token=token,
            ebServer=base_url + "/v1/wschannels",
            wsServer=ws_url,
            options=options,
        )
        return worker

    def close(self) -> None:
        if self.proc.poll() is None:
            assert self.proc.stdin is not None
            self.proc.stdin.close()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)


class SdkWorker:
    def __init__(self, driver: SdkDriver, worker_id: str) -> None:
        self.driver = driver
        self.id = worker_id

    def wait(
        self, name: str, where: Callable[[dict[str, Any]], bool] | None = None
    ) -> dict[str, Any]:
        return self.driver.wait(self.id, name, where)

    def wait_reservation(self, name: str, reservation_sid: str) -> dict[str, Any]:
        return self.wait(name, lambda e: bool(e["reservation"]["sid"] == reservation_sid))

    def call(self, cmd: str, **fields: Any) -> Any:
        return self.driver.call(cmd, id=self.id, **fields)

    def set_activity(self, activity: str) -> Any:
        return self.call("setActivity", activity=activity)

    def accept(self, reservation_sid: str) -> Any:
        return self.call("accept", reservation=reservation_sid)

    def reject(self, reservation_sid: str, activity_sid: str | None = None) -> Any:
        return self.call("reject", reservation=reservation_sid, activitySid=activity_sid)

    def complete_task(self, reservation_sid: str, reason: str) -> Any:
        return self.call("completeTask", reservation=reservation_sid, reason=reason)

    def disconnect(self) -> None:
        self.call("disconnect")
