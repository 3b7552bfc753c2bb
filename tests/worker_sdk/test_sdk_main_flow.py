"""The unmodified Worker SDK against taskrouter, on each store: connect, go Available, take a
reservation, accept it, complete the task, and go offline by disconnecting."""

from __future__ import annotations

import json
import time

from routing.helpers import World, iso
from worker_sdk.conftest import SdkServer
from worker_sdk.sdk import SdkDriver, worker_token


def _until(check: object, what: str, timeout: float = 10.0) -> None:
    """Poll the REST API until `check()` is true (waiting on the server, not on time)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():  # type: ignore[operator]
            return
        time.sleep(0.05)
    raise AssertionError(f"not within {timeout} s: {what}")


def test_worker_takes_a_task_from_reservation_to_completion(
    any_server: SdkServer, sdk: SdkDriver
) -> None:
    server = any_server.server
    world = World(server, name="sdk main flow")
    queue = world.queue("Support", "type == 'support'")
    world.simple_workflow(queue)
    alice = world.worker("alice", {"type": "support"}, activity="Offline")
    now_ms = server.now_ms()
    token = worker_token(any_server.key, world.sid, alice, now_ms // 1000)

    worker = sdk.worker("alice", token, server.base_url)
    ready = worker.wait("ready")
    assert ready["sid"] == alice
    assert ready["activity"] == "Offline"
    assert ready["activities"] == ["Available", "Offline", "Unavailable"]
    assert "default" in ready["channels"]
    assert ready["reservations"] == []
    assert ready["attributes"] == {"type": "support"}

    assert worker.set_activity("Available") == {"activity": "Available"}
    assert worker.wait("activityUpdated")["activity"] == "Available"
    assert world.activity_of(alice) == "Available"

    assert worker.call("setAttributes", attributes={"type": "support", "level": 2}) == {
        "attributes": {"type": "support", "level": 2}
    }
    assert worker.wait("attributesUpdated")["attributes"] == {"type": "support", "level": 2}
    assert json.loads(str(world.ws.workers(alice).fetch().attributes))["level"] == 2

    task_sid = world.task({"type": "support", "customer": "Ada"}, priority=5)
    created = worker.wait("reservationCreated")["reservation"]
    assert created["status"] == "pending"
    assert created["workerSid"] == alice
    assert created["dateCreated"] == iso(now_ms).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    task = created["task"]
    assert task["sid"] == task_sid
    assert task["attributes"] == {"type": "support", "customer": "Ada"}
    assert task["queueSid"] == queue
    assert task["queueName"] == "Support"
    assert task["priority"] == 5
    assert task["status"] == "reserved"
    assert task["dateCreated"] is not None

    accepted = worker.accept(created["sid"])
    assert accepted["status"] == "accepted"
    assert worker.wait_reservation("reservation.accepted", created["sid"])
    assert world.status(task_sid) == "assigned"
    world.ws.tasks(task_sid).update(attributes=json.dumps({"type": "support", "customer": "Bo"}))
    assert worker.wait("task.updated")["task"]["attributes"]["customer"] == "Bo"

    done = worker.complete_task(created["sid"], "handled")
    assert done["status"] == "completed"
    completed = worker.wait_reservation("reservation.completed", created["sid"])
    assert completed["reservation"]["status"] == "completed"
    assert worker.wait("task.completed")["task"]["reason"] == "handled"
    fetched = world.fetch(task_sid)
    assert (fetched.assignment_status, fetched.reason) == ("completed", "handled")
    assert json.loads(str(fetched.attributes))["customer"] == "Bo"

    worker.disconnect()
    _until(lambda: world.activity_of(alice) == "Offline", "the disconnected worker goes Offline")
