"""A token from `taskrouter token`, and a server restarted under a connected SDK: the SDK
reconnects by itself, finds the reservation it was offered, and carries on."""

from __future__ import annotations

from pathlib import Path

import jwt

from routing.helpers import World
from support.server import TaskrouterServer, new_account, run_cli
from worker_sdk.sdk import SdkDriver


def test_sdk_carries_on_across_a_server_restart_with_a_cli_token(
    tmp_path: Path, sdk: SdkDriver
) -> None:
    database = f"sqlite:///{tmp_path / 'taskrouter.db'}"
    server = TaskrouterServer(database, workdir=tmp_path, account=new_account()).start()
    try:
        world = World(server, name="sdk restart")  # type: ignore[arg-type]
        world.checking = False  # a real server has no /_test/audit
        world.simple_workflow(world.queue("All"))
        kim = world.worker("kim", activity="Offline")

        printed = run_cli(
            "token",
            "--workspace",
            world.sid,
            "--worker",
            kim,
            "--ttl",
            "600",
            database_url=database,
        ).stdout.strip()
        claims = jwt.decode(printed, options={"verify_signature": False})
        assert claims["iss"].startswith("SK")
        assert claims["sub"] == server.account.sid  # type: ignore[union-attr]
        assert claims["exp"] - claims["nbf"] == 600
        assert claims["grants"]["task_router"] == {
            "workspace_sid": world.sid,
            "worker_sid": kim,
            "role": "worker",
        }
        bad = run_cli(
            "token",
            "--workspace",
            world.sid,
            "--worker",
            "WK" + "0" * 32,
            database_url=database,
            check=False,
        )
        assert bad.returncode == 1
        assert "does not exist" in bad.stderr

        worker = sdk.worker("kim", printed, server.base_url)
        worker.wait("ready")
        worker.set_activity("Available")
        first_task = world.task({"n": 1})
        offered = worker.wait("reservationCreated")["reservation"]

        assert server.stop() == 0
        worker.wait("disconnected")
        server.start()
        again = worker.wait("ready")
        assert [(r["sid"], r["status"]) for r in again["reservations"]] == [
            (offered["sid"], "pending")
        ]
        assert again["reservations"][0]["task"]["sid"] == first_task
        # A restart is not a disconnect: the worker is still Available.
        assert again["activity"] == "Available"

        worker.accept(offered["sid"])
        worker.complete_task(offered["sid"], "after restart")
        worker.wait_reservation("reservation.completed", offered["sid"])
        second_task = world.task({"n": 2})
        later = worker.wait("reservationCreated")["reservation"]
        assert later["task"]["sid"] == second_task
        worker.accept(later["sid"])
        worker.complete_task(later["sid"], "done")
        worker.wait_reservation("reservation.completed", later["sid"])
        assert (world.status(first_task), world.status(second_task)) == ("completed", "completed")
        worker.disconnect()
    finally:
        server.kill()
