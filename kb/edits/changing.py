"""What every command that changes records reads its records through, checks a change
against, and refreshes afterwards.

A change is made against the store when it is current with the records (nothing on disk
changed since it was built): the store stands in for every record but the changed one, so
only that record is read and checked (``validate.check_record``, with IDs, references, source
texts and DOIs looked up in the store), and its rows are replaced in one transaction
(``InStore``). Otherwise, or when the store and the file disagree, every record is read and
checked, and the store rebuilt, as ``kb build-db`` does (``OnDisk``). ``make_change`` picks
one. Its callers (``kb.edits.add``, ``kb.edits.edit``, ``kb.edits.rename``) hold the repository lock
(``kb.files.repository_lock``) around it.
"""

import functools
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from pydantic import ValidationError
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError

from kb.errors import Problem, RecordsInvalid
from kb.paths import Paths, store_is_current
from kb.records.load import RecordFile, load_records, read_record
from kb.records.models import Study
from kb.records.read import read_limits
from kb.records.validate import KnowledgeBase, check_record, validate_records
from kb.references.duplicates import Reference
from kb.store import database as store
from kb.store.current import build_db

_Result = TypeVar("_Result")


def taken_ids(records: list[RecordFile]) -> set[str]:
    """Every ID in use, lower case: records, evidence links, removed records, former IDs, and
    file names (valid or not)."""
    taken: set[str] = set()
    for record in records:
        taken.update({record.record_id.lower(), Path(record.path).stem.lower()})
        for finding in record.data.get("findings") or []:
            if isinstance(finding, dict) and isinstance(finding.get("id"), str):
                taken.add(finding["id"].lower())
        former = record.data.get("former_ids")
        if isinstance(former, list):
            taken.update(old.lower() for old in former if isinstance(old, str))
    return taken


class Unsure(Exception):
    """The store cannot answer for this change; read and check every record instead."""


def errors_in(problems: list[Problem], path: str) -> list[str]:
    """The errors among ``problems`` that are in the file ``path``, as ``field: message``."""
    return [f"{p.field}: {p.message}" for p in problems if p.path == path and p.severity == "error"]


def _reference(record: Any) -> Reference:
    return Reference(
        record.id,
        record.title,
        record.year,
        tuple(record.authors),
        getattr(record, "doi", None),
        getattr(record, "container", None),
    )


@dataclass
class OnDisk:
    """Every record on disk, read and validated, with the IDs they use: the full path."""

    paths: Paths
    records: list[RecordFile]
    kb: KnowledgeBase
    problems: list[Problem]
    taken: set[str]

    def ids_starting(self, prefix: str) -> set[str]:
        """The IDs in use that begin with ``prefix`` (lower case)."""
        return {taken for taken in self.taken if taken.startswith(prefix)}

    def study(self, study_id: str) -> tuple[RecordFile, Study] | None:
        """A valid study's file and record, or None when no valid study has this ID."""
        study = self.kb.studies.get(study_id)
        return None if study is None else (self.kb.files[study_id], study)

    def study_of_link(self, link_id: str) -> tuple[RecordFile, Study] | None:
        """The file and record of the valid study holding an evidence link, or None."""
        for study, _, finding in self.kb.findings():
            if finding.id == link_id:
                return self.kb.files[study.id], study
        return None

    def recommendation_location(self, recommendation_id: str) -> tuple[str, str] | None:
        """A valid recommendation's source and section, or None when none has this ID."""
        recommendation = self.kb.recommendations.get(recommendation_id)
        if recommendation is None:
            return None
        return recommendation.source, recommendation.location.section

    def references(self, leave_out: str = "") -> list[Reference]:
        """What duplicate detection compares: every study but ``leave_out``, then sources."""
        known = [_reference(s) for s in self.kb.studies.values() if s.id != leave_out]
        return known + [_reference(source) for source in self.kb.sources.values()]

    def change_problems(
        self, old: RecordFile, new: RecordFile
    ) -> tuple[Study | None, list[Problem]]:
        """The study in ``new`` once valid, and the problems (errors and warnings, in any
        file) that the records have with ``new`` in place of ``old`` and had not before."""
        records = [r for r in self.records if r.path != old.path]
        records.append(new)
        after, problems = validate_records(self.paths.root, records)
        before = {(p.path, p.field, p.message) for p in self.problems}
        new_problems = [p for p in problems if (p.path, p.field, p.message) not in before]
        return after.studies.get(new.record_id), new_problems

    def check_change(self, old: RecordFile, new: RecordFile) -> tuple[Study | None, list[str]]:
        """The study in ``new`` once valid, and the errors it has that ``old`` had not."""
        study, problems = self.change_problems(old, new)
        return study, errors_in(problems, new.path)

    def refresh(self, written: list[Path]) -> str:
        """Rebuild the store from every record and update the search index."""
        return refresh(self.paths)


def read_all(paths: Paths) -> OnDisk:
    records, problems = load_records(paths.root, **read_limits())
    knowledge_base, found = validate_records(paths.root, records)
    return OnDisk(paths, records, knowledge_base, problems + found, taken_ids(records))


class InStore:
    """The store, current with the records, standing in for all but the changed ones: a
    change is checked (``validate.check_record``) and stored without reading the others."""

    def __init__(self, paths: Paths, engine: Engine):
        self.paths = paths
        self.engine = engine

    @functools.cached_property
    def taken(self) -> set[str]:
        """Every ID in use (in a current store every file is named for its record's ID)."""
        with self.engine.connect() as connection:
            return store.taken_ids(connection)

    def ids_starting(self, prefix: str) -> set[str]:
        """The IDs in use that begin with ``prefix`` (lower case), looked up alone."""
        with self.engine.connect() as connection:
            return store.ids_starting(connection, prefix)

    def study(self, study_id: str) -> tuple[RecordFile, Study] | None:
        """A stored study's file and record, read from the file, which must hold what the
        store has (the same digest)."""
        with self.engine.connect() as connection:
            origin = store.study_origin(connection, study_id)
        if origin is None:
            return None
        file, stored_digest = origin
        record, _ = read_record(self.paths.root, self.paths.root / file, **read_limits())
        if record is None:
            raise Unsure(f"{file} cannot be read")
        try:
            study = Study.model_validate(record.data)
        except ValidationError:
            raise Unsure(f"{file} is not valid") from None
        if study.id != study_id or store.digest(study) != stored_digest:
            raise Unsure(f"{file} is not what the store holds")
        return record, study

    def study_of_link(self, link_id: str) -> tuple[RecordFile, Study] | None:
        """The file and record of the stored study holding an evidence link, or None."""
        with self.engine.connect() as connection:
            study_id = store.study_of_link(connection, link_id)
        return None if study_id is None else self.study(study_id)

    def recommendation_location(self, recommendation_id: str) -> tuple[str, str] | None:
        """A stored recommendation's source and section, or None when none has this ID."""
        with self.engine.connect() as connection:
            return store.recommendation_location(connection, recommendation_id)

    def references(self, leave_out: str = "") -> list[Reference]:
        """What duplicate detection compares: every study but ``leave_out``, then sources."""
        with self.engine.connect() as connection:
            rows = store.references(connection)
        return [
            Reference(
                row["id"],
                row["title"],
                row["year"],
                tuple(row["authors"]),
                row["doi"],
                row["container"],
            )
            for row in rows
            if row["id"] != leave_out
        ]

    def change_problems(
        self, old: RecordFile, new: RecordFile
    ) -> tuple[Study | None, list[Problem]]:
        """The study in ``new`` once valid, and the problems of ``new`` that ``old`` had not
        (``old``, being stored, has no errors)."""
        with self.engine.connect() as connection:
            others = store.StoredRecords(connection, leave_out=[old.path])
            _, before = check_record(self.paths.root, old, others)
            study, after = check_record(self.paths.root, new, others)
        if any(p.severity == "error" for p in before) or any(
            p.path != new.path and p.severity == "error" for p in after
        ):
            raise Unsure(f"{old.path} conflicts with other records")  # let `kb check` say how
        known = {(p.field, p.message) for p in before}
        return study, [p for p in after if (p.field, p.message) not in known]

    def check_change(self, old: RecordFile, new: RecordFile) -> tuple[Study | None, list[str]]:
        """The study in ``new`` once valid, and its errors (``old``, being stored, has none)."""
        study, problems = self.change_problems(old, new)
        return study, errors_in(problems, new.path)

    def refresh(self, written: list[Path]) -> str:
        """Replace the rows of the ``written`` files in the store, then update the search
        index; rebuild the store from every record instead if anything is amiss."""
        try:
            with store.updating(self.engine) as connection:
                for path in written:
                    _store_written(self.paths.root, path, connection)
        except (Unsure, SQLAlchemyError, OSError):
            return refresh(self.paths)
        from kb.search import update_index  # here: Whoosh is slow to import

        update_index(self.engine, self.paths.index)
        return _refreshed(self.paths)


def _store_written(root: Path, path: Path, connection: Connection) -> None:
    """Check the study just written to ``path`` against the store and replace its rows."""
    file = path.relative_to(root).as_posix()
    record, _ = read_record(root, path, **read_limits())
    if record is None:
        raise Unsure(f"{file} cannot be read")
    study, problems = check_record(root, record, store.StoredRecords(connection, [file]))
    if study is None or any(problem.severity == "error" for problem in problems):
        raise Unsure(f"{file} has problems")  # the full rebuild reports them
    written = KnowledgeBase(root=root, studies={study.id: study}, files={study.id: record})
    store.replace_rows(connection, [file], written)


Records = OnDisk | InStore


def make_change(paths: Paths, change: Callable[[Records], _Result]) -> _Result:
    """Make ``change`` against the store when it is current with the records, so only what
    changes is read and checked; otherwise, or when the store cannot answer, against every
    record read and validated. ``change`` must raise ``Unsure`` only before it writes."""
    if store_is_current(paths):
        engine = store.open_store(paths.database)
        try:
            return change(InStore(paths, engine))
        except Unsure:
            pass
        finally:
            engine.dispose()
    return change(read_all(paths))


def shown(paths: Paths, path: Path) -> str:
    """``path`` as people read it: from the root when it is inside the knowledge base."""
    return path.relative_to(paths.root).as_posix() if path.is_relative_to(paths.root) else str(path)


def _refreshed(paths: Paths) -> str:
    return (
        f"updated the store ({shown(paths, paths.database)}) "
        f"and the search index ({shown(paths, paths.index)})"
    )


def refresh(paths: Paths) -> str:
    """Rebuild the store and update the search index; say what was done, or what to run."""
    try:
        build_db(paths)
    except RecordsInvalid as error:
        return (
            f"the store and search index were not refreshed: other records have {error}; "
            "run `kb check`, fix them, then `kb build-db`"
        )
    engine = store.open_store(paths.database)
    try:
        from kb.search import update_index  # here: Whoosh is slow to import

        update_index(engine, paths.index)
    finally:
        engine.dispose()
    return _refreshed(paths)
