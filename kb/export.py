"""The whole knowledge base as one JSON-ready document, read back from the store.

The document's shape is a public interface (the site's downloads and other tools read it):
top-level keys ``sources``, ``themes``, ``recommendations``, ``studies``, ``evidence``,
``examples``, ``figures`` and ``removed`` (the tombstones of removed records), each a list
sorted by ID. Add keys; never rename or remove them. Every record but an evidence link has
``former_ids``, the IDs it had before (``kb mv``), which still lead to it.

``indented_json`` writes such documents as ``json.dumps(value, indent=2, ensure_ascii=False)``
does, a fifth quicker.
"""

import math
from collections import defaultdict
from collections.abc import Callable
from json.encoder import encode_basestring
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import SQLModel, select

from kb.levels import Headline, headline, overall_level
from kb.models import (
    EvidenceRow,
    ExampleRecommendationRow,
    ExampleRow,
    ExampleStudyRow,
    FigureRow,
    FigureStudyRow,
    FigureThemeRow,
    FormerIdRow,
    RecommendationResponseRow,
    RecommendationRow,
    RecommendationThemeRow,
    RemovedRow,
    Source,
    SourceRow,
    Study,
    StudyRow,
    ThemeRow,
)
from kb.store import session

_ORIGIN = {"file", "line", "digest"}


def doi_url(doi: str | None) -> str | None:
    """How a DOI is shown and linked: as a doi.org address."""
    return f"https://doi.org/{doi}" if doi else None


def _grouped(rows: list[Any], key: str, value: str) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = defaultdict(list)
    for row in rows:
        grouped[getattr(row, key)].append(getattr(row, value))
    return grouped


def _columns(row: SQLModel, exclude: set[str]) -> dict[str, Any]:
    """A row's values in the order its model declares them: ``model_dump`` follows the order
    in which SQLAlchemy happened to load the attributes, which may change between runs."""
    return {name: getattr(row, name) for name in type(row).model_fields if name not in exclude}


def recommendation_headlines(
    recommendations: list[RecommendationRow], evidence: list[EvidenceRow]
) -> dict[str, Headline]:
    """Each statement's headline level (``kb.levels.headline``), from its evidence links."""
    items: dict[str, list[dict[str, str]]] = defaultdict(list)
    for link in evidence:
        items[link.recommendation_id].append(
            {"study": link.study_id, "relation": link.relation, "strength": link.strength}
        )
    headlines = {}
    for row in recommendations:
        level, reason = overall_level(items[row.id])
        headlines[row.id] = headline(
            row.kind, level, reason, row.judgement_level, row.judgement_basis
        )
    return headlines


def _all(opened: Any, table: type[SQLModel], *order: Any) -> list[Any]:
    statement = select(table)
    return list(opened.exec(statement.order_by(*order) if order else statement))


def export_document(engine: Engine) -> dict[str, list[dict[str, Any]]]:
    """Read every record from the store into the export document."""
    with session(engine) as opened:
        sources = _all(opened, SourceRow, SourceRow.id)
        themes = _all(opened, ThemeRow, ThemeRow.id)
        recommendations = _all(opened, RecommendationRow, RecommendationRow.id)
        rec_themes = _all(opened, RecommendationThemeRow, RecommendationThemeRow.rank)
        responses = _all(opened, RecommendationResponseRow)
        studies = _all(opened, StudyRow, StudyRow.id)
        evidence = _all(opened, EvidenceRow, EvidenceRow.id)
        examples = _all(opened, ExampleRow, ExampleRow.id)
        example_studies = _all(opened, ExampleStudyRow)
        example_recs = _all(opened, ExampleRecommendationRow)
        figures = _all(opened, FigureRow, FigureRow.id)
        figure_studies = _all(opened, FigureStudyRow)
        figure_themes = _all(opened, FigureThemeRow)
        removed = _all(opened, RemovedRow, RemovedRow.id)
        former = _all(opened, FormerIdRow, FormerIdRow.record_id, FormerIdRow.rank)

    headlines = recommendation_headlines(recommendations, evidence)
    themes_of = _grouped(rec_themes, "recommendation_id", "theme_id")
    responds_to = _grouped(responses, "recommendation_id", "recurring_id")
    studies_of_example = _grouped(example_studies, "example_id", "study_id")
    recs_of_example = _grouped(example_recs, "example_id", "recommendation_id")
    studies_of_figure = _grouped(figure_studies, "figure_id", "study_id")
    themes_of_figure = _grouped(figure_themes, "figure_id", "theme_id")
    former_ids = _grouped(former, "record_id", "id")

    return {
        "sources": [
            {name: _field(row, name, former_ids) for name in Source.model_fields} for row in sources
        ],
        "themes": [
            {
                "id": row.id,
                "former_ids": former_ids[row.id],
                "title": row.title,
                "parent": row.parent_id,
                "source": row.source_id,
                "location": {"section": row.section, "page": row.page},
                "note": row.note,
            }
            for row in themes
        ],
        "recommendations": [
            {
                "id": row.id,
                "former_ids": former_ids[row.id],
                "kind": row.kind,
                "title": row.title,
                "title_cy": row.title_cy,
                "statement": row.statement,
                "themes": themes_of[row.id],
                "source": row.source_id,
                "strength": headlines[row.id].level,
                "headline": headlines[row.id].as_dict(),
                "location": {"section": row.section, "page": row.page},
                "position": row.position,
                "addressed_to": row.addressed_to,
                "involves": row.involves,
                "wording": row.wording,
                "responds_to": responds_to[row.id],
                "area_of_focus": row.area_of_focus,
                "evidence_judgement": None
                if row.judgement_level is None
                else {
                    "level": row.judgement_level,
                    "basis": row.judgement_basis,
                    "quote": row.judgement_quote,
                    "location": {"section": row.judgement_section, "page": row.judgement_page}
                    if row.judgement_section
                    else None,
                    "note": row.judgement_note,
                },
                "note": row.note,
            }
            for row in recommendations
        ],
        "studies": [
            {
                **{
                    name: _field(row, name, former_ids)
                    for name in Study.model_fields
                    if name != "findings"
                },
                "doi_url": doi_url(row.doi),
            }
            for row in studies
        ],
        "evidence": [
            {
                "id": row.id,
                "study": row.study_id,
                "recommendation": row.recommendation_id,
                "claim": row.claim,
                "relation": row.relation,
                "strength": row.strength,
                "direction": row.direction,
                "horizon": row.horizon,
                "summary": row.summary,
                "basis": row.basis,
                "quote": row.quote,
                "quote_unchecked": row.quote_unchecked,
                "source": row.source_id,
                "location": {"section": row.section, "page": row.page}
                if row.section is not None
                else None,
                "appraisal": row.appraisal,
                "above_ceiling": row.above_ceiling,
                "recorded_by": row.recorded_by,
                "recorded_on": row.recorded_on,
                "note": row.note,
            }
            for row in evidence
        ],
        "examples": [
            {
                **_columns(row, exclude=_ORIGIN | {"source_id", "section", "page"}),
                "former_ids": former_ids[row.id],
                "source": row.source_id,
                "location": {"section": row.section, "page": row.page},
                "studies": studies_of_example[row.id],
                "recommendations": recs_of_example[row.id],
            }
            for row in examples
        ],
        "figures": [
            {
                **_columns(row, exclude=_ORIGIN | {"source_id", "section", "page"}),
                "former_ids": former_ids[row.id],
                "source": row.source_id,
                "location": {"section": row.section, "page": row.page},
                "studies": studies_of_figure[row.id],
                "themes": themes_of_figure[row.id],
            }
            for row in figures
        ],
        "removed": [
            {**_columns(row, exclude=_ORIGIN), "former_ids": former_ids[row.id]} for row in removed
        ],
    }


def _field(row: Any, name: str, former_ids: dict[str, list[str]]) -> Any:
    """A source's or study's field as the record names it, from its row."""
    if name == "text":
        return row.text_path
    if name == "former_ids":
        return former_ids[row.id]
    return getattr(row, name)


# --- Indented JSON --------------------------------------------------------------------------


def _float_text(value: float) -> str:
    if value != value:
        return "NaN"
    if value in (math.inf, -math.inf):
        return "Infinity" if value > 0 else "-Infinity"
    return float.__repr__(value)


# Exact type → its JSON text, for the values that make up nearly every document.
_SCALARS: dict[type, Callable[[Any], str]] = {
    str: encode_basestring,  # json's own escaping, in C
    int: int.__repr__,
    float: _float_text,
    bool: lambda value: "true" if value else "false",
    type(None): lambda value: "null",
}


def _key_text(key: Any) -> str:
    """A mapping key as ``json`` writes it: always a string."""
    if isinstance(key, str):
        return encode_basestring(key)
    if isinstance(key, float):
        return encode_basestring(_float_text(key))
    if isinstance(key, bool) or key is None:
        return f'"{_SCALARS[type(key)](key)}"'
    if isinstance(key, int):
        return encode_basestring(int.__repr__(key))
    raise TypeError(f"keys must be str, int, float, bool or None, not {type(key).__name__}")


def _json_text(value: Any, newline: str) -> str:
    """``value`` as indented JSON, its lines after the first starting with ``newline``."""
    scalar = _SCALARS.get(type(value))
    if scalar is not None:
        return scalar(value)
    for kind in (str, int, float):  # subclasses (enumerations), tested in json's order
        if isinstance(value, kind):
            return _SCALARS[kind](value)
    inner = newline + "  "
    get = _SCALARS.get
    if isinstance(value, list | tuple):
        if not value:
            return "[]"
        items = [
            text(item) if (text := get(type(item))) else _json_text(item, inner) for item in value
        ]
        return f"[{inner}{f',{inner}'.join(items)}{newline}]"
    if isinstance(value, dict):
        if not value:
            return "{}"
        items = [
            f"{encode_basestring(key) if type(key) is str else _key_text(key)}: "
            f"{text(item) if (text := get(type(item))) else _json_text(item, inner)}"
            for key, item in value.items()
        ]
        return f"{{{inner}{f',{inner}'.join(items)}{newline}}}"
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def indented_json(value: Any) -> str:
    """``json.dumps(value, indent=2, ensure_ascii=False)``, quicker.

    With ``indent``, ``json`` encodes in pure Python, a generator step per value; this
    encodes each container's items in one comprehension, strings with ``json``'s C escaping.
    """
    return _json_text(value, "\n")
