"""Checking Access Tokens (pure): what twilio-python and twilio-node make is accepted, and
each way a token can be wrong is refused with a message that says which."""

from __future__ import annotations

import jwt
import pytest

from support.server import Credentials
from taskrouter.auth.access_tokens import issue, verify
from taskrouter.domain.errors import Unauthenticated
from worker_sdk.sdk import worker_token

ACCOUNT = "AC" + "1" * 32
KEY = Credentials("SK" + "2" * 32, "s" * 64, ACCOUNT)
WS = "WS" + "3" * 32
WK = "WK" + "4" * 32
NOW = 1_767_225_600


def _secret_of(sid: str) -> tuple[str, str] | None:
    return (KEY.secret, ACCOUNT) if sid == KEY.sid else None


def _node_style(**changes: object) -> str:
    """Claims as twilio-node writes them: `iat`, no `nbf`."""
    claims: dict[str, object] = {
        "jti": f"{KEY.sid}-{NOW}",
        "iss": KEY.sid,
        "sub": ACCOUNT,
        "iat": NOW,
        "exp": NOW + 3600,
        "grants": {"identity": "w", "task_router": {"workspace_sid": WS, "worker_sid": WK}},
    }
    claims.update(changes)
    return jwt.encode(claims, KEY.secret, algorithm="HS256", headers={"cty": "twilio-fpa;v=1"})


def test_tokens_of_both_official_libraries_and_our_own_are_accepted() -> None:
    for token in (
        worker_token(KEY, WS, WK, NOW),
        _node_style(),
        issue(
            account_sid=ACCOUNT,
            key_sid=KEY.sid,
            secret=KEY.secret,
            workspace_sid=WS,
            worker_sid=WK,
            now_s=NOW,
        ),
    ):
        grant = verify(token, _secret_of, NOW + 10)
        assert (grant.account_sid, grant.workspace_sid, grant.worker_sid) == (ACCOUNT, WS, WK)
        assert grant.role == "worker"
        assert grant.expires_at_s == NOW + 3600


@pytest.mark.parametrize(
    ("token", "now", "message"),
    [
        ("not a jwt", NOW, "not a well-formed JWT"),
        (_node_style(), NOW + 3600, "has expired"),
        (worker_token(KEY, WS, WK, NOW + 120), NOW, "not valid yet"),
        (_node_style(iss="SK" + "9" * 32), NOW, "is unknown"),
        (_node_style(iss=ACCOUNT), NOW, "must be an API key SID"),
        (_node_style(sub="AC" + "8" * 32), NOW, "does not own its API key"),
        (_node_style(grants={"identity": "w"}), NOW, "no TaskRouter grant"),
        (_node_style(grants={"task_router": {"workspace_sid": WS}}), NOW, "names no worker"),
        (_node_style(exp=None), NOW, "no expiry"),
        (
            jwt.encode({"iss": KEY.sid, "exp": NOW + 60}, KEY.secret, algorithm="HS512"),
            NOW,
            "must be signed HS256",
        ),
        (_node_style()[:-4] + "AAAA", NOW, "signature does not match"),
    ],
)
def test_a_wrong_token_is_refused_saying_why(token: str, now: int, message: str) -> None:
    with pytest.raises(Unauthenticated) as refused:
        verify(token, _secret_of, now)
    assert message in refused.value.message


def test_a_token_from_a_clock_slightly_ahead_is_accepted() -> None:
    assert verify(worker_token(KEY, WS, WK, NOW + 30), _secret_of, NOW).worker_sid == WK
