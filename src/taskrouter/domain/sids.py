"""SIDs: a two-letter prefix and 32 lowercase hex digits (DESIGN, Identifiers)."""

from __future__ import annotations

import os
import random
import re
from enum import StrEnum

from taskrouter.domain.errors import Invalid


class Prefix(StrEnum):
    ACCOUNT = "AC"
    API_KEY = "SK"
    WORKSPACE = "WS"
    ACTIVITY = "WA"
    TASK_CHANNEL = "TC"
    TASK_QUEUE = "WQ"
    WORKER = "WK"
    WORKER_CHANNEL = "WC"
    WORKFLOW = "WW"
    TASK = "WT"
    RESERVATION = "WR"
    EVENT = "EV"


_SID = re.compile(r"^[A-Z]{2}[0-9a-fA-F]{32}$")


# SIDs name things; they are not secrets (credentials guard every object). os.urandom cost
# ~30 µs a call on these machines, a tenth of a request, so SIDs come from a generator seeded
# from it once per process: 128 random bits, collisions as unlikely as with uuid4.
_generator = random.Random(os.urandom(32))
# A forked child must not repeat its parent's sequence.
os.register_at_fork(after_in_child=lambda: _generator.seed(os.urandom(32)))


def new_sid(prefix: Prefix) -> str:
    return f"{prefix.value}{_generator.getrandbits(128):032x}"


def is_sid(value: str, prefix: Prefix) -> bool:
    return value.startswith(prefix.value) and _SID.match(value) is not None


def require_sid(value: str, prefix: Prefix, param: str) -> str:
    """Return `value` when it is a SID of the given kind, else raise Invalid naming `param`."""
    if not is_sid(value, prefix):
        raise Invalid(
            f"{param} must be a {prefix.value} SID ({prefix.value} followed by 32 hex digits),"
            f" got {value!r}",
            param=param,
        )
    return value
