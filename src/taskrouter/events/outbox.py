"""The outbox: callbacks owed to receivers, stored in the commit of the change that caused them.

One row per assignment callback (`kind` "assignment", sid = the reservation's sid), "pending"
until answered or given up (the row is then deleted). Event callbacks are read from the event
log (see courier.py); one gets a row (`kind` "event", sid = the event's sid) only once its retry
period ran out: `status` "failed", then "redeliver" when an operator asks for it again while a
server may be running (the server takes those back as "pending", and deletes the row once
delivered).

`failed_deliveries` and `request_redelivery` work on the store alone, so a CLI can call them
with or without a running server.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from taskrouter.store import Put, Store

TABLE = "outbox"
EVENT = "event"
ASSIGNMENT = "assignment"
PENDING = "pending"
FAILED = "failed"
REDELIVER = "redeliver"


@dataclass(slots=True)
class Delivery:
    sid: str
    workspace_sid: str
    kind: str
    created_ms: int
    next_attempt_ms: int
    attempts: int
    status: str
    # url, account_sid; event callbacks add event_type (their form fields are built from the
    # stored event when sent), assignments fallback_url, task_sid, reservation_sid and params;
    # after a failure, last_error.
    body: dict[str, Any]
    # The event itself, while in memory (not stored twice: an outbox row reads it back).
    event: dict[str, Any] | None = field(default=None, compare=False, repr=False)
    # Read from the event log (done = the courier's cursor moves), not from an outbox row
    # (done = the row is deleted).
    from_log: bool = field(default=False, compare=False)

    def put(self) -> Put:
        return Put(
            TABLE,
            self.sid,
            {
                "workspace_sid": self.workspace_sid,
                "kind": self.kind,
                "created_ms": self.created_ms,
                "next_attempt_ms": self.next_attempt_ms,
                "attempts": self.attempts,
                "status": self.status,
                "body": self.body,
            },
        )

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Delivery:
        return cls(
            sid=row["sid"],
            workspace_sid=row["workspace_sid"],
            kind=row["kind"],
            created_ms=int(row["created_ms"]),
            next_attempt_ms=int(row["next_attempt_ms"]),
            attempts=int(row["attempts"]),
            status=row["status"],
            body=row["body"],
        )

    def view(self) -> dict[str, Any]:
        """What an operator sees of a delivery (admin route, CLI)."""
        params = self.body.get("params", {})
        return {
            "sid": self.sid,
            "workspace_sid": self.workspace_sid,
            "kind": self.kind,
            "status": self.status,
            "url": self.body.get("url"),
            "event_type": self.body.get("event_type") or params.get("EventType"),
            "reservation_sid": self.body.get("reservation_sid"),
            "created_ms": self.created_ms,
            "attempts": self.attempts,
            "next_attempt_ms": self.next_attempt_ms,
            "last_error": self.body.get("last_error"),
        }


def assignment_delivery(
    *,
    reservation_sid: str,
    task_sid: str,
    workspace_sid: str,
    account_sid: str,
    url: str,
    fallback_url: str | None,
    params: dict[str, str],
    now: int,
) -> Delivery:
    return Delivery(
        reservation_sid,
        workspace_sid,
        ASSIGNMENT,
        now,
        now,
        0,
        PENDING,
        {
            "url": url,
            "fallback_url": fallback_url,
            "account_sid": account_sid,
            "task_sid": task_sid,
            "reservation_sid": reservation_sid,
            "params": params,
        },
    )


async def failed_deliveries(store: Store, workspace_sid: str | None = None) -> list[Delivery]:
    """Deliveries whose retry period ran out, oldest first."""
    where: dict[str, Any] = {"status": FAILED}
    if workspace_sid is not None:
        where["workspace_sid"] = workspace_sid
    rows = await store.query(TABLE, where, order_by="created_ms")
    return [Delivery.from_row(r) for r in rows]


async def request_redelivery(
    store: Store, *, workspace_sid: str | None = None, sids: list[str] | None = None
) -> list[Delivery]:
    """Mark failed deliveries (all, a workspace's, or the given sids) for another try.

    A running server picks them up within a second (and any server at its next start); they
    then get a fresh retry period.
    """
    chosen = [
        d for d in await failed_deliveries(store, workspace_sid) if sids is None or d.sid in sids
    ]
    for d in chosen:
        d.status = REDELIVER
    if chosen:
        await store.commit([d.put() for d in chosen])
    return chosen
