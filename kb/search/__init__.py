"""Full-text search: a Whoosh index of the store in ``build/index``, and `kb search`'s query.

One step per module: ``analysis`` (tokeniser, schema, synonyms), ``index`` (building and
updating the index from the store) and ``query`` (parsing, scoring, highlighting). Every
public name is re-exported here, so ``from kb.search import search`` keeps working.
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
from kb.search.query import (
    COORDINATION,
    FIELD_BOOSTS,
    FIELD_TIEBREAK,
    FILTER_FIELDS,
    MAX_NESTING,
    MAX_QUERY_CHARS,
    QUERY_FIELDS,
    SHORT_TEXT,
    SYNONYM_WEIGHT,
    SearchResult,
    SearchResults,
    check_syntax,
    clean_query,
    search,
)

__all__ = [
    "COORDINATION",
    "FIELD_BOOSTS",
    "FIELD_TIEBREAK",
    "FILTER_FIELDS",
    "MAX_NESTING",
    "MAX_QUERY_CHARS",
    "PRIOR",
    "QUERY_FIELDS",
    "SCHEMA_VERSION",
    "SHORT_TEXT",
    "STAMP",
    "SYNONYMS_FILE",
    "SYNONYM_WEIGHT",
    "TYPES",
    "AcronymPlurals",
    "JoinedForms",
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
    "find_synonyms",
    "index_documents",
    "index_is_current",
    "load_synonyms",
    "make_schema",
    "refresh_index",
    "search",
    "text_analyzer",
    "update_index",
]
