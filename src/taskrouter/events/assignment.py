"""Assignment callbacks: reading the receiver's answer and acting on its instruction.

The answer contract (notes f): a 200 within the budget, `Content-Type: application/json`, and
a JSON object whose `instruction` says what to do with the reservation. An empty body, `{}`,
or JSON without `instruction` leaves the reservation pending (Twilio warnings 40005/40000/
40001 are logged). The instruction is carried out through the same service command REST uses
(`Reservations.update`), so its effects are committed, evented and delivered like any other.

JSON instruction parameters are snake_case; REST names them with a per-instruction prefix:
`{"instruction": "dequeue", "to": ...}` is `Instruction=dequeue&DequeueTo=...`. `reject`
takes `activity_sid` (REST `WorkerActivitySid`).
"""

from __future__ import annotations

import logging
from typing import Any, Protocol

import orjson

log = logging.getLogger("taskrouter.events.assignment")

# REST parameter prefix per instruction; conference options carry no prefix.
PREFIX = {"dequeue": "Dequeue", "call": "Call", "redirect": "Redirect", "conference": ""}
# JSON names whose REST spelling is not simply the prefixed PascalCase of the JSON name.
RENAMED = {("dequeue", "status_callback_events"): "DequeueStatusCallbackEvent"}


class ReservationCommands(Protocol):
    """What the assignment callback needs of the service (`service.reservations`)."""

    async def update(
        self,
        account_sid: str,
        workspace_sid: str,
        sid: str,
        *,
        task_sid: str | None = None,
        worker_sid: str | None = None,
        status: str | None = None,
        worker_activity_sid: str | None = None,
        instruction: str | None = None,
        instruction_params: dict[str, Any] | None = None,
        if_match: str | None = None,
    ) -> Any: ...


class Unanswered(Exception):
    """The receiver did not answer usefully in time: try the fallback URL."""


def read_answer(status: int, content_type: str | None, content: bytes) -> dict[str, Any] | None:
    """The instruction in an answer, None to leave the reservation pending.

    Raises Unanswered for anything but a 2xx answer (the fallback URL is tried next).
    """
    if not 200 <= status < 300:
        raise Unanswered(f"HTTP {status}")
    text = content.strip()
    if not text:
        return None
    if "json" not in (content_type or "").lower():
        log.warning("assignment callback answered without Content-Type application/json (40000)")
        return None
    try:
        document = orjson.loads(text)
    except orjson.JSONDecodeError:
        log.warning("assignment callback answered with unparsable JSON (40001)")
        return None
    if not isinstance(document, dict) or not document:
        return None
    if "instruction" not in document:
        log.warning("assignment callback JSON has no instruction (40005)")
        return None
    return document


def _wire(value: Any) -> Any:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return [_wire(v) for v in value]
    if isinstance(value, dict):
        return orjson.dumps(value).decode()
    return str(value)


def _pascal(name: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in name.split("_"))


def rest_form(document: dict[str, Any]) -> tuple[str, str | None, dict[str, Any]]:
    """(instruction, WorkerActivitySid, other REST parameters) for a JSON instruction."""
    instruction = str(document.get("instruction", "")).strip().lower()
    activity_sid: str | None = None
    params: dict[str, Any] = {}
    if instruction == "reject":
        value = document.get("activity_sid")
        activity_sid = str(value) if value else None
    elif instruction in PREFIX:
        prefix = PREFIX[instruction]
        for key, value in document.items():
            if key == "instruction" or value is None:
                continue
            name = RENAMED.get((instruction, key)) or prefix + _pascal(key)
            params[name] = _wire(value)
    return instruction, activity_sid, params


async def carry_out(
    reservations: ReservationCommands,
    *,
    account_sid: str,
    workspace_sid: str,
    task_sid: str,
    reservation_sid: str,
    document: dict[str, Any],
) -> None:
    instruction, activity_sid, params = rest_form(document)
    await reservations.update(
        account_sid,
        workspace_sid,
        reservation_sid,
        task_sid=task_sid,
        worker_activity_sid=activity_sid,
        instruction=instruction,
        instruction_params=params,
    )
