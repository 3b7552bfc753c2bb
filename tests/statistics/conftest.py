"""The statistics tests run on the routing tests' clocked server: one per module and backend."""

from __future__ import annotations

from routing.conftest import backend, make_world, server, server_database

__all__ = ["backend", "make_world", "server", "server_database"]
