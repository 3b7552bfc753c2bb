"""How the commits sharing one transaction become one statement list per table.

Kept apart from the schema and its SQLAlchemy metadata so the SQLite writer process, which
only runs statements it is handed, starts without importing them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

# One validated change: (table, sid, values in TableSpec.all_names order) or values None for
# a delete.
Op = tuple[str, str, tuple[Any, ...] | None]


@dataclass(slots=True)
class TablePlan:
    table: str
    upserts: list[tuple[Any, ...]] = field(default_factory=list)
    deletes: list[str] = field(default_factory=list)


def plan(batches: Iterable[Sequence[Op]]) -> list[TablePlan]:
    """One upsert list and one delete list per table, equivalent to applying `batches` in order.

    Only the last change to a row decides its final state and rows don't depend on each other,
    so keeping the last op per (table, sid) lets each table take one executemany per kind
    whatever the interleaving. It also keeps a statement from touching a row twice, which
    PostgreSQL's ON CONFLICT DO UPDATE refuses.
    """
    last: dict[tuple[str, str], tuple[Any, ...] | None] = {}
    for ops in batches:
        for table, sid, values in ops:
            last[(table, sid)] = values
    plans: dict[str, TablePlan] = {}
    for (table, sid), values in last.items():
        p = plans.get(table)
        if p is None:
            p = plans[table] = TablePlan(table)
        if values is None:
            p.deletes.append(sid)
        else:
            p.upserts.append(values)
    return list(plans.values())
