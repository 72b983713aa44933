"""The SQLite store: the only module that opens database sessions.

``build_db`` writes the whole store from validated records into a temporary file, checks it
with SQLite's own integrity and foreign-key checks, and only then renames it into place, so a
failed or killed build leaves the previous database as it was.

A change to a few record files (``kb add``) is made in place instead: ``updating`` opens one
transaction, ``replace_rows`` swaps the rows that came from those files for the rows of their
records now, made by the same ``table_rows`` as a full build, and ``StoredRecords`` tells
``validate.check_record`` what it needs to know of every other record. SQLite commits all of
it or, after a failure or a crash, none.
"""

import functools
import hashlib
import os
import sqlite3
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Table, delete, event, insert, null, select
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.schema import CreateIndex, CreateTable
from sqlmodel import Session, SQLModel, create_engine

from kb.errors import DatabaseMissing, StoreCheckFailed
from kb.files import write_atomically
from kb.paths import changing_marker
from kb.records.load import FieldPath, RecordFile, load_order
from kb.records.models import (
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
    Record,
    RemovedRow,
    Source,
    SourceRow,
    StudyRow,
    ThemeRow,
)
from kb.records.validate import KnowledgeBase


def _enable_foreign_keys(connection: sqlite3.Connection, _record: Any) -> None:
    cursor = connection.cursor()
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.close()


def connect(path: Path) -> Engine:
    """Open an engine on the SQLite file at ``path`` with foreign keys enforced."""
    engine = create_engine(f"sqlite:///{path}")
    event.listen(engine, "connect", _enable_foreign_keys)
    return engine


@functools.cache
def schema_fingerprint() -> int:
    """A number that changes when the tables' definitions change, kept in the store's
    ``user_version``: a store built by an older ``kb`` is rebuilt, not misread
    (``kb.paths.schema_is_current``, which compares it with ``kb.paths.STORE_SCHEMA``)."""
    tables = [
        (table.name, [(c.name, str(c.type), c.nullable, c.primary_key) for c in table.columns])
        for table in sorted(SQLModel.metadata.tables.values(), key=lambda table: table.name)
    ]
    return int.from_bytes(hashlib.sha256(repr(tables).encode()).digest()[:4]) & 0x7FFFFFFF


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
            RemovedRow,
            FormerIdRow,
        )
    }
    for source in kb.sources.values():
        rows[SourceRow].append(
            {
                **source.model_dump(exclude={"text", "former_ids"}),
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
                "title_cy": rec.title_cy,
                "statement": rec.statement,
                "source_id": rec.source,
                "section": rec.location.section,
                "page": rec.location.page,
                "position": rec.position,
                "addressed_to": rec.addressed_to,
                "involves": rec.involves,
                "wording": rec.wording,
                "area_of_focus": rec.area_of_focus,
                "judgement_level": judgement.level.value if judgement else None,
                "judgement_basis": judgement.basis.value if judgement else None,
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
                **study.model_dump(exclude={"findings", "text", "former_ids"}),
                "text_path": study.text,
                "doi_key": study.doi.lower() if study.doi else None,
                **_origin(kb, study.id, study),
            }
        )
        record_file = kb.files[study.id]
        for rank, finding in enumerate(study.findings):
            rows[EvidenceRow].append(
                {
                    **finding.model_dump(
                        exclude={"recommendation", "source", "location", "appraisal"}
                    ),
                    "study_id": study.id,
                    "recommendation_id": finding.recommendation,
                    "source_id": finding.source,
                    "section": finding.location.section if finding.location else None,
                    "page": finding.location.page if finding.location else None,
                    "appraisal": finding.appraisal.model_dump(mode="json")
                    if finding.appraisal
                    else None,
                    "recorded_on": finding.recorded_on.isoformat(),
                    "rank": rank,
                    "line": record_file.line_of(("findings", rank)),
                }
            )
    for example in kb.examples.values():
        rows[ExampleRow].append(
            {
                **example.model_dump(
                    exclude={"studies", "recommendations", "source", "location", "former_ids"}
                ),
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
                **figure.model_dump(
                    exclude={"studies", "themes", "source", "location", "former_ids"}
                ),
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
    for removal in kb.removed.values():
        rows[RemovedRow].append(
            {
                **removal.model_dump(exclude={"former_ids", "removed_on"}),
                "removed_on": removal.removed_on.isoformat(),
                **_origin(kb, removal.id, removal),
            }
        )
    rows[FormerIdRow] = _former_id_rows(kb)
    return rows


def _former_id_rows(kb: KnowledgeBase) -> list[dict[str, Any]]:
    """One row per former ID of every record (``former_ids``), removed records' too."""
    rows: list[dict[str, Any]] = []
    for kind in _RECORD_TABLES:
        for record_id, record in kb.by_kind(kind).items():
            rows.extend(
                {
                    "id": former,
                    "record_type": kind,
                    "record_id": record_id,
                    "rank": rank,
                    "file": kb.files[record_id].path,
                }
                for rank, former in enumerate(record.former_ids)
            )
    return rows


def _defer_foreign_keys(connection: Connection) -> None:
    """Open the transaction now and check its foreign keys only when it commits.

    SQLite turns ``defer_foreign_keys`` off at the end of every transaction, and Python's
    sqlite3 would open this one only at the first change, so the pragma must follow an explicit
    ``BEGIN`` (which the commit or rollback of ``engine.begin()`` then ends).
    """
    connection.exec_driver_sql("BEGIN")
    connection.exec_driver_sql("PRAGMA defer_foreign_keys = ON")


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


def create_tables(connection: Connection) -> None:
    """Create every table and its indexes, always in the same order.

    ``MetaData.create_all`` creates a table's indexes in the order of a set, which changes
    from one Python process to the next: the same records then gave a store with the same rows
    but other bytes, and the downloaded copy another checksum on every build.
    """
    for table in SQLModel.metadata.sorted_tables:
        connection.execute(CreateTable(table))
        for index in sorted(table.indexes, key=lambda index: str(index.name)):
            connection.execute(CreateIndex(index))


def build_db(kb: KnowledgeBase, path: Path) -> dict[str, int]:
    """Write the store for ``kb`` at ``path`` atomically; return the row count per table."""
    rows = table_rows(kb)

    def write(temporary: Path) -> None:
        engine = connect(temporary)
        try:
            with engine.begin() as connection:
                create_tables(connection)
                connection.exec_driver_sql(f"PRAGMA user_version = {schema_fingerprint()}")
                _defer_foreign_keys(connection)
                for table, table_rows_ in rows.items():
                    if table_rows_:
                        connection.execute(insert(table), table_rows_)
        finally:
            engine.dispose()
        _check_database(temporary)

    write_atomically(path, write)
    changing_marker(path).unlink(missing_ok=True)  # a change in place that failed is replaced
    return {
        table.__tablename__: len(table_rows_)  # type: ignore[misc]
        for table, table_rows_ in rows.items()
    }


# --- Changing the store in place -------------------------------------------------------------

# The table of each kind of record (its rows have the file they came from), with the tables of
# the rows that belong to it: (table, column naming the record).
_RECORD_TABLES: dict[str, tuple[type[SQLModel], list[tuple[type[SQLModel], str]]]] = {
    "source": (SourceRow, []),
    "theme": (ThemeRow, []),
    "recommendation": (
        RecommendationRow,
        [
            (RecommendationThemeRow, "recommendation_id"),
            (RecommendationResponseRow, "recommendation_id"),
        ],
    ),
    "study": (StudyRow, [(EvidenceRow, "study_id")]),
    "example": (
        ExampleRow,
        [(ExampleStudyRow, "example_id"), (ExampleRecommendationRow, "example_id")],
    ),
    "figure": (FigureRow, [(FigureStudyRow, "figure_id"), (FigureThemeRow, "figure_id")]),
    "removal": (RemovedRow, []),
}


def _table(model: type[SQLModel]) -> Table:
    return model.__table__  # type: ignore[attr-defined,no-any-return]


@contextmanager
def updating(engine: Engine) -> Iterator[Connection]:
    """One transaction that changes the store in place: committed whole, or not at all.

    Foreign keys are checked when it commits, so rows may be replaced in any order; a change
    that leaves a row pointing at nothing is rolled back. After the commit the file's time is
    set to now, the moment it is again current with the records. From before the transaction
    until then a marker file (``changing_marker``) exists: a crash in between, when SQLite may
    have written part of the change into the file (to be undone when next opened, so the
    file's time tells nothing), leaves it, and the store counts as out of date
    (``kb.paths.store_is_current``) until a full build replaces it.
    """
    path = Path(str(engine.url.database))
    marker = changing_marker(path)
    marker.touch()
    with engine.begin() as connection:
        _defer_foreign_keys(connection)
        yield connection
    os.utime(path)
    marker.unlink()


def replace_rows(connection: Connection, files: Collection[str], kb: KnowledgeBase) -> None:
    """Delete every row that came from ``files`` and insert the rows of ``kb``'s records.

    ``kb`` holds the records those files hold now (none for a file removed); its rows are made
    by ``table_rows``, so they are the rows a full build would write for them.
    """
    for table, children in _RECORD_TABLES.values():
        owned = select(_table(table).c.id).where(_table(table).c.file.in_(files))
        for child, column in children:
            connection.execute(delete(child).where(_table(child).c[column].in_(owned)))
        connection.execute(delete(table).where(_table(table).c.file.in_(files)))
    connection.execute(delete(FormerIdRow).where(_table(FormerIdRow).c.file.in_(files)))
    for table, rows in table_rows(kb).items():
        if rows:
            connection.execute(insert(table), rows)


class StoredRecords:
    """The records in the store, less those of some files: what a change to those files is
    checked against (``validate.OtherRecords``).

    IDs are compared as stored: the ID pattern allows lower-case letters only, so an ID and
    its lower-case form are the same.
    """

    def __init__(self, connection: Connection, leave_out: Collection[str] = ()):
        self.connection = connection
        self.leave_out = list(leave_out)

    def has(self, kind: str, record_id: str) -> bool:
        table = _table(_RECORD_TABLES[kind][0])
        query = select(table.c.id).where(
            table.c.id == record_id, table.c.file.not_in(self.leave_out)
        )
        return self.connection.execute(query).first() is not None

    def source(self, source_id: str) -> tuple[RecordFile, Source] | None:
        table = _table(SourceRow)
        query = select(table).where(table.c.id == source_id, table.c.file.not_in(self.leave_out))
        row = self.connection.execute(query).mappings().first()
        if row is None:
            return None
        # Its former IDs are left out: checking other records against a source needs its text.
        fields = {
            name: row[name] for name in Source.model_fields if name not in ("text", "former_ids")
        }
        source = Source.model_validate({**fields, "text": row["text_path"]})
        return RecordFile(row["file"], "source", {"id": source_id}), source

    def same_ids(self, keys: Collection[str]) -> list[tuple[RecordFile, str, FieldPath]]:
        found: list[tuple[RecordFile, str, FieldPath]] = []
        for kind, (model, _) in _RECORD_TABLES.items():
            table = _table(model)
            query = select(table.c.id, table.c.file).where(
                table.c.id.in_(keys), table.c.file.not_in(self.leave_out)
            )
            for record_id, file in self.connection.execute(query):
                found.append((RecordFile(file, kind, {"id": record_id}), record_id, ("id",)))
        evidence, study = _table(EvidenceRow), _table(StudyRow)
        query = (
            select(evidence.c.id, evidence.c.rank, study.c.id, study.c.file)
            .join_from(evidence, study, evidence.c.study_id == study.c.id)
            .where(evidence.c.id.in_(keys), study.c.file.not_in(self.leave_out))
        )
        link_id: str
        rank: int
        study_id: str
        for link_id, rank, study_id, file in self.connection.execute(query):
            found.append(
                (RecordFile(file, "study", {"id": study_id}), link_id, ("findings", rank, "id"))
            )
        former = _table(FormerIdRow)
        query = select(
            former.c.id, former.c.record_type, former.c.record_id, former.c.rank, former.c.file
        ).where(former.c.id.in_(keys), former.c.file.not_in(self.leave_out))
        former_id: str
        for former_id, kind, record_id, rank, file in self.connection.execute(query):
            found.append(
                (RecordFile(file, kind, {"id": record_id}), former_id, ("former_ids", rank))
            )
        return found

    def same_doi(self, key: str) -> list[tuple[RecordFile, str, str]]:
        study = _table(StudyRow)
        query = select(study.c.id, study.c.doi, study.c.file).where(
            study.c.doi_key == key, study.c.file.not_in(self.leave_out)
        )
        return [
            (RecordFile(file, "study", {"id": study_id}), study_id, doi)
            for study_id, doi, file in self.connection.execute(query)
        ]


def taken_ids(connection: Connection) -> set[str]:
    """Every ID in the store: records', evidence links', removed records' and former IDs (all
    lower case, as IDs are)."""
    tables = [model for model, _ in _RECORD_TABLES.values()] + [EvidenceRow, FormerIdRow]
    return {
        record_id
        for model in tables
        for (record_id,) in connection.execute(select(_table(model).c.id))
    }


def record_ids(engine: Engine, kind: str) -> list[str]:
    """Every stored ID of one kind of record (``evidence`` for evidence links), sorted."""
    model = EvidenceRow if kind == "evidence" else _RECORD_TABLES[kind][0]
    with engine.connect() as connection:
        return sorted(record_id for (record_id,) in connection.execute(select(_table(model).c.id)))


def ids_starting(connection: Connection, prefix: str) -> set[str]:
    """Every ID in the store (records', evidence links', removed records' and former IDs) that
    begins with ``prefix``."""
    tables = [model for model, _ in _RECORD_TABLES.values()] + [EvidenceRow, FormerIdRow]
    return {
        record_id
        for model in tables
        for (record_id,) in connection.execute(
            select(_table(model).c.id).where(_table(model).c.id.startswith(prefix, autoescape=True))
        )
    }


def study_origin(connection: Connection, study_id: str) -> tuple[str, str] | None:
    """The file a stored study came from and its digest, or None when no study has this ID."""
    study = _table(StudyRow)
    query = select(study.c.file, study.c.digest).where(study.c.id == study_id)
    row = connection.execute(query).first()
    return None if row is None else (row.file, row.digest)


def study_of_link(connection: Connection, link_id: str) -> str | None:
    """The ID of the study holding an evidence link, or None when no link has this ID."""
    evidence = _table(EvidenceRow)
    query = select(evidence.c.study_id).where(evidence.c.id == link_id)
    row = connection.execute(query).first()
    return None if row is None else str(row.study_id)


def recommendation_location(
    connection: Connection, recommendation_id: str
) -> tuple[str, str] | None:
    """A stored recommendation's source and section, or None when none has this ID."""
    table = _table(RecommendationRow)
    query = select(table.c.source_id, table.c.section).where(table.c.id == recommendation_id)
    row = connection.execute(query).first()
    return None if row is None else (row.source_id, row.section)


def references(connection: Connection) -> list[dict[str, Any]]:
    """What duplicate detection compares of every stored study, then of every source (ID,
    title, year, authors, DOI, container), each in the order ``kb check`` reads their files."""
    study, source = _table(StudyRow), _table(SourceRow)
    queries = (
        select(
            study.c.id,
            study.c.title,
            study.c.year,
            study.c.authors,
            study.c.doi,
            study.c.container,
            study.c.file,
        ),
        select(
            source.c.id,
            source.c.title,
            source.c.year,
            source.c.authors,
            null().label("doi"),
            null().label("container"),
            source.c.file,
        ),
    )
    found: list[dict[str, Any]] = []
    for query in queries:
        rows = [dict(row) for row in connection.execute(query).mappings()]
        found.extend(sorted(rows, key=lambda row: load_order(row["file"])))
    return found


def alias_rows(engine: Engine) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Every former ID (``former_id``) and every removed record (``removed``), as plain rows:
    what ``kb.store.aliases`` resolves old IDs through, without reading the whole store."""
    with engine.connect() as connection:
        former = connection.execute(select(_table(FormerIdRow))).mappings().all()
        removed = connection.execute(select(_table(RemovedRow))).mappings().all()
    return [dict(row) for row in former], [dict(row) for row in removed]
