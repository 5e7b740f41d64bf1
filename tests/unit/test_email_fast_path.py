"""normalise_email's cached-domain path gives email-validator's answer exactly (issue 7: the
import of ten million customers checks each address; DEF-5 keys contacts of record on it)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from cpniguard.customers.model import _normalise_email, normalise_email
from cpniguard.errors import InvalidInput

ATEXT = "abcXYZ019!#$%&'*+/=?^_`{|}~-"
local_parts = st.one_of(
    st.text(alphabet=ATEXT + ".", min_size=0, max_size=70),
    st.text(min_size=0, max_size=12),  # anything: quotes, spaces, non-ASCII, "@"
)
labels = st.text(alphabet="abcXYZ09-", min_size=0, max_size=64)
domains = st.one_of(
    st.lists(labels, min_size=1, max_size=5).map(".".join),
    st.sampled_from(["example.com", "EXAMPLE.com", "xn--bcher-kva.example", "localhost", "a.invalid", "[127.0.0.1]"]),
    st.text(min_size=0, max_size=12),
)


def answer(normalise: object, text: str) -> str:
    try:
        return normalise(text)  # type: ignore[operator]
    except InvalidInput as exc:
        return f"refused: {exc}"


@settings(max_examples=600, deadline=None)
@given(local_parts, domains)
def test_the_fast_path_answers_exactly_as_email_validator(local: str, domain: str) -> None:
    text = f"{local}@{domain}"
    assert answer(normalise_email, text) == answer(_normalise_email, text)


@given(st.text(max_size=30))
def test_any_text_is_answered_alike(text: str) -> None:
    assert answer(normalise_email, text) == answer(_normalise_email, text)


def test_long_addresses_are_refused_alike() -> None:
    for text in ("a" * 64 + "@example.com", "a" * 65 + "@example.com", "a@" + ".".join(["b" * 60] * 4) + ".com"):
        assert answer(normalise_email, text) == answer(_normalise_email, text)
