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
from typing import Any, NamedTuple

from sqlalchemy.engine import Engine
from sqlmodel import select
from whoosh import index

from kb.files import recover_folder, replace_folder
from kb.records.levels import Headline, headline, overall_level
from kb.records.models import (
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
from kb.search import TYPES
from kb.search.analysis import PRIOR, make_schema
from kb.search.postings import CompactWriter
from kb.search.stamp import SCHEMA_VERSION, index_is_current, stamp_is_current, write_stamp
from kb.search.whoosh_internals import SegmentWriterWithCopy
from kb.settings import number_setting
from kb.store.database import session

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


Selection = dict[str, set[str]]  # record IDs by document type


def _rows(
    opened: Any, model: Any, column: Any = None, ids: Iterable[str] | None = None
) -> list[Any]:
    """Every row of ``model``, or those whose ``column`` is one of ``ids``."""
    if ids is None:
        return list(opened.exec(select(model)))
    wanted = sorted(set(ids))
    found: list[Any] = []
    for start in range(0, len(wanted), 500):  # SQLite limits the parameters of one query
        found.extend(opened.exec(select(model).where(column.in_(wanted[start : start + 500]))))
    return found


def _headlines(
    engine: Engine, recommendations: list[RecommendationRow], links: list[EvidenceRow] | None
) -> dict[str, Headline]:
    """The headline level (``kb.records.levels.headline``) of each recommendation to be indexed,
    from all of its evidence links (``links``, or read from the store when not given)."""
    if links is None:
        with session(engine) as opened:
            ids = [row.id for row in recommendations]
            links = _rows(opened, EvidenceRow, EvidenceRow.recommendation_id, ids)
    items: dict[str, list[dict[str, str]]] = defaultdict(list)
    for link in links:
        items[link.recommendation_id].append(
            {"study": link.study_id, "relation": link.relation, "strength": link.strength}
        )
    found = {}
    for row in recommendations:
        level, reason = overall_level(items[row.id])
        found[row.id] = headline(row.kind, level, reason, row.judgement_level, row.judgement_basis)
    return found


def index_documents(engine: Engine, only: Selection | None = None) -> list[dict[str, Any]]:
    """One index document per searchable record, each with the digest of its indexed content.

    A document folds in its row's ``digest`` column and every value it borrows from related
    rows (themes, titles), so the digest changes exactly when the document must be re-indexed.
    With ``only``, just the documents of those records, reading just the rows they need.
    """
    wanted = only or {}
    every = only is None
    with session(engine) as opened:
        sources = {row.id: row for row in _rows(opened, SourceRow)}
        themes = {row.id: row for row in _rows(opened, ThemeRow)}
        if every:
            evidence = _rows(opened, EvidenceRow)
        else:
            evidence = _rows(opened, EvidenceRow, EvidenceRow.id, wanted.get("evidence", ()))
            evidence += _rows(opened, EvidenceRow, EvidenceRow.study_id, wanted.get("study", ()))
            evidence = list({row.id: row for row in evidence}.values())
        study_ids = None if every else {*wanted.get("study", ()), *(r.study_id for r in evidence)}
        studies = {row.id: row for row in _rows(opened, StudyRow, StudyRow.id, study_ids)}
        example_ids = None if every else wanted.get("example", set())
        examples = _rows(opened, ExampleRow, ExampleRow.id, example_ids)
        example_recs = _rows(
            opened, ExampleRecommendationRow, ExampleRecommendationRow.example_id, example_ids
        )
        rec_ids = None
        if not every:
            rec_ids = {*wanted.get("recommendation", ()), *(r.recommendation_id for r in evidence)}
            rec_ids |= {link.recommendation_id for link in example_recs}
        recommendations = _rows(opened, RecommendationRow, RecommendationRow.id, rec_ids)
        rec_themes = _rows(
            opened, RecommendationThemeRow, RecommendationThemeRow.recommendation_id, rec_ids
        )
        figure_ids = None if every else wanted.get("figure", set())
        figures = _rows(opened, FigureRow, FigureRow.id, figure_ids)
        figure_themes = _rows(opened, FigureThemeRow, FigureThemeRow.figure_id, figure_ids)
    if not every:  # documents only for the records asked for; the rest were context
        rec_docs = [r for r in recommendations if r.id in wanted.get("recommendation", ())]
        evidence_docs = [r for r in evidence if r.id in wanted.get("evidence", ())]
        study_docs = [r for r in studies.values() if r.id in wanted.get("study", ())]
    else:
        rec_docs, evidence_docs, study_docs = recommendations, evidence, list(studies.values())

    def with_ancestors(theme_ids: Iterable[str]) -> list[str]:
        found: list[str] = []
        for theme_id in theme_ids:
            current: str | None = theme_id
            while current and current not in found:
                found.append(current)
                current = themes[current].parent_id if current in themes else None
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
        document: dict[str, Any] = {"key": f"{row_type}:{row_id}", "id": row_id, "ref": row_id}
        document |= {"type": row_type, "kind": kind}
        document.update({name: value for name, value in fields.items() if value not in ("", None)})
        document["prior"] = round(100 * PRIOR[kind if row_type == "recommendation" else row_type])
        documents.append(_with_digest(document))

    headlines = _headlines(engine, rec_docs, evidence if every else None)
    for rec in sorted(rec_docs, key=lambda row: row.id):
        theme_ids = themes_of[rec.id]
        shown = headlines[rec.id]
        add(
            rec.kind,
            "recommendation",
            rec.id,
            label=rec.title,
            title=rec.title,
            text=rec.statement,
            context=_paragraphs(
                rec.area_of_focus,
                rec.addressed_to,
                rec.involves,
                rec.judgement_quote,
                rec.judgement_note,
                rec.note,
                [themes[theme].title for theme in theme_ids if theme in themes],
            ),
            theme=_lines(with_ancestors(theme_ids)),
            strength=shown.level,
            headline=shown.explanation,
            actor=_lines([*rec.addressed_to, *rec.involves]),
            source=rec.source_id,
            year=year_of(rec.source_id),
            row_digest=rec.digest,
        )
    for study in sorted(study_docs, key=lambda row: row.id):
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
            bears_on=_lines(finding.recommendation_id for finding in findings),
            row_digest=study.digest,
        )
    for row in sorted(evidence_docs, key=lambda row: row.id):
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
            bears_on=row.recommendation_id,
        )
    for example in sorted(examples, key=lambda row: row.id):
        example_recs = recs_of_example[example.id]
        add(
            example.evaluation_status,
            "example",
            example.id,
            label=example.name,
            title=example.name,
            text=example.description,
            context=_paragraphs(example.quote, example.place, example.sector, example.note),
            theme=_lines(theme for rec in example_recs for theme in with_ancestors(themes_of[rec])),
            source=example.source_id,
            year=year_of(example.source_id),
            bears_on=_lines(sorted(example_recs)),
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


def _writer(opened: Any) -> SegmentWriterWithCopy:
    """Whoosh's segment writer, writing a compact copy of the long postings lists
    (``kb.search.postings``) into each segment it writes. It may hold ``KB_INDEX_MEMORY_MB``
    of postings in memory before spilling them to disk."""
    return SegmentWriterWithCopy(opened, CompactWriter, number_setting("index_memory_mb"))


def _add_all(writer: Any, documents: list[dict[str, Any]]) -> None:
    for document in documents:
        writer.add_document(**document)


# --- What the index was built from -----------------------------------------------------------

DIGESTS = "kb-digests.json"
# Record tables whose ``digest`` column changes with the record (links live in their records).
_RecordTable = type[SourceRow | ThemeRow | RecommendationRow | StudyRow | ExampleRow | FigureRow]
_RECORD_TABLES: dict[str, _RecordTable] = {
    "source": SourceRow,
    "theme": ThemeRow,
    "recommendation": RecommendationRow,
    "study": StudyRow,
    "example": ExampleRow,
    "figure": FigureRow,
}
_DOCUMENT_TABLES: dict[
    str, type[RecommendationRow | StudyRow | EvidenceRow | ExampleRow | FigureRow]
] = {
    "recommendation": RecommendationRow,
    "study": StudyRow,
    "evidence": EvidenceRow,
    "example": ExampleRow,
    "figure": FigureRow,
}


# Plain column reads (no ORM objects): a few thousand rows a millisecond.


def _record_digests(engine: Engine) -> dict[str, dict[str, str]]:
    """Each record's digest in the store, by table."""
    with engine.connect() as connection:
        return {
            name: dict(connection.execute(select(model.id, model.digest)).all())
            for name, model in _RECORD_TABLES.items()
        }


def _document_keys(engine: Engine) -> set[str]:
    """The key of every document the store holds records for, without building them."""
    with engine.connect() as connection:
        return {
            f"{name}:{row_id}"
            for name, model in _DOCUMENT_TABLES.items()
            for row_id in connection.execute(select(model.id)).scalars()
        }


def _write_digests(folder: Path, records: dict[str, Any], documents: dict[str, str]) -> None:
    content = {"schema_version": SCHEMA_VERSION, "records": records, "documents": documents}
    (folder / DIGESTS).write_text(json.dumps(content, separators=(",", ":")) + "\n")


def _read_digests(folder: Path) -> dict[str, Any] | None:
    try:
        content = json.loads((folder / DIGESTS).read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(content, dict) or content.get("schema_version") != SCHEMA_VERSION:
        return None
    return content


def _affected(engine: Engine, changed: dict[str, set[str]]) -> Selection:
    """The documents built from the changed records: their own, and those borrowing from them.

    A recommendation lends its title and themes to its evidence links, to the studies behind
    them and to its practice examples; a study lends its citation to its evidence links.
    """
    recs, studies = changed["recommendation"], changed["study"]
    with session(engine) as opened:
        links = _rows(opened, EvidenceRow, EvidenceRow.recommendation_id, recs)
        links += _rows(opened, EvidenceRow, EvidenceRow.study_id, studies)
        examples = _rows(
            opened, ExampleRecommendationRow, ExampleRecommendationRow.recommendation_id, recs
        )
    return {
        # A study's links weigh in each linked recommendation's headline level.
        "recommendation": set(recs) | {link.recommendation_id for link in links},
        "study": studies | {link.study_id for link in links if link.recommendation_id in recs},
        "evidence": {link.id for link in links},
        "example": changed["example"] | {link.example_id for link in examples},
        "figure": set(changed["figure"]),
    }


# --- Building and updating --------------------------------------------------------------------


def build_index(engine: Engine, index_dir: Path) -> dict[str, int]:
    """Index every record of the store into ``index_dir`` atomically; return counts by type.

    The index is written into a sibling temporary folder and swapped in
    (``kb.files.replace_folder``), so readers see the old index or the new one, a failed
    build changes nothing, and a killed one leaves the old index to be put back.
    """
    index_dir = Path(index_dir)
    records = _record_digests(engine)
    documents = index_documents(engine)

    def write(folder: Path) -> None:
        with _writer(index.create_in(folder, make_schema())) as writer:
            _add_all(writer, documents)
        _write_digests(folder, records, {doc["key"]: doc["digest"] for doc in documents})
        write_stamp(folder)

    replace_folder(index_dir, write)
    counts = {name: 0 for name in TYPES}
    for document in documents:
        counts[document["type"]] += 1
    return counts


class _Changes(NamedTuple):
    documents: list[dict[str, Any]]  # to (re)index
    removed: set[str]  # keys to delete
    indexed: dict[str, str]  # digest of each document in the index before
    keys: set[str]  # every document key of the store
    records: dict[str, dict[str, str]]  # every record's digest in the store


def _changes(engine: Engine, saved: dict[str, Any] | None, opened: Any) -> _Changes:
    """What to re-index and delete to bring the index in line with the store.

    With the digests saved by the last build or update, only documents built from records
    whose digest changed are built again; without them (or when a source or theme changed,
    which many documents borrow from), every document is built and compared.
    """
    records = _record_digests(engine)
    previous: dict[str, dict[str, str]] | None = saved["records"] if saved else None
    if (
        saved is not None
        and previous is not None
        and all(previous.get(name) == records[name] for name in ("source", "theme"))
    ):
        indexed: dict[str, str] = saved["documents"]
        keys = _document_keys(engine)
        changed = {
            name: {
                row_id
                for row_id in records[name].keys() | previous.get(name, {}).keys()
                if records[name].get(row_id) != previous.get(name, {}).get(row_id)
            }
            for name in _RECORD_TABLES
        }
        selection = _affected(engine, changed)
        for key in keys - indexed.keys():  # new documents, e.g. a new evidence link
            kind, row_id = key.split(":", 1)
            selection[kind].add(row_id)
        # A link that went, or moved, took its weight from the recommendation it was on.
        gone = {key for key in indexed.keys() - keys if key.startswith("evidence:")}
        gone |= {f"evidence:{link_id}" for link_id in selection["evidence"]}
        if gone:
            with opened.searcher() as searcher:
                for key in gone:
                    fields = searcher.document(key=key)
                    if fields and fields.get("recommendation"):
                        selection["recommendation"].update(fields["recommendation"].split("\n"))
        documents = index_documents(engine, selection) if any(selection.values()) else []
    else:
        with opened.searcher() as searcher:
            indexed = {fields["key"]: fields["digest"] for fields in searcher.all_stored_fields()}
        documents = index_documents(engine)
        keys = {document["key"] for document in documents}
    changed_documents = [doc for doc in documents if indexed.get(doc["key"]) != doc["digest"]]
    return _Changes(changed_documents, indexed.keys() - keys, indexed, keys, records)


def update_index(engine: Engine, index_dir: Path) -> dict[str, int]:
    """Bring the index in line with the store, touching only documents whose digest changed.

    New and changed documents are (re)indexed, those of removed records deleted, the rest left
    alone. Without a usable index (missing, or built by another schema version) this builds it.
    Returns counts of ``added``, ``updated``, ``deleted`` and ``unchanged`` documents.
    """
    index_dir = Path(index_dir)
    recover_folder(index_dir)
    if not stamp_is_current(index_dir) or not index.exists_in(index_dir):
        built = build_index(engine, index_dir)
        return {"added": sum(built.values()), "updated": 0, "deleted": 0, "unchanged": 0}
    opened = index.open_dir(index_dir)
    saved = _read_digests(index_dir)
    changed, removed, indexed, keys, records = _changes(engine, saved, opened)
    if changed or removed:
        with _writer(opened) as writer:
            for key in sorted(removed):
                writer.delete_by_term("key", key)
            for document in changed:
                writer.update_document(**document)
    if changed or removed or saved is None or saved["records"] != records:
        digests = {key: digest for key, digest in indexed.items() if key not in removed}
        digests.update((document["key"], document["digest"]) for document in changed)
        _write_digests(index_dir, records, digests)
    write_stamp(index_dir)
    added = sum(1 for document in changed if document["key"] not in indexed)
    return {
        "added": added,
        "updated": len(changed) - added,
        "deleted": len(removed),
        "unchanged": len(keys) - len(changed),
    }


def refresh_index(engine: Engine, index_dir: Path, database: Path) -> dict[str, int] | None:
    """Update the index from the store if it is missing or older; None when it was current."""
    if index_is_current(index_dir, database):
        return None
    return update_index(engine, index_dir)
