"""Recommendations related by the evidence they share: the score behind "related
recommendations", on plain data.

``kb.graph.evidence.related_recommendations`` ranks them on the evidence graph (the site, ``kb graph
related``); ``related_in_document`` ranks them on an export document (``kb show``, which would
otherwise load networkx to build the graph for one list). Both work out each recommendation's
``Support`` with ``support_from`` and rank with ``most_related``, so the two cannot disagree.
Plain Python only: no networkx, no store.
"""

import heapq
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Set
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, TypedDict

from kb.records.document import Document
from kb.records.levels import best_support, computed_rank, contradicts


class Related(TypedDict):
    """A recommendation related to another by the evidence they share, with its score."""

    id: str
    title: str
    score: float
    shared_studies: list[str]
    shared_examples: list[str]


@dataclass(frozen=True)
class Support:
    """What the overall-level rule and the related-recommendation score need of one
    recommendation's evidence, worked out once so that each question about it is quick."""

    best: dict[str, int]  # supporting study → its strongest supporting rank
    top_ranks: list[int]  # the three strongest values of ``best``, strongest first
    contradicting: Counter[str]  # study → its contradicting items
    examples: frozenset[str]  # practice examples linked to the recommendation

    @property
    def level(self) -> str:
        """The computed overall level (``overall_level``'s, without the reason)."""
        return f"S{computed_rank(self.top_ranks, self.contradicting.total())}"

    def level_without(self, study_id: str) -> str:
        """The computed overall level if every link from ``study_id`` were taken away."""
        ranks = list(self.top_ranks)
        if self.best.get(study_id) in ranks:
            # Equal ranks are interchangeable, so dropping any one of them leaves the same
            # list; the strongest two of the rest are among the strongest three. A weaker rank
            # changes neither.
            ranks.remove(self.best[study_id])
        contradicting = self.contradicting.total() - self.contradicting[study_id]
        return f"S{computed_rank(ranks, contradicting)}"


def support_from(items: Iterable[Mapping[str, Any]], examples: Iterable[str]) -> Support:
    """The ``Support`` of one recommendation: its evidence links (each with ``study``,
    ``relation`` and ``strength``) and the IDs of its practice examples."""
    items = list(items)
    best = best_support(items)
    return Support(
        best=best,
        top_ranks=sorted(best.values(), reverse=True)[:3],
        contradicting=Counter(item["study"] for item in items if contradicts(item)),
        examples=frozenset(examples),
    )


def _overlap(first: Set[str], second: Set[str]) -> tuple[int, int]:
    """How many members two sets share, and how many they hold together (1 when none, so that
    shared / together is their Jaccard index, 0 for two empty sets)."""
    shared = len(first & second)
    return shared, (len(first) + len(second) - shared) or 1


def most_related(
    recommendation_id: str,
    support: Callable[[str], Support],
    bears_on: Callable[[str], Iterable[str]],
    title: Callable[[str], str],
    k: int = 5,
) -> list[Related]:
    """The ``k`` recommendations that share most evidence with one recommendation.

    score = (2 × Jaccard over supporting studies + Jaccard over practice examples) / 3, so
    shared studies weigh twice as much as shared examples and the score runs from 0 to 1.
    Only scores above 0 are listed; ties are broken by ID. ``support`` gives a
    recommendation's ``Support``, ``bears_on`` the recommendations a study's evidence links
    or a practice example bear on, and ``title`` a recommendation's title.
    """
    own = support(recommendation_id)
    # Only recommendations that share a study or an example can score above 0, so look at
    # those neighbours instead of every recommendation (which made site builds quadratic).
    candidates = {
        rec
        for shared in (*own.best, *own.examples)
        for rec in bears_on(shared)
        if rec != recommendation_id
    }
    scored = []
    for other in candidates:
        theirs = support(other)
        studies, studies_union = _overlap(own.best.keys(), theirs.best.keys())
        examples, examples_union = _overlap(own.examples, theirs.examples)
        # (2 × studies / studies_union + examples / examples_union) / 3, exactly, as one fraction
        score = Fraction(
            2 * studies * examples_union + examples * studies_union,
            3 * studies_union * examples_union,
        )
        if score:
            scored.append((-score, other))
    return [
        {
            "id": other,
            "title": title(other),
            "score": round(float(-score), 3),
            "shared_studies": sorted(own.best.keys() & support(other).best.keys()),
            "shared_examples": sorted(own.examples & support(other).examples),
        }
        for score, other in heapq.nsmallest(k, scored)  # sorted(scored)[:k], but quicker
    ]


def related_in_document(document: Document, recommendation_id: str, k: int = 5) -> list[Related]:
    """``kb.graph.evidence.related_recommendations`` for a recommendation of an export document
    (``kb.store.export``), read from the document's evidence links and practice examples."""
    links: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
    examples: dict[str, set[str]] = defaultdict(set)
    bears_on: dict[str, set[str]] = defaultdict(set)  # study or example → recommendations
    for link in document["evidence"]:
        links[link["recommendation"]].append(link)
        bears_on[link["study"]].add(link["recommendation"])
    for example in document["examples"]:
        for rec in example["recommendations"]:
            examples[rec].add(example["id"])
            bears_on[example["id"]].add(rec)
    titles = {rec["id"]: rec["title"] for rec in document["recommendations"]}
    known: dict[str, Support] = {}

    def support(rec: str) -> Support:
        if rec not in known:
            known[rec] = support_from(links.get(rec, []), examples.get(rec, ()))
        return known[rec]

    return most_related(
        recommendation_id, support, lambda shared: bears_on.get(shared, ()), titles.__getitem__, k
    )
