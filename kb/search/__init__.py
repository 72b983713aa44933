"""Full-text search: a Whoosh index of the store in ``build/index``, and `kb search`'s query.

One step per module: ``analysis`` (tokeniser, schema, synonyms), ``index`` (building and
updating the index from the store), ``query`` (parsing, synonyms, highlighting), ``spelling``
(which words to correct: those neither the index nor the kept English word list knows), and
for ranking ``postings`` (reading postings lists fast), ``nodes`` (the query as a tree
that scores documents) and ``ranking`` (the top documents and the total); ``nearest`` names
the nearest recommendation to a query whose results hold none. Every public name
is re-exported here, so ``from kb.search import search`` keeps working.
See docs/search.md.
"""

from kb.search.analysis import (
    SYNONYMS_FILE,
    AcronymPlurals,
    JoinedForms,
    SynonymGroup,
    SynonymMatch,
    UkSpelling,
    _stems,
    find_synonyms,
    group_token,
    load_synonyms,
    make_schema,
    text_analyzer,
)
from kb.search.index import (
    PRIOR,
    SCHEMA_VERSION,
    STAMP,
    TYPES,
    build_index,
    citation,
    index_documents,
    index_is_current,
    refresh_index,
    update_index,
)
from kb.search.nearest import NEAREST_POOL, NearestRecommendation, nearest_recommendation
from kb.search.query import (
    COORDINATION,
    DEFAULT_FIELDS,
    FIELD_BOOSTS,
    FIELD_TIEBREAK,
    FILTER_FIELDS,
    IDF_POWER,
    MAX_NESTING,
    MAX_QUERY_CHARS,
    QUERY_FIELDS,
    RARITY_FIELDS,
    SHORT_TEXT,
    SYNONYM_FIELDS,
    SYNONYM_WEIGHT,
    SearchResult,
    SearchResults,
    check_syntax,
    clean_query,
    search,
)
from kb.search.spelling import (
    ENGLISH_WORDS_FILE,
    EXTRA_WORDS_FILE,
    correct,
    english_words,
    is_english,
    scowl_words,
)

__all__ = [
    "COORDINATION",
    "DEFAULT_FIELDS",
    "ENGLISH_WORDS_FILE",
    "EXTRA_WORDS_FILE",
    "FIELD_BOOSTS",
    "FIELD_TIEBREAK",
    "FILTER_FIELDS",
    "IDF_POWER",
    "MAX_NESTING",
    "MAX_QUERY_CHARS",
    "NEAREST_POOL",
    "PRIOR",
    "QUERY_FIELDS",
    "RARITY_FIELDS",
    "SCHEMA_VERSION",
    "SHORT_TEXT",
    "STAMP",
    "SYNONYMS_FILE",
    "SYNONYM_FIELDS",
    "SYNONYM_WEIGHT",
    "TYPES",
    "AcronymPlurals",
    "JoinedForms",
    "NearestRecommendation",
    "SearchResult",
    "SearchResults",
    "SynonymGroup",
    "SynonymMatch",
    "UkSpelling",
    "_stems",
    "build_index",
    "check_syntax",
    "citation",
    "clean_query",
    "correct",
    "english_words",
    "find_synonyms",
    "group_token",
    "index_documents",
    "index_is_current",
    "is_english",
    "load_synonyms",
    "make_schema",
    "nearest_recommendation",
    "refresh_index",
    "scowl_words",
    "search",
    "text_analyzer",
    "update_index",
]
