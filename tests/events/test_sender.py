"""A callback's form body is what `urlencode` would make of it, for any text."""

from __future__ import annotations

from urllib.parse import urlencode

from hypothesis import given
from hypothesis import strategies as st

from taskrouter.events.sender import form_body

names = st.from_regex(r"[A-Z][A-Za-z]{0,20}", fullmatch=True)


@given(st.dictionaries(names, st.text(max_size=100), max_size=12))
def test_form_body_is_urlencode(params: dict[str, str]) -> None:
    assert form_body(params) == urlencode(params).encode()


def test_non_ascii_letters_are_encoded() -> None:
    # str.isalnum() is true of "é": the fast path must not let it through raw.
    assert form_body({"WorkerName": "José"}) == b"WorkerName=Jos%C3%A9"
    assert form_body({"WorkerName": "José"}) == b"WorkerName=Jos%C3%A9"  # kept form too
