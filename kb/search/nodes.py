"""The query as a tree of nodes: each part's documents, their exact scores, and score bounds.

A parsed (normalised) Whoosh query becomes a tree (``build_tree``): terms and phrases at the
leaves, read with ``kb.search.postings``; groups (a word's fields, a word and its synonyms),
AND, Whoosh's binary operators, and the coordinated top level above them. Each node scores
many documents in one pass over plain lists, instead of Whoosh's several Python calls per
posting per matcher, and knows a bound on the score it can give any one document, which
ranking (``kb.search.ranking``) uses to leave documents unscored.

The scores are query.py's: BM25F per field times the field's boost; a word's best field plus
``FIELD_TIEBREAK`` of its other fields (Lucene's dismax); alternatives summed; the summed
clauses scaled by the share of clauses matched (``COORDINATION``).

``exact=False`` takes every phrase to match wherever its words all occur in the field: a
superset of the documents, with scores no lower than the exact ones, to find candidates
cheaply; word positions are checked only for documents that are scored.
"""

import math
from bisect import bisect_left
from typing import Any

from whoosh import query
from whoosh.formats import Positions

from kb.search.postings import BM25, PostingsReader

# Bounds are compared with exact scores; this keeps rounding from pruning a tied document.
SLACK = 1 + 1e-9
# Looking a few documents up in a long postings list, binary search beats building a map of
# the list as long as there are this many times fewer documents than postings.
_SEARCHES_PER_MAP = 16


class Node:
    """A part of the query: its documents, their scores, and a bound on any one score."""

    bound: float = math.inf

    def docs(self, exact: bool) -> set[int]:
        raise NotImplementedError

    def add_docs(self, seen: set[int], counter: "PhraseCounter | None") -> None:
        """Add this node's documents to ``seen``: terms first, phrases when given a counter."""
        if counter is not None:
            seen.update(self.docs(True))

    def scores(self, among: set[int] | None, exact: bool) -> dict[int, float]:
        """Scores of the node's documents (those in ``among``, when given)."""
        raise NotImplementedError


class Term(Node):
    def __init__(
        self,
        index: PostingsReader,
        fieldname: str,
        text: Any,
        boost: float,
        positions: bool = False,
    ) -> None:
        self.fieldname = fieldname
        self.postings = index.postings(fieldname, text, positions)
        self.ids, self.weights, self.lengths = (
            self.postings.ids,
            self.postings.weights,
            self.postings.lengths,
        )
        function = index.term_scorer(fieldname, text) if self.ids else None
        self.function = function
        self.boost = boost
        # The best score of any posting: that of one of a few (weight, length) pairs.
        best = (
            max((function(*pair) for pair in self.postings.pairs), default=0.0) if function else 0.0
        )
        self.bound = best * boost * SLACK
        self._docs: set[int] | None = None
        self._numbers: dict[int, int] | None = None  # docnum -> place in the postings
        self.flags: int | None = None  # its documents as ranking._flags, once asked for

    def docs(self, exact: bool) -> set[int]:
        if self._docs is None:
            self._docs = set(self.ids)
        return self._docs

    def add_docs(self, seen: set[int], counter: "PhraseCounter | None") -> None:
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
        if function is None:  # no postings
            return {}
        if among is not None and len(among) < len(ids):
            numbers = self._places(among)
            return {ids[n]: function(weights[n], lengths[n]) * boost for n in numbers}
        postings = zip(ids, weights, lengths, strict=True)
        if isinstance(function, BM25):  # the common case, inlined: the same arithmetic
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

    def _places(self, among: set[int]) -> list[int]:
        """Where the documents of ``among`` that hold the term are in its postings."""
        ids = self.ids
        if self._numbers is None and len(among) * _SEARCHES_PER_MAP < len(ids):
            found = [bisect_left(ids, docnum) for docnum in among]  # a few: binary search
            return [n for n in found if n < len(ids) and ids[n] in among]
        if self._numbers is None:
            self._numbers = dict(zip(ids, range(len(ids)), strict=True))
        where = self._numbers
        return [where[docnum] for docnum in among if docnum in where]


class PhraseCounter:
    """Checks phrases for the total, up to a budget of documents; beyond it, estimates."""

    def __init__(self, budget: int, allowed: set[int] | None) -> None:
        self.budget = budget
        self.allowed = allowed
        self.estimated = False
        self.extra = 0  # estimated documents, beyond those in the set of matches


class Phrase(Node):
    """Words in order, each within ``slop`` positions of the last (Whoosh's SpanNear2)."""

    def __init__(self, index: PostingsReader, phrase: query.Phrase) -> None:
        field = index.schema[phrase.fieldname]
        words = [field.to_bytes(word) for word in phrase.words]
        self.terms = [Term(index, phrase.fieldname, word, 1.0, True) for word in words]
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

    def add_docs(self, seen: set[int], counter: PhraseCounter | None) -> None:
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


class Matcher(Node):
    """Any other query (wildcards, ranges, operators...): Whoosh's matcher, read in full."""

    def __init__(self, index: PostingsReader, node: query.Query) -> None:
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


class Group(Node):
    """Any of the children: the sum of their scores, or the best plus a tiebreak share."""

    def __init__(self, children: list[Node], boost: float, tiebreak: float | None) -> None:
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

    def add_docs(self, seen: set[int], counter: PhraseCounter | None) -> None:
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


class All(Node):
    """All of the children (AND): the sum of their scores."""

    def __init__(self, children: list[Node], boost: float) -> None:
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


class Pair(Node):
    """Whoosh's binary operators: ANDNOT, ANDMAYBE and REQUIRE, scored as Whoosh scores them."""

    def __init__(self, first: Node, second: Node, operator: str, boost: float) -> None:
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


class Coordination(Node):
    """Any of the clauses, the summed score scaled by the share of clauses matched (query.py)."""

    def __init__(self, clauses: list[Node], excluded: set[int], boost: float) -> None:
        self.clauses = clauses
        self.excluded = excluded
        self.boost = boost
        self.bound = sum(clause.bound for clause in clauses) * boost

    def docs(self, exact: bool) -> set[int]:
        found: set[int] = set()
        for clause in self.clauses:
            found |= clause.docs(exact)
        return found - self.excluded

    def add_docs(self, seen: set[int], counter: PhraseCounter | None) -> None:
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
        coordination = coordination_power()
        return {
            docnum: self.boost * total * (counts[docnum] / share) ** coordination
            for docnum, total in totals.items()
        }


def coordination_power() -> float:
    """query.COORDINATION (query.py imports this module, so it is looked up when needed)."""
    from kb.search.query import COORDINATION

    return COORDINATION


def build_tree(index: PostingsReader, node: query.Query) -> Node:
    """The node that evaluates a (normalised) Whoosh query."""
    from kb.search.query import _BestOf, _Coordinated

    if isinstance(node, query.Term) and node.fieldname in index.schema:
        text = index.schema[node.fieldname].to_bytes(node.text)
        return Term(index, node.fieldname, text, node.boost)
    if (
        type(node) is query.Phrase
        and node.fieldname in index.schema
        and type(index.schema[node.fieldname].format) is Positions  # what Postings decodes
    ):
        return Phrase(index, node)
    if isinstance(node, _Coordinated):
        excluded: set[int] = set()
        clauses = []
        for sub in node.subqueries:
            if isinstance(sub, query.Not):
                excluded.update(sub.query.docs(index.searcher))
            else:
                clauses.append(build_tree(index, sub))
        return Coordination(clauses, excluded, node.boost)
    if isinstance(node, _BestOf) and node.subqueries:
        children = [build_tree(index, sub) for sub in node.subqueries]
        return Group(children, node.boost, node.tiebreak)
    if type(node) is query.Or and node.subqueries:
        return Group([build_tree(index, sub) for sub in node.subqueries], node.boost, None)
    if type(node) is query.And and node.subqueries:
        return All([build_tree(index, sub) for sub in node.subqueries], node.boost)
    operators = {query.AndNot: "not", query.AndMaybe: "maybe", query.Require: "require"}
    if type(node) in operators:
        first, second = build_tree(index, node.a), build_tree(index, node.b)
        return Pair(first, second, operators[type(node)], node.boost)
    return Matcher(index, node)
