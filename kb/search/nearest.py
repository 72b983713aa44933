"""The nearest recommendation, for a query whose results hold none.

Policy writers look for recommendations first. When a search could return recommendations (no
``--type`` leaves them out) but none of its results is one, ``nearest_recommendation`` says
which recommendation comes nearest, and how:

1. **A recommendation matches, ranked below the results shown** (``matches`` is True): the
   best-ranked recommendation among the query's matches, with the same filters.
2. **No recommendation matches the query** (``matches`` is False): the recommendation that
   the best-ranked matching record bears on (an evidence link bears on its recommendation, a
   study on those its evidence links bear on, a practice example on those it illustrates;
   key figures bear on none), looking at the ``NEAREST_POOL`` best matches. Where that
   record bears on several, the one most of the pool bears on (by summed score), then the
   first by ID. ``via`` lists the records of the pool that bear on it, best first. A query
   is a disjunction of its words, so when no recommendation matches, none holds any of
   them: dropping a word could not make one match; but the evidence that does match says
   which recommendation the question comes nearest to.

Neither, when no matching record bears on a recommendation the filters allow: None.
"""

from collections import defaultdict
from dataclasses import asdict, dataclass, field
from typing import Any

from whoosh import query

from kb.records.levels import NOT_JUDGED
from kb.records.urls import record_url
from kb.records.vocabularies import LABELS
from kb.search.ranking import rank

# How many of the best matches vote for the recommendations they bear on.
NEAREST_POOL = 20


@dataclass(frozen=True)
class NearestRecommendation:
    """The recommendation nearest to a query whose results hold none, and why it is nearest."""

    id: str
    title: str
    url: str
    strength: str | None
    # True: it matches the query, ranked below the results shown. False: no recommendation
    # matches; the matching records in ``via`` bear on it.
    matches: bool
    via: list[str] = field(default_factory=list)

    @property
    def strength_badge(self) -> str:
        """E.g. "[S3 Limited]", or "[Not judged]" (as ``SearchResult.strength_badge``)."""
        return f"[{self.strength} {LABELS[self.strength]}]" if self.strength else f"[{NOT_JUDGED}]"

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _recommendation(
    searcher: Any, docnum: int, matches: bool, via: list[str]
) -> NearestRecommendation:
    fields = searcher.stored_fields(docnum)
    return NearestRecommendation(
        id=fields["id"],
        title=fields["label"],
        url=record_url("recommendation", fields["id"], None),
        strength=fields.get("strength"),
        matches=matches,
        via=via,
    )


def nearest_recommendation(
    searcher: Any, parsed: query.Query, allowed: set[int] | None
) -> NearestRecommendation | None:
    """The nearest recommendation to a parsed query among ``allowed`` documents (see above)."""
    recommendations = set(query.Term("type", "recommendation").docs(searcher))
    wanted = recommendations if allowed is None else recommendations & allowed
    if not wanted:
        return None
    best = rank(searcher, parsed, wanted, 1).top
    if best:
        return _recommendation(searcher, best[0][1], True, [])
    pool: list[tuple[float, str, list[int]]] = []  # (score, record ID, recommendations)
    for score, docnum in rank(searcher, parsed, allowed, NEAREST_POOL).top:
        fields = searcher.stored_fields(docnum)
        bears_on = [
            found
            for record_id in (fields.get("bears_on") or "").splitlines()
            if (found := searcher.document_number(key=f"recommendation:{record_id}")) in wanted
        ]
        pool.append((score, fields["id"], bears_on))
    first = next((bears_on for _, _, bears_on in pool if bears_on), None)
    if first is None:
        return None
    votes: dict[int, float] = defaultdict(float)
    for score, _, bears_on in pool:
        for docnum in bears_on:
            votes[docnum] += score
    ids = {docnum: searcher.stored_fields(docnum)["id"] for docnum in first}
    chosen = min(first, key=lambda docnum: (-votes[docnum], ids[docnum]))
    via = [record_id for _, record_id, bears_on in pool if chosen in bears_on]
    return _recommendation(searcher, chosen, False, via)
