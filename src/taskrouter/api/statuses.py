"""The HTTP status of each kind of core error: the same on every face; each face adds its own
error codes and body shape (DESIGN principle 6)."""

from __future__ import annotations

from taskrouter.domain import errors

_STATUS: list[tuple[type[errors.DomainError], int]] = [
    (errors.NotFound, 404),
    (errors.Unauthenticated, 401),
    (errors.Forbidden, 403),
    (errors.PreconditionFailed, 412),
    (errors.Conflict, 409),
    (errors.Gone, 410),
    (errors.RateLimited, 429),
]


def http_status(exc: errors.DomainError) -> int:
    """400 for invalid input and illegal transitions, and for any kind not listed."""
    return next((status for kind, status in _STATUS if isinstance(exc, kind)), 400)
