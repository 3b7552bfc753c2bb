"""Twilio Access Tokens with a TaskRouter grant: issuing them and checking them.

A token is a JWT signed HS256 with an API key's secret. `iss` names the key, `sub` the account,
and `grants.task_router` the workspace, the worker and a role:

    header  {"alg": "HS256", "typ": "JWT", "cty": "twilio-fpa;v=1"}
    payload {"jti": "SK...-1700000000", "iss": "SK...", "sub": "AC...", "nbf": ..., "exp": ...,
             "grants": {"identity": "...", "task_router": {"workspace_sid": "WS...",
                                                          "worker_sid": "WK...", "role": "worker"}}}

twilio-python's `AccessToken` + `TaskRouterGrant` and twilio-node's make exactly this (node
adds `iat` and leaves out `nbf`). Times are checked against the caller's clock, not the
system's, so a server whose clock tests move judges expiry by that clock. Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import jwt

from taskrouter.domain.errors import Unauthenticated
from taskrouter.domain.sids import Prefix, is_sid

ALGORITHM = "HS256"
CONTENT_TYPE = "twilio-fpa;v=1"
DEFAULT_TTL_S = 3600
MAX_TTL_S = 86_400  # Twilio's own limit for Access Tokens
# Another machine's clock may run a little ahead of ours when it makes a token.
NOT_BEFORE_LEEWAY_S = 60


@dataclass(frozen=True, slots=True)
class TaskRouterGrant:
    """What a checked token allows: one worker of one workspace, until `expires_at_s`."""

    account_sid: str
    key_sid: str
    workspace_sid: str
    worker_sid: str
    role: str
    identity: str | None
    expires_at_s: int


def issue(
    *,
    account_sid: str,
    key_sid: str,
    secret: str,
    workspace_sid: str,
    worker_sid: str,
    now_s: int,
    ttl_s: int = DEFAULT_TTL_S,
    identity: str | None = None,
    role: str = "worker",
) -> str:
    payload: dict[str, Any] = {
        "jti": f"{key_sid}-{now_s}",
        "iss": key_sid,
        "sub": account_sid,
        "nbf": now_s,
        "exp": now_s + ttl_s,
        "grants": {
            "identity": identity or worker_sid,
            "task_router": {"workspace_sid": workspace_sid, "worker_sid": worker_sid, "role": role},
        },
    }
    headers = {"typ": "JWT", "cty": CONTENT_TYPE}
    return jwt.encode(payload, secret, algorithm=ALGORITHM, headers=headers)


SecretOf = Callable[[str], "tuple[str, str] | None"]


def verify(token: str, secret_of: SecretOf, now_s: int) -> TaskRouterGrant:
    """Check signature, expiry and not-before; `secret_of(key_sid)` gives (secret, account).

    Every failure is `Unauthenticated` with a message saying which check failed.
    """
    try:
        unverified = jwt.decode(token, options={"verify_signature": False})
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        raise Unauthenticated("The token is not a well-formed JWT") from None
    if header.get("alg") != ALGORITHM:
        raise Unauthenticated(f"The token must be signed {ALGORITHM}")
    key_sid = unverified.get("iss")
    if not isinstance(key_sid, str) or not is_sid(key_sid, Prefix.API_KEY):
        raise Unauthenticated("The token's issuer (iss) must be an API key SID")
    found = secret_of(key_sid)
    if found is None:
        raise Unauthenticated(f"The token's API key {key_sid} is unknown")
    secret, key_account = found
    try:
        claims = jwt.decode(
            token,
            secret,
            algorithms=[ALGORITHM],
            # Times are judged below against the service's clock.
            options={"verify_exp": False, "verify_nbf": False, "verify_iat": False},
        )
    except jwt.PyJWTError:
        raise Unauthenticated("The token's signature does not match its API key") from None
    exp = claims.get("exp")
    if not isinstance(exp, int) or isinstance(exp, bool):
        raise Unauthenticated("The token has no expiry (exp)")
    if exp <= now_s:
        raise Unauthenticated("The token has expired")
    nbf = claims.get("nbf")
    if isinstance(nbf, int) and nbf > now_s + NOT_BEFORE_LEEWAY_S:
        raise Unauthenticated("The token is not valid yet (nbf)")
    if claims.get("sub") != key_account:
        raise Unauthenticated("The token's account (sub) does not own its API key")
    grants = claims.get("grants")
    task_router = grants.get("task_router") if isinstance(grants, dict) else None
    if not isinstance(task_router, dict):
        raise Unauthenticated("The token carries no TaskRouter grant")
    workspace_sid = task_router.get("workspace_sid")
    worker_sid = task_router.get("worker_sid")
    if not isinstance(workspace_sid, str) or not is_sid(workspace_sid, Prefix.WORKSPACE):
        raise Unauthenticated("The TaskRouter grant names no workspace")
    if not isinstance(worker_sid, str) or not is_sid(worker_sid, Prefix.WORKER):
        raise Unauthenticated("The TaskRouter grant names no worker")
    role = task_router.get("role")
    identity = grants.get("identity") if isinstance(grants, dict) else None
    return TaskRouterGrant(
        account_sid=key_account,
        key_sid=key_sid,
        workspace_sid=workspace_sid,
        worker_sid=worker_sid,
        role=role if isinstance(role, str) else "worker",
        identity=identity if isinstance(identity, str) else None,
        expires_at_s=exp,
    )


def issuer(token: str) -> str | None:
    """The `iss` claim, unchecked: which key's secret to look up before `verify`."""
    try:
        iss = jwt.decode(token, options={"verify_signature": False}).get("iss")
    except jwt.PyJWTError:
        return None
    return iss if isinstance(iss, str) else None
