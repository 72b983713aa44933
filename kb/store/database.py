"""The SQLite store: the only module that opens database sessions.

``build_db`` writes the whole store from validated records into a temporary file, checks it
with SQLite's own integrity and foreign-key checks, and only then renames it into place, so a
failed or killed build leaves the previous database as it was.

A change to a few record files (``kb add``) is made in place instead: ``updating`` opens one
transaction, ``replace_rows`` swaps the rows that came from those files for the rows of their
records now, made by the same ``table_rows`` as a full build, and ``StoredRecords`` tells
``validate.check_record`` what it needs to know of every other record. SQLite commits all of
it or, after a failure or a crash, none. A build does the same with ``update_store``: the store
keeps a digest of each file its rows came from (``RecordFileRow``), and the rows of the files
whose digest changed are replaced, or the whole store written again when many did.
"""

import dataclasses
import functools
import hashlib
import os
import sqlite3
from collections.abc import Collection, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Table, delete, event, insert, null, select
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.schema import CreateIndex, CreateTable
from sqlmodel import Session, SQLModel, create_engine

from kb.errors import DatabaseMissing, Problem, StoreCheckFailed
from kb.files import files_digest, write_atomically
from kb.paths import changing_marker, schema_is_current
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
    ProblemRow,
    RecommendationResponseRow,
    RecommendationRow,
    RecommendationThemeRow,
    Record,
    RecordFileRow,
    RemovedRow,
    Source,
    SourceRow,
    StudyRow,
    ThemeRow,
)
from kb.records.read import read_limits
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


@functools.cache
def _code_digest() -> bytes:
    """A digest of this ``kb``'s Python code, which reads records and makes their rows."""
    return files_digest(Path(__file__).parent.parent, "*.py")


def checked_with() -> bytes:
    """What a file's rows and warnings rest on besides its bytes: this ``kb``'s code, and the
    size caps it read the records with."""
    return _code_digest() + repr(sorted(read_limits().items())).encode()


def stored_digest(record_file: RecordFile, rest: bytes) -> str | None:
    """What the store keeps of a record file's digest: with what else its rows and warnings
    rest on (``checked_with``), so that rows made by other code never count as current. None
    for a record not read from a file's bytes."""
    if not record_file.digest:
        return None
    return digest_of_file(record_file.digest, rest)


def digest_of_file(file_digest: bytes, rest: bytes) -> str:
    return hashlib.blake2b(rest + file_digest, digest_size=16).hexdigest()


def _origin(kb: KnowledgeBase, record_id: str, record: Record) -> dict[str, Any]:
    source_file = kb.files[record_id]
    return {"file": source_file.path, "line": source_file.line_of(()), "digest": digest(record)}


# The tables of the records, in an order that satisfies foreign keys.
_STORED_TABLES: tuple[type[SQLModel], ...] = (
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


def table_rows(kb: KnowledgeBase) -> dict[type[SQLModel], list[dict[str, Any]]]:
    """Every row of every table, as plain dicts, in an order that satisfies foreign keys."""
    rows: dict[type[SQLModel], list[dict[str, Any]]] = {table: [] for table in _STORED_TABLES}
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


def _bookkeeping_rows(
    kb: KnowledgeBase, warnings: Sequence[Problem]
) -> dict[type[SQLModel], list[dict[str, Any]]]:
    """The digest of each of ``kb``'s files and the ``warnings`` found in them: what a build
    that checks only changed files against the store needs to know of the rest."""
    rest = checked_with()
    return {
        RecordFileRow: [
            {"path": record_file.path, "digest": digest}
            for record_file in kb.files.values()
            if (digest := stored_digest(record_file, rest)) is not None
        ],
        ProblemRow: [_problem_row(problem) for problem in warnings],
    }


def _problem_row(problem: Problem) -> dict[str, Any]:
    return dataclasses.asdict(problem)  # its fields are ProblemRow's columns


def stored_warnings(connection: Connection) -> list[Problem]:
    """The warnings the store holds, sorted as a check sorts its problems."""
    table = table_of(ProblemRow)
    query = select(
        table.c.path,
        table.c.line,
        table.c.record_id,
        table.c.field,
        table.c.message,
        table.c.severity,
    )
    return sorted(Problem(*row) for row in connection.execute(query))


def replace_warnings(connection: Connection, warnings: Sequence[Problem]) -> None:
    """Make ``warnings`` every warning the store holds."""
    connection.execute(delete(ProblemRow))
    if warnings:
        connection.execute(insert(ProblemRow), [_problem_row(problem) for problem in warnings])


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


def build_db(
    kb: KnowledgeBase, path: Path, warnings: Sequence[Problem] | None = None
) -> dict[str, int]:
    """Write the store for ``kb`` at ``path`` atomically; return the row count per table.

    With the check's ``warnings``, the store also keeps them and each file's digest, so that
    the next build can check only the files that changed against it (``update_store``)."""
    records = table_rows(kb)
    rows = records if warnings is None else {**records, **_bookkeeping_rows(kb, warnings)}

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
        for table, table_rows_ in records.items()
    }


# The digest of a file whose rows are current but whose warnings the store does not hold: the
# next build checks it again (``replace_rows``).
UNCHECKED = ""
# The store's own tables, which describe it rather than the records: not in the download.
BOOKKEEPING_TABLES = ("record_file", "problem")
# Above this share of changed files, writing the store afresh is quicker than changing it.
MOST_CHANGED_IN_PLACE = 0.25


def update_store(
    kb: KnowledgeBase, path: Path, warnings: Sequence[Problem]
) -> tuple[dict[str, int], int | None]:
    """Bring the store at ``path`` up to date with ``kb``, whose every record is valid, and the
    check's ``warnings``: in place, replacing the rows of the files that changed since it was
    written, when it can be and few did; else by ``build_db``. The rows are those ``build_db``
    would write.

    Returns the row count per table, and the number of files whose rows were replaced, or None
    when the store was written afresh.
    """
    stored = stored_digests(path)
    rest = checked_with()
    wanted = {file.path: stored_digest(file, rest) for file in kb.files.values()}
    if stored is None or None in wanted.values():
        return build_db(kb, path, warnings), None
    changed = {
        file for file in stored.keys() | wanted.keys() if stored.get(file) != wanted.get(file)
    }
    if len(changed) > MOST_CHANGED_IN_PLACE * max(len(wanted), 1):
        return build_db(kb, path, warnings), None
    engine = connect(path)
    try:
        with engine.connect() as connection:
            same_warnings = stored_warnings(connection) == sorted(warnings)
        if changed or not same_warnings:
            with updating(engine) as connection:
                replace_rows(connection, changed, records_of(kb, changed), warnings=[])
                replace_warnings(connection, warnings)
        else:
            os.utime(path)  # current with the records again (``kb.paths.store_is_current``)
    except SQLAlchemyError:
        return build_db(kb, path, warnings), None  # a row left pointing at nothing
    finally:
        engine.dispose()
    return row_counts(path), len(changed)


def records_of(kb: KnowledgeBase, files: Collection[str]) -> KnowledgeBase:
    """The part of ``kb`` whose records come from ``files``."""
    part = KnowledgeBase(root=kb.root)
    for record_id, record_file in kb.files.items():
        if record_file.path in files:
            part.by_kind(record_file.kind)[record_id] = kb.by_kind(record_file.kind)[record_id]
            part.files[record_id] = record_file
    return part


def stored_digests(path: Path) -> dict[str, str] | None:
    """Each stored file's digest, or None when the store cannot be changed in place: missing,
    of other tables, or left half-changed (``updating``)."""
    if not schema_is_current(path) or changing_marker(path).exists():
        return None
    try:
        connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            return dict(connection.execute("SELECT path, digest FROM record_file"))
        finally:
            connection.close()
    except sqlite3.Error:
        return None


def row_counts(path: Path) -> dict[str, int]:
    """The rows in each table of the store's records, as ``build_db`` counts them."""
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return {
            table.name: connection.execute(f'SELECT COUNT(*) FROM "{table.name}"').fetchone()[0]
            for table in (table_of(model) for model in _STORED_TABLES)
        }
    finally:
        connection.close()


def copy_store(path: Path, target: Path) -> None:
    """Write a copy of the store at ``path`` to ``target`` whose bytes follow from its rows
    alone, for the download: a store changed in place holds its rows in another order than
    one written afresh, and the same records should give the same file, and checksum.

    Each table's rows are copied in the order of its key (the first column of its primary
    key, then the order they were stored in, which keeps a record's list in its order), its
    indexes made after. The store's bookkeeping (``RecordFileRow``, ``ProblemRow``) is left
    out.
    """
    target.unlink(missing_ok=True)
    connection = sqlite3.connect(target, isolation_level=None)
    try:
        connection.execute("ATTACH DATABASE ? AS stored", (str(path),))
        schema = connection.execute(
            "SELECT type, name, sql FROM stored.sqlite_master WHERE sql IS NOT NULL"
            " AND tbl_name NOT IN (?, ?) ORDER BY rowid",
            BOOKKEEPING_TABLES,
        ).fetchall()
        (version,) = connection.execute("PRAGMA stored.user_version").fetchone()
        connection.execute("BEGIN")
        tables = [name for kind, name, _ in schema if kind == "table"]
        for kind, _, sql in schema:
            if kind == "table":
                connection.execute(sql)
        for name in tables:
            key = next(
                column
                for _, column, _, _, _, rank in connection.execute(f'PRAGMA table_info("{name}")')
                if rank == 1
            )
            connection.execute(
                f'INSERT INTO main."{name}" SELECT * FROM stored."{name}" ORDER BY "{key}", rowid'
            )
        for kind, _, sql in schema:
            if kind == "index":
                connection.execute(sql)
        connection.execute(f"PRAGMA user_version = {int(version)}")
        connection.execute("COMMIT")
        connection.execute("DETACH DATABASE stored")
    finally:
        connection.close()


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


def table_of(model: type[SQLModel]) -> Table:
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


def replace_rows(
    connection: Connection,
    files: Collection[str],
    kb: KnowledgeBase,
    warnings: Sequence[Problem] | None = None,
) -> None:
    """Delete every row that came from ``files`` and insert the rows of ``kb``'s records.

    ``kb`` holds the records those files hold now (none for a file removed); its rows are made
    by ``table_rows``, so they are the rows a full build would write for them. The files'
    digests and warnings are replaced by ``warnings``, the check's of these files; without
    them (``kb add``) the files are marked ``UNCHECKED``, and the next build checks them again.
    """
    for table, children in _RECORD_TABLES.values():
        owned = select(table_of(table).c.id).where(table_of(table).c.file.in_(files))
        for child, column in children:
            connection.execute(delete(child).where(table_of(child).c[column].in_(owned)))
        connection.execute(delete(table).where(table_of(table).c.file.in_(files)))
    connection.execute(delete(FormerIdRow).where(table_of(FormerIdRow).c.file.in_(files)))
    connection.execute(delete(RecordFileRow).where(table_of(RecordFileRow).c.path.in_(files)))
    connection.execute(delete(ProblemRow).where(table_of(ProblemRow).c.path.in_(files)))
    rows = table_rows(kb)
    if warnings is not None:
        rows.update(_bookkeeping_rows(kb, warnings))
    else:
        rows[RecordFileRow] = [
            {"path": file.path, "digest": UNCHECKED} for file in kb.files.values()
        ]
    for table, rows_ in rows.items():
        if rows_:
            connection.execute(insert(table), rows_)


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
        table = table_of(_RECORD_TABLES[kind][0])
        query = select(table.c.id).where(
            table.c.id == record_id, table.c.file.not_in(self.leave_out)
        )
        return self.connection.execute(query).first() is not None

    def source(self, source_id: str) -> tuple[RecordFile, Source] | None:
        table = table_of(SourceRow)
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
            table = table_of(model)
            query = select(table.c.id, table.c.file).where(
                table.c.id.in_(keys), table.c.file.not_in(self.leave_out)
            )
            for record_id, file in self.connection.execute(query):
                found.append((RecordFile(file, kind, {"id": record_id}), record_id, ("id",)))
        evidence, study = table_of(EvidenceRow), table_of(StudyRow)
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
        former = table_of(FormerIdRow)
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
        study = table_of(StudyRow)
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
        for (record_id,) in connection.execute(select(table_of(model).c.id))
    }


def record_ids(engine: Engine, kind: str) -> list[str]:
    """Every stored ID of one kind of record (``evidence`` for evidence links), sorted."""
    model = EvidenceRow if kind == "evidence" else _RECORD_TABLES[kind][0]
    with engine.connect() as connection:
        return sorted(
            record_id for (record_id,) in connection.execute(select(table_of(model).c.id))
        )


def ids_starting(connection: Connection, prefix: str) -> set[str]:
    """Every ID in the store (records', evidence links', removed records' and former IDs) that
    begins with ``prefix``."""
    tables = [model for model, _ in _RECORD_TABLES.values()] + [EvidenceRow, FormerIdRow]
    return {
        record_id
        for model in tables
        for (record_id,) in connection.execute(
            select(table_of(model).c.id).where(
                table_of(model).c.id.startswith(prefix, autoescape=True)
            )
        )
    }


def study_origin(connection: Connection, study_id: str) -> tuple[str, str] | None:
    """The file a stored study came from and its digest, or None when no study has this ID."""
    study = table_of(StudyRow)
    query = select(study.c.file, study.c.digest).where(study.c.id == study_id)
    row = connection.execute(query).first()
    return None if row is None else (row.file, row.digest)


def study_of_link(connection: Connection, link_id: str) -> str | None:
    """The ID of the study holding an evidence link, or None when no link has this ID."""
    evidence = table_of(EvidenceRow)
    query = select(evidence.c.study_id).where(evidence.c.id == link_id)
    row = connection.execute(query).first()
    return None if row is None else str(row.study_id)


def recommendation_location(
    connection: Connection, recommendation_id: str
) -> tuple[str, str] | None:
    """A stored recommendation's source and section, or None when none has this ID."""
    table = table_of(RecommendationRow)
    query = select(table.c.source_id, table.c.section).where(table.c.id == recommendation_id)
    row = connection.execute(query).first()
    return None if row is None else (row.source_id, row.section)


def references(connection: Connection) -> list[dict[str, Any]]:
    """What duplicate detection compares of every stored study, then of every source (ID,
    title, year, authors, DOI, container), each in the order ``kb check`` reads their files."""
    study, source = table_of(StudyRow), table_of(SourceRow)
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
        former = connection.execute(select(table_of(FormerIdRow))).mappings().all()
        removed = connection.execute(select(table_of(RemovedRow))).mappings().all()
    return [dict(row) for row in former], [dict(row) for row in removed]
