"""Storage behind one narrow interface: load everything at start, commit batches of changes."""

from taskrouter.store.base import Change, Delete, Put, Store, open_store
from taskrouter.store.errors import StoreClosed, StoreError, StoreUnavailable

__all__ = [
    "Change",
    "Delete",
    "Put",
    "Store",
    "StoreClosed",
    "StoreError",
    "StoreUnavailable",
    "open_store",
]
