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


def page_kinds(index: Path) -> dict[str, Any]:
    """The kind of every page of the Pagefind index in ``index`` (its ``pagefind`` folder), read
    from the pages' fragments, each named by the page's Pagefind id (``en_3f2a9c1``): the
    commonest kind, the number of pages, and the ids of the pages of each other kind, without
    their language prefix, joined by spaces (at 10,000 studies the studies are four pages in
    five, and the rest list in about 20 kB)."""
    of: dict[str, str] = {}
    for path in sorted((index / "fragment").glob("*.pf_fragment")):
        data = gzip.decompress(path.read_bytes())
        if not data.startswith(_PAGEFIND_SIGNATURE):
            raise ValueError(f"{path}: not a Pagefind fragment")
        fragment = json.loads(data[len(_PAGEFIND_SIGNATURE) :])
        of[path.stem.partition("_")[2]] = (fragment.get("filters", {}).get("kind") or ["Page"])[0]
    counts = Counter(of.values())
    common = counts.most_common(1)[0][0] if counts else "Page"
    listed: dict[str, list[str]] = {}
    for page, kind in of.items():
        if kind != common:
            listed.setdefault(kind, []).append(page)
    return {
        "common": common,
        "pages": len(of),
        "kinds": {kind: " ".join(pages) for kind, pages in sorted(listed.items())},
    }


def write_page_kinds(index: Path) -> Path:
    """Write ``page_kinds`` of the Pagefind index in ``index`` into it, as ``kb-kinds.json.gz``:
    compressed, as Pagefind compresses its own files, because the worker fetches it before the
    first query and a host need not compress what it serves (21 kB, or 12 kB compressed, at
    10,000 studies)."""
    path = index / PAGE_KINDS
    text = json.dumps(page_kinds(index), ensure_ascii=False) + "\n"
    path.write_bytes(gzip.compress(text.encode("utf-8"), mtime=0))
    return path
