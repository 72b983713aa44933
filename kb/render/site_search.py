"""What the site's search needs besides Pagefind's index: the command-line search's synonym
groups and spelling folds, as JSON for the search worker (docs/javascripts/kb-search.js).

The site is searched by Pagefind, run over the built site (``build_site.py``), behind
Material's search box: Material hands each query to a web worker of ours, which asks
Pagefind for it and for each synonym and spelling variant, ranks recommendations before other
records for the same match, and answers in Material's format. Expanding queries rather than
the index keeps the pages' text, and so the excerpts, as written.

Beside each Pagefind index goes the kind of each of its pages (``write_page_kinds``), so that
the worker weighs every candidate by its kind, and finds the nearest recommendation, without
fetching the pages' data.
"""

import base64
import gzip
import json
from collections import Counter
from pathlib import Path
from typing import Any

from kb.localization import ENGLISH, translations
from kb.records.vocabularies import RecommendationKind
from kb.render.pages import SEARCH_KINDS
from kb.search.analysis import PRIOR, load_synonyms, spelling_folds

VOCABULARY = Path("search") / "kb-search.json"


def search_vocabulary() -> dict[str, Any]:
    """The synonym groups (lower case) and the US-to-UK spelling folds."""
    folds = spelling_folds()
    return {
        "groups": [[term.lower() for term in group.terms] for group in load_synonyms()],
        # JavaScript writes a replacement's groups as $1, not \1.
        "endings": [[pattern, repl.replace("\\1", "$1")] for pattern, repl in folds["endings"]],
        "stems": folds["stems"],
        "priors": search_priors(),
    }


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
    ``bits`` is chosen to make the file smallest: at 10,000 studies, 4,800 pages of other
    kinds than study list in 8 kB, where their ids took 38 kB (22 kB gzipped).
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
