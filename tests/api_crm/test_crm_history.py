"""Finished tasks through /companies/{companyId}/twilio-terminated-tasks: listed, fetched and
cloned for the whole retention period, long after the Twilio face stopped showing them."""

from __future__ import annotations

from crm_harness import DAY_MS, RETENTION_DAYS, Company

from events.events_harness import wait_until


def _finish_one(company: Company, **attributes: object) -> tuple[str, str]:
    """A task reserved by a new worker, accepted and completed; (task, worker)."""
    worker = company.worker(f"w{len(company.activity)}-{attributes.get('n', 0)}")
    sid = company.task(**attributes)
    assert company.accept(sid) == worker
    company.complete(sid)
    company.set_available(worker, False)
    return sid, worker


def test_history_outlives_the_twilio_face_until_retention_ends(company: Company) -> None:
    done, _ = _finish_one(company, taskType="replyToNewText", caseId="C9")
    canceled = company.task(taskType="reviewVoicemail")
    company.cancel(canceled)
    live = company.task(taskType="stillHere")
    assert company.twilio_task(done).status_code == 200
    listed = company.crm("GET", "twilio-terminated-tasks")
    assert [t["sid"] for t in listed["data"]] == [canceled, done]  # newest closed first
    assert live not in [t["sid"] for t in listed["data"]]

    # Past Twilio's five minutes: the Twilio face forgets, history does not.
    company.server.advance(6 * 60_000)
    assert company.twilio_task(done).status_code == 404
    entry = company.crm("GET", f"twilio-terminated-tasks/{done}")["data"]
    assert entry["id"] == entry["sid"] == done
    assert entry["assignmentStatus"] == "completed" and entry["reason"] == "done"
    assert entry["deleted"] is False and entry["dateClosed"] is not None
    assert '"caseId":"C9"' in entry["attributes"].replace(" ", "")
    assert company.crm("GET", f"twilio-terminated-tasks/{canceled}")["data"]["reason"] == "gone"

    # Still there a day later (retention is two days in this suite), joined by the live task,
    # which its one-day TTL canceled.
    company.server.advance(DAY_MS)
    listed = company.crm("GET", "twilio-terminated-tasks")["data"]
    assert [t["sid"] for t in listed] == [live, canceled, done]
    assert listed[0]["reason"] == "Task TTL Exceeded"
    # ...and gone once the retention period has passed since they closed.
    company.server.advance(RETENTION_DAYS * DAY_MS - DAY_MS // 2)
    assert [t["sid"] for t in company.crm("GET", "twilio-terminated-tasks")["data"]] == [live]
    company.server.advance(DAY_MS)
    assert company.crm("GET", "twilio-terminated-tasks")["data"] == []
    # The sweep removes the rows themselves: a bulk delete no longer knows the task.
    wait_until(
        lambda: (
            company.crm("DELETE", "twilio-unterminated-tasks", json_body={"taskSids": [done]})[
                "data"
            ]["results"][0]["result"]
            == "notFound"
        ),
        what="the retention sweep",
    )
    missing = company.crm("GET", f"twilio-terminated-tasks/{done}", expect=404)
    assert missing["status"] == 404
    company.crm("POST", f"twilio-terminated-tasks/{done}/clone", expect=404)


def test_fetching_what_is_not_terminated(company: Company) -> None:
    live = company.task()
    company.crm("GET", f"twilio-terminated-tasks/{live}", expect=404)
    company.crm("GET", f"twilio-terminated-tasks/{'WT' + '1' * 32}", expect=404)
    company.crm("GET", "twilio-terminated-tasks/42", expect=404)
    other = Company(company.server)
    done = other.task()
    other.cancel(done)
    # Another company's finished task is not this one's.
    company.crm("GET", f"twilio-terminated-tasks/{done}", expect=404)
    assert other.crm("GET", f"twilio-terminated-tasks/{done}")["data"]["sid"] == done


def test_history_pages_both_ways(company: Company) -> None:
    sids = []
    for n in range(5):
        sid = company.task(n=n)
        company.cancel(sid)
        sids.append(sid)
    newest_first = list(reversed(sids))
    first = company.crm("GET", "twilio-terminated-tasks", params={"pageSize": 2})
    assert [t["sid"] for t in first["data"]] == newest_first[:2]
    assert first["previousUrl"] is None
    second = company.http.get(first["nextUrl"]).json()
    assert [t["sid"] for t in second["data"]] == newest_first[2:4]
    third = company.http.get(second["nextUrl"]).json()
    assert [t["sid"] for t in third["data"]] == newest_first[4:]
    assert third["nextUrl"] is None
    back = company.http.get(third["previousUrl"]).json()
    assert [t["sid"] for t in back["data"]] == newest_first[2:4]
    back = company.http.get(back["previousUrl"]).json()
    assert [t["sid"] for t in back["data"]] == newest_first[:2]
    assert back["previousUrl"] is None
    company.crm("GET", "twilio-terminated-tasks", params={"pageToken": "xyz"}, expect=400)
    company.crm("GET", "twilio-terminated-tasks", params={"pageSize": 1001}, expect=400)


def test_clone_routes_a_new_task_to_an_available_worker(company: Company) -> None:
    done, first_worker = _finish_one(company, taskType="replyToNewText", n=1)
    company.server.advance(10 * 60_000)  # long out of the Twilio face
    bob = company.worker("bob")
    body = company.crm("POST", f"twilio-terminated-tasks/{done}/clone")
    assert body["status"] == 0
    clone = body["data"]
    assert clone["sid"] != done
    assert (
        clone["attributes"]
        == company.crm("GET", f"twilio-terminated-tasks/{done}")["data"]["attributes"]
    )
    assert clone["workflowSid"] == company.workflow
    assert clone["assignmentStatus"] == "reserved"
    assert company.reserved_worker(clone["sid"]) == bob
    # The original stays in history as it was.
    assert company.crm("GET", f"twilio-terminated-tasks/{done}")["data"]["assignmentStatus"] == (
        "completed"
    )
    # The first worker, available again, may get a clone too: cloning excludes nobody.
    company.set_available(first_worker, True)
    again = company.crm("POST", f"twilio-terminated-tasks/{done}/clone")["data"]
    assert company.reserved_worker(again["sid"]) == first_worker


def test_history_survives_a_restart(company: Company) -> None:
    done, _ = _finish_one(company, n=2)
    company.server.advance(6 * 60_000)
    server = company.server
    now = server.advance(0)
    server.kill()
    server.start(start_ms=now)
    company.http = server.http  # type: ignore[assignment]
    assert company.crm("GET", f"twilio-terminated-tasks/{done}")["data"]["sid"] == done
