"""Ranking a parsed query: the top documents with their scores, and how many documents match.

The query becomes a tree of nodes (``kb.search.nodes``) over postings read as plain lists
(``kb.search.postings``). A query of several clauses (the usual: one per word typed) is
ranked by how many clauses each document matches: a document matching k of n clauses scores
at most its prior times (k / n) times the k highest clause bounds. The clauses matched are
counted one byte per document in a big integer (a few additions per query, not a Python
step per document), and documents are scored exactly, from the highest bound down, until no
remaining group can reach the top. The ranking is exact (tests/test_search.py compares it
with scoring everything).

The total is the number of documents counted. With a phrase (typed in quotes), whose
candidates are counted on trust, it is the union of the clauses' documents with a phrase's
positions checked only for documents no other clause matched; beyond
``PHRASE_COUNT_BUDGET`` of those the total is estimated from a sample and marked as such.
"""

import re
from collections import defaultdict
from dataclasses import dataclass
from heapq import nsmallest
from operator import itemgetter
from typing import Any

from whoosh import query

from kb.search.analysis import PRIOR
from kb.search.nodes import (
    SLACK,
    Coordination,
    Group,
    Node,
    Pair,
    Phrase,
    PhraseCounter,
    Term,
    build_tree,
    coordination_power,
)
from kb.search.postings import PostingsReader

_MAX_PRIOR = max(PRIOR.values())
# Documents scored exactly at a time, at least: each scoring walks the whole query tree.
_BATCH = 64
# A document's count byte with title matches (in sixteens) -> the clauses it matches.
_CLAUSES_OF_BYTE = bytes(value % 16 for value in range(256))
# Clauses matching at most this many documents are bounded document by document.
_RARE = 2000

# Phrases found by synonyms ("minority ethnic") can have thousands of candidate documents that
# no other clause matched; the total checks this many, and estimates the rest from a sample.
PHRASE_COUNT_BUDGET = 3000


@dataclass(frozen=True)
class Ranking:
    """What ``rank`` returns: (score, docnum) pairs, best first, and the number of matches."""

    top: list[tuple[float, int]]
    total: int
    estimated: bool


def final_scores(index: PostingsReader, scores: dict[int, float]) -> dict[int, float]:
    """Scores times each document's prior (analysis.PRIOR, stored in per cent)."""
    priors = index.priors
    return {docnum: score * priors[docnum] / 100 for docnum, score in scores.items()}


def best(scored: dict[int, float], limit: int) -> list[tuple[float, int]]:
    """The best (score, docnum) pairs, ties in docnum order (as Whoosh's collector)."""
    best = nsmallest(limit, ((-score, docnum) for docnum, score in scored.items()))
    return [(-negated, docnum) for negated, docnum in best]


def rank(searcher: Any, parsed: query.Query, allowed: set[int] | None, limit: int) -> Ranking:
    """The ``limit`` best documents for ``parsed`` among ``allowed`` (all when None)."""
    index = PostingsReader(searcher)
    root = build_tree(index, parsed)
    # (Clauses are counted in one byte per document: up to 255 of them.)
    if isinstance(root, Coordination) and 1 < len(root.clauses) < 256:
        top, counts = _by_clauses_matched(index, root, allowed, limit)
        if not _has_phrases(root):  # every document counted matches: that is the total
            return Ranking(top, len(counts) - counts.count(0), False)
    else:
        wanted = root.docs(True) if allowed is None else root.docs(True) & allowed
        top = best(final_scores(index, root.scores(wanted, True)), limit)
    matched: set[int] = set()
    counter = PhraseCounter(PHRASE_COUNT_BUDGET, allowed)
    root.add_docs(matched, None)
    root.add_docs(matched, counter)
    if allowed is not None:
        matched &= allowed
    return Ranking(top, len(matched) + counter.extra, counter.estimated)


def _has_phrases(node: Node) -> bool:
    if isinstance(node, Phrase):
        return True
    children = getattr(node, "clauses", None) or getattr(node, "children", None) or []
    pair = [node.first, node.second] if isinstance(node, Pair) else []
    return any(_has_phrases(child) for child in [*children, *pair])


def _flags(docs: Any, size: int) -> int:
    """A set of documents as an integer with one byte per document, 1 for those in the set.

    Summing such integers counts, byte by byte, how many sets hold each document, in a few
    big-integer additions rather than a Python step per document.
    """
    flags = bytearray(size)
    for docnum in docs:
        flags[docnum] = 1
    return int.from_bytes(flags, "little")


def _clause_flags(node: Node, size: int, field: str | None = None) -> int:
    """The documents a clause may match (phrases taken on trust), as ``_flags``.

    With ``field``, only the documents it matches through words in that field.
    """
    if isinstance(node, Term):
        if field not in (None, node.fieldname):
            return 0
        if node.flags is None:
            node.flags = _flags(node.ids, size)
        return node.flags
    if isinstance(node, Group):
        found = 0
        for child in node.children:
            found |= _clause_flags(child, size, field)
        return found
    return _flags(node.docs(False), size) if field is None else 0


def _bound_without(node: Node, field: str) -> float:
    """The most a clause can give a document that it does not match in ``field``."""
    if isinstance(node, Term):
        return 0.0 if node.fieldname == field else node.bound
    if isinstance(node, Group):
        bounds = [_bound_without(child, field) for child in node.children]
        if node.tiebreak is None:
            return sum(bounds) * node.boost
        return (max(bounds) + node.tiebreak * (sum(bounds) - max(bounds))) * node.boost
    return node.bound


def _by_clauses_matched(
    index: PostingsReader, root: Coordination, allowed: set[int] | None, limit: int
) -> tuple[list[tuple[float, int]], bytes]:
    """The top documents, and how many clauses each document matches (one byte each).

    A document's score is its clauses' sum scaled by the share of clauses it matches and by
    its prior, so one matching k of n clauses scores at most its prior times (k / n) times
    the k highest clause bounds, and less when few of them match it in a title, the field
    with the highest weight. Documents are counted by how many clauses they match, and in how
    many through a title (one byte per document, see ``_flags``), and taken from the highest
    bound of such a count down; within a count, those whose own bound (their prior, and which
    of the rarer clauses they match) can still reach the N-th best score are scored exactly,
    best bound first.
    """
    size = len(index.priors)
    share, power, boost = len(root.clauses), coordination_power(), root.boost
    bounds = [clause.bound for clause in root.clauses]
    clause_flags = [_clause_flags(clause, size) for clause in root.clauses]
    counts_number = sum(clause_flags)
    # Up to 15 clauses, a document's byte also counts its title matches, in sixteens.
    split = share < 16
    if split:
        counts_number += 16 * sum(_clause_flags(clause, size, "title") for clause in root.clauses)
    if root.excluded or allowed is not None:  # keep only allowed documents, not excluded ones
        wanted = bytearray(size) if allowed is not None else bytearray(b"\xff" * size)
        for docnum in allowed or ():
            wanted[docnum] = 0xFF
        for docnum in root.excluded:
            wanted[docnum] = 0
        counts_number &= int.from_bytes(wanted, "little")
    counts = counts_number.to_bytes(size, "little")
    # Clauses holding few documents are tracked one by one; the others only by count.
    rare = [n for n, flags in enumerate(clause_flags) if flags.bit_count() <= _RARE]
    marks: dict[int, int] = {}
    for number in rare:
        bit = 1 << number
        for docnum in root.clauses[number].docs(False):
            marks[docnum] = marks.get(docnum, 0) | bit
    common = [n for n in range(share) if n not in rare]
    in_title = sorted((bounds[n] for n in common), reverse=True)
    elsewhere = sorted((_bound_without(root.clauses[n], "title") for n in common), reverse=True)
    priors = index.priors

    everything = -1  # a mark with every rare clause: a document that may hold any of them
    # scores at most the best ``matched`` of all the clauses' bounds (a title's, the highest).
    any_rare = sorted([*(bounds[number] for number in rare), *in_title], reverse=True)

    def ceiling(value: int, mark: int, prior: float) -> float:
        matched, titles = (value % 16, value // 16) if split else (value, value)
        if mark == everything:
            total = sum(any_rare[:matched])
            score: float = boost * total * (matched / share) ** power * prior / 100
            return score
        own = [bounds[number] for number in rare if mark >> number & 1]
        others = matched - len(own)
        titled = min(titles, others)
        total = sum(own) + sum(in_title[:titled]) + sum(elsewhere[: others - titled])
        score = boost * total * (matched / share) ** power * prior / 100
        return score

    values = sorted(
        (value for value in set(counts) if value),
        key=lambda value: ceiling(value, everything, _MAX_PRIOR * 100),
        reverse=True,
    )
    top: list[tuple[float, int]] = []
    for value in values:
        high = ceiling(value, everything, _MAX_PRIOR * 100)
        if len(top) >= limit and high * SLACK < top[-1][0]:
            break
        groups: dict[tuple[int, int], list[int]] = defaultdict(list)
        for found in re.finditer(re.escape(bytes([value])), counts):
            docnum = found.start()
            groups[marks.get(docnum, 0), priors[docnum]].append(docnum)
        waiting = sorted(
            ((ceiling(value, *group), group) for group in groups), key=itemgetter(0), reverse=True
        )
        number = 0
        while number < len(waiting):
            batch: set[int] = set()  # a few groups at a time: each scoring walks the whole tree
            while number < len(waiting) and len(batch) < _BATCH:
                high, group = waiting[number]
                if len(top) >= limit and high * SLACK < top[-1][0]:
                    break
                batch.update(groups[group])
                number += 1
            if not batch:
                break
            # A document scored and left out of the top cannot come back: merge the batch in.
            scored = final_scores(index, root.scores(batch, True))
            top = best({**{docnum: score for score, docnum in top}, **scored}, limit)
    return top, counts.translate(_CLAUSES_OF_BYTE) if split else counts
