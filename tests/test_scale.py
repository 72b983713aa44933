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


PASSAGE = (
    "Managers in the health service should publish recruitment targets for every band and "
    "report their progress to the board each year"
)


@pytest.mark.parametrize(
    ("quotes", "groups"),
    [
        # one quote's part (six words or more) inside another's, in the same text
        ([("a", "t", PASSAGE), ("b", "t", PASSAGE[12:80])], [["a", "b"]]),
        # a part cut in the middle of a word at either end still counts
        ([("a", "t", PASSAGE), ("b", "t", "agers in the health service should publish recruitm")],
         [["a", "b"]]),
        # the same words in another text are another passage
        ([("a", "t", PASSAGE), ("b", "u", PASSAGE)], []),
        # parts shorter than six words say nothing of which passage they are
        ([("a", "t", f"{PASSAGE} … These include:"), ("b", "t", "These include: five")], []),
        # parts between ellipses are compared one by one; grouping carries through a third
        ([("a", "t", f"{PASSAGE[:60]} … unrelated words that run on for six or more"),
          ("c", "t", "nothing in common with the rest of the quotes here at all"),
          ("b", "t", f"unrelated words that run on for six or more … and more {PASSAGE[70:]}"),
          ("d", "t", PASSAGE[70:])],
         [["a", "b", "d"]]),
    ],
)  # fmt: skip
def test_shared_passages(quotes: list[tuple[str, str, str]], groups: list[list[str]]) -> None:
    from kb.records.quotes import shared_passages

    assert shared_passages(quotes) == groups
