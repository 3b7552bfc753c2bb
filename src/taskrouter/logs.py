"""Logging as taskrouter does it: plain text for people, or one JSON object per line.

Every line names the workspace, task, reservation and worker involved when it knows them:
from the request being served (the SIDs in its path, bound by the router) and from the
`extra` a log call passes. `sids_in` pulls them out of a sentence such as an audit finding.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Iterable
from contextvars import ContextVar
from datetime import UTC, datetime

import orjson

FIELDS = {
    "WS": "workspace_sid",
    "WT": "task_sid",
    "WR": "reservation_sid",
    "WK": "worker_sid",
    "AC": "account_sid",
}
_SID = re.compile(r"\b(WS|WT|WR|WK)[0-9a-f]{32}\b")
_context: ContextVar[dict[str, str] | None] = ContextVar("taskrouter_log_context", default=None)
# LogRecord attributes that are the record's own, not something a caller passed in `extra`.
_STANDARD = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


def bind_sids(values: Iterable[str]) -> None:
    """Name, for the rest of this request, the objects its path points at."""
    bound = {FIELDS[v[:2]]: v for v in values if v[:2] in FIELDS and len(v) == 34}
    if bound:
        _context.set(bound)


def bind(**fields: str) -> None:
    _context.set({**(_context.get() or {}), **fields})


def sids_in(text: str) -> dict[str, str]:
    """The first SID of each kind mentioned in `text`, by field name."""
    found: dict[str, str] = {}
    for match in _SID.finditer(text):
        found.setdefault(FIELDS[match.group(1)], match.group(0))
    return found


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        line.update(_context.get() or {})
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                line[key] = value
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return orjson.dumps(line, default=str).decode()


class TextFormatter(logging.Formatter):
    """The classic line, with the objects involved appended as key=value."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        fields = dict(_context.get() or {})
        fields.update(
            (k, v) for k, v in vars(record).items() if k not in _STANDARD and k.endswith("_sid")
        )
        if fields:
            text += " " + " ".join(f"{k}={v}" for k, v in fields.items())
        return text


def configure(level: str = "info", fmt: str = "text") -> None:
    """Send every taskrouter log line to stderr in `fmt` ("text" or "json")."""
    if fmt not in ("text", "json"):
        raise ValueError(f"log format must be text or json, got {fmt!r}")
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    # Migration chatter is not news on every start; failures still show.
    logging.getLogger("alembic").setLevel(logging.WARNING)
