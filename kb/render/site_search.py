"""What the site's search needs besides Pagefind's index: the command-line search's synonym
groups, spelling folds and stop words, as JSON for the search worker
(docs/javascripts/kb-search.js), and the synonyms each page is indexed with.

The site is searched by Pagefind, run over the built site (``build_site.py``), behind
Material's search box: Material hands each query to a web worker of ours, which asks
Pagefind for each part of it in UK spelling, ranks recommendations before other records for
the same match, and answers in Material's format. Synonyms are added to the index, not the
query (``synonyms_to_add``, written into each page by ``kb.site.plugins``), so that a query
fetches the index chunks of its own words only; the worker shows a page's own words, not the
added ones.

Beside each Pagefind index goes the kind of each of its pages (``write_page_kinds``), so that
the worker weighs every candidate by its kind, and finds the nearest recommendation, without
fetching the pages' data.
"""

import base64
import gzip
import json
import re
import unicodedata
from collections import Counter
from functools import cache
from pathlib import Path
from typing import Any

from kb.localization import ENGLISH, translations
from kb.records.vocabularies import RecommendationKind
from kb.render.pages import SEARCH_KINDS
from kb.search.analysis import PRIOR, load_synonyms, spelling_folds, uk_spelling

VOCABULARY = Path("search") / "kb-search.json"

# Words that carry no topic of their own, left out of a query (and of a page's text where
# synonyms are looked for in it), as `kb search` leaves them out.
STOPWORDS = frozenset(
    (  # noqa: SIM905 (a list of words, read as words)
        "a an and are as at be but by can do does for from how i if in into is it its of on or "
        "our should so such than that the their them then there these they this to was we were "
        "what when where which who why will with would you your about after all also any "
        "between each more most other same some very"
    ).split()
)
# Starts the synonyms added to a page's searchable text (``synonyms_to_add``), which the
# worker finds in Pagefind's copy of the text (``content``) and leaves out of what it shows.
SYNONYMS_MARK = "⁂"


def search_vocabulary() -> dict[str, Any]:
    """The synonym groups (lower case), the US-to-UK spelling folds and the stop words."""
    folds = spelling_folds()
    return {
        "groups": [[term.lower() for term in group.terms] for group in load_synonyms()],
        # JavaScript writes a replacement's groups as $1, not \1.
        "endings": [[pattern, repl.replace("\\1", "$1")] for pattern, repl in folds["endings"]],
        "stems": folds["stems"],
        "stopwords": sorted(STOPWORDS),
        "priors": search_priors(),
        "mark": SYNONYMS_MARK,
    }


def search_words(text: str) -> list[str]:
    """The words of ``text`` as the search worker reads a query (``words`` and ``parts`` in
    docs/javascripts/kb-search.js): lower case, without accents or a possessive 's, "anti-racist"
    as two words, in UK spelling, without stop words."""
    return [_uk_spelling(word) for word in _plain_words(text) if word not in STOPWORDS]


def _plain_words(text: str) -> list[str]:
    folded = unicodedata.normalize("NFKD", text.lower())
    return _WORD.findall(_POSSESSIVE.sub("", _ACCENTS.sub("", folded)))


def _word_set(text: str) -> set[str]:
    """The distinct ``search_words`` of ``text``, each spelt once: for a page's whole text."""
    return {_uk_spelling(word) for word in set(_plain_words(text)) - STOPWORDS}


# A page's words are mostly words other pages have: each is spelt once per build.
_uk_spelling = cache(uk_spelling)
_ACCENTS = re.compile("[\u0300-\u036f]")
_POSSESSIVE = re.compile(r"['’]s\b")
_WORD = re.compile(r"[^\W_]+")


def _forms(word: str) -> frozenset[str]:
    """A word and the words the worker takes for it: with or without a plural -s or -es."""
    forms = {word, f"{word}s", f"{word}es"}
    forms |= {word[:-1]} if word.endswith("s") else set()
    forms |= {word[:-2]} if word.endswith("es") else set()
    return frozenset(forms)


@cache
def _group_terms() -> tuple[tuple[tuple[str, tuple[frozenset[str], ...]], ...], ...]:
    """Each synonym group's terms, each with its words' forms (``_forms``)."""
    return tuple(
        tuple((term, tuple(_forms(word) for word in search_words(term))) for term in group.terms)
        for group in load_synonyms()
    )


def synonyms_to_add(title: str, text: str) -> list[str]:
    """The synonyms to index with a page titled ``title`` whose searchable text is ``text``
    (the title included): for each synonym group one of whose terms the title or the text
    holds (every word of it somewhere, as Pagefind finds a term's words), the group's other
    terms that the title, or the text, lacks. As ``kb search`` matches synonyms field by field,
    a synonym of a word of the title is added even when the rest of the page has it. Words are
    read as the worker reads a query (``search_words``), a plural -s aside.

    Added at index time, a synonym is found by searching for the query's own words, so a query
    fetches their chunks of the index only, not every synonym's as well.
    """
    groups, groups_of_word = _group_terms(), _groups_of_word()
    added: dict[str, None] = {}
    for part in (title, text):
        present = _word_set(part)
        candidates = {number for word in present for number in groups_of_word.get(word, ())}
        for number in sorted(candidates):
            group = groups[number]
            found = [term for term, forms in group if _holds(present, forms)]
            if found:
                added |= {term: None for term, forms in group if forms and term not in found}
    return list(added)


@cache
def _groups_of_word() -> dict[str, set[int]]:
    """The synonym groups (by place in ``_group_terms``) with a term whose first word takes
    each form: the only groups a page without that word need not be looked at for."""
    found: dict[str, set[int]] = {}
    for number, group in enumerate(_group_terms()):
        for _, forms in group:
            for form in forms[0] if forms else ():
                found.setdefault(form, set()).add(number)
    return found


def _holds(present: set[str], forms: tuple[frozenset[str], ...]) -> bool:
    """Whether ``present`` holds every word of a term, in one of its forms."""
    return bool(forms) and not any(form.isdisjoint(present) for form in forms)


def search_priors() -> dict[str, float]:
    """How much each kind of page weighs in the site's search, as the site names the kinds:
    the command-line search's priors (``kb.search.index.PRIOR``); pages it has no prior for
    (themes, sources, hand-written pages) weigh as a study does."""
    priors = {kind.label: PRIOR[kind.value] for kind in RecommendationKind}
    priors |= {label: PRIOR.get(key, PRIOR["study"]) for key, label in SEARCH_KINDS.items()}
    return priors | {"Page": PRIOR["study"]}


def search_messages(language: str) -> dict[str, str]:
    """What the search worker says, in ``language`` (kb.localization), keyed by its English."""
    _ = translations(language).gettext
    english = [
        _("Search is not available just now"),
        _("Browse every recommendation in the explorer instead."),
        _("No recommendation matches “%(query)s”"),
        _("; the nearest is “%(title)s”"),
        _("Try other words, or browse every recommendation in the explorer."),
        _("Nothing on the Welsh site matches “%(query)s”"),
        _("Most records are in English only: search the English site for “%(query)s”."),
    ]
    return dict(zip(ENGLISH_MESSAGES, english, strict=True))


# The worker's messages in English, in the order ``search_messages`` translates them.
ENGLISH_MESSAGES = (
    "Search is not available just now",
    "Browse every recommendation in the explorer instead.",
    "No recommendation matches “%(query)s”",
    "; the nearest is “%(title)s”",
    "Try other words, or browse every recommendation in the explorer.",
    "Nothing on the Welsh site matches “%(query)s”",
    "Most records are in English only: search the English site for “%(query)s”.",
)


def write_search_vocabulary(docs: Path, language: str = ENGLISH) -> Path:
    """Write ``search/kb-search.json`` into the folder MkDocs builds from: the vocabulary, the
    site's language and the worker's messages in it."""
    path = docs / VOCABULARY
    path.parent.mkdir(parents=True, exist_ok=True)
    vocabulary = search_vocabulary() | {
        "language": language,
        "messages": search_messages(language),
    }
    path.write_text(json.dumps(vocabulary, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


# Written into Pagefind's folder, beside the index whose pages it describes.
PAGE_KINDS = "kb-kinds.json.gz"
# What starts every Pagefind file once decompressed.
_PAGEFIND_SIGNATURE = b"pagefind_dcd"
# A page's Pagefind id after its language prefix: seven hexadecimal digits, 28 bits.
_ID_DIGITS = 7
_ID_BITS = 4 * _ID_DIGITS


def fragment_kinds(index: Path) -> dict[str, str]:
    """The kind of every page of the Pagefind index in ``index`` (its ``pagefind`` folder), by
    the page's Pagefind id without its language prefix (``en_3f2a9c1`` → ``3f2a9c1``), read
    from the pages' fragments; a page that marks no kind is a "Page"."""
    of: dict[str, str] = {}
    for path in sorted((index / "fragment").glob("*.pf_fragment")):
        data = gzip.decompress(path.read_bytes())
        if not data.startswith(_PAGEFIND_SIGNATURE):
            raise ValueError(f"{path}: not a Pagefind fragment")
        fragment = json.loads(data[len(_PAGEFIND_SIGNATURE) :])
        of[path.stem.partition("_")[2]] = (fragment.get("filters", {}).get("kind") or ["Page"])[0]
    return of


def page_kinds(index: Path) -> dict[str, Any]:
    """``encode_page_kinds`` of the pages of the Pagefind index in ``index``."""
    return encode_page_kinds(fragment_kinds(index))


def encode_page_kinds(of: dict[str, str]) -> dict[str, Any]:
    """The kind of every page (``of``: kind by Pagefind id), as small as the search worker can
    read it: the commonest kind, the number of pages, and the pages of each other kind.

    A page is listed by the first ``bits`` bits of its id, where no other page's id starts
    with the same bits, else by its whole id (``exact``). The prefixes of each kind, sorted,
    are written as the gaps between them in Rice code (``rice`` is its parameter), in base 64.
    ``bits`` is chosen to make the file smallest: at 10,000 studies, the 4,800 pages not
    studies list in 10 kB (7.6 kB gzipped), where their whole ids took 38 kB (22 kB).
    """
    counts = Counter(of.values())
    common = counts.most_common(1)[0][0] if counts else "Page"
    listed = {page: kind for page, kind in of.items() if kind != common}
    numbers = {page: int(page, 16) for page in of if _is_page_id(page)}
    candidates = (_listed_by_prefix(listed, numbers, bits) for bits in range(1, _ID_BITS + 1))
    kinds, bits = min(candidates, key=lambda found: len(json.dumps(found[0])))
    return {"common": common, "pages": len(of), "bits": bits, "kinds": kinds}


def _is_page_id(page: str) -> bool:
    return len(page) == _ID_DIGITS and all(digit in "0123456789abcdef" for digit in page)


def _listed_by_prefix(
    listed: dict[str, str], numbers: dict[str, int], bits: int
) -> tuple[dict[str, dict[str, Any]], int]:
    shift = _ID_BITS - bits
    shared = Counter(number >> shift for number in numbers.values())
    prefixes: dict[str, list[int]] = {}
    exact: dict[str, list[str]] = {}
    for page, kind in sorted(listed.items()):
        prefix = numbers[page] >> shift if page in numbers else None
        if prefix is not None and shared[prefix] == 1:
            prefixes.setdefault(kind, []).append(prefix)
        else:
            exact.setdefault(kind, []).append(page)
    kinds: dict[str, dict[str, Any]] = {}
    for kind in sorted(set(listed.values())):
        found = sorted(prefixes.get(kind, []))
        rice, coded = _rice_code(found)
        kinds[kind] = {"count": len(found), "rice": rice, "prefixes": coded}
        kinds[kind]["exact"] = " ".join(exact.get(kind, []))
    return kinds, bits


def _rice_code(values: list[int]) -> tuple[int, str]:
    """Sorted distinct ``values`` as the gaps between them (the first from -1, less one), each
    in Rice code with the parameter that makes them shortest: the gap's high part in unary
    (ones, then a zero), then its ``rice`` low bits; in base 64."""
    gaps = [value - previous - 1 for previous, value in zip([-1, *values], values, strict=False)]
    rice = min(range(_ID_BITS), key=lambda k: sum((gap >> k) + 1 + k for gap in gaps))
    bits = "".join(
        "1" * (gap >> rice) + "0" + (format(gap & ((1 << rice) - 1), f"0{rice}b") if rice else "")
        for gap in gaps
    )
    bits += "0" * (-len(bits) % 8)
    data = int(bits, 2).to_bytes(len(bits) // 8, "big") if bits else b""
    return rice, base64.b64encode(data).decode("ascii")


def _rice_decode(coded: str, rice: int, count: int) -> list[int]:
    """The values ``_rice_code`` wrote."""
    bits = "".join(format(byte, "08b") for byte in base64.b64decode(coded))
    values: list[int] = []
    position, previous = 0, -1
    for _ in range(count):
        high = 0
        while bits[position] == "1":
            high += 1
            position += 1
        low = int(bits[position + 1 : position + 1 + rice] or "0", 2)
        position += 1 + rice
        previous += 1 + (high << rice | low)
        values.append(previous)
    return values


def kind_of_page(kinds: dict[str, Any], page: str) -> str:
    """The kind of the page with Pagefind id ``page`` (language prefix and all), read from
    ``encode_page_kinds``'s answer as the search worker reads it (``kindOf`` in
    docs/javascripts/kb-search.js): for tests, and for anyone reading the file."""
    page = page.partition("_")[2] or page
    shift = _ID_BITS - kinds["bits"]
    for kind, listed in kinds["kinds"].items():
        if page in listed["exact"].split(" "):
            return str(kind)
        if _is_page_id(page) and int(page, 16) >> shift in _rice_decode(
            listed["prefixes"], listed["rice"], listed["count"]
        ):
            return str(kind)
    return str(kinds["common"])


def write_page_kinds(index: Path) -> Path:
    """Write ``page_kinds`` of the Pagefind index in ``index`` into it, as ``kb-kinds.json.gz``:
    compressed, as Pagefind compresses its own files, because the worker fetches it before the
    first query and a host need not compress what it serves."""
    path = index / PAGE_KINDS
    text = json.dumps(page_kinds(index), ensure_ascii=False) + "\n"
    path.write_bytes(gzip.compress(text.encode("utf-8"), mtime=0))
    return path
