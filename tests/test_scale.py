"""The shortcuts that keep `kb check` fast on large knowledge bases give the same answers."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kb.records.quotes import find_quote, normalise_text
from kb.records.validate import _found_in

pytestmark = pytest.mark.unit

# Plain words, and every kind of text normalise_text changes: markup, curly quotes, ellipses,
# hyphenated line breaks, footnote markers, odd spaces.
PIECES = st.sampled_from(
    ["care", "staff", "data", " ", "  ", "\n", "-\n", "*", "`", "<li>", "’", "…", "...", "¹", "\t"]
)
TEXTS = st.lists(PIECES, min_size=1, max_size=12).map("".join)


@given(quote=TEXTS, source=st.lists(TEXTS, max_size=6).map(" ".join))
def test_found_in_agrees_with_find_quote(quote: str, source: str) -> None:
    normalised = normalise_text(source)
    assert _found_in(quote, normalised) == (find_quote(quote, normalised) >= 0)


def test_plain_quotes_take_the_shortcut() -> None:
    source = normalise_text("Staff said: the data are poor (Smith, 2020).")
    assert _found_in("the data are poor (Smith, 2020).", source)
    assert not _found_in("the data are good", source)
