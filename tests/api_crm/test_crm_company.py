"""The company's queues with task statistics, workers with statsToday (from midnight in the
company's time zone), and the settings that name the company and its zone."""

from __future__ import annotations

from typing import Any

from crm_harness import DAY_MS, Company

from events.events_harness import EventServer

HOUR_MS = 3_600_000


def _queue(company: Company, sid: str) -> dict[str, Any]:
    queues: list[dict[str, Any]] = company.crm("GET", "twilio-queues")
    return next(q for q in queues if q["sid"] == sid)


def test_queues_with_task_statistics(company: Company) -> None:
    sales = company.add_queue("Sales", "team == 'sales'")
    queues = company.crm("GET", "twilio-queues")
    assert isinstance(queues, list)  # a bare array, as the seed shows
    assert {q["friendlyName"] for q in queues} == {"Everyone", "Sales"}
    alice = company.worker("alice", team="sales")
    company.worker("bob", available=False, team="support")
    first = company.task(n=1)
    company.accept(first)
    second = company.task(n=2)  # alice's capacity is taken: pending
    company.server.advance(30_000)
    third = company.task(n=3)
    company.cancel(third)
    stats = _queue(company, company.queue)["taskStatistics"]
    assert stats["tasksByStatus"] == {"pending": 1, "reserved": 0, "assigned": 1, "wrapping": 0}
    assert stats["totalTasks"] == 2
    assert stats["longestTaskWaitingSid"] == second
    assert stats["longestTaskWaitingAge"] == 30
    assert stats["totalEligibleWorkers"] == 2
    assert stats["totalAvailableWorkers"] == 1
    assert stats["today"] == {
        "tasksEntered": 3,
        "tasksCompleted": 0,
        "tasksCanceled": 1,
        "tasksDeleted": 0,
    }
    company.complete(first)
    assert _queue(company, company.queue)["taskStatistics"]["today"]["tasksCompleted"] == 1
    sales_stats = _queue(company, sales)["taskStatistics"]
    assert sales_stats["totalEligibleWorkers"] == 1 and sales_stats["totalTasks"] == 0
    assert alice


def _worker(company: Company, sid: str, **params: Any) -> dict[str, Any]:
    data: list[dict[str, Any]] = company.crm("GET", "twilio-workers", params=params)["data"]
    return next(w for w in data if w["sid"] == sid)


def _day_start(server: EventServer, offset_hours: int) -> int:
    """Move the clock to 01:00 at the given UTC offset on the next day; returns that moment."""
    now = server.advance(0)
    local_midnight = (now + offset_hours * HOUR_MS) // DAY_MS * DAY_MS + DAY_MS
    target = local_midnight - offset_hours * HOUR_MS + HOUR_MS
    server.advance(target - now)
    return target


def test_workers_with_stats_today(company: Company) -> None:
    settings = company.crm("PUT", "settings", json_body={"timeZone": "America/New_York"})
    assert settings["data"]["timeZone"] == "America/New_York"
    alice = company.worker("alice")
    company.set_available(alice, False)
    # 01:00 in New York (UTC-5 in winter) on a new day.
    start = _day_start(company.server, -5)
    company.set_available(alice, True)  # offline from before midnight until now
    rejected = company.task(n=1)
    company.twilio(
        "POST",
        f"{company.ws}/Tasks/{rejected}/Reservations/{company.reservations(rejected)[0]['sid']}",
        ReservationStatus="rejected",
    )
    accepted = company.task(n=2)
    company.accept(accepted)
    company.complete(accepted)
    company.server.advance(HOUR_MS)  # 02:00

    plain = _worker(company, alice)
    assert "statsToday" not in plain
    assert plain["friendlyName"] == "alice" and plain["activityName"] == "Available"
    stats = _worker(company, alice, include="statsToday")["statsToday"]
    assert stats["timeZone"] == "America/New_York"
    assert stats["since"] == _iso(start - HOUR_MS)
    assert stats["reservationsCreated"] == 2
    assert stats["reservationsRejected"] == 1
    assert stats["reservationsAccepted"] == 1
    assert stats["reservationsCompleted"] == 1
    assert stats["reservationsTimedOut"] == 0
    durations = {d["activityName"]: d["seconds"] for d in stats["activityDurations"]}
    # Offline from midnight to 01:00 (the time before midnight not counted), then available.
    assert durations["Offline"] == 3600
    assert 3600 <= durations["Available"] <= 3601

    # A new day starts from zero: at 02:00 the next day, two hours available.
    company.server.advance(DAY_MS)
    fresh = _worker(company, alice, include="statsToday")["statsToday"]
    assert fresh["reservationsCreated"] == 0
    assert {d["activityName"]: d["seconds"] for d in fresh["activityDurations"]} == {
        "Available": 7200
    }
    company.crm("GET", "twilio-workers", params={"include": "statsYesterday"}, expect=400)


def _iso(ms: int) -> str:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def test_company_id_names_the_workspace(company: Company) -> None:
    sid = company.task(caseId="A")
    company_id = f"acme-{company.sid[-6:]}"
    body = company.crm("PUT", "settings", json_body={"companyId": company_id})
    assert body["data"] == {
        "workspaceSid": company.sid,
        "companyId": company_id,
        "timeZone": "UTC",
    }
    by_id = company.crm("GET", f"/companies/{company_id}/twilio-unterminated-tasks")
    assert [t["sid"] for t in by_id["data"]] == [sid]
    assert company.crm("GET", f"/companies/{company_id}/settings")["data"]["companyId"] == (
        company_id
    )
    other = Company(company.server)
    taken = other.crm("PUT", "settings", json_body={"companyId": company_id}, expect=409)
    assert taken["status"] == 409
    for bad in ({"timeZone": "Mars/Olympus"}, {"companyId": "a/b"}, {"timeZone": 5}):
        assert company.crm("PUT", "settings", json_body=bad, expect=400)["status"] == 400
    assert company.crm("GET", "settings")["data"]["timeZone"] == "UTC"
    company.crm("GET", "/companies/nobody/twilio-queues", expect=404)
    # Removing the id frees it.
    company.crm("PUT", "settings", json_body={"companyId": ""})
    company.crm("GET", f"/companies/{company_id}/twilio-queues", expect=404)
