"""The one error vocabulary of the core (DESIGN principle 6).

Faces map each kind to their own wire format; the core never knows which face asked.
"""

from __future__ import annotations


class DomainError(Exception):
    """Base of every error the service raises on purpose.

    `param` names the request parameter at fault, when there is one, so a face can say which.
    """

    def __init__(self, message: str, *, param: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.param = param


class NotFound(DomainError):
    """The resource does not exist, or belongs to another account."""


class Conflict(DomainError):
    """The request clashes with existing state (a duplicate name, a resource in use)."""


class Invalid(DomainError):
    """A parameter is malformed, missing or out of range."""


class PreconditionFailed(DomainError):
    """An `If-Match` version did not match the current one."""


class IllegalTransition(DomainError):
    """A lifecycle does not allow the asked-for change from the current state."""


class Gone(DomainError):
    """The object was superseded (a rescinded reservation being accepted)."""


class RateLimited(DomainError):
    """Too many requests; `retry_after` seconds until the next may pass."""

    def __init__(self, message: str, *, retry_after: int = 1) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class Unauthenticated(DomainError):
    """Credentials were missing or wrong."""


class Forbidden(DomainError):
    """The credentials are valid but do not reach this resource."""
