"""Spelling: which words of a query to correct, and what to suggest for them.

A word is corrected only when neither the index nor English knows it: a word the index does
not hold but English does ("maternal", "drafting") is searched as typed, with no suggestion,
so that a correct word is never "corrected" into another one ("material", "drawing") that
happens to be in the knowledge base. English is a kept word list, shipped as package data:

- ``kb/data/english-words.txt``: the words of SCOWL (Kevin Atkinson's Spell Checker Oriented
  Word Lists, the lists behind Debian's ``wbritish`` and ``wamerican`` and the Hunspell
  dictionaries) up to size 60, the size SCOWL recommends for spell checking, in British,
  British -ize, American and common variant spellings, with their inflected forms; see
  ``english-words-copyright.txt`` for its permissive licence. Regenerate it with
  ``python -m kb.search.spelling SCOWL_FOLDER > kb/data/english-words.txt``.
- ``kb/data/extra-words.txt``: a short reviewed list of health and social care words that
  SCOWL lacks (wellbeing, whistleblowing, minoritised...).

Both are read once, the first time a word unknown to the index is met. Every word is kept
as the query analyser sees it (lower case, accents folded, hyphens and apostrophes joined),
so a word typed in any of those forms is found. Suggestions come from the index's own
vocabulary (Whoosh's corrector), as before.
"""

import re
import sys
from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import Any

from kb.search.analysis import _SPELLING_ANALYZER, _runs, _stems, _synonym_phrases

DATA = Path(__file__).parent.parent / "data"
ENGLISH_WORDS_FILE = DATA / "english-words.txt"
EXTRA_WORDS_FILE = DATA / "extra-words.txt"
# SCOWL's size for spell checking: larger sizes add rare words that hide real misspellings.
SCOWL_SIZE = 60
SCOWL_CATEGORIES = (
    *("english", "british", "british_z", "american", "variant_1"),
    "british_variant_1",
)
# Words shorter than this are never corrected: too many are a letter from another word.
MIN_CORRECTED = 4


def spelling_form(word: str) -> str | None:
    """The word as the query analyser keeps it for spelling, or None if it makes no one word."""
    forms = [token.text for token in _SPELLING_ANALYZER(word, mode="query")]
    return forms[0] if len(forms) == 1 else None


def _read_words(path: Path) -> Iterable[str]:
    for line in path.read_text(encoding="utf-8").splitlines():
        word = line.split("#", 1)[0].strip()
        if word:
            yield word


@cache
def english_words() -> frozenset[str]:
    """The kept English word list and the reviewed extra words, in their spelling form."""
    words = set(_read_words(ENGLISH_WORDS_FILE))
    words.update(form for word in _read_words(EXTRA_WORDS_FILE) if (form := spelling_form(word)))
    return frozenset(words)


def is_english(word: str) -> bool:
    """True when the word (in its spelling form) is in the kept English word list."""
    return word in english_words()


def correct(text: str, searcher: Any) -> str:
    """The query with words unknown to the index and to English replaced by a suggestion.

    The suggestion is Whoosh's closest word of the index (one letter apart, or two for words
    of six letters or more). Words covered by a synonym are never corrected.
    """
    reader = searcher.reader()
    corrector = searcher.corrector("spell")
    synonym_stems = {stem for stems in _synonym_phrases() for stem in stems}
    replacements = []
    for run in _runs(text):
        for word in run:
            spelled = spelling_form(word.text)
            if spelled is None or len(spelled) < MIN_CORRECTED or not spelled.isalpha():
                continue
            stems = _stems(word.text)
            if not stems or synonym_stems.intersection(stems) or ("spell", spelled) in reader:
                continue
            if any((name, stems[0]) in reader for name in ("title", "text", "context")):
                continue
            if is_english(spelled):  # a real word the knowledge base happens not to hold
                continue
            # Whoosh ranks suggestions within maxdist by frequency alone: try one edit first.
            for maxdist in (1, 2) if len(spelled) >= 6 else (1,):
                suggestions = corrector.suggest(spelled, limit=1, maxdist=maxdist, prefix=1)
                if suggestions:
                    replacements.append((word.start, word.end, suggestions[0]))
                    break
    for start, end, new in sorted(replacements, reverse=True):
        text = text[:start] + new + text[end:]
    return text


# --- Regenerating the word list ----------------------------------------------------------------

_SCOWL_FILE = re.compile(r"(?P<category>[a-z_0-9]+)-words\.(?P<size>\d+)")


def scowl_words(folder: Path, size: int = SCOWL_SIZE) -> list[str]:
    """The spelling forms of SCOWL's word lists in ``folder`` (its ``final/`` lists, or
    Debian's ``/usr/share/dict/scowl``) up to ``size``, sorted: english-words.txt's lines.

    Proper names, abbreviations and upper-case words are left out: a query's names are
    checked against the index, and "Schwarz" should still find "Schwartz".
    """
    words: set[str] = set()
    for path in sorted(folder.iterdir()):
        found = _SCOWL_FILE.fullmatch(path.name)
        if not found or found["category"] not in SCOWL_CATEGORIES or int(found["size"]) > size:
            continue
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
            word = line.strip()
            if not word or not word[0].islower() or re.search(r"['’]s$", word):
                continue  # upper-case words and possessives
            form = spelling_form(word)
            if form and form.isalpha() and form.isascii():
                words.add(form)
    return sorted(words)


_HEADER = """\
# English words for kb search's spelling check (kb/search/spelling.py): a word in this list
# or in extra-words.txt is never "corrected". Generated, not edited by hand:
#   python -m kb.search.spelling SCOWL_FOLDER > kb/data/english-words.txt
# from SCOWL (Spell Checker Oriented Word Lists) {version}, sizes up to {size}, categories:
# {categories}.
# Words are kept as the query analyser keeps them (lower case, accents folded, hyphens and
# apostrophes joined). Copyright 2000-2018 by Kevin Atkinson and others; used
# under SCOWL's permission notice, reproduced with its sources in english-words-copyright.txt.
"""


def main(argv: list[str]) -> int:
    if len(argv) not in (1, 2):
        print("usage: python -m kb.search.spelling SCOWL_FOLDER [VERSION]", file=sys.stderr)
        return 2
    version = argv[1] if len(argv) == 2 else "(version not given)"
    header = _HEADER.format(
        version=version, categories=", ".join(SCOWL_CATEGORIES), size=SCOWL_SIZE
    )
    sys.stdout.write(header + "".join(f"{word}\n" for word in scowl_words(Path(argv[0]))))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
