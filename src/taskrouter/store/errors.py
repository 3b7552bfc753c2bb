"""What a store raises when a commit cannot be made durable.

A change the schema rejects raises ValueError before anything is queued. These are for the
database's own refusals and for losing it; the driver's exception is kept as `__cause__`.
"""

from __future__ import annotations


class StoreError(Exception):
    """The database refused or failed a commit; none of that commit's changes were applied."""


class StoreUnavailable(StoreError):
    """The database could not be reached, or the connection broke during the commit.

    When the connection broke while COMMIT was in flight the outcome is unknown to us: the
    changes are all applied or none are, never part. Upserts and deletes are idempotent, so
    the caller may simply commit the same changes again.
    """


class StoreClosed(StoreError):
    """The store was closed (or never opened) before this commit was queued."""
