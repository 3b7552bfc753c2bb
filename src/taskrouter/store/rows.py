"""Turning changes into driver-ready rows, and rows back into dicts; shared by both stores.

Validation happens here, in the committing caller, so a change the schema rejects raises
ValueError to its own caller and never reaches the writer's shared transaction.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson

from taskrouter.store.base import Change, Delete, Put
from taskrouter.store.plans import Op
from taskrouter.store.schema import TABLES, TableSpec

_LIMITS = {"int32": 2**31, "int64": 2**63}
_INT64 = 2**63


@dataclass(slots=True)
class StoreStats:
    """Counters for tests, benchmarks and metrics; only the writer updates them."""

    commits: int = 0  # commit() calls acknowledged as durable
    transactions: int = 0  # database transactions committed
    changes: int = 0  # changes in acknowledged commits
    failed_commits: int = 0
    # commit() calls per committed transaction (the group-commit batch) -> transactions
    batch_sizes: dict[int, int] = field(default_factory=dict)

    def transaction(self, commits: int) -> None:
        """Count one committed transaction that carried `commits` commit() calls."""
        self.transactions += 1
        self.batch_sizes[commits] = self.batch_sizes.get(commits, 0) + 1


def table_spec(table: str) -> TableSpec:
    spec = TABLES.get(table)
    if spec is None:
        raise ValueError(f"unknown table {table!r}")
    return spec


def _check_sid(sid: object, table: str) -> str:
    if not isinstance(sid, str) or not sid or "\x00" in sid:
        raise ValueError(f"{table}: sid must be a non-empty string, got {sid!r}")
    return sid


def check_value(spec: TableSpec, column: str, kind: str, nullable: bool, value: Any) -> Any:
    """`value` if it suits the column; the same rules on both backends keep them alike."""
    if value is None:
        if nullable:
            return None
        raise ValueError(f"{spec.name}.{column} may not be null")
    if kind == "text":
        # PostgreSQL text cannot hold NUL; SQLite could, so refuse it on both.
        if isinstance(value, str) and "\x00" not in value:
            return value
        raise ValueError(f"{spec.name}.{column} must be a string without NUL, got {value!r}")
    limit = _LIMITS[kind]
    if type(value) is int and -limit <= value < limit:
        return value
    raise ValueError(f"{spec.name}.{column} must be a {kind} integer, got {value!r}")


def _put_values(change: Put) -> tuple[Any, ...]:
    spec = table_spec(change.table)
    sid = _check_sid(change.sid, spec.name)
    row = change.row
    if not spec.name_set.issuperset(row):
        unknown = sorted(row.keys() - spec.name_set)
        raise ValueError(f"{spec.name}: unknown column(s) {unknown}")
    if row.get("sid", sid) != sid:
        raise ValueError(f"{spec.name}: row sid {row['sid']!r} differs from Put.sid {sid!r}")
    values: list[Any] = [sid]
    append = values.append
    # Every row of every commit passes here, so the common cases are tested inline and
    # check_value only sees what may be wrong.
    for column in spec.columns:
        name = column.name
        value = row.get(name)
        kind = column.kind
        if name == "body":
            if not isinstance(value, dict | list):
                raise ValueError(f"{spec.name}.body must be a dict or a list, got {value!r}")
            try:
                append(orjson.dumps(value).decode())
            except orjson.JSONEncodeError as exc:
                raise ValueError(f"{spec.name}.body is not JSON-serialisable: {exc}") from exc
        elif (kind == "text" and type(value) is str and "\x00" not in value) or (
            kind == "int64" and type(value) is int and -_INT64 <= value < _INT64
        ):
            append(value)
        else:
            append(check_value(spec, name, kind, column.nullable, value))
    return tuple(values)


def prepare(changes: Sequence[Change]) -> list[Op]:
    """Validate and encode `changes`; raises ValueError naming the first bad one."""
    ops: list[Op] = []
    for change in changes:
        if isinstance(change, Put):
            ops.append((change.table, change.sid, _put_values(change)))
        elif isinstance(change, Delete):
            spec = table_spec(change.table)
            ops.append((spec.name, _check_sid(change.sid, spec.name), None))
        else:
            raise ValueError(f"not a change: {change!r}")
    return ops


def decode(names: Sequence[str], record: Sequence[Any]) -> dict[str, Any]:
    row = dict(zip(names, record, strict=True))
    row["body"] = orjson.loads(row["body"])
    return row


@dataclass(frozen=True, slots=True)
class Select:
    """A validated query: the column names to filter on, and ORDER BY terms as (column, desc)."""

    spec: TableSpec
    equal: tuple[tuple[str, Any], ...]
    null: tuple[str, ...]
    order: tuple[tuple[str, bool], ...]
    limit: int | None


def select(table: str, where: Mapping[str, Any], order_by: str | None, limit: int | None) -> Select:
    """Check a query against the schema; `order_by` is a column, `-column` for descending.

    Rows are always ordered (by `sid` last) so both backends return the same page.
    """
    spec = table_spec(table)
    filterable = {c.name: c for c in spec.columns if c.name != "body"}
    equal: list[tuple[str, Any]] = []
    null: list[str] = []
    for name, value in where.items():
        if name == "sid":
            equal.append(("sid", _check_sid(value, spec.name)))
            continue
        column = filterable.get(name)
        if column is None:
            raise ValueError(f"{spec.name}: cannot filter on {name!r}")
        if value is None:
            null.append(name)
        else:
            equal.append((name, check_value(spec, name, column.kind, False, value)))
    order: list[tuple[str, bool]] = []
    if order_by is not None:
        name = order_by.removeprefix("-")
        if name != "sid" and name not in filterable:
            raise ValueError(f"{spec.name}: cannot order by {order_by!r}")
        order.append((name, order_by.startswith("-")))
    if not order or order[0][0] != "sid":
        order.append(("sid", order[0][1] if order else False))
    if limit is not None and (type(limit) is not int or limit < 0):
        raise ValueError(f"limit must be a non-negative integer, got {limit!r}")
    return Select(spec, tuple(equal), tuple(null), tuple(order), limit)


def order_term(q: Select, column: str, desc: bool, collate: str = "") -> str:
    """One ORDER BY term; `collate` is appended to text columns (PostgreSQL passes ' COLLATE "C"'
    so text sorts by code point, as SQLite's BINARY does)."""
    spec = next((c for c in q.spec.columns if c.name == column), None)
    term = column + (collate if spec is None or spec.kind == "text" else "")
    term += " DESC" if desc else " ASC"
    if spec is not None and spec.nullable:
        # PostgreSQL's defaults, spelled out so SQLite places NULLs the same way.
        term += " NULLS FIRST" if desc else " NULLS LAST"
    return term
