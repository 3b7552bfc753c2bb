"""The schema, declared once for both dialects.

This metadata is what the migrations must produce (a test compares the two); the stores read it
to validate changes and to build their raw SQL. Every table has a text `sid` primary key and a
`body` holding the entity's full JSON record; the other columns exist only to be filtered,
indexed or ordered on.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import BigInteger, Column, Index, Integer, MetaData, Table, Text, text

metadata = MetaData()

# The predicate of an event owed a callback, as the courier's queries spell it.
OWED = "callback_url IS NOT NULL"

# Indexes built on PostgreSQL only.
POSTGRES_ONLY: set[str] = set()


def _postgres_only(index: Index) -> Index:
    """PostgreSQL, with no statistics on a young log, read every owed event since a lane's
    last one and sorted them to return the first hundred (38,591 rows, 83 ms), and a read
    after a spell with no callbacks owed walked every event of that spell (274-309 ms).
    SQLite walks the key between the two bounds for the same reads, which reads what they
    return; there these indexes would only cost each commit (+25-35 us of CPU per task of
    five owed events)."""
    assert index.name is not None
    POSTGRES_ONLY.add(index.name)
    return index.ddl_if(dialect="postgresql")


def _sid() -> Column[str]:
    return Column("sid", Text, primary_key=True)


def _body() -> Column[str]:
    return Column("body", Text, nullable=False)


def _text(name: str, *, nullable: bool = False) -> Column[str]:
    return Column(name, Text, nullable=nullable)


def _bigint(name: str, *, nullable: bool = False) -> Column[int]:
    return Column(name, BigInteger, nullable=nullable)


def _workspace_child(name: str) -> Table:
    return Table(
        name,
        metadata,
        _sid(),
        _text("account_sid"),
        _text("workspace_sid"),
        _body(),
        Index(f"ix_{name}_workspace_sid", "workspace_sid"),
    )


accounts = Table(
    "accounts",
    metadata,
    _sid(),
    _text("friendly_name"),
    _text("auth_token"),
    _text("email", nullable=True),
    _text("status"),
    _text("date_created"),
    _body(),
)

api_keys = Table(
    "api_keys",
    metadata,
    _sid(),
    _text("account_sid"),
    _text("secret"),
    _text("friendly_name"),
    _text("date_created"),
    _body(),
    Index("ix_api_keys_account_sid", "account_sid"),
)

workspaces = Table(
    "workspaces",
    metadata,
    _sid(),
    _text("account_sid"),
    _body(),
    Index("ix_workspaces_account_sid", "account_sid"),
)

activities = _workspace_child("activities")
task_channels = _workspace_child("task_channels")
task_queues = _workspace_child("task_queues")
workflows = _workspace_child("workflows")
workers = _workspace_child("workers")

worker_channels = Table(
    "worker_channels",
    metadata,
    _sid(),
    _text("account_sid"),
    _text("workspace_sid"),
    _text("worker_sid"),
    _body(),
    Index("ix_worker_channels_workspace_sid", "workspace_sid"),
    Index("ix_worker_channels_worker_sid", "worker_sid"),
)

# The two composite indexes lead with workspace_sid, so they also serve plain workspace lookups;
# a separate single-column index would only cost writes on the hottest table.
tasks = Table(
    "tasks",
    metadata,
    _sid(),
    _text("account_sid"),
    _text("workspace_sid"),
    _text("assignment_status"),
    _bigint("date_created_ms"),
    _bigint("date_closed_ms", nullable=True),
    _body(),
    Index("ix_tasks_workspace_sid_assignment_status", "workspace_sid", "assignment_status"),
    Index("ix_tasks_workspace_sid_date_closed_ms", "workspace_sid", "date_closed_ms"),
)

reservations = Table(
    "reservations",
    metadata,
    _sid(),
    _text("account_sid"),
    _text("workspace_sid"),
    _text("task_sid"),
    _text("worker_sid"),
    _text("reservation_status"),
    _bigint("date_created_ms"),
    _body(),
    Index("ix_reservations_task_sid", "task_sid"),
    Index("ix_reservations_worker_sid", "worker_sid"),
)

events = Table(
    "events",
    metadata,
    _sid(),
    _text("account_sid"),
    _text("workspace_sid"),
    _text("event_type"),
    _bigint("event_date_ms"),
    _text("resource_sid"),
    _body(),
    # Where the event's callback goes, when it is owed one (the workspace's EventCallbackUrl
    # when it happened, and the type passed its EventsFilter); NULL otherwise. The delivery
    # courier reads the owed events from here, after its cursors: no row per delivery.
    _text("callback_url", nullable=True),
    Index("ix_events_workspace_sid_event_date_ms", "workspace_sid", "event_date_ms"),
    # The events owed a callback alone, in SID order and per workspace in SID order, on
    # PostgreSQL (see `_postgres_only`): what the courier reads, what a lane that spilled
    # reads back, and what it counts of it.
    _postgres_only(Index("ix_events_owed", "sid", postgresql_where=text(OWED))),
    _postgres_only(
        Index("ix_events_owed_by_workspace", "workspace_sid", "sid", postgresql_where=text(OWED))
    ),
)

# How far event callbacks have gone: one row per workspace (sid = the workspace's sid, body
# {"event_sid": the last event delivered or given up}), and one row "floor" (body
# {"event_sid": ...}: every owed event below it is done), which is where reading resumes.
delivery_cursors = Table(
    "delivery_cursors",
    metadata,
    _sid(),
    _body(),
)

# Assignment callbacks owed, and event callbacks given up (or asked for again); the delivery
# loop asks for pending rows that are due, which this index answers without a scan.
outbox = Table(
    "outbox",
    metadata,
    _sid(),
    _text("workspace_sid"),
    _text("kind"),
    _bigint("created_ms"),
    _bigint("next_attempt_ms"),
    Column("attempts", Integer, nullable=False),
    _text("status"),
    _body(),
    Index("ix_outbox_status_next_attempt_ms", "status", "next_attempt_ms"),
)


@dataclass(frozen=True, slots=True)
class ColumnSpec:
    name: str
    kind: str  # "text", "int32" or "int64": what a value must be before it reaches a driver
    nullable: bool


@dataclass(frozen=True, slots=True)
class TableSpec:
    """A table as the stores see it: `columns` is every column but `sid`, in schema order."""

    name: str
    columns: tuple[ColumnSpec, ...]
    column_names: tuple[str, ...]
    all_names: tuple[str, ...]  # "sid" first, then column_names
    name_set: frozenset[str]  # all_names, for validating rows quickly


def _kind(column: Column[object]) -> str:
    if isinstance(column.type, BigInteger):
        return "int64"
    if isinstance(column.type, Integer):
        return "int32"
    return "text"


def _spec(table: Table) -> TableSpec:
    columns = tuple(
        ColumnSpec(c.name, _kind(c), bool(c.nullable)) for c in table.columns if c.name != "sid"
    )
    names = tuple(c.name for c in columns)
    return TableSpec(table.name, columns, names, ("sid", *names), frozenset(("sid", *names)))


TABLES: dict[str, TableSpec] = {t.name: _spec(t) for t in metadata.sorted_tables}
