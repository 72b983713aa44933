"""Parsing and running queries: query checks, synonyms and spelling, scoring, highlighting.

A query is cleaned and checked, misspelt words are corrected from the index's vocabulary
(``kb.search.spelling``), synonyms are added, and the records are ranked by BM25F with field
boosts, a coordination factor and a prior by kind of record. See docs/search.md.
"""

import difflib
import math
import re
import unicodedata
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable
from dataclasses import asdict, dataclass, field
from itertools import pairwise
from pathlib import Path
from typing import Any

from whoosh import highlight, index, query, scoring
from whoosh.fields import Schema
from whoosh.matching import DisjunctionMaxMatcher, ListMatcher
from whoosh.qparser import QueryParser, plugins, syntax
from whoosh.qparser.common import attach
from whoosh.searching import Results

from kb.errors import IndexMissing, SearchQueryError
from kb.files import recover_folder
from kb.records.levels import NOT_JUDGED
from kb.records.urls import record_url
from kb.records.vocabularies import LABELS, Strength
from kb.search import TYPES
from kb.search.analysis import _SEGMENT, SynonymMatch, _stems, find_synonyms
from kb.search.nearest import NearestRecommendation, nearest_recommendation
from kb.search.ranking import rank
from kb.search.spelling import correct

MAX_QUERY_CHARS = 1000
# Brackets nested deeper than this are refused: Whoosh turns each level into a few nested
# calls, and about 250 levels overflow Python's stack. People nest two or three.
MAX_NESTING = 20
SHORT_TEXT = 320  # texts up to this many characters are shown whole in results

# Query-time weight of each text field: a recommendation's own title and statement count more
# than notes, quotes and other passing mentions.
FIELD_BOOSTS = {"ref": 8.0, "title": 3.0, "text": 2.0, "context": 0.6}
# The fields a plain word is looked up in. Notes, quotes and references (``context``) hold most
# of the words of the index but rarely decide a ranking; ``context:word`` searches them.
DEFAULT_FIELDS = ("ref", "title", "text")
# The fields a synonym group is looked up in (as its group token, see analysis.group_token).
SYNONYM_FIELDS = ("title", "text")
# A document's score is scaled by (share of the query's words it matches) to this power.
COORDINATION = 1.0
# A synonym group counts for this share of a word typed. The group is looked up as one token
# that any of its terms gives a document, the typed word too, which so counts a little extra.
SYNONYM_WEIGHT = 1.0
# A word found in several fields scores as its best field plus this share of the others.
FIELD_TIEBREAK = 0.2
# A word's weight is its rarity (BM25's idf) to this power, its rarity counted over the fields
# of the record's text. Squared, as in Lucene's classic scoring (once for the query, once for
# the document): with BM25's idf alone, a word in 3 of 464 records weighed 2.3 times one in
# 54, less than the 2.8 by which a recommendation's title outranks an evidence link's
# summary (field boost times prior), so a common word in the right place outweighed the rare
# word that carries the question ("interpreters language support"); squared, 5.2 times.
IDF_POWER = 2
RARITY_FIELDS = ("ref", "title", "text", "context")
# Fields a query may name, e.g. ``theme:hsc-data strength:S3``; the keyword ones filter.
FILTER_FIELDS = frozenset(
    {"id", "type", "kind", "theme", "strength", "direction", "study_type", "year", "actor"}
    | {"source", "recommendation"}
)
QUERY_FIELDS = (
    "id",
    "title",
    "text",
    "context",
    "type",
    "kind",
    "theme",
    "strength",
    "direction",
    "study_type",
    "year",
    "actor",
    "source",
    "recommendation",
)

# --- Query text -------------------------------------------------------------------------------

_YEAR = re.compile(r"\d{4}|[\[{]\s*(\d{4})?\s*TO\s*(\d{4})?\s*[\]}]")
# A byte that is not UTF-8 on the command line reaches Python as a lone surrogate (PEP 383),
# which no UTF-8 output, JSON encoder or index can take.
_SURROGATE = re.compile(r"[\ud800-\udfff]")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u2064\ufeff]")


def _applied(node: query.Query, rewrite: Callable[[query.Query], query.Query]) -> query.Query:
    """``node.apply(rewrite)``, keeping the attributes ``apply`` forgets."""
    rewritten = node.apply(rewrite)
    for name in ("scale", "tiebreak", "minmatch"):
        if hasattr(node, name):
            setattr(rewritten, name, getattr(node, name))
    return rewritten


def clean_query(text: str) -> str:
    """The query with control characters and ? (not a wildcard here) as spaces, or an error.

    A query that is too long, empty, or not text (bytes that are not UTF-8) is an error.
    """
    if len(text) > MAX_QUERY_CHARS:
        raise SearchQueryError(
            f"the query is {len(text):,} characters long; the limit is {MAX_QUERY_CHARS:,}"
        )
    undecodable = _SURROGATE.search(text)
    if undecodable:
        code = ord(undecodable.group())
        what = f"byte 0x{code - 0xDC00:02x}" if 0xDC80 <= code <= 0xDCFF else f"U+{code:04X}"
        raise SearchQueryError(
            f"the query is not UTF-8 text ({what} cannot be read); "
            "set your terminal to UTF-8 and type it again"
        )
    text = _CONTROL.sub(" ", unicodedata.normalize("NFC", text)).replace("?", " ")
    cleaned = " ".join(text.split())
    if not cleaned:
        raise SearchQueryError("the query is empty; type some words to search for")
    return cleaned


def check_syntax(text: str) -> None:
    """Raise SearchQueryError for quotes or brackets left open, lone wildcards, unknown fields."""
    if text.count('"') % 2:
        raise SearchQueryError('the query opens a phrase with " but does not close it')
    depth = 0
    for character in re.sub(r'"[^"]*"', "", text):
        depth += {"(": 1, ")": -1}.get(character, 0)
        if depth < 0:
            raise SearchQueryError("the query has a ) without a matching (")
        if depth > MAX_NESTING:
            raise SearchQueryError(
                f"the query nests brackets more than {MAX_NESTING} deep; use fewer brackets"
            )
    if depth:
        raise SearchQueryError("the query has a ( without a matching )")
    for match in _SEGMENT.finditer(text):
        segment = match.group()
        if segment.startswith('"'):
            continue
        fielded = re.match(r"([A-Za-z_]\w*):(.*)$", segment)
        if fielded and not fielded.group(2).startswith("/"):  # not a web address
            name, value = fielded.groups()
            if name not in QUERY_FIELDS:
                if value:
                    fields = ", ".join(QUERY_FIELDS)
                    raise SearchQueryError(f"unknown field {name!r}; fields are: {fields}")
                continue  # "Note: ..." is plain text
            if not value and text.startswith("(", match.end()):
                continue  # a field group, title:(pay OR gap): its words are checked on their own
            if not value:
                raise SearchQueryError(f"{name}: needs a value right after it, e.g. {name}:x")
            if name == "year" and not _YEAR.fullmatch(value):
                raise SearchQueryError(
                    f"year:{value} is not a year, e.g. year:2020 or year:[2015 TO]"
                )
            segment = value
        if segment.strip('"').startswith("*"):
            raise SearchQueryError(
                f"{segment!r}: a wildcard must follow some letters, e.g. recruit*"
            )


# --- Synonyms and notes -----------------------------------------------------------------------


def _finds_nothing(node: query.Query, reader: Any) -> bool:
    """True when a word (or a phrase, by its words) is in no document's field at all."""
    if isinstance(node, query.Term):
        return (node.fieldname, node.text) not in reader
    if isinstance(node, query.Phrase):
        return any((node.fieldname, word) not in reader for word in node.words)
    return False


def _with_notes(parsed: query.Query, reader: Any) -> query.Query:
    """Look a word up in ``context`` too when no title or statement holds it.

    Notes, quotes and references hold most of the index's words, so they are not searched for
    every word (DEFAULT_FIELDS); but a word found only there still finds its records.
    """

    def rewrite(node: query.Query) -> query.Query:
        if isinstance(node, _BestOf) and node.subqueries:
            texts = [sub for sub in node.subqueries if sub.field() in ("title", "text")]
            if texts and all(_finds_nothing(sub, reader) for sub in texts):
                notes = texts[0].copy()
                notes.fieldname = "context"
                notes.boost = FIELD_BOOSTS["context"]
                return _BestOf([*node.subqueries, notes], boost=node.boost, tiebreak=node.tiebreak)
            return node
        if node.is_leaf():
            return node
        return _applied(node, rewrite)

    return rewrite(parsed)


def _filters_first(parsed: query.Query) -> query.Query:
    """Make top-level keyword clauses (theme:..., strength:...) required; words still rank."""
    if not isinstance(parsed, _Coordinated):
        return parsed
    required = [sub for sub in parsed.subqueries if sub.field() in FILTER_FIELDS]
    ranked = [sub for sub in parsed.subqueries if sub.field() not in FILTER_FIELDS]
    if not required:
        return parsed
    return query.And([*required, _Coordinated(ranked)] if ranked else required)


def _with_synonyms(parsed: query.Query, matches: list[SynonymMatch]) -> query.Query:
    """OR each matched word with its synonym group, looked up as the group's one token.

    The index holds a group token wherever any term of the group occurs (analysis.py), so
    "BAME" also finds "Black, Asian and minority ethnic" without checking phrase positions,
    and a group of near-identical phrases counts once, not once per phrase.
    """
    alternatives = {
        match.start: _BestOf(
            [query.Term(name, match.token, boost=FIELD_BOOSTS[name]) for name in SYNONYM_FIELDS],
            tiebreak=FIELD_TIEBREAK,
            boost=SYNONYM_WEIGHT,
        )
        for match in matches
    }

    def starts_at(node: query.Query) -> int | None:
        leaves = [node] if node.is_leaf() else list(node.children())
        starts = {getattr(leaf, "startchar", None) for leaf in leaves if leaf.is_leaf()}
        return starts.pop() if len(starts) == 1 and len(leaves) else None

    def rewrite(node: query.Query) -> query.Query:
        start = starts_at(node)
        if start in alternatives:
            return query.Or([node, alternatives.pop(start)])
        if node.is_leaf():
            return node
        return _applied(node, rewrite)

    rewritten = rewrite(parsed)
    extra = list(alternatives.values())  # phrases whose words the parser dropped entirely
    return query.Or([rewritten, *extra]) if extra else rewritten


# --- Searching --------------------------------------------------------------------------------


class _PriorBM25F(scoring.BM25F):
    """BM25F with a word's rarity counted once per record and squared (``idf``), and each
    document's score multiplied by the prior of its kind (PRIOR)."""

    use_final = True

    def idf(self, searcher: Any, fieldname: str, text: bytes) -> float:
        """How rare the word is in the knowledge base, to the power ``IDF_POWER``.

        BM25's own idf, log(1 + (N - n + 0.5) / (n + 0.5)), with n the documents holding the
        word in whichever of ``RARITY_FIELDS`` holds it most: so a word is as common in a
        title as anywhere else (Whoosh counts each field apart, and "support", in 12 titles
        but 54 notes, looked rare in titles). Keyword fields keep Whoosh's own idf.
        """
        parent = searcher.get_parent()
        if fieldname not in RARITY_FIELDS:
            whooshs: float = super().idf(parent, fieldname, text)
            return whooshs
        count = parent.doc_count_all()
        found = max(parent.doc_frequency(name, text) for name in RARITY_FIELDS)
        rarity: float = math.log(1 + (count - found + 0.5) / (found + 0.5)) ** IDF_POWER
        return rarity

    def final(self, searcher: Any, docnum: int, score: float) -> float:
        if "_kb_prior" not in searcher.__dict__:
            searcher._kb_prior = searcher.reader().column_reader("prior")
        prior: float = searcher._kb_prior[docnum] or 100
        return score * prior / 100


class _Bold(highlight.Formatter):
    """Mark matched words as **word**; return fragments as a list, "…" where text was cut."""

    def format_token(self, text: str, token: Any, replace: bool = False) -> str:
        return f"**{highlight.get_text(text, token, replace)}**"

    def format(self, fragments: Any, replace: bool = False) -> Any:
        formatted = []
        for fragment in fragments:
            before = fragment.text[: fragment.startchar]
            after = fragment.text[fragment.endchar :]
            body = self.format_fragment(fragment, replace=replace)
            before = "…" if re.search(r"\w", before) else before.lstrip()
            after = "…" if re.search(r"\w", after) else after.rstrip()
            formatted.append(" ".join(f"{before}{body}{after}".split()))
        return formatted


@dataclass(frozen=True)
class SearchResult:
    """One ranked record, with what a person needs to judge it and find it."""

    type: str
    kind: str
    id: str
    title: str
    text: str
    score: float
    strength: str | None
    url: str
    highlights: list[str] = field(default_factory=list)
    headline: str = ""  # for a recommendation whose source judges its evidence differently

    @property
    def strength_badge(self) -> str:
        """E.g. "[S3 Limited]"; "[Not judged]" for a statement that is not a recommendation;
        "" for other records without a level."""
        if self.strength:
            return f"[{self.strength} {LABELS[self.strength]}]"
        if self.type == "recommendation":
            return f"[{NOT_JUDGED}]"
        return ""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class SearchResults:
    """The ranked results of one query, the synonyms added, a suggested spelling, and the
    nearest recommendation when none is among the results."""

    query: str
    results: list[SearchResult]
    total: int
    also_searched: list[str]
    did_you_mean: str | None
    # True when ``total`` is an estimate (a phrase with thousands of documents to check).
    total_estimated: bool = False
    # True when recommendations were looked for (no type filter leaves them out) but none is
    # among ``results``; ``nearest_recommendation`` is then the nearest one (kb.search.nearest),
    # or None when no recommendation matches and nothing that matches bears on one.
    no_recommendation: bool = False
    nearest_recommendation: NearestRecommendation | None = None


class _BestOfMatcher(DisjunctionMaxMatcher):
    """Whoosh's disjunction-max matcher, fixed to score only the sub-matchers on this document.

    Whoosh 2.7's version returns the larger score of both sub-matchers even when one of them
    is positioned on another document, and ignores ``tiebreak``.
    """

    def replace(self, minquality: float = 0) -> Any:
        replaced = super().replace(minquality)
        if isinstance(replaced, DisjunctionMaxMatcher) and replaced is not self:
            return _BestOfMatcher(replaced.a, replaced.b, tiebreak=self.tiebreak)
        return replaced

    def score(self) -> float:
        a, b = self.a, self.b
        score: float
        if not a.is_active() or (b.is_active() and b.id() < a.id()):
            score = b.score()
        elif not b.is_active() or a.id() < b.id():
            score = a.score()
        else:
            high, low = sorted((a.score(), b.score()), reverse=True)
            score = high + self.tiebreak * low
        return score


class _BestOf(query.DisjunctionMax):
    """Matches any subquery; scores a document by its best subquery (plus a tiebreak share)."""

    def _matcher(self, subs: Any, searcher: Any, context: Any) -> Any:
        reader = searcher.reader()
        return self._tree_matcher(
            subs,
            _BestOfMatcher,
            searcher,
            context,
            lambda subquery: subquery.estimate_size(reader),
            tiebreak=self.tiebreak,
        )


class _Coordinated(query.Or):
    """Any of the clauses, each document's summed score scaled by the share of clauses it matches.

    So a record that mentions every idea in a query outranks one that mentions a few of them
    often (Lucene's classic "coord" factor). A NOT clause excludes documents outright.
    """

    def _matcher(self, subs: Any, searcher: Any, context: Any) -> Any:
        positive = [sub for sub in subs if not isinstance(sub, query.Not)]
        excluded: set[int] = set()
        for sub in subs:
            if isinstance(sub, query.Not):
                excluded.update(sub.query.docs(searcher))
        totals: dict[int, float] = defaultdict(float)
        counts: dict[int, int] = defaultdict(int)
        for sub in positive:
            matcher = sub.matcher(searcher, context)
            while matcher.is_active():
                docnum = matcher.id()
                if docnum not in excluded:
                    totals[docnum] += matcher.score()
                    counts[docnum] += 1
                matcher.next()
        ids = sorted(totals)
        share = max(len(positive), 1)
        weights = [self.boost * totals[doc] * (counts[doc] / share) ** COORDINATION for doc in ids]
        return ListMatcher(ids, weights)


class _CoordinatedGroup(syntax.OrGroup):
    qclass = _Coordinated


class _FieldMax(syntax.DisMaxGroup):
    """A word's score is its best field's, plus a little of the others (Lucene's dismax)."""

    qclass = _BestOf

    def __init__(self, nodes: Any = None, **kwargs: Any) -> None:
        kwargs.setdefault("tiebreak", FIELD_TIEBREAK)
        super().__init__(nodes=nodes, **kwargs)


class _BinaryGroup(syntax.BinaryGroup):
    """ANDNOT, ANDMAYBE and REQUIRE: each side's query is built once.

    Whoosh 2.7 builds each side twice, so a chain of n such operators took 2^n steps (sixteen
    ANDMAYBEs took half a minute).
    """

    def query(self, parser: Any) -> Any:
        first, second = (node.query(parser) for node in self.nodes)
        if first is None and second is None:
            built = query.NullQuery
        elif first is None or second is None:
            built = second if first is None else first
        else:
            built = self.qclass(first, second)
        return attach(built, self)


class _AndNotGroup(_BinaryGroup, syntax.AndNotGroup):
    pass


class _AndMaybeGroup(_BinaryGroup, syntax.AndMaybeGroup):
    pass


class _RequireGroup(_BinaryGroup, syntax.RequireGroup):
    pass


_BINARY_GROUPS = {
    syntax.AndNotGroup: _AndNotGroup,
    syntax.AndMaybeGroup: _AndMaybeGroup,
    syntax.RequireGroup: _RequireGroup,
}


class _Operators(plugins.OperatorsPlugin):
    """Whoosh's AND, OR, NOT, ANDNOT, ANDMAYBE and REQUIRE, refusing two operators in a row.

    Whoosh takes the second of two operators (``NOT NOT x``, ``x AND OR y``) for the first
    one's word and then fails inside ("list index out of range"). Here the only operator that
    may follow another is NOT after a two-sided one (``x AND NOT y``); anything else is a
    SearchQueryError that names the pair. An operator at either end of the query is a word.
    """

    ops: list[tuple[Any, int]]  # Whoosh's (operator tagger, priority) pairs

    def __init__(self) -> None:
        super().__init__()
        self.ops = [
            (
                self.OpTagger(
                    tagger.expr,
                    _BINARY_GROUPS.get(tagger.grouptype, tagger.grouptype),
                    tagger.optype,
                    tagger.leftassoc,
                    tagger.memo,
                ),
                priority,
            )
            for tagger, priority in self.ops
        ]

    def do_operators(self, parser: Any, group: Any) -> Any:
        for before, after in pairwise(group):
            if not isinstance(before, syntax.Operator) or not isinstance(after, syntax.Operator):
                continue
            if isinstance(before, syntax.InfixOperator) and isinstance(
                after, syntax.PrefixOperator
            ):
                continue
            first, second = before.text.strip(), after.text.strip()
            if isinstance(before, syntax.PrefixOperator):
                example = f"{first} targets"
            else:
                example = f"pay {first} gap, or pay {first} NOT gap"
            raise SearchQueryError(
                f'the query has "{first} {second}": put a word or a bracketed group after '
                f"{first}, e.g. {example}"
            )
        return super().do_operators(parser, group)


def _parser(schema: Schema) -> QueryParser:
    parser = QueryParser(None, schema, group=_CoordinatedGroup)
    parser.remove_plugin_class(plugins.OperatorsPlugin)
    parser.add_plugin(_Operators())
    boosts = {name: FIELD_BOOSTS[name] for name in DEFAULT_FIELDS}
    parser.add_plugin(plugins.MultifieldPlugin(list(DEFAULT_FIELDS), boosts, group=_FieldMax))
    parser.remove_plugin_class(plugins.SingleQuotePlugin)
    parser.remove_plugin_class(plugins.EveryPlugin)
    return parser


def _filters(
    types: Iterable[str] | None,
    theme: str | None,
    min_strength: str | None,
    direction: str | None,
    year_from: int | None,
) -> query.Query | None:
    wanted: list[query.Query] = []
    if types:
        unknown = sorted(set(types) - set(TYPES))
        if unknown:
            raise SearchQueryError(f"unknown type {unknown[0]!r}; types are: {', '.join(TYPES)}")
        wanted.append(query.Or([query.Term("type", name) for name in types]))
    if theme:
        wanted.append(query.Term("theme", theme.lower()))
    if min_strength:
        try:
            floor = Strength(min_strength.upper()).rank
        except ValueError:
            raise SearchQueryError(f"unknown strength {min_strength!r}; use S0 to S5") from None
        levels = [level.value.lower() for level in Strength if level.rank >= floor]
        wanted.append(query.Or([query.Term("strength", level) for level in levels]))
    if direction:
        wanted.append(query.Term("direction", direction.lower()))
    if year_from is not None:
        wanted.append(query.NumericRange("year", year_from, None))
    return query.And(wanted) if wanted else None


# Filters whose values are record IDs, with the kinds of record each may name.
ID_FILTERS: dict[str, tuple[str, ...]] = {
    "theme": ("theme",),
    "source": ("source",),
    "recommendation": ("recommendation",),
    "id": ("recommendation", "study", "evidence", "example", "figure"),
}
# Given the kind of record, every ID of that kind (``kb.store.database.record_ids``).
IdLookup = Callable[[str], Collection[str]]


def filtered_ids(text: str, theme: str | None) -> list[tuple[str, str]]:
    """The record IDs a query filters on, as (how it was given, ID): ``--theme``'s, then each
    ``theme:``, ``source:``, ``recommendation:`` or ``id:`` value naming one record (not a
    wildcard, a range or a group)."""
    found = [("--theme", theme.strip().lower())] if theme and theme.strip() else []
    for match in _SEGMENT.finditer(text):
        fielded = re.fullmatch(r"(\w+):(.+)", match.group())
        if fielded is None or fielded.group(1) not in ID_FILTERS:
            continue
        value = fielded.group(2).strip('"').strip().lower()
        if value and not re.search(r"[*\s\[\]{}]", value):
            found.append((f"{fielded.group(1)}:", value))
    return found


def check_filtered_ids(text: str, theme: str | None, ids: IdLookup) -> None:
    """Raise ``SearchQueryError`` for a filter naming an ID no record of its kind has, with the
    nearest ID of that kind when one is close: a filter on nothing would find nothing, and
    say so no better than a search with no hits."""
    for given, value in filtered_ids(text, theme):
        field = given.strip("-:")
        kinds = ID_FILTERS[field]
        known = [record_id for kind in kinds for record_id in ids(kind)]
        if value in known:
            continue
        what = "record" if len(kinds) > 1 else kinds[0]
        shown = f"--theme {value}" if given == "--theme" else f"{given}{value}"
        close = difflib.get_close_matches(value, known, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise SearchQueryError(f"no {what} has ID {value!r} ({shown}){hint}")


class _Results(Results):
    """Whoosh's results, looking the query's terms up once rather than again for every hit.

    ``synonym_words`` are the words of the synonyms searched, marked in passages too: the
    query looks a synonym group up as one token (analysis.group_token), not as its words.
    """

    synonym_words: frozenset[str] = frozenset()

    def query_terms(self, expand: bool = False, fieldname: str | None = None) -> Any:
        cache = self.__dict__.setdefault("_kb_terms", {})
        if (expand, fieldname) not in cache:
            terms = set(super().query_terms(expand=expand, fieldname=fieldname))
            if fieldname in (None, "text"):
                terms.update(("text", word.encode()) for word in self.synonym_words)
            cache[expand, fieldname] = terms
        return cache[expand, fieldname]


def _result(hits: Any, hit: Any) -> SearchResult:
    """A hit as a result: stored fields, the site path, and the matching passages marked."""
    text = hit.get("text", "")
    if len(text) <= SHORT_TEXT:  # short enough to show whole
        hits.fragmenter = highlight.WholeFragmenter()
    else:
        hits.fragmenter = highlight.ContextFragmenter(maxchars=SHORT_TEXT, surround=80)
    return SearchResult(
        type=hit["type"],
        kind=hit["kind"],
        id=hit["id"],
        title=hit["label"],
        text=text,
        score=round(hit.score, 4),
        strength=hit.get("strength"),
        url=record_url(hit["type"], hit["id"], hit.get("recommendation")),
        highlights=list(hit.highlights("text", top=2)) if text else [],
        headline=hit.get("headline", ""),
    )


# One open searcher per index folder, kept while the folder is unchanged: opening one reads
# the index's table of contents and opens every file of each segment.
_SEARCHERS: dict[Path, tuple[tuple[Any, ...], Any]] = {}


def _open_searcher(index_dir: Path) -> Any:
    """A searcher of the index, reused until the index changes (a commit or a rebuild)."""
    folder = index_dir.resolve()
    status = folder.stat()
    tables = sorted(path.name for path in folder.glob("*.toc"))  # one per commit
    version = (status.st_ino, status.st_mtime_ns, *tables)  # or a swapped-in folder
    cached = _SEARCHERS.get(folder)
    if cached and cached[0] == version:
        return cached[1]
    if cached:
        cached[1].close()
    searcher = index.open_dir(folder).searcher(weighting=_PriorBM25F())
    _SEARCHERS[folder] = (version, searcher)
    return searcher


def query_tree(searcher: Any, text: str) -> tuple[query.Query, list[SynonymMatch]]:
    """The query to rank for a cleaned, corrected text, and the synonyms it adds."""
    matches = find_synonyms(text)
    try:
        parsed = _parser(searcher.schema).parse(text, normalize=False)
    except SearchQueryError:
        raise
    except Exception as error:  # Whoosh's parser has no error type of its own
        raise SearchQueryError(f"could not read the query: {error}") from None
    parsed = _with_notes(_with_synonyms(parsed, matches), searcher.reader())
    parsed = _filters_first(parsed).normalize()
    if parsed is query.NullQuery:
        raise SearchQueryError("the query has no words to search for (only common words?)")
    return parsed, matches


def search(
    index_dir: Path,
    text: str,
    *,
    types: Iterable[str] | None = None,
    theme: str | None = None,
    min_strength: str | None = None,
    direction: str | None = None,
    year_from: int | None = None,
    limit: int = 10,
    ids: IdLookup | None = None,
) -> SearchResults:
    """Rank the indexed records for a query; raise SearchQueryError for a malformed one, and,
    given ``ids``, for a filter on an ID no record has (``check_filtered_ids``)."""
    cleaned = clean_query(text)
    check_syntax(cleaned)
    if ids is not None:
        check_filtered_ids(cleaned, theme, ids)
    filters = _filters(types, theme, min_strength, direction, year_from)
    recover_folder(Path(index_dir))
    if not index.exists_in(index_dir):
        raise IndexMissing(f"no search index at {index_dir}; run `kb search` to build it")
    searcher = _open_searcher(Path(index_dir))
    corrected = correct(cleaned, searcher)
    parsed, matches = query_tree(searcher, corrected)
    also_searched = list(dict.fromkeys(term for match in matches for term in match.alternatives))
    # Only the top documents are scored in full (kb.search.ranking); the total is exact.
    allowed = set(filters.docs(searcher)) if filters is not None else None
    ranked = rank(searcher, parsed, allowed, limit)
    hits = _Results(searcher, parsed, ranked.top)
    hits.synonym_words = frozenset(stem for term in also_searched for stem in _stems(term))
    hits.formatter = _Bold()
    results = [_result(hits, hit) for hit in hits[:limit]]
    total, estimated = ranked.total, ranked.estimated
    no_recommendation = _looks_for_recommendations(types, corrected) and not any(
        result.type == "recommendation" for result in results
    )
    nearest = nearest_recommendation(searcher, parsed, allowed) if no_recommendation else None
    return SearchResults(
        query=cleaned,
        results=results,
        total=total,
        also_searched=also_searched,
        did_you_mean=corrected if corrected != cleaned else None,
        total_estimated=estimated,
        no_recommendation=no_recommendation,
        nearest_recommendation=nearest,
    )


_TYPE_FIELD = re.compile(r'(?<![\w"])type:("[^"]*"|\S+)')


def _looks_for_recommendations(types: Iterable[str] | None, text: str) -> bool:
    """False when ``types`` or a ``type:`` in the query leaves recommendations out."""
    if types and "recommendation" not in types:
        return False
    named = {value.strip('"()').lower() for value in _TYPE_FIELD.findall(text)}
    return not named or "recommendation" in named
