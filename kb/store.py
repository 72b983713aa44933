"""The SQLite store: the only module that opens database sessions.

``build_db`` writes the whole store from validated records into a temporary file, checks it
with SQLite's own integrity and foreign-key checks, and only then renames it into place, so a
failed or killed build leaves the previous database as it was.
"""

import hashlib
import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

from sqlalchemy import event, insert
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel, create_engine

from kb.errors import DatabaseMissing, StoreCheckFailed
from kb.models import (
    EvidenceRow,
    ExampleRecommendationRow,
    ExampleRow,
    ExampleStudyRow,
    FigureRow,
    FigureStudyRow,
    FigureThemeRow,
    RecommendationResponseRow,
    RecommendationRow,
    RecommendationThemeRow,
    Record,
    SourceRow,
    StudyRow,
    ThemeRow,
)
from kb.validate import KnowledgeBase


def _enable_foreign_keys(connection: sqlite3.Connection, _record: Any) -> None:
    cursor = connection.cursor()
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.close()


def connect(path: Path) -> Engine:
    """Open an engine on the SQLite file at ``path`` with foreign keys enforced."""
    engine = create_engine(f"sqlite:///{path}")
    event.listen(engine, "connect", _enable_foreign_keys)
    return engine


def open_store(path: Path) -> Engine:
    """Open the built store, or explain how to build it."""
    if not path.is_file():
        raise DatabaseMissing(f"no database at {path}; run `kb build-db` first")
    return connect(path)


@contextmanager
def session(engine: Engine) -> Iterator[Session]:
    """A session on the store, for the modules that read it."""
    with Session(engine) as opened:
        yield opened


def digest(record: Record) -> str:
    """A short hash of a record's content: equal digests mean nothing changed."""
    return hashlib.sha256(record.model_dump_json().encode()).hexdigest()[:16]


def _origin(kb: KnowledgeBase, record_id: str, record: Record) -> dict[str, Any]:
    source_file = kb.files[record_id]
    return {"file": source_file.path, "line": source_file.line_of(()), "digest": digest(record)}


def table_rows(kb: KnowledgeBase) -> dict[type[SQLModel], list[dict[str, Any]]]:
    """Every row of every table, as plain dicts, in an order that satisfies foreign keys."""
    rows: dict[type[SQLModel], list[dict[str, Any]]] = {
        table: []
        for table in (
            SourceRow,
            ThemeRow,
            RecommendationRow,
            RecommendationThemeRow,
            RecommendationResponseRow,
            StudyRow,
            EvidenceRow,
            ExampleRow,
            ExampleStudyRow,
            ExampleRecommendationRow,
            FigureRow,
            FigureStudyRow,
            FigureThemeRow,
        )
    }
    for source in kb.sources.values():
        rows[SourceRow].append(
            {
                **source.model_dump(exclude={"text"}),
                "text_path": source.text,
                **_origin(kb, source.id, source),
            }
        )
    for theme in kb.themes.values():
        rows[ThemeRow].append(
            {
                "id": theme.id,
                "title": theme.title,
                "parent_id": theme.parent,
                "source_id": theme.source,
                "section": theme.location.section,
                "page": theme.location.page,
                "note": theme.note,
                **_origin(kb, theme.id, theme),
            }
        )
    for rec in kb.recommendations.values():
        judgement = rec.evidence_judgement
        rows[RecommendationRow].append(
            {
                "id": rec.id,
                "kind": rec.kind.value,
                "title": rec.title,
                "statement": rec.statement,
                "source_id": rec.source,
                "section": rec.location.section,
                "page": rec.location.page,
                "position": rec.position,
                "actors": rec.actors,
                "recommendation_strength": rec.recommendation_strength,
                "area_of_focus": rec.area_of_focus,
                "judgement_level": judgement.level.value if judgement else None,
                "judgement_quote": judgement.quote if judgement else None,
                "judgement_section": judgement.location.section
                if judgement and judgement.location
                else None,
                "judgement_page": judgement.location.page
                if judgement and judgement.location
                else None,
                "judgement_note": judgement.note if judgement else None,
                "note": rec.note,
                **_origin(kb, rec.id, rec),
            }
        )
        rows[RecommendationThemeRow].extend(
            {"recommendation_id": rec.id, "theme_id": theme, "rank": rank}
            for rank, theme in enumerate(dict.fromkeys(rec.themes))
        )
        rows[RecommendationResponseRow].extend(
            {"recommendation_id": rec.id, "recurring_id": target}
            for target in dict.fromkeys(rec.responds_to)
        )
    for study in kb.studies.values():
        rows[StudyRow].append(
            {
                **study.model_dump(exclude={"findings"}),
                "doi_key": study.doi.lower() if study.doi else None,
                **_origin(kb, study.id, study),
            }
        )
        record_file = kb.files[study.id]
        for rank, finding in enumerate(study.findings):
            rows[EvidenceRow].append(
                {
                    **finding.model_dump(exclude={"recommendation", "source", "location"}),
                    "study_id": study.id,
                    "recommendation_id": finding.recommendation,
                    "source_id": finding.source,
                    "section": finding.location.section,
                    "page": finding.location.page,
                    "rank": rank,
                    "line": record_file.line_of(("findings", rank)),
                }
            )
    for example in kb.examples.values():
        rows[ExampleRow].append(
            {
                **example.model_dump(exclude={"studies", "recommendations", "source", "location"}),
                "source_id": example.source,
                "section": example.location.section,
                "page": example.location.page,
                **_origin(kb, example.id, example),
            }
        )
        rows[ExampleStudyRow].extend(
            {"example_id": example.id, "study_id": study}
            for study in dict.fromkeys(example.studies)
        )
        rows[ExampleRecommendationRow].extend(
            {"example_id": example.id, "recommendation_id": rec}
            for rec in dict.fromkeys(example.recommendations)
        )
    for figure in kb.figures.values():
        rows[FigureRow].append(
            {
                **figure.model_dump(exclude={"studies", "themes", "source", "location"}),
                "source_id": figure.source,
                "section": figure.location.section,
                "page": figure.location.page,
                **_origin(kb, figure.id, figure),
            }
        )
        rows[FigureStudyRow].extend(
            {"figure_id": figure.id, "study_id": study} for study in dict.fromkeys(figure.studies)
        )
        rows[FigureThemeRow].extend(
            {"figure_id": figure.id, "theme_id": theme} for theme in dict.fromkeys(figure.themes)
        )
    return rows


def _check_database(path: Path) -> None:
    connection = sqlite3.connect(path)
    try:
        integrity = connection.execute("PRAGMA integrity_check").fetchall()
        if integrity != [("ok",)]:
            raise StoreCheckFailed(f"integrity check failed: {integrity[:5]}")
        broken = connection.execute("PRAGMA foreign_key_check").fetchall()
        if broken:
            raise StoreCheckFailed(f"{len(broken)} rows refer to missing rows, e.g. {broken[0]}")
    finally:
        connection.close()


def write_atomically(path: Path, write: Any) -> None:
    """Call ``write(temporary_path)``, then move the result over ``path`` in one step.

    If ``write`` fails or the process dies, ``path`` is untouched and the temporary file is
    removed (or, after a kill, left with a name no reader opens).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        write(temporary)
        with open(temporary, "rb+") as written:
            os.fsync(written.fileno())
        os.replace(temporary, path)
    finally:
        with suppress(FileNotFoundError):
            temporary.unlink()


def build_db(kb: KnowledgeBase, path: Path) -> dict[str, int]:
    """Write the store for ``kb`` at ``path`` atomically; return the row count per table."""
    rows = table_rows(kb)

    def write(temporary: Path) -> None:
        engine = connect(temporary)
        try:
            SQLModel.metadata.create_all(engine)
            with engine.begin() as connection:
                connection.exec_driver_sql("PRAGMA defer_foreign_keys = ON")
                for table, table_rows_ in rows.items():
                    if table_rows_:
                        connection.execute(insert(table), table_rows_)
        finally:
            engine.dispose()
        _check_database(temporary)

    write_atomically(path, write)
    return {
        table.__tablename__: len(table_rows_)  # type: ignore[misc]
        for table, table_rows_ in rows.items()
    }
