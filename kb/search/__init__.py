"""Full-text search: a Whoosh index of the store in ``build/index``, and `kb search`'s query.

One step per module: ``analysis`` (tokeniser, schema, synonyms), ``index`` (building and
updating the index from the store), ``stamp`` (whether the index is current), ``query``
(parsing, synonyms, highlighting), ``spelling`` (which words to correct: those neither the
index nor the kept English word list knows), and for ranking ``postings`` (reading postings
lists fast), ``nodes`` (the query as a tree that scores documents) and ``ranking`` (the top
documents and the total); ``nearest`` names the nearest recommendation to a query whose
results hold none. See docs/search.md.

Takes: the store (``kb.store``). Gives: the index in ``build/index``, and ranked results.
May import: the shared modules, ``kb.records``, ``kb.localization``, ``kb.references``,
``kb.store`` and ``kb.graph``.

Every public name is offered here too, so ``from kb.search import search`` keeps working;
each is imported from its module when first asked for, so that a query loads the query side
only, not ``index`` with the store and SQLModel it builds from.
"""

import importlib
from typing import Any

# The types of record indexed, one document each: defined here, where `kb search --help`
# reads them for its --type option without loading Whoosh.
TYPES = ("recommendation", "study", "evidence", "example", "figure")

# Each name offered here → the module of kb.search that defines it.
_MODULES = {
    "SYNONYMS_FILE": "analysis",
    "AcronymPlurals": "analysis",
    "JoinedForms": "analysis",
    "SynonymGroup": "analysis",
    "SynonymMatch": "analysis",
    "UkSpelling": "analysis",
    "_stems": "analysis",
    "find_synonyms": "analysis",
    "group_token": "analysis",
    "load_synonyms": "analysis",
    "make_schema": "analysis",
    "text_analyzer": "analysis",
    "PRIOR": "analysis",
    "SCHEMA_VERSION": "stamp",
    "STAMP": "stamp",
    "index_is_current": "stamp",
    "build_index": "index",
    "citation": "index",
    "index_documents": "index",
    "refresh_index": "index",
    "update_index": "index",
    "NEAREST_POOL": "nearest",
    "NearestRecommendation": "nearest",
    "nearest_recommendation": "nearest",
    "COORDINATION": "query",
    "DEFAULT_FIELDS": "query",
    "FIELD_BOOSTS": "query",
    "FIELD_TIEBREAK": "query",
    "FILTER_FIELDS": "query",
    "IDF_POWER": "query",
    "MAX_NESTING": "query",
    "MAX_QUERY_CHARS": "query",
    "QUERY_FIELDS": "query",
    "RARITY_FIELDS": "query",
    "SHORT_TEXT": "query",
    "SYNONYM_FIELDS": "query",
    "SYNONYM_WEIGHT": "query",
    "SearchResult": "query",
    "SearchResults": "query",
    "check_syntax": "query",
    "clean_query": "query",
    "search": "query",
    "ENGLISH_WORDS_FILE": "spelling",
    "EXTRA_WORDS_FILE": "spelling",
    "correct": "spelling",
    "english_words": "spelling",
    "is_english": "spelling",
    "scowl_words": "spelling",
}
__all__ = sorted([*_MODULES, "TYPES"])


def __getattr__(name: str) -> Any:
    """The public name ``name``, imported from its module on first use (PEP 562)."""
    if name not in _MODULES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"kb.search.{_MODULES[name]}"), name)
