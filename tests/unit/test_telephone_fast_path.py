"""normalise_telephone_number's path for +1 numbers gives libphonenumber's full answer exactly
(issue 7: an import checks every number of every line; DEF-6 keys numbers of record on it)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from cpniguard.customers.model import _normalise_telephone_number, normalise_telephone_number
from cpniguard.errors import InvalidInput

ten_digits = st.text(alphabet="0123456789", min_size=10, max_size=10)
numbers = st.one_of(
    ten_digits.map(lambda d: "+1" + d),
    st.text(alphabet="0123456789", min_size=0, max_size=13).map(lambda d: "+1" + d),
    ten_digits.map(lambda d: "+1 " + d),
    st.text(alphabet="+0123456789 -()", max_size=16),
)


def answer(normalise: object, text: str) -> str:
    try:
        return normalise(text)  # type: ignore[operator]
    except InvalidInput as exc:
        return f"refused: {exc}"


@settings(max_examples=1000, deadline=None)
@given(numbers)
def test_the_fast_path_answers_exactly_as_libphonenumber(text: str) -> None:
    assert answer(normalise_telephone_number, text) == answer(_normalise_telephone_number, text)


def test_known_numbers() -> None:
    assert normalise_telephone_number("+12025550123") == "+12025550123"
    for text in ("+11025550123", "+15555550123", "+1202555012"):
        assert answer(normalise_telephone_number, text) == answer(_normalise_telephone_number, text)
