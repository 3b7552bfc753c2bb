"""The storage interface the service talks to.

The engine keeps live state in memory; the store makes every change durable before the reply
(DESIGN principle 3) and hands everything back at start (principle 7). Rows are plain dicts:
a few indexed columns plus `body`, the entity's full record as JSON-ready data.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(frozen=True, slots=True)
class Put:
    """Insert or replace the row `sid` of `table`; `row` maps column names to values."""

    table: str
    sid: str
    row: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Delete:
    table: str
    sid: str


Change = Put | Delete


class Store(Protocol):
    url: str

    async def open(self) -> None:
        """Connect and bring the schema to the newest migration."""

    async def close(self) -> None:
        """Finish in-flight commits, then disconnect."""

    async def commit(self, changes: Sequence[Change]) -> None:
        """Return once `changes` are durable, all or none; concurrent calls share one commit."""

    async def load(self, table: str) -> list[dict[str, Any]]:
        """Every row of `table`, each as a dict of its columns with `body` decoded."""

    async def get(self, table: str, sid: str) -> dict[str, Any] | None:
        """The row `sid` of `table` as `load` shapes it, or None."""

    async def query(
        self,
        table: str,
        where: Mapping[str, Any],
        *,
        order_by: str | None = None,
        limit: int | None = None,
    ) -> list[dict[str, Any]]:
        """Rows whose columns equal `where` (None matches NULL), ordered by `order_by`
        (`-column` for descending; `sid` breaks ties and is the default), at most `limit`."""


def open_store(url: str) -> Store:
    """The store for a database URL: `sqlite:///path` or `postgresql://user@host:port/db`."""
    if url.startswith("sqlite:"):
        from taskrouter.store.sqlite import SQLiteStore

        return SQLiteStore(url)
    if url.startswith(("postgresql:", "postgres:")):
        from taskrouter.store.postgres import PostgresStore

        return PostgresStore(url)
    raise ValueError(f"unsupported database URL {url!r}: use sqlite:///path or postgresql://...")
