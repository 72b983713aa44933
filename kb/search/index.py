"""Building the search index from the store, in ``build/index``.

``build_index`` writes every recommendation, study, evidence link, practice example and key
figure as one document into a sibling temporary folder, then swaps it into place, so a failed
build leaves the previous index. ``update_index`` re-indexes only documents whose digest changed
and deletes those whose record is gone. The index stores only what a result needs to be printed
(type, id, title, statement or summary, strength, site path); notes, quotes and references are
indexed but read back from SQLite when needed. See docs/search.md.
"""

import hashlib
import json
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import select
from whoosh import index

from kb.folder_swap import recover_folder, replace_folder
from kb.models import (
    EvidenceRow,
    ExampleRecommendationRow,
    ExampleRow,
    FigureRow,
    FigureThemeRow,
    RecommendationRow,
    RecommendationThemeRow,
    SourceRow,
    StudyRow,
    ThemeRow,
)
from kb.search.analysis import make_schema
from kb.store import session

# Bump when the schema or the way documents are built changes: the next search rebuilds.
SCHEMA_VERSION = 1
STAMP = "kb-index.json"
TYPES = ("recommendation", "study", "evidence", "example", "figure")

# Score multipliers by kind of document: policy writers look for recommendations first.
PRIOR = {
    "recommendation": 1.3,
    "key-message": 1.1,
    "recurring": 1.0,
    "government-action": 1.0,
    "example": 1.0,
    "figure": 0.9,
    "evidence": 0.7,
    "study": 0.7,
}

# --- Documents from the store -----------------------------------------------------------------


def _lines(values: Iterable[str | None]) -> str:
    return "\n".join(dict.fromkeys(value for value in values if value))


def _paragraphs(*values: str | list[str] | None) -> str:
    flat: list[str] = []
    for value in values:
        flat.extend(value if isinstance(value, list) else [value] if value else [])
    return "\n\n".join(flat)


def citation(authors: list[str], year: int | None, fallback: str) -> str:
    """A short in-text citation, e.g. "Krause et al. (2012)"."""
    names = [author.split(",")[0].strip() for author in authors]
    when = str(year) if year else "n.d."
    if not names:
        return f"{fallback} ({when})"
    if len(names) == 1:
        return f"{names[0]} ({when})"
    if len(names) == 2:
        return f"{names[0]} and {names[1]} ({when})"
    return f"{names[0]} et al. ({when})"


_RELATION_WORDS = {
    "supports": "supports",
    "qualifies": "qualifies",
    "contradicts": "contradicts",
    "practice-example": "is a practice example for",
    "context": "gives context for",
}


def _with_digest(document: dict[str, Any]) -> dict[str, Any]:
    content = json.dumps(document, sort_keys=True, ensure_ascii=False).encode()
    return {**document, "digest": hashlib.sha256(content).hexdigest()[:16]}


def index_documents(engine: Engine) -> list[dict[str, Any]]:
    """One index document per searchable record, each with the digest of its indexed content.

    A document folds in its row's ``digest`` column and every value it borrows from related
    rows (themes, titles), so the digest changes exactly when the document must be re-indexed.
    """
    with session(engine) as opened:
        sources = {row.id: row for row in opened.exec(select(SourceRow))}
        themes = {row.id: row for row in opened.exec(select(ThemeRow))}
        recommendations = list(opened.exec(select(RecommendationRow)))
        rec_themes = list(opened.exec(select(RecommendationThemeRow)))
        studies = {row.id: row for row in opened.exec(select(StudyRow))}
        evidence = list(opened.exec(select(EvidenceRow)))
        examples = list(opened.exec(select(ExampleRow)))
        example_recs = list(opened.exec(select(ExampleRecommendationRow)))
        figures = list(opened.exec(select(FigureRow)))
        figure_themes = list(opened.exec(select(FigureThemeRow)))

    def with_ancestors(theme_ids: Iterable[str]) -> list[str]:
        found: list[str] = []
        for theme_id in theme_ids:
            while theme_id and theme_id not in found:
                found.append(theme_id)
                theme_id = themes[theme_id].parent_id if theme_id in themes else None
        return found

    themes_of: dict[str, list[str]] = defaultdict(list)
    for link in sorted(rec_themes, key=lambda link: link.rank):
        themes_of[link.recommendation_id].append(link.theme_id)
    by_rec = {row.id: row for row in recommendations}
    findings_of: dict[str, list[EvidenceRow]] = defaultdict(list)
    for row in evidence:
        findings_of[row.study_id].append(row)
    recs_of_example: dict[str, list[str]] = defaultdict(list)
    for link in example_recs:
        recs_of_example[link.example_id].append(link.recommendation_id)
    themes_of_figure: dict[str, list[str]] = defaultdict(list)
    for link in figure_themes:
        themes_of_figure[link.figure_id].append(link.theme_id)

    def year_of(source_id: str) -> int | None:
        return sources[source_id].year if source_id in sources else None

    documents: list[dict[str, Any]] = []

    def add(kind: str, row_type: str, row_id: str, **fields: Any) -> None:
        document = {"key": f"{row_type}:{row_id}", "id": row_id, "ref": row_id}
        document |= {"type": row_type, "kind": kind}
        document.update({name: value for name, value in fields.items() if value not in ("", None)})
        document["prior"] = round(100 * PRIOR[kind if row_type == "recommendation" else row_type])
        documents.append(_with_digest(document))

    for rec in sorted(recommendations, key=lambda row: row.id):
        theme_ids = themes_of[rec.id]
        add(
            rec.kind,
            "recommendation",
            rec.id,
            label=rec.title,
            title=rec.title,
            text=rec.statement,
            context=_paragraphs(
                rec.area_of_focus,
                rec.actors,
                rec.judgement_quote,
                rec.judgement_note,
                rec.note,
                [themes[theme].title for theme in theme_ids if theme in themes],
            ),
            theme=_lines(with_ancestors(theme_ids)),
            strength=rec.judgement_level,
            actor=_lines(rec.actors),
            source=rec.source_id,
            year=year_of(rec.source_id),
            row_digest=rec.digest,
        )
    for study in sorted(studies.values(), key=lambda row: row.id):
        cited = citation(study.authors, study.year, study.publisher or study.container or study.id)
        findings = findings_of[study.id]
        add(
            study.type,
            "study",
            study.id,
            label=f"{cited}: {study.title}" if study.title else cited,
            title=_paragraphs(study.title, study.cited_as, [cited]),
            text=study.reference or ". ".join(filter(None, (cited, study.title, study.container))),
            context=_paragraphs(
                study.authors, study.container, study.publisher, study.setting, study.note
            ),
            theme=_lines(
                theme
                for finding in findings
                for theme in with_ancestors(themes_of[finding.recommendation_id])
            ),
            direction=_lines(finding.direction for finding in findings),
            study_type=study.type,
            year=study.year,
            source=_lines(finding.source_id for finding in findings),
            row_digest=study.digest,
        )
    for row in sorted(evidence, key=lambda row: row.id):
        study = studies[row.study_id]
        rec = by_rec.get(row.recommendation_id)
        cited = citation(study.authors, study.year, study.publisher or study.container or study.id)
        rec_title = rec.title if rec else row.recommendation_id
        add(
            row.relation,
            "evidence",
            row.id,
            label=f"{cited} {_RELATION_WORDS.get(row.relation, row.relation)} “{rec_title}”",
            title=_paragraphs(cited, study.title),
            text=row.summary,
            context=_paragraphs(row.quote, row.note),
            theme=_lines(with_ancestors(themes_of[row.recommendation_id])),
            strength=row.strength,
            direction=row.direction,
            study_type=study.type,
            year=study.year,
            source=row.source_id,
            recommendation=row.recommendation_id,
        )
    for example in sorted(examples, key=lambda row: row.id):
        rec_ids = recs_of_example[example.id]
        add(
            example.evaluation_status,
            "example",
            example.id,
            label=example.name,
            title=example.name,
            text=example.description,
            context=_paragraphs(example.quote, example.place, example.sector, example.note),
            theme=_lines(theme for rec in rec_ids for theme in with_ancestors(themes_of[rec])),
            source=example.source_id,
            year=year_of(example.source_id),
            row_digest=example.digest,
        )
    for figure in sorted(figures, key=lambda row: row.id):
        add(
            "figure",
            "figure",
            figure.id,
            label=f"{figure.title}: {figure.value}",
            title=figure.title,
            text=figure.quote,
            context=_paragraphs(figure.value, figure.note),
            theme=_lines(with_ancestors(themes_of_figure[figure.id])),
            source=figure.source_id,
            year=year_of(figure.source_id),
            row_digest=figure.digest,
        )
    for document in documents:
        document.pop("row_digest", None)
        document["spell"] = _paragraphs(
            document.get("title"), document.get("text"), document.get("context")
        )
    return documents


# --- Building and updating --------------------------------------------------------------------


def _write_stamp(index_dir: Path) -> None:
    (index_dir / STAMP).write_text(json.dumps({"schema_version": SCHEMA_VERSION}) + "\n")


def _stamp_version(index_dir: Path) -> int | None:
    try:
        return json.loads((index_dir / STAMP).read_text())["schema_version"]
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _add_all(writer: Any, documents: list[dict[str, Any]]) -> None:
    for document in documents:
        writer.add_document(**document)


def build_index(engine: Engine, index_dir: Path) -> dict[str, int]:
    """Index every record of the store into ``index_dir`` atomically; return counts by type.

    The index is written into a sibling temporary folder and swapped in
    (``kb.folder_swap.replace_folder``), so readers see the old index or the new one, a failed
    build changes nothing, and a killed one leaves the old index to be put back.
    """
    index_dir = Path(index_dir)
    documents = index_documents(engine)

    def write(folder: Path) -> None:
        with index.create_in(folder, make_schema()).writer() as writer:
            _add_all(writer, documents)
        _write_stamp(folder)

    replace_folder(index_dir, write)
    counts = {name: 0 for name in TYPES}
    for document in documents:
        counts[document["type"]] += 1
    return counts


def update_index(engine: Engine, index_dir: Path) -> dict[str, int]:
    """Bring the index in line with the store, touching only documents whose digest changed.

    New and changed documents are (re)indexed, those of removed records deleted, the rest left
    alone. Without a usable index (missing, or built by another schema version) this builds it.
    Returns counts of ``added``, ``updated``, ``deleted`` and ``unchanged`` documents.
    """
    index_dir = Path(index_dir)
    recover_folder(index_dir)
    if _stamp_version(index_dir) != SCHEMA_VERSION or not index.exists_in(index_dir):
        built = build_index(engine, index_dir)
        return {"added": sum(built.values()), "updated": 0, "deleted": 0, "unchanged": 0}
    documents = {document["key"]: document for document in index_documents(engine)}
    opened = index.open_dir(index_dir)
    with opened.searcher() as searcher:
        indexed = {fields["key"]: fields["digest"] for fields in searcher.all_stored_fields()}
    changed = [doc for key, doc in documents.items() if indexed.get(key) != doc["digest"]]
    removed = sorted(indexed.keys() - documents.keys())
    if changed or removed:
        with opened.writer() as writer:
            for key in removed:
                writer.delete_by_term("key", key)
            for document in changed:
                writer.update_document(**document)
    _write_stamp(index_dir)
    added = sum(1 for document in changed if document["key"] not in indexed)
    return {
        "added": added,
        "updated": len(changed) - added,
        "deleted": len(removed),
        "unchanged": len(documents) - len(changed),
    }


def index_is_current(index_dir: Path, database: Path) -> bool:
    """True when the index exists, has this schema version and was refreshed after the store."""
    recover_folder(Path(index_dir))
    stamp = Path(index_dir) / STAMP
    return (
        _stamp_version(Path(index_dir)) == SCHEMA_VERSION
        and database.is_file()
        and stamp.stat().st_mtime >= database.stat().st_mtime
    )


def refresh_index(engine: Engine, index_dir: Path, database: Path) -> dict[str, int] | None:
    """Update the index from the store if it is missing or older; None when it was current."""
    if index_is_current(index_dir, database):
        return None
    return update_index(engine, index_dir)
