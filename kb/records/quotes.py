"""Find verbatim quotes in a source's text, forgiving only the damage PDF extraction does.

Quotes in records are copied from the source report, whose text was extracted from a PDF:
line breaks fall mid-sentence, words are hyphenated across lines, quote marks come curly or
straight, ligatures are single characters, emphasis is marked with ``**``, footnote markers are
superscript digits and a few lists arrived as stray HTML. ``normalise_text`` removes exactly
those differences, so a quote still has to match the source word for word.

A quote may leave words out with an ellipsis (``…`` or ``...``): each part must then appear in
the source, in order. That is how a reviewer quotes across a footnote that the PDF put in the
middle of a sentence.
"""

import functools
import re
import unicodedata
from collections import Counter

_FOOTNOTE_MARKERS = dict.fromkeys(map(ord, "⁰¹²³⁴⁵⁶⁷⁸⁹"), None)
_CHARACTER_FOLDS = str.maketrans(
    {
        "‘": "'",
        "’": "'",
        "‚": "'",
        "‛": "'",
        "`": "'",
        "“": '"',
        "”": '"',
        "„": '"',
        "‟": '"',
        "–": "-",
        "—": "-",
        "‐": "-",
        "‑": "-",
        "−": "-",
        "•": " ",
        "*": "",
        "\u00a0": " ",
        "\u00ad": "",
    }
)
# ``[^<>]*`` rather than ``[^>]*``: an unclosed "<li" then stops at the next "<", so text full
# of them is still read in linear time.
_LIST_MARKUP = re.compile(r"</?(?:ul|ol|li)\b[^<>]*>", re.IGNORECASE)
_HYPHENATED_BREAK = re.compile(r"(\w)-[ \t]*\r?\n\s*(\w)")
_WHITESPACE = re.compile(r"\s+")
# No ``\s*`` around it (each part is normalised, which strips it): with them, a quote with a
# long run of spaces took time quadratic in its length.
_ELLIPSIS = re.compile(r"…|\.\.\.")
# Removing one piece of noise can reveal another ("<l*i>" is a list tag once "*" goes), so the
# steps repeat until nothing changes; real text needs two passes, and crafted text no more.
_MAX_PASSES = 4


def normalise_text(text: str) -> str:
    """Return ``text`` with PDF-extraction noise removed, for comparing quotes with sources.

    Normalising normalised text changes nothing.
    """
    for _ in range(_MAX_PASSES):
        normalised = _normalise_once(text)
        if normalised == text:
            break
        text = normalised
    return text


def _normalise_once(text: str) -> str:
    text = text.translate(_FOOTNOTE_MARKERS)
    text = unicodedata.normalize("NFKC", text)
    text = _LIST_MARKUP.sub(" ", text)
    text = text.translate(_CHARACTER_FOLDS)
    text = _HYPHENATED_BREAK.sub(r"\1\2", text)
    return _WHITESPACE.sub(" ", text).strip()


def quote_parts(quote: str) -> list[str]:
    """Split a quote at its ellipses into the normalised parts that must each be found."""
    return [part for part in (normalise_text(p) for p in _ELLIPSIS.split(quote)) if part]


def find_quote(quote: str, normalised_source: str) -> int:
    """Return where ``quote`` starts in the already-normalised source, or -1 if it is absent.

    Every part of an elided quote must appear after the one before it.
    """
    parts = quote_parts(quote)
    if not parts:
        return -1
    start = position = normalised_source.find(parts[0])
    if start < 0:
        return -1
    position += len(parts[0])
    for part in parts[1:]:
        position = normalised_source.find(part, position)
        if position < 0:
            return -1
        position += len(part)
    return start


# A part of a quote this short ("These include:") says nothing about which passage it is.
_SHORTEST_SHARED_PART = 6


def shared_passages(quotes: list[tuple[str, str, str]]) -> list[list[str]]:
    """``passages_shared`` of ``quotes``: asked of each statement by the English and Welsh
    briefs and brief pages alike, it is worked out once."""
    return [list(group) for group in passages_shared(tuple(quotes))]


@functools.lru_cache(maxsize=4096)
def passages_shared(quotes: tuple[tuple[str, str, str], ...]) -> tuple[tuple[str, ...], ...]:
    """Group quotes that rest on the same passage of the same text.

    ``quotes`` holds (key, text ID, quote). Two quotes share a passage when, in the same text,
    a part of one (between ellipses, at least six words) holds a part of the other. Returns
    each group of two or more keys, in the order first met; a key in no group is its own
    passage.

    Only pairs that could share a passage are compared: a part held in another holds its
    inner words (all but the first and last, which may be cut) as whole words of the other,
    so the two share the first four of them. Comparing every pair instead grew with the
    square of a statement's links: most of a 10,000-study site's pages step.
    """
    parts = [
        (key, text, [p for p in quote_parts(quote) if len(p.split()) >= _SHORTEST_SHARED_PART])
        for key, text, quote in quotes
    ]
    group_of = {key: index for index, (key, _, _) in enumerate(parts)}

    def root(index: int) -> int:
        while group_of[parts[index][0]] != index:
            index = group_of[parts[index][0]]
        return index

    quoted = Counter(text for _, text, own in parts if own)
    holding: dict[tuple[str, tuple[str, ...]], set[int]] = {}  # (text, four words) → quotes
    for index, (_, text, own) in enumerate(parts):
        if quoted[text] < 2:  # the only quote of its text shares no passage
            continue
        for part in own:
            words = part.split()
            for start in range(len(words) - 3):
                holding.setdefault((text, tuple(words[start : start + 4])), set()).add(index)
    for first, (_, text, own) in enumerate(parts):
        if quoted[text] < 2:
            continue
        candidates = {
            second
            for part in own
            for second in holding.get((text, tuple(part.split()[1:5])), ())
            if second != first
        }
        for second in sorted(candidates):
            low, high = sorted((root(first), root(second)))
            if low != high and any(a in b or b in a for a in own for b in parts[second][2]):
                group_of[parts[high][0]] = low
    groups: dict[int, list[str]] = {}
    for index, (key, _, _) in enumerate(parts):
        groups.setdefault(root(index), []).append(key)
    return tuple(tuple(members) for members in groups.values() if len(members) > 1)
