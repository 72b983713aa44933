"""Counts that tell reviewers how complete the knowledge base is."""

from collections import Counter
from typing import Any

from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import select

from kb.records.models import (
    EvidenceRow,
    ExampleRow,
    FigureRow,
    RecommendationRow,
    RecommendationThemeRow,
    SourceRow,
    StudyRow,
    ThemeRow,
)
from kb.records.vocabularies import Basis, Strength
from kb.store.database import session
from kb.store.export import recommendation_headlines


def knowledge_base_stats(engine: Engine) -> dict[str, Any]:
    """Counts per record type and strength level, and how complete each recommendation list is."""
    with session(engine) as opened:

        def count(table: Any) -> int:
            return opened.exec(select(func.count()).select_from(table)).one()

        recommendations = list(opened.exec(select(RecommendationRow)))
        links = list(opened.exec(select(EvidenceRow)))
        evidence = [(link.recommendation_id, link.strength) for link in links]
        theme_links = list(opened.exec(select(RecommendationThemeRow)))
        themes = {row.id: row.title for row in opened.exec(select(ThemeRow))}
        studies = list(opened.exec(select(StudyRow.type, StudyRow.in_reference_list)))
        counts = {
            "sources": count(SourceRow),
            "themes": count(ThemeRow),
            "recommendations": sum(r.kind == "recommendation" for r in recommendations),
            "studies": len(studies),
            "evidence": len(evidence),
            "examples": count(ExampleRow),
            "figures": count(FigureRow),
        }
        example_status = Counter(opened.exec(select(ExampleRow.evaluation_status)))

    levels = [level.value for level in Strength]
    headlines = recommendation_headlines(
        [rec.model_dump() for rec in recommendations], [link.model_dump() for link in links]
    )
    linked = {rec_id for rec_id, _ in evidence}
    by_id = {rec.id: rec for rec in recommendations}
    lists: dict[str, list[RecommendationRow]] = {}
    for link in theme_links:
        rec = by_id[link.recommendation_id]
        if rec.kind == "recommendation" and link.rank == 0:
            lists.setdefault(link.theme_id, []).append(rec)
    return {
        "counts": counts,
        "statements_by_kind": dict(sorted(Counter(r.kind for r in recommendations).items())),
        "evidence_by_strength": {
            level: sum(strength == level for _, strength in evidence) for level in levels
        },
        "recommendations_by_headline": {
            level: sum(
                headlines[r.id].level == level
                for r in recommendations
                if r.kind == "recommendation"
            )
            for level in levels
        },
        "evidence_by_basis": {
            basis.value: sum(link.basis == basis for link in links) for basis in Basis
        },
        "unchecked_quotes": sum(link.quote_unchecked for link in links),
        "recommendations_by_judgement": {
            level: sum(
                r.judgement_level == level for r in recommendations if r.kind == "recommendation"
            )
            for level in [*levels, None]
        },
        "studies_by_type": dict(sorted(Counter(kind for kind, _ in studies).items())),
        "studies_not_in_reference_list": sum(not listed for _, listed in studies),
        "examples_by_evaluation_status": dict(sorted(example_status.items())),
        "recommendation_lists": [
            {
                "theme": theme_id,
                "title": themes[theme_id],
                "recommendations": len(recs),
                "positions_complete": sorted(r.position or 0 for r in recs)
                == list(range(1, len(recs) + 1)),
                "judged": sum(r.judgement_level is not None for r in recs),
                "with_evidence_or_gap": sum(
                    r.id in linked or r.judgement_level == "S0" for r in recs
                ),
            }
            for theme_id, recs in sorted(lists.items())
        ],
    }
