"""The whole knowledge base as one JSON-ready document, read back from the store.

The document's shape is a public interface (the site's downloads and other tools read it):
top-level keys ``sources``, ``themes``, ``recommendations``, ``studies``, ``evidence``,
``examples``, ``figures`` and ``removed`` (the tombstones of removed records), each a list
sorted by ID. Add keys; never rename or remove them. Every record but an evidence link has
``former_ids``, the IDs it had before (``kb mv``), which still lead to it.

The store is read with the standard library's ``sqlite3``, by the names of the tables and
columns that ``kb.records.models`` declares, not through SQLModel: loading SQLModel, SQLAlchemy and
pydantic takes longer than reading the whole store, and ``kb show`` should answer at once.
Columns declared ``JSON`` or ``BOOLEAN`` are decoded as SQLAlchemy decodes them; a test holds
every row read here equal to the row SQLModel reads.

``kb.files.indented_json`` writes such documents as ``json.dumps(value, indent=2,
ensure_ascii=False)`` does, a fifth quicker.
"""

import json
import sqlite3
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from kb.errors import DatabaseMissing
from kb.records.document import (
    Document,
    EvidenceEntry,
    JudgementEntry,
    LocationEntry,
    RecommendationEntry,
    SourceEntry,
    StudyEntry,
)
from kb.records.levels import Headline, headline, overall_level

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

Row = dict[str, Any]
# Every table of the store, in the order the document reads them, with the columns each is
# sorted by (none: as SQLite finds them, which for the same query is always the same order).
STORE_TABLES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("source", ("id",)),
    ("theme", ("id",)),
    ("recommendation", ("id",)),
    ("recommendation_theme", ("rank",)),
    ("recommendation_response", ()),
    ("study", ("id",)),
    ("evidence", ("id",)),
    ("example", ("id",)),
    ("example_study", ()),
    ("example_recommendation", ()),
    ("figure", ("id",)),
    ("figure_study", ()),
    ("figure_theme", ()),
    ("removed", ("id",)),
    ("former_id", ("record_id", "rank")),
)
# How a column's declared type is decoded, as SQLAlchemy's JSON and Boolean types decode it.
_DECODERS: dict[str, Callable[[Any], Any]] = {"JSON": json.loads, "BOOLEAN": bool}


def doi_url(doi: str | None) -> str | None:
    """How a DOI is shown and linked: as a doi.org address."""
    return f"https://doi.org/{doi}" if doi else None


def _grouped(rows: list[Row], key: str, value: str) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = defaultdict(list)
    for row in rows:
        grouped[row[key]].append(row[value])
    return grouped


def recommendation_headlines(
    recommendations: Iterable[Mapping[str, Any]], evidence: Iterable[Mapping[str, Any]]
) -> dict[str, Headline]:
    """Each statement's headline level (``kb.records.levels.headline``), from its evidence links:
    rows of the ``recommendation`` and ``evidence`` tables, by column name."""
    items: dict[str, list[dict[str, str]]] = defaultdict(list)
    for link in evidence:
        items[link["recommendation_id"]].append(
            {"study": link["study_id"], "relation": link["relation"], "strength": link["strength"]}
        )
    headlines = {}
    for row in recommendations:
        level, reason = overall_level(items[row["id"]])
        headlines[row["id"]] = headline(
            row["kind"], level, reason, row["judgement_level"], row["judgement_basis"]
        )
    return headlines


def store_file(store: "Path | Engine") -> Path:
    """The file of the store at ``store``, or of the one an engine opens."""
    return store if isinstance(store, Path) else Path(str(store.url.database))


def table_rows(
    connection: sqlite3.Connection, table: str, order: tuple[str, ...] = ()
) -> list[Row]:
    """Every row of one table of the store, as a dict in its columns' order, sorted by the
    columns ``order`` names (else in the order SQLite finds them), JSON and booleans decoded."""
    decoders = {
        name: _DECODERS[declared]
        for _, name, declared, *_ in connection.execute(f'PRAGMA table_info("{table}")')
        if declared in _DECODERS
    }
    query = f'SELECT * FROM "{table}"'
    if order:
        query += " ORDER BY " + ", ".join(f'"{column}"' for column in order)
    cursor = connection.execute(query)
    names = [column[0] for column in cursor.description]
    rows = [dict(zip(names, values, strict=True)) for values in cursor]
    for row in rows:
        for name, decode in decoders.items():
            if row[name] is not None:
                row[name] = decode(row[name])
    return rows


def open_read_only(path: Path) -> sqlite3.Connection:
    """The store at ``path``, opened for reading only; ``DatabaseMissing`` when there is none."""
    if not path.is_file():
        raise DatabaseMissing(f"no database at {path}; run `kb build-db` first")
    return sqlite3.connect(f"file:{quote(str(path))}?mode=ro", uri=True)


def export_document(store: "Path | Engine") -> Document:
    """Read every record from the store (its file, or an engine on it) into the export
    document."""
    connection = open_read_only(store_file(store))
    try:
        rows = {table: table_rows(connection, table, order) for table, order in STORE_TABLES}
    finally:
        connection.close()
    return _document(rows)


def _location(section: str, page: int | None) -> LocationEntry:
    return {"section": section, "page": page}


def _document(rows: dict[str, list[Row]]) -> Document:
    """The export document from the rows of every table, each in the order read."""
    headlines = recommendation_headlines(rows["recommendation"], rows["evidence"])
    themes_of = _grouped(rows["recommendation_theme"], "recommendation_id", "theme_id")
    responds_to = _grouped(rows["recommendation_response"], "recommendation_id", "recurring_id")
    studies_of_example = _grouped(rows["example_study"], "example_id", "study_id")
    recs_of_example = _grouped(rows["example_recommendation"], "example_id", "recommendation_id")
    studies_of_figure = _grouped(rows["figure_study"], "figure_id", "study_id")
    themes_of_figure = _grouped(rows["figure_theme"], "figure_id", "theme_id")
    former_ids = _grouped(rows["former_id"], "record_id", "id")
    return {
        "sources": [_source(row, former_ids[row["id"]]) for row in rows["source"]],
        "themes": [
            {
                "id": row["id"],
                "former_ids": former_ids[row["id"]],
                "title": row["title"],
                "parent": row["parent_id"],
                "source": row["source_id"],
                "location": _location(row["section"], row["page"]),
                "note": row["note"],
            }
            for row in rows["theme"]
        ],
        "recommendations": [
            _recommendation(
                row,
                former_ids[row["id"]],
                headlines[row["id"]],
                themes=themes_of[row["id"]],
                responds_to=responds_to[row["id"]],
            )
            for row in rows["recommendation"]
        ],
        "studies": [_study(row, former_ids[row["id"]]) for row in rows["study"]],
        "evidence": [_evidence(row) for row in rows["evidence"]],
        "examples": [
            {
                "id": row["id"],
                "name": row["name"],
                "description": row["description"],
                "place": row["place"],
                "sector": row["sector"],
                "evaluation_status": row["evaluation_status"],
                "quote": row["quote"],
                "url": row["url"],
                "note": row["note"],
                "former_ids": former_ids[row["id"]],
                "source": row["source_id"],
                "location": _location(row["section"], row["page"]),
                "studies": studies_of_example[row["id"]],
                "recommendations": recs_of_example[row["id"]],
            }
            for row in rows["example"]
        ],
        "figures": [
            {
                "id": row["id"],
                "title": row["title"],
                "value": row["value"],
                "quote": row["quote"],
                "note": row["note"],
                "former_ids": former_ids[row["id"]],
                "source": row["source_id"],
                "location": _location(row["section"], row["page"]),
                "studies": studies_of_figure[row["id"]],
                "themes": themes_of_figure[row["id"]],
            }
            for row in rows["figure"]
        ],
        "removed": [
            {
                "id": row["id"],
                "type": row["type"],
                "title": row["title"],
                "removed_on": row["removed_on"],
                "removed_by": row["removed_by"],
                "reason": row["reason"],
                "former_ids": former_ids[row["id"]],
            }
            for row in rows["removed"]
        ],
    }


def _source(row: Row, former_ids: list[str]) -> SourceEntry:
    return {
        "id": row["id"],
        "former_ids": former_ids,
        "title": row["title"],
        "authors": row["authors"],
        "publisher": row["publisher"],
        "year": row["year"],
        "date": row["date"],
        "series": row["series"],
        "licence": row["licence"],
        "url": row["url"],
        "text": row["text_path"],
        "reference": row["reference"],
        "note": row["note"],
    }


def _recommendation(
    row: Row,
    former_ids: list[str],
    headline: Headline,
    themes: list[str],
    responds_to: list[str],
) -> RecommendationEntry:
    """A recommendation's entry: its row, with its themes and the recommendations it responds
    to from their own tables."""
    judgement: JudgementEntry | None = None
    if row["judgement_level"] is not None:
        judgement = {
            "level": row["judgement_level"],
            "basis": row["judgement_basis"],
            "quote": row["judgement_quote"],
            "location": _location(row["judgement_section"], row["judgement_page"])
            if row["judgement_section"]
            else None,
            "note": row["judgement_note"],
        }
    return {
        "id": row["id"],
        "former_ids": former_ids,
        "kind": row["kind"],
        "title": row["title"],
        "title_cy": row["title_cy"],
        "statement": row["statement"],
        "themes": themes,
        "source": row["source_id"],
        "strength": headline.level,
        "headline": headline.as_dict(),
        "location": _location(row["section"], row["page"]),
        "position": row["position"],
        "addressed_to": row["addressed_to"],
        "involves": row["involves"],
        "wording": row["wording"],
        "responds_to": responds_to,
        "area_of_focus": row["area_of_focus"],
        "evidence_judgement": judgement,
        "note": row["note"],
    }


def _study(row: Row, former_ids: list[str]) -> StudyEntry:
    return {
        "id": row["id"],
        "former_ids": former_ids,
        "authors": row["authors"],
        "year": row["year"],
        "title": row["title"],
        "container": row["container"],
        "volume": row["volume"],
        "issue": row["issue"],
        "pages": row["pages"],
        "publisher": row["publisher"],
        "url": row["url"],
        "doi": row["doi"],
        "type": row["type"],
        "setting": row["setting"],
        "reference": row["reference"],
        "cited_as": row["cited_as"],
        "in_reference_list": row["in_reference_list"],
        "text": row["text_path"],
        "text_part": row["text_part"],
        "note": row["note"],
        "doi_url": doi_url(row["doi"]),
    }


def _evidence(row: Row) -> EvidenceEntry:
    return {
        "id": row["id"],
        "study": row["study_id"],
        "recommendation": row["recommendation_id"],
        "claim": row["claim"],
        "relation": row["relation"],
        "strength": row["strength"],
        "direction": row["direction"],
        "horizon": row["horizon"],
        "summary": row["summary"],
        "basis": row["basis"],
        "quote": row["quote"],
        "quote_unchecked": row["quote_unchecked"],
        "source": row["source_id"],
        "location": _location(row["section"], row["page"]) if row["section"] is not None else None,
        "appraisal": row["appraisal"],
        "above_ceiling": row["above_ceiling"],
        "recorded_by": row["recorded_by"],
        "recorded_on": row["recorded_on"],
        "note": row["note"],
    }


# --- Indented JSON --------------------------------------------------------------------------
