"""The build's check and store when a few studies changed: each checked against the store.

Takes the knowledge base's folder (``kb.paths.Paths``) with a store built by an earlier check;
gives what a check of every record and ``database.update_store`` would (the warnings, the
store's rows), reading only the files that changed. A study is what a reviewer changes most
(a link, its level, a note), and what a study's checks read of the other records the store
holds (``validate.check_record``, as ``kb add`` uses), so only studies are checked this way,
and only when no other record could read differently because of the change:

- every record file is one the store holds (none added or removed), and the store keeps each
  one's digest, taken with this ``kb``'s code and size caps (``database.checked_with``): a
  file whose bytes are unchanged is read, and checked, as before;
- every changed file is a study that parses, with the IDs, former IDs and DOI it had, so no
  reference from another record, and no clash of IDs or DOIs, can come or go; and they are
  few (``most_checked_against_the_store``: checking every record is then quicker);
- no other file under the record folders (a source's text, a study's held text) changed since
  the store was written, and none is a link;
- the study has no error: an error is reported by the full check, in its words and order.

One check reads what several records say together: a recommendation judged S4 or above whose
every link is S1 or below. That warning is worked out again for every recommendation, from the
store, once the changed rows are in. Anything else, and ``check_changes`` returns None: the
caller checks every record, as ``kb check`` does.
"""

import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from sqlalchemy import delete, insert, select
from sqlalchemy.engine import Connection
from sqlalchemy.exc import SQLAlchemyError

from kb.errors import Problem
from kb.paths import Paths
from kb.records.load import RecordFile, file_digest, format_field, record_kind
from kb.records.models import (
    EvidenceRow,
    FormerIdRow,
    ProblemRow,
    RecommendationRow,
    Study,
    StudyRow,
)
from kb.records.parsed import ParsedRecords, parsed_records_file
from kb.records.read import RECORD_KINDS, read_limits
from kb.records.validate import (
    JUDGEMENT_LEVEL,
    KnowledgeBase,
    check_record,
    unsupported_judgement,
)
from kb.records.vocabularies import Strength
from kb.store import database

_FOLDERS = ("recommendations", "evidence", "removed")


@dataclass(frozen=True)
class StoreUpdate:
    """What the records were checked and the store brought up to date to: the counts and the
    warnings of a check of every record, and how the store got there."""

    records: int
    links: int
    rows: int  # in the store's tables of records
    warnings: list[Problem]
    replaced: int | None  # the files whose rows were replaced; None: written afresh
    against_store: bool  # the changed files checked against the store, not every record
    check_seconds: float
    store_seconds: float


def check_changes(paths: Paths) -> StoreUpdate | None:
    """Check the changed studies against the store and replace their rows in place; None,
    having changed nothing, when that cannot give what a full check would (see above)."""
    started = time.perf_counter()
    stored = database.stored_digests(paths.database)
    if not stored:
        return None
    changed = _changed_studies(paths, stored)
    if changed is None:
        return None
    parsed = ParsedRecords(parsed_records_file(paths.database), **read_limits())
    records: list[RecordFile] = []
    for name, raw in changed.items():
        record, problems = parsed.parse_record(name, "study", raw)
        if record is None or problems:
            return None
        records.append(record)
    engine = database.connect(paths.database)
    try:
        with engine.connect() as connection:
            checked = _checked_studies(paths.root, records, connection)
        if checked is None:
            return None
        knowledge_base, warnings = checked
        checking = time.perf_counter() - started
        started = time.perf_counter()
        try:
            with database.updating(engine) as connection:
                database.replace_rows(connection, set(changed), knowledge_base, warnings)
                _judge_judgements(paths.root, parsed, connection)
                warnings = database.stored_warnings(connection)
        except (SQLAlchemyError, OSError):
            # Rolled back, with the store marked half-changed: the full check writes it afresh.
            return None
    finally:
        engine.dispose()
    parsed.save(read_every_file=False)
    counts = database.row_counts(paths.database)
    return StoreUpdate(
        sum(counts[kind] for kind in RECORD_KINDS),  # each kind's table is named for it
        counts["evidence"],
        sum(counts.values()),
        warnings,
        len(changed),
        True,
        checking,
        time.perf_counter() - started,
    )


def most_checked_against_the_store(files: int) -> int:
    """How many changed studies are checked against the store, of ``files`` record files:
    each takes about 25 ms at 10,000 studies, where checking every record takes 7.5 s."""
    return max(10, files // 100)


def _changed_studies(paths: Paths, stored: dict[str, str]) -> dict[str, bytes] | None:
    """The bytes of each record file whose digest is not the stored one, all studies; None,
    as soon as it is known, when a changed file is not a study, too many changed, a record
    file was added or removed, or another file changed or is a link."""
    built = paths.database.stat().st_mtime
    rest = database.checked_with()
    limit = read_limits()["max_file_bytes"]
    most = most_checked_against_the_store(len(stored))
    changed: dict[str, bytes] = {}
    seen = 0
    for entry in _files(paths.root):
        name = Path(entry.path).relative_to(paths.root).as_posix()
        if entry.is_symlink():
            return None
        if not name.endswith(".yaml"):
            if name.endswith(".yml") or entry.stat(follow_symlinks=False).st_mtime > built:
                return None
            continue
        kept = stored.get(name)
        if kept is None:
            return None
        seen += 1
        # No file here is a link, so each lies inside the knowledge base: ``read_inside``,
        # which resolves every path to make sure, is not needed.
        with open(entry.path, "rb") as opened:
            raw = opened.read(limit + 1)
        if len(raw) > limit:
            return None
        if database.digest_of_file(file_digest(raw), rest) != kept:
            if record_kind(PurePosixPath(name)) != "study" or len(changed) == most:
                return None
            changed[name] = raw
    return changed if seen == len(stored) else None


def _files(root: Path) -> Iterator[os.DirEntry[str]]:
    """Every file and link below the record folders (a link to a folder is not followed)."""
    folders = [str(root / name) for name in _FOLDERS if (root / name).is_dir()]
    while folders:
        with os.scandir(folders.pop()) as entries:
            for entry in entries:
                if entry.is_dir(follow_symlinks=False):
                    folders.append(entry.path)
                else:
                    yield entry


def _checked_studies(
    root: Path, records: list[RecordFile], connection: Connection
) -> tuple[KnowledgeBase, list[Problem]] | None:
    """The changed studies and their warnings, checked against the rest of the store; None
    when one has an error or names other IDs or DOI than the store holds for its file."""
    files = [record.path for record in records]
    others = database.StoredRecords(connection, leave_out=files)
    knowledge_base = KnowledgeBase(root=root)
    warnings: list[Problem] = []
    for record in records:
        study, problems = check_record(root, record, others)
        if study is None or any(problem.severity == "error" for problem in problems):
            return None
        if _identity(study) != _stored_identity(connection, record.path):
            return None
        knowledge_base.studies[study.id] = study
        knowledge_base.files[study.id] = record
        warnings.extend(problems)
    return knowledge_base, warnings


Identity = tuple[str, str | None, frozenset[str], frozenset[str]]


def _identity(study: Study) -> Identity:
    """What other records can see of a study besides its rows: its ID, its DOI, its links'
    IDs and its former IDs."""
    links = frozenset(finding.id for finding in study.findings)
    return study.id, study.doi, links, frozenset(study.former_ids)


def _stored_identity(connection: Connection, file: str) -> Identity | None:
    study = database.table_of(StudyRow)
    found = connection.execute(select(study.c.id, study.c.doi).where(study.c.file == file)).all()
    if len(found) != 1:
        return None
    study_id, doi = found[0]
    evidence = database.table_of(EvidenceRow)
    links = connection.execute(select(evidence.c.id).where(evidence.c.study_id == study_id))
    former = database.table_of(FormerIdRow)
    formers = connection.execute(select(former.c.id).where(former.c.file == file))
    return study_id, doi, frozenset(row[0] for row in links), frozenset(row[0] for row in formers)


def _judge_judgements(root: Path, parsed: ParsedRecords, connection: Connection) -> None:
    """Work out again, from the store, the warnings of recommendations judged S4 or above
    whose every link is S1 or below (``validate.unsupported_judgement``)."""
    recommendation = database.table_of(RecommendationRow)
    evidence = database.table_of(EvidenceRow)
    high = [level.value for level in Strength if level.rank >= 4]
    query = (
        select(
            recommendation.c.id,
            recommendation.c.file,
            recommendation.c.judgement_level,
            evidence.c.strength,
        )
        .join_from(recommendation, evidence, evidence.c.recommendation_id == recommendation.c.id)
        .where(recommendation.c.judgement_level.in_(high))
    )
    links: dict[tuple[str, str, str], list[Strength]] = {}
    for rec_id, file, level, strength in connection.execute(query):
        links.setdefault((rec_id, file, level), []).append(Strength(strength))
    field = format_field(JUDGEMENT_LEVEL)
    problem = database.table_of(ProblemRow)
    connection.execute(delete(ProblemRow).where(problem.c.field == field))
    found = []
    for (rec_id, file, level), strengths in sorted(links.items()):
        message = unsupported_judgement(Strength(level), strengths)
        if message is None:
            continue
        raw = (root / file).read_bytes()
        record, _ = parsed.parse_record(file, "recommendation", raw)
        line = record.line_of(JUDGEMENT_LEVEL) if record is not None else 1
        found.append(
            {
                "path": file,
                "line": line,
                "record_id": rec_id,
                "field": field,
                "message": message,
                "severity": "warning",
            }
        )
    if found:
        connection.execute(insert(ProblemRow), found)
