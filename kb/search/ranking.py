"""Ranking a parsed query: the top documents with their scores, and how many documents match.

Whoosh scores a query by walking a tree of matcher objects, several Python calls per posting
per node, with no top-N pruning once scores are multiplied by a prior; at 10,000 studies a
common word matches most of the 44,000 documents, and a query took seconds. Here each term's
postings are read a block at a time into plain lists and scored in one pass, and the query is
ranked with a variant of MaxScore (Turtle and Flood, 1995): the leaves (a word in one field, a
phrase) are taken from the highest possible score down, and once the leaves left could not
lift an unseen document into the top N, the rest are only looked up for documents already
found. The ranking is exact (tests/test_search.py compares it with scoring everything). The
total is the union of the clauses' documents; a phrase's positions are checked only for
documents no other clause matched, and beyond ``PHRASE_COUNT_BUDGET`` of those the total is
estimated from a sample and marked as such.

The scores are query.py's: BM25F per field times the field's boost; a word's best field plus
``FIELD_TIEBREAK`` of its other fields (Lucene's dismax); alternatives summed; the summed
clauses scaled by the share of clauses matched (``COORDINATION``) and by the prior of the
document's kind (``PRIOR``).
"""

import math
from bisect import bisect_left
from collections.abc import Iterator
from dataclasses import dataclass
from heapq import nsmallest
from itertools import accumulate
from pickle import loads
from typing import Any

from whoosh import query
from whoosh.codec.whoosh3 import LENGTHS_COLUMN, W3LeafMatcher
from whoosh.formats import Positions
from whoosh.matching.wrappers import FilterMatcher
from whoosh.system import _INT_SIZE
from whoosh.util.numeric import byte_to_length

from kb.search.index import PRIOR

_LENGTH_OF_BYTE = [byte_to_length(byte) for byte in range(256)]
_MAX_PRIOR = max(PRIOR.values())
# Bounds are compared with exact scores; this keeps rounding from pruning a tied document.
_SLACK = 1 + 1e-9
# Documents scored exactly at a time, per result asked for: each round walks the whole query.
_BATCH = 8
# Process-wide caches keyed by segment id: a segment's files never change once written.
_LENGTHS: dict[tuple[str, str], bytes] = {}


# --- Reading postings -----------------------------------------------------------------------


def _block_postings(matcher: Any) -> tuple[list[int], list[float], list[Any]]:
    """All (docnum, weight, value) postings of one segment's term, read a block at a time."""
    deleted: set[int] = set()
    if isinstance(matcher, FilterMatcher):  # a segment with deleted documents
        deleted, matcher = matcher._ids, matcher.child
    ids: list[int] = []
    weights: list[float] = []
    values: list[Any] = []
    if isinstance(matcher, W3LeafMatcher):
        while matcher.is_active():
            matcher._read_ids()
            matcher._read_weights()
            matcher._read_values()
            ids.extend(matcher._ids)
            weights.extend(matcher._weights)
            values.extend(matcher._values)
            matcher._next_block()
    else:  # postings inlined in the term's entry, or any other matcher: the same postings
        while matcher.is_active():
            ids.append(matcher.id())
            weights.append(matcher.weight())
            values.append(matcher.value())
            matcher.next()
    if deleted:
        kept = [number for number, docnum in enumerate(ids) if docnum not in deleted]
        ids = [ids[number] for number in kept]
        weights = [weights[number] for number in kept]
        values = [values[number] for number in kept]
    return ids, weights, values


def _segment_lengths(reader: Any, fieldname: str) -> bytes:
    """One byte per document of a segment: its encoded length in ``fieldname``."""
    key = (reader._segment.segment_id(), fieldname)
    if key not in _LENGTHS:
        lengths = b""
        column = f"_{fieldname}_len"
        if reader._perdoc.has_column(column):
            column_reader = reader._perdoc.column_reader(column, LENGTHS_COLUMN)
            lengths = column_reader._dbfile.get(column_reader._basepos, column_reader._count)
        _LENGTHS[key] = lengths.ljust(reader.doc_count_all(), b"\0")
        if len(_LENGTHS) > 256:
            _LENGTHS.pop(next(iter(_LENGTHS)))
    return _LENGTHS[key]


@dataclass(frozen=True)
class _BM25:
    """A term's BM25F score from a posting's weight and encoded field length (Whoosh's bm25)."""

    idf: float
    top: float  # K1 + 1
    norms: list[float]  # K1 * ((1 - B) + B * length / average length), by length byte

    def __call__(self, weight: float, length: int) -> float:
        return self.idf * ((weight * self.top) / (weight + self.norms[length]))


@dataclass
class _Postings:
    """A term's postings in docnum order: weights, values and the field length byte of each."""

    ids: list[int]
    weights: list[float]
    values: list[Any]
    lengths: bytearray

    def positions(self, docnum: int) -> list[int]:
        """The term's positions in a document it occurs in (Whoosh's Positions format)."""
        value = self.values[bisect_left(self.ids, docnum)]
        return list(accumulate(loads(value[_INT_SIZE:])))


class _Index:
    """The searcher's segments, and each term's postings, scores and bounds, read once."""

    def __init__(self, searcher: Any) -> None:
        self.searcher = searcher
        self.schema = searcher.schema
        self.segments = [(sub.reader(), offset) for sub, offset in searcher.leaf_searchers()]
        self.weighting = searcher.weighting
        self._postings: dict[tuple[str, Any], _Postings] = {}
        self._prior = searcher.reader().column_reader("prior")
        self._norm_tables: dict[tuple[str, float, float, float], list[float]] = {}

    def prior(self, docnum: int) -> int:
        return self._prior[docnum] or 100

    def postings(self, fieldname: str, text: Any) -> "_Postings":
        """Global docnums, weights, values and the field's length byte of each, by docnum."""
        key = (fieldname, text)
        if key not in self._postings:
            found = _Postings([], [], [], bytearray())
            for reader, offset in self.segments:
                if (fieldname, text) not in reader:
                    continue
                ids, weights, values = _block_postings(reader.postings(fieldname, text))
                found.ids.extend([docnum + offset for docnum in ids])
                found.weights.extend(weights)
                found.values.extend(values)
                table = _segment_lengths(reader, fieldname)
                found.lengths.extend(bytes([table[docnum] for docnum in ids]))
            self._postings[key] = found
        return self._postings[key]

    def _norms(self, fieldname: str, k1: float, b: float, average: float) -> list[float]:
        """BM25's length normalisation for each of the 256 encoded field lengths."""
        key = (fieldname, k1, b, average)
        if key not in self._norm_tables:
            norms = [k1 * ((1 - b) + b * length / average) for length in _LENGTH_OF_BYTE]
            norms[0] = k1 * ((1 - b) + b * 1 / average)  # Whoosh's default length
            self._norm_tables[key] = norms
        return self._norm_tables[key]

    def term_scorer(self, fieldname: str, text: Any) -> Any:
        """A function (weight, length byte) -> the term's BM25F score, as Whoosh computes it."""
        if not self.schema[fieldname].scorable:

            def plain(weight: float, length: int) -> float:
                return weight

            return plain
        k1, b = self.weighting.K1, self.weighting._field_B.get(fieldname, self.weighting.B)
        idf = self.searcher.idf(fieldname, text)
        average = self.searcher.avg_field_length(fieldname) or 1
        return _BM25(idf, k1 + 1, self._norms(fieldname, k1, b, average))


# --- The query as a tree of nodes -------------------------------------------------------------
#
# ``exact=False`` takes every phrase to match wherever its words all occur in the field: a
# superset of the documents, with scores no lower than the exact ones. Ranking uses it to find
# candidates cheaply and checks word positions only for documents that could make the top.


class _Node:
    """A part of the query: its documents, their scores, and a bound on any one score."""

    bound: float = math.inf

    def docs(self, exact: bool) -> set[int]:
        raise NotImplementedError

    def add_docs(self, seen: set[int], counter: "_PhraseCounter | None") -> None:
        """Add this node's documents to ``seen``: terms first, phrases when given a counter."""
        if counter is not None:
            seen.update(self.docs(True))

    def scores(self, among: set[int] | None, exact: bool) -> dict[int, float]:
        """Scores of the node's documents (those in ``among``, when given)."""
        raise NotImplementedError


class _Term(_Node):
    def __init__(self, index: _Index, fieldname: str, text: Any, boost: float) -> None:
        self.postings = index.postings(fieldname, text)
        self.ids, self.weights, self.lengths = (
            self.postings.ids,
            self.postings.weights,
            self.postings.lengths,
        )
        self.function = index.term_scorer(fieldname, text) if self.ids else None
        self.boost = boost
        # The best score of any posting: few distinct (weight, length) pairs to try.
        pairs = set(zip(self.weights, self.lengths, strict=True))
        best = max((self.function(*pair) for pair in pairs), default=0.0)
        self.bound = best * boost * _SLACK
        self._docs: set[int] | None = None
        self._numbers: dict[int, int] | None = None  # docnum -> place in the postings

    def docs(self, exact: bool) -> set[int]:
        if self._docs is None:
            self._docs = set(self.ids)
        return self._docs

    def add_docs(self, seen: set[int], counter: "_PhraseCounter | None") -> None:
        if counter is None:
            seen.update(self.ids)

    def scores(self, among: set[int] | None, exact: bool) -> dict[int, float]:
        ids, weights, lengths, function, boost = (
            self.ids,
            self.weights,
            self.lengths,
            self.function,
            self.boost,
        )
        if among is not None and len(among) < len(ids):
            where = self._where()
            numbers = [where[docnum] for docnum in among if docnum in where]
            return {ids[n]: function(weights[n], lengths[n]) * boost for n in numbers}
        postings = zip(ids, weights, lengths, strict=True)
        if isinstance(function, _BM25):  # the common case, inlined: the same arithmetic
            idf, top, norms = function.idf, function.top, function.norms
            return {
                docnum: idf * ((weight * top) / (weight + norms[length])) * boost
                for docnum, weight, length in postings
                if among is None or docnum in among
            }
        return {
            docnum: function(weight, length) * boost
            for docnum, weight, length in postings
            if among is None or docnum in among
        }

    def _where(self) -> dict[int, int]:
        if self._numbers is None:
            self._numbers = dict(zip(self.ids, range(len(self.ids)), strict=True))
        return self._numbers


class _PhraseCounter:
    """Checks phrases for the total, up to a budget of documents; beyond it, estimates."""

    def __init__(self, budget: int, allowed: set[int] | None) -> None:
        self.budget = budget
        self.allowed = allowed
        self.estimated = False
        self.extra = 0  # estimated documents, beyond those in the set of matches


class _Phrase(_Node):
    """Words in order, each within ``slop`` positions of the last (Whoosh's SpanNear2)."""

    def __init__(self, index: _Index, phrase: query.Phrase) -> None:
        field = index.schema[phrase.fieldname]
        words = [field.to_bytes(word) for word in phrase.words]
        self.terms = [_Term(index, phrase.fieldname, word, 1.0) for word in words]
        self.slop = phrase.slop
        self.boost = phrase.boost
        self._candidates: set[int] | None = None
        self._checked: dict[int, bool] = {}
        self.bound = sum(term.bound for term in self.terms) * phrase.boost
        if not self.candidates():
            self.bound = 0.0

    def candidates(self) -> set[int]:
        """Documents with every word of the phrase in the field."""
        if self._candidates is None:
            if not self.terms or any(not term.ids for term in self.terms):
                self._candidates = set()
            else:
                ordered = sorted(self.terms, key=lambda term: len(term.ids))
                found = set(ordered[0].ids)
                for term in ordered[1:]:
                    found.intersection_update(term.ids)
                self._candidates = found
        return self._candidates

    def _matches(self, docnum: int) -> bool:
        if docnum not in self._checked:
            ends = self.terms[0].postings.positions(docnum)
            for term in self.terms[1:]:
                positions = term.postings.positions(docnum)
                ends = [
                    position
                    for position in positions
                    if any(1 <= position - end <= self.slop for end in ends)
                ]
                if not ends:
                    break
            self._checked[docnum] = bool(ends)
        return self._checked[docnum]

    def docs(self, exact: bool) -> set[int]:
        if not exact:
            return self.candidates()
        return {docnum for docnum in self.candidates() if self._matches(docnum)}

    def add_docs(self, seen: set[int], counter: _PhraseCounter | None) -> None:
        if counter is None or any(seen.issuperset(term.ids) for term in self.terms):
            return  # terms only; or nothing new can come of the phrase
        unseen_set = self.candidates() - seen
        if counter.allowed is not None:
            unseen_set &= counter.allowed
        unseen = sorted(unseen_set)
        if len(unseen) <= counter.budget:
            counter.budget -= len(unseen)
            seen.update(docnum for docnum in unseen if self._matches(docnum))
            return
        # Too many to check: the share of a regular sample that matches, as an estimate.
        counter.estimated = True
        step = max(1, len(unseen) // max(counter.budget, 100))
        sample = unseen[::step]
        counter.budget = max(0, counter.budget - len(sample))
        matching = [docnum for docnum in sample if self._matches(docnum)]
        seen.update(matching)
        counter.extra += round(len(matching) / len(sample) * (len(unseen) - len(sample)))

    def scores(self, among: set[int] | None, exact: bool) -> dict[int, float]:
        matched = self.candidates() if among is None else self.candidates() & among
        if exact:
            matched = {docnum for docnum in matched if self._matches(docnum)}
        totals = dict.fromkeys(matched, 0.0)
        for term in self.terms:
            for docnum, score in term.scores(matched, exact).items():
                totals[docnum] += score
        return {docnum: total * self.boost for docnum, total in totals.items()}


class _Matcher(_Node):
    """Any other query (wildcards, ranges, operators...): Whoosh's matcher, read in full."""

    def __init__(self, index: _Index, node: query.Query) -> None:
        self._scores: dict[int, float] = {}
        matcher = node.matcher(index.searcher)
        while matcher.is_active():
            self._scores[matcher.id()] = matcher.score()
            matcher.next()

    def docs(self, exact: bool) -> set[int]:
        return set(self._scores)

    def scores(self, among: set[int] | None, exact: bool) -> dict[int, float]:
        if among is None:
            return dict(self._scores)
        return {docnum: score for docnum, score in self._scores.items() if docnum in among}


class _Group(_Node):
    """Any of the children: the sum of their scores, or the best plus a tiebreak share."""

    def __init__(self, children: list[_Node], boost: float, tiebreak: float | None) -> None:
        self.children = children
        self.boost = boost
        self.tiebreak = tiebreak
        bounds = [child.bound for child in children]
        if tiebreak is None:
            self.bound = sum(bounds) * boost
        else:
            self.bound = (max(bounds) + tiebreak * (sum(bounds) - max(bounds))) * boost

    def docs(self, exact: bool) -> set[int]:
        found: set[int] = set()
        for child in self.children:
            found |= child.docs(exact)
        return found

    def add_docs(self, seen: set[int], counter: _PhraseCounter | None) -> None:
        for child in self.children:
            child.add_docs(seen, counter)

    def scores(self, among: set[int] | None, exact: bool) -> dict[int, float]:
        found = [child.scores(among, exact) for child in self.children]
        if len(found) == 1:
            return {docnum: score * self.boost for docnum, score in found[0].items()}
        best: dict[int, float] = {}
        total: dict[int, float] = {}
        for scores in found:
            for docnum, score in scores.items():
                before = total.get(docnum)
                if before is None:
                    total[docnum] = best[docnum] = score
                else:
                    total[docnum] = before + score
                    if score > best[docnum]:
                        best[docnum] = score
        boost, tiebreak = self.boost, self.tiebreak
        if tiebreak is None:
            return {docnum: score * boost for docnum, score in total.items()}
        return {
            docnum: (high + tiebreak * (total[docnum] - high)) * boost
            for docnum, high in best.items()
        }


class _All(_Node):
    """All of the children (AND): the sum of their scores."""

    def __init__(self, children: list[_Node], boost: float) -> None:
        self.children = children
        self.boost = boost
        self.bound = sum(child.bound for child in children) * boost

    def docs(self, exact: bool) -> set[int]:
        found = self.children[0].docs(exact)
        for child in self.children[1:]:
            found = found & child.docs(exact)
        return found

    def scores(self, among: set[int] | None, exact: bool) -> dict[int, float]:
        wanted = self.docs(exact) if among is None else self.docs(exact) & among
        totals = dict.fromkeys(wanted, 0.0)
        for child in self.children:
            for docnum, score in child.scores(wanted, exact).items():
                totals[docnum] += score
        return {docnum: total * self.boost for docnum, total in totals.items()}


class _Pair(_Node):
    """Whoosh's binary operators: ANDNOT, ANDMAYBE and REQUIRE, scored as Whoosh scores them."""

    def __init__(self, first: _Node, second: _Node, operator: str, boost: float) -> None:
        self.first, self.second, self.operator, self.boost = first, second, operator, boost
        extra = second.bound if operator == "maybe" else 0.0
        self.bound = (first.bound + extra) * boost

    def docs(self, exact: bool) -> set[int]:
        if self.operator == "not":  # documents the second matches are out, phrases or not
            return self.first.docs(exact) - self.second.docs(True)
        if self.operator == "require":
            return self.first.docs(exact) & self.second.docs(exact)
        return self.first.docs(exact)

    def scores(self, among: set[int] | None, exact: bool) -> dict[int, float]:
        wanted = self.docs(exact) if among is None else self.docs(exact) & among
        found = self.first.scores(wanted, exact)
        if self.operator == "maybe":
            for docnum, score in self.second.scores(wanted, exact).items():
                found[docnum] = found.get(docnum, 0.0) + score
        return {docnum: score * self.boost for docnum, score in found.items()}


class _Coordination(_Node):
    """Any of the clauses, the summed score scaled by the share of clauses matched (query.py)."""

    def __init__(self, clauses: list[_Node], excluded: set[int], boost: float) -> None:
        self.clauses = clauses
        self.excluded = excluded
        self.boost = boost
        self.bound = sum(clause.bound for clause in clauses) * boost

    def docs(self, exact: bool) -> set[int]:
        found: set[int] = set()
        for clause in self.clauses:
            found |= clause.docs(exact)
        return found - self.excluded

    def add_docs(self, seen: set[int], counter: _PhraseCounter | None) -> None:
        if not self.excluded:
            for clause in self.clauses:
                clause.add_docs(seen, counter)
        elif counter is not None:
            own: set[int] = set()
            for clause in self.clauses:
                clause.add_docs(own, None)
            for clause in self.clauses:
                clause.add_docs(own, counter)
            seen |= own - self.excluded

    def scores(self, among: set[int] | None, exact: bool) -> dict[int, float]:
        totals: dict[int, float] = {}
        counts: dict[int, int] = {}
        for clause in self.clauses:
            for docnum, score in clause.scores(among, exact).items():
                if docnum in self.excluded:
                    continue
                totals[docnum] = totals.get(docnum, 0.0) + score
                counts[docnum] = counts.get(docnum, 0) + 1
        share = max(len(self.clauses), 1)
        coordination = _coordination()
        return {
            docnum: self.boost * total * (counts[docnum] / share) ** coordination
            for docnum, total in totals.items()
        }


def _coordination() -> float:
    from kb.search.query import COORDINATION  # query.py imports this module

    return COORDINATION


def _node(index: _Index, node: query.Query) -> _Node:
    """The node that evaluates a (normalised) Whoosh query."""
    from kb.search.query import _BestOf, _Coordinated

    if isinstance(node, query.Term) and node.fieldname in index.schema:
        text = index.schema[node.fieldname].to_bytes(node.text)
        return _Term(index, node.fieldname, text, node.boost)
    if (
        type(node) is query.Phrase
        and node.fieldname in index.schema
        and type(index.schema[node.fieldname].format) is Positions  # what _Postings decodes
    ):
        return _Phrase(index, node)
    if isinstance(node, _Coordinated):
        excluded: set[int] = set()
        clauses = []
        for sub in node.subqueries:
            if isinstance(sub, query.Not):
                excluded.update(sub.query.docs(index.searcher))
            else:
                clauses.append(_node(index, sub))
        return _Coordination(clauses, excluded, node.boost)
    if isinstance(node, _BestOf) and node.subqueries:
        children = [_node(index, sub) for sub in node.subqueries]
        return _Group(children, node.boost, node.tiebreak)
    if type(node) is query.Or and node.subqueries:
        return _Group([_node(index, sub) for sub in node.subqueries], node.boost, None)
    if type(node) is query.And and node.subqueries:
        return _All([_node(index, sub) for sub in node.subqueries], node.boost)
    operators = {query.AndNot: "not", query.AndMaybe: "maybe", query.Require: "require"}
    if type(node) in operators:
        first, second = _node(index, node.a), _node(index, node.b)
        return _Pair(first, second, operators[type(node)], node.boost)
    return _Matcher(index, node)


# --- Ranking ----------------------------------------------------------------------------------

# Phrases found by synonyms ("minority ethnic") can have thousands of candidate documents that
# no other clause matched; the total checks this many, and estimates the rest from a sample.
PHRASE_COUNT_BUDGET = 3000


@dataclass(frozen=True)
class Ranking:
    """What ``rank`` returns: (score, docnum) pairs, best first, and the number of matches."""

    top: list[tuple[float, int]]
    total: int
    estimated: bool


def _final(index: _Index, scores: dict[int, float]) -> dict[int, float]:
    return {docnum: score * index.prior(docnum) / 100 for docnum, score in scores.items()}


def _best(scored: dict[int, float], limit: int) -> list[tuple[float, int]]:
    """The best (score, docnum) pairs, ties in docnum order (as Whoosh's collector)."""
    best = nsmallest(limit, ((-score, docnum) for docnum, score in scored.items()))
    return [(-negated, docnum) for negated, docnum in best]


def rank(searcher: Any, parsed: query.Query, allowed: set[int] | None, limit: int) -> Ranking:
    """The ``limit`` best documents for ``parsed`` among ``allowed`` (all when None)."""
    index = _Index(searcher)
    root = _node(index, parsed)
    matched: set[int] = set()
    counter = _PhraseCounter(PHRASE_COUNT_BUDGET, allowed)
    root.add_docs(matched, None)
    root.add_docs(matched, counter)
    if allowed is not None:
        matched &= allowed
    if isinstance(root, _Coordination) and len(root.clauses) > 1:
        top = _max_score(index, root, allowed, limit)
    else:
        wanted = root.docs(True) if allowed is None else root.docs(True) & allowed
        top = _best(_final(index, root.scores(wanted, True)), limit)
    return Ranking(top, len(matched) + counter.extra, counter.estimated)


def _leaves(node: _Node, weight: float) -> Iterator[tuple[float, _Node]]:
    """Each term, phrase or other leaf under ``node``, with the most its score can add."""
    if isinstance(node, _Group | _All | _Coordination):
        children = node.clauses if isinstance(node, _Coordination) else node.children
        for child in children:
            yield from _leaves(child, weight * node.boost)
    elif isinstance(node, _Pair):  # its documents all come from the first query
        yield from _leaves(node.first, weight * node.boost)
    else:
        yield weight * node.bound, node


def _left(node: _Node, done: set[int]) -> float:
    """The best score ``node`` can give a document that none of the ``done`` leaves hold."""
    if isinstance(node, _Group):
        bounds = [_left(child, done) for child in node.children]
        if node.tiebreak is None:
            return sum(bounds) * node.boost
        return (max(bounds) + node.tiebreak * (sum(bounds) - max(bounds))) * node.boost
    if isinstance(node, _All):
        bounds = [_left(child, done) for child in node.children]
        return 0.0 if min(bounds) == 0 else sum(bounds) * node.boost
    if isinstance(node, _Coordination):
        return sum(_left(clause, done) for clause in node.clauses) * node.boost
    if isinstance(node, _Pair):
        first = _left(node.first, done)
        extra = node.second.bound if node.operator == "maybe" else 0.0
        return 0.0 if first == 0 else (first + extra) * node.boost
    return 0.0 if id(node) in done else node.bound


def _max_score(
    index: _Index, root: _Coordination, allowed: set[int] | None, limit: int
) -> list[tuple[float, int]]:
    """The top documents, scoring only those found by leaves that could lift a document there.

    A variant of MaxScore (Turtle and Flood, 1995). The leaves (a word in one field, a phrase)
    are taken from the highest bound down, and the documents each holds are scored, first with
    phrases taken on trust (an upper bound), then exactly, best first, until no unchecked one
    can beat the N-th exact score. Once the best score a document could reach through the
    leaves not yet taken is below the N-th score, no other document can enter the top N.
    """
    leaves = sorted(_leaves(root, 1.0), key=lambda pair: -pair[0])
    share = len(root.clauses)
    coordination = _coordination()
    hopeful: dict[int, float] = {}  # scores with phrases taken on trust, before the prior
    exact: dict[int, float] = {}
    top: list[tuple[float, int]] = []
    done: set[int] = set()
    for _, leaf in leaves:
        if len(top) >= limit:
            left = [_left(clause, done) for clause in root.clauses]
            matched = sum(1 for bound in left if bound > 0)
            ceiling = root.boost * sum(left) * (matched / share) ** coordination
            if ceiling * _MAX_PRIOR * _SLACK < top[-1][0]:
                break
        done.add(id(leaf))
        new = leaf.docs(False) - root.excluded - hopeful.keys()
        if allowed is not None:
            new &= allowed
        if not new:
            continue
        found = root.scores(new, False)
        hopeful.update(found)
        # Documents left unchecked by earlier leaves fell below the N-th score, which only
        # rises: only the new ones can enter.
        floor = top[-1][0] if len(top) >= limit else -math.inf
        waiting = sorted(  # best first
            (-score * _MAX_PRIOR * _SLACK, docnum)
            for docnum, score in found.items()
            if score * _MAX_PRIOR * _SLACK >= floor
        )
        for start in range(0, len(waiting), _BATCH * limit):
            if len(top) >= limit and -waiting[start][0] < top[-1][0]:
                break
            batch = {docnum for _, docnum in waiting[start : start + _BATCH * limit]}
            exact.update(_final(index, root.scores(batch, True)))
            top = _best(exact, limit)
    return top
