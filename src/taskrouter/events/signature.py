"""`X-Twilio-Signature`: how a receiver knows a callback came from us.

Twilio's scheme (validated by twilio-python's `RequestValidator`): the full URL we POST to,
followed by every form parameter's name and value, names in sorted order, HMAC-SHA1 keyed by
the account's auth token, base64-encoded.
"""

from __future__ import annotations

import base64
import hmac
from collections.abc import Mapping
from hashlib import sha1

HEADER = "X-Twilio-Signature"


def sign(auth_token: str, url: str, params: Mapping[str, str]) -> str:
    parts = [url]
    for name in sorted(params):
        parts.append(name)
        parts.append(params[name])
    digest = hmac.new(auth_token.encode(), "".join(parts).encode(), sha1).digest()
    return base64.b64encode(digest).decode()
