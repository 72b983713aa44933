"""Add records: one study, one evidence link, or the studies of a reference export.

Every change runs under the repository lock (``kb.write``): read the records, check the new
or changed record with the validate module (the very checks of ``kb check``: schema,
vocabularies, references, verbatim quotes, unique IDs and DOIs), write each file atomically
in the canonical style, then refresh the store and the search index.

When the store is current with the records (nothing on disk changed since it was built), it
stands in for every record but the changed one: only that record is read and checked
(``validate.check_record``, with IDs, references, source texts and DOIs looked up in the
store), and its rows are replaced in one transaction, so adding a link to a large knowledge
base takes about as long as to a small one. Otherwise, or when the store and the file
disagree, every record is read and checked, and the store rebuilt, as ``kb build-db`` does.

New study IDs follow the knowledge base's convention: the first author's family name (an
organisation's whole name) and the year, as a slug — ``priest-2015``; ``nd`` for no year. When
that is taken, a letter is added from ``b`` on (``priest-2015b``), as reference lists do.
Evidence links are ``<study>--<recommendation>``, then ``--2``, ``--3``….
"""

import functools
import string
import subprocess
import unicodedata
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any, TypeVar

from pydantic import ValidationError
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError

from kb import pipeline, store
from kb.dump import record_data
from kb.duplicates import DuplicateFinder, Match, Reference, family_name
from kb.errors import ChangeRefused, Problem, RecordExists, RecordNotFound, RecordsInvalid
from kb.importers import ImportEntry, References, read_references
from kb.levels import appraised_level
from kb.load import MAX_TEXT_BYTES, RecordFile, load_records, read_record, undecodable_byte
from kb.models import ID_PATTERN, Basis, Study
from kb.settings import setting_value
from kb.validate import KnowledgeBase, check_record, validate_records
from kb.write import record_path, record_text, repository_lock, write_record, write_text

_Result = TypeVar("_Result")

_LONGEST_NAME_SLUG = 48


# --- IDs -------------------------------------------------------------------------------------


def slug(text: str) -> str:
    """Lower-case ASCII letters and digits joined by single hyphens."""
    decomposed = unicodedata.normalize("NFKD", text)
    ascii_text = "".join(char for char in decomposed if not unicodedata.combining(char))
    words = "".join(char if char.isalnum() and char.isascii() else " " for char in ascii_text)
    return "-".join(words.lower().split())


def suggest_study_id(
    authors: list[str], year: int | None, title: str | None, taken: set[str]
) -> str:
    """``family-year`` for the first author (or the title's first words), free in ``taken``."""
    name = slug(family_name(authors[0])) if authors else ""
    if not name:
        name = "-".join(slug(title or "").split("-")[:3]) or "study"
    if len(name) > _LONGEST_NAME_SLUG:
        name = name[:_LONGEST_NAME_SLUG].rsplit("-", 1)[0]
    base = f"{name}-{year or 'nd'}"
    lettered = [f"{base}{letter}" for letter in string.ascii_lowercase]
    if base not in taken and not any(candidate in taken for candidate in lettered):
        return base
    for candidate in lettered[1:]:
        if candidate not in taken:
            return candidate
    number = 2
    while f"{base}-{number}" in taken:
        number += 1
    return f"{base}-{number}"


def new_finding_id(study_id: str, recommendation_id: str, taken: set[str]) -> str:
    """``<study>--<recommendation>``, or with ``--2``, ``--3``… when that is taken."""
    base = f"{study_id}--{recommendation_id}"
    candidate, number = base, 2
    while candidate in taken:
        candidate, number = f"{base}--{number}", number + 1
    if not ID_PATTERN.fullmatch(candidate):
        raise ChangeRefused(
            f"the evidence link's ID {candidate} would be longer than 64 characters; "
            "give a shorter one with --id"
        )
    return candidate


def taken_ids(records: list[RecordFile]) -> set[str]:
    """Every ID in use, lower case: records, evidence links, and file names (valid or not)."""
    taken: set[str] = set()
    for record in records:
        taken.update({record.record_id.lower(), Path(record.path).stem.lower()})
        for finding in record.data.get("findings") or []:
            if isinstance(finding, dict) and isinstance(finding.get("id"), str):
                taken.add(finding["id"].lower())
    return taken


# --- Reading and checking --------------------------------------------------------------------


class _Unsure(Exception):
    """The store cannot answer for this change; read and check every record instead."""


def _errors(problems: list[Problem], path: str) -> list[str]:
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


def _read_limits() -> dict[str, int]:
    return {
        "max_file_bytes": int(setting_value("max_file_bytes")),
        "max_field_chars": int(setting_value("max_field_chars")),
    }


@dataclass
class _State:
    """Every record on disk, read and validated, with the IDs they use: the full path."""

    paths: pipeline.Paths
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

    def check_change(self, old: RecordFile, new: RecordFile) -> tuple[Study | None, list[str]]:
        """The study in ``new`` once valid, and the errors it has that ``old`` had not."""
        records = [r for r in self.records if r.path != old.path]
        records.append(new)
        after, problems = validate_records(self.paths.root, records)
        before = {(p.field, p.message) for p in self.problems if p.path == old.path}
        new_problems = [p for p in problems if (p.field, p.message) not in before]
        return after.studies.get(new.record_id), _errors(new_problems, new.path)

    def refresh(self, written: list[Path]) -> str:
        """Rebuild the store from every record and update the search index."""
        return refresh(self.paths)


def _read(paths: pipeline.Paths) -> _State:
    records, problems = load_records(paths.root, **_read_limits())
    knowledge_base, found = validate_records(paths.root, records)
    return _State(paths, records, knowledge_base, problems + found, taken_ids(records))


class _Stored:
    """The store, current with the records, standing in for all but the changed ones: a
    change is checked (``validate.check_record``) and stored without reading the others."""

    def __init__(self, paths: pipeline.Paths, engine: Engine):
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
        record, _ = read_record(self.paths.root, self.paths.root / file, **_read_limits())
        if record is None:
            raise _Unsure(f"{file} cannot be read")
        try:
            study = Study.model_validate(record.data)
        except ValidationError:
            raise _Unsure(f"{file} is not valid") from None
        if study.id != study_id or store.digest(study) != stored_digest:
            raise _Unsure(f"{file} is not what the store holds")
        return record, study

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

    def check_change(self, old: RecordFile, new: RecordFile) -> tuple[Study | None, list[str]]:
        """The study in ``new`` once valid, and its errors (``old``, being stored, has none)."""
        with self.engine.connect() as connection:
            others = store.StoredRecords(connection, leave_out=[old.path])
            _, before = check_record(self.paths.root, old, others)
            study, after = check_record(self.paths.root, new, others)
        if any(p.severity == "error" for p in before) or any(
            p.path != new.path and p.severity == "error" for p in after
        ):
            raise _Unsure(f"{old.path} conflicts with other records")  # let `kb check` say how
        return study, _errors(after, new.path)

    def refresh(self, written: list[Path]) -> str:
        """Replace the rows of the ``written`` files in the store, then update the search
        index; rebuild the store from every record instead if anything is amiss."""
        try:
            with store.updating(self.engine) as connection:
                for path in written:
                    _store_written(self.paths.root, path, connection)
        except (_Unsure, SQLAlchemyError, OSError):
            return refresh(self.paths)
        from kb.search import update_index  # here: Whoosh is slow to import

        update_index(self.engine, self.paths.index)
        return _refreshed(self.paths)


def _store_written(root: Path, path: Path, connection: Connection) -> None:
    """Check the study just written to ``path`` against the store and replace its rows."""
    file = path.relative_to(root).as_posix()
    record, _ = read_record(root, path, **_read_limits())
    if record is None:
        raise _Unsure(f"{file} cannot be read")
    study, problems = check_record(root, record, store.StoredRecords(connection, [file]))
    if study is None or any(problem.severity == "error" for problem in problems):
        raise _Unsure(f"{file} has problems")  # the full rebuild reports them
    written = KnowledgeBase(root=root, studies={study.id: study}, files={study.id: record})
    store.replace_rows(connection, [file], written)


_Records = _State | _Stored


def _change(paths: pipeline.Paths, change: Callable[[_Records], _Result]) -> _Result:
    """Make ``change`` against the store when it is current with the records, so only what
    changes is read and checked; otherwise, or when the store cannot answer, against every
    record read and validated. ``change`` must raise ``_Unsure`` only before it writes."""
    if pipeline.store_is_current(paths):
        engine = store.open_store(paths.database)
        try:
            return change(_Stored(paths, engine))
        except _Unsure:
            pass
        finally:
            engine.dispose()
    return change(_read(paths))


def _study_problems(root: Path, record_id: str, fields: dict[str, Any]) -> list[str]:
    """What the validate module finds wrong with a new study record on its own."""
    path = f"evidence/studies/{record_id}.yaml"
    _, problems = validate_records(root, [RecordFile(path, "study", {"id": record_id, **fields})])
    return _errors(problems, path)


def _shown(paths: pipeline.Paths, path: Path) -> str:
    return path.relative_to(paths.root).as_posix() if path.is_relative_to(paths.root) else str(path)


def _refreshed(paths: pipeline.Paths) -> str:
    return (
        f"updated the store ({_shown(paths, paths.database)}) "
        f"and the search index ({_shown(paths, paths.index)})"
    )


def refresh(paths: pipeline.Paths) -> str:
    """Rebuild the store and update the search index; say what was done, or what to run."""
    try:
        pipeline.build_db(paths)
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


# --- Planning new studies --------------------------------------------------------------------


@dataclass
class Planned:
    """What happens to one entry: ``create`` a study, ``skip`` a duplicate, ``flag`` a bad one.

    ``details`` is the line shown for it; ``match`` the study a skipped entry duplicates, and
    ``problems`` why a flagged one cannot be imported.
    """

    entry: ImportEntry
    action: str
    record_id: str | None
    details: str
    study: Study | None = None
    match: Match | None = None
    problems: list[str] = field(default_factory=list)


@dataclass
class _Planner:
    """Decides entry by entry, remembering the studies it plans so later entries see them.

    ``related`` maps an entry's key (case folded) to the keys of its BibTeX crossref parent and
    children: an entry is never skipped as a duplicate of the study made from one of them.
    """

    root: Path
    taken: set[str]
    finder: DuplicateFinder
    allow_duplicate: bool = False
    planned: list[Planned] = field(default_factory=list)
    related: dict[str, set[str]] = field(default_factory=dict)
    created: dict[str, str] = field(default_factory=dict)  # entry key (case folded) → study ID

    def relate(self, entries: list[ImportEntry]) -> None:
        """Learn which entries are parts or wholes of which (their crossref keys)."""
        for entry in entries:
            if entry.key and entry.parent:
                child, parent = entry.key.casefold(), entry.parent.casefold()
                self.related.setdefault(child, set()).add(parent)
                self.related.setdefault(parent, set()).add(child)

    @classmethod
    def over(
        cls, root: Path, records: _Records, allow_duplicate: bool, leave_out: str = ""
    ) -> "_Planner":
        taken = records.taken - {leave_out}
        return cls(root, taken, DuplicateFinder(records.references(leave_out)), allow_duplicate)

    def plan(self, entry: ImportEntry, record_id: str | None = None) -> Planned:
        planned = self._decide(entry, record_id)
        self.planned.append(planned)
        return planned

    def _decide(self, entry: ImportEntry, record_id: str | None) -> Planned:
        if entry.problems:
            return _flag(entry, entry.problems)
        fields = entry.fields
        if not (fields.get("title") or fields.get("authors") or fields.get("doi")):
            return _flag(entry, ["no title, authors or DOI"])
        reference = Reference(
            "",
            fields.get("title"),
            fields.get("year"),
            tuple(fields.get("authors", ())),
            fields.get("doi"),
            fields.get("container"),
        )
        key = (entry.key or "").casefold()
        ignore = {
            self.created[other] for other in self.related.get(key, ()) if other in self.created
        }
        match = self.finder.find(reference, ignore)
        if match and match.kind == "untitled" and not self.allow_duplicate:
            why = f"{match}: add its title, or import it with --allow-duplicate"
            return _flag(entry, [why], match)
        if (
            match
            and match.kind != "untitled"
            and (match.kind == "same-doi" or not self.allow_duplicate)
        ):
            hint = "" if match.kind == "same-doi" else "; --allow-duplicate adds it anyway"
            return Planned(entry, "skip", match.existing_id, f"{match}{hint}", match=match)
        record_id = record_id or suggest_study_id(
            fields.get("authors", []), fields.get("year"), fields.get("title"), self.taken
        )
        problems = _study_problems(self.root, record_id, fields)
        if not problems:
            study = Study.model_validate({"id": record_id, **fields})
            # What `kb check` would refuse in the file as written: its size, a field's length.
            _, problems = record_text(record_path(self.root, "study", record_id), study)
        if problems:
            return _flag(entry, problems)
        self.taken.add(record_id)
        self.finder.add(replace(reference, id=record_id))
        if key:
            self.created.setdefault(key, record_id)
        return Planned(entry, "create", record_id, study.title or "(no title)", study)


def _flag(entry: ImportEntry, problems: list[str], match: Match | None = None) -> Planned:
    details = f"{entry.where}: {'; '.join(problems)}"
    return Planned(entry, "flag", None, details, match=match, problems=problems)


# --- Commands --------------------------------------------------------------------------------


@dataclass
class Written:
    """A change that was written: the file, a description, and what was refreshed."""

    path: str
    record_id: str
    refreshed: str


def suggest_id(
    paths: pipeline.Paths, authors: list[str], year: int | None, title: str | None
) -> str:
    """The ID a new study with these details would get."""
    return _change(paths, lambda records: suggest_study_id(authors, year, title, records.taken))


def add_study(
    paths: pipeline.Paths,
    fields: dict[str, Any],
    record_id: str | None = None,
    force: bool = False,
    allow_duplicate: bool = False,
) -> Written:
    """Write a new study record (or, with ``force``, replace one's details, keeping its
    evidence links)."""
    fields = {name: value for name, value in fields.items() if value not in (None, "", [], ())}
    with repository_lock(paths.root):
        return _change(
            paths, lambda records: _add_study(records, fields, record_id, force, allow_duplicate)
        )


def _add_study(
    records: _Records,
    fields: dict[str, Any],
    record_id: str | None,
    force: bool,
    allow_duplicate: bool,
) -> Written:
    paths = records.paths
    found = records.study(record_id) if record_id else None
    existing = found[1] if found else None
    if record_id and record_id.lower() in records.taken and not (existing and force):
        if existing:
            raise RecordExists(
                f"study {record_id} already exists; use --force to replace its details"
            )
        raise RecordExists(f"the ID {record_id} is already used; choose another")
    planner = _Planner.over(paths.root, records, allow_duplicate, existing.id if existing else "")
    planned = planner.plan(ImportEntry(1, "the new study", fields), record_id)
    if planned.study is None:
        raise ChangeRefused(f"nothing was written: {planned.details}")
    study = planned.study
    if existing:
        study = study.model_copy(update={"findings": existing.findings})
    path = record_path(paths.root, "study", study.id)
    write_record(path, study, force=force)
    return Written(_shown(paths, path), study.id, records.refresh([path]))


def reviewer_name(root: Path) -> str | None:
    """The reviewer's name as git knows it (``git config user.name``), or None."""
    try:
        found = subprocess.run(
            ["git", "config", "user.name"],
            cwd=root,
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    name = found.stdout.strip()
    return name or None


def add_evidence(
    paths: pipeline.Paths,
    study_id: str,
    recommendation_id: str,
    finding: dict[str, Any],
    finding_id: str | None = None,
) -> Written:
    """Append an evidence link to a study.

    A link from a source report (``basis: source``) takes the recommendation's source and
    section unless given. An appraisal (``basis: appraisal``) quotes the study itself, and
    its level, unless given, is the one its appraisal gives (``kb.levels.appraised_level``).
    Who recorded it defaults to git's ``user.name``, and when to today.
    """
    finding = dict(finding)
    if not finding.get("recorded_by"):
        finding["recorded_by"] = reviewer_name(paths.root)
        if not finding["recorded_by"]:
            raise ChangeRefused(
                "say who is recording this link: give --by NAME, or set your name with "
                "`git config user.name NAME`"
            )
    finding.setdefault("recorded_on", None)
    finding["recorded_on"] = finding["recorded_on"] or date.today().isoformat()
    with repository_lock(paths.root):
        return _change(
            paths,
            lambda records: _add_evidence(
                records, study_id, recommendation_id, dict(finding), finding_id
            ),
        )


def _add_evidence(
    records: _Records,
    study_id: str,
    recommendation_id: str,
    finding: dict[str, Any],
    finding_id: str | None,
) -> Written:
    paths = records.paths
    found = records.study(study_id)
    if found is None:
        raise RecordNotFound(f"no valid study has ID '{study_id}'; run `kb check`")
    old_file, study = found
    recommendation = records.recommendation_location(recommendation_id)
    if recommendation is None:
        raise RecordNotFound(f"no valid recommendation has ID '{recommendation_id}'")
    source, section = recommendation
    new: dict[str, Any] = {
        "id": finding_id
        or new_finding_id(
            study_id, recommendation_id, records.ids_starting(f"{study_id}--{recommendation_id}")
        ),
        "recommendation": recommendation_id,
    }
    location = {"section": finding.pop("section", None), "page": finding.pop("page", None)}
    if finding.get("basis") == Basis.APPRAISAL:
        if location["section"] or location["page"]:
            new["location"] = {key: value for key, value in location.items() if value}
        if not finding.get("strength") and finding.get("appraisal"):
            appraisal = finding["appraisal"]
            finding["strength"] = appraised_level(
                study.type, appraisal.get("downgrades", ()), appraisal.get("upgrades", ())
            ).level.value
        new.update(finding)
    else:
        location["section"] = location["section"] or section
        new.update(finding)
        new["source"] = finding.get("source") or source
        new["location"] = {key: value for key, value in location.items() if value is not None}
    new = {key: value for key, value in new.items() if value not in (None, [], {})}
    data = study.model_dump(mode="json", exclude_none=True)
    data["findings"] = [*data.get("findings", []), new]
    changed, errors = records.check_change(old_file, RecordFile(old_file.path, "study", data))
    if errors or changed is None:
        raise ChangeRefused(f"nothing was written to {old_file.path}: {'; '.join(errors)}")
    path = paths.root / old_file.path
    write_record(path, changed, force=True)
    return Written(_shown(paths, path), new["id"], records.refresh([path]))


TEXTS_FOLDER = Path("evidence", "texts")


def add_text(
    paths: pipeline.Paths, study_id: str, file: Path, part: str, force: bool = False
) -> Written:
    """Keep a study's abstract or excerpt beside the records, so appraisals can quote it.

    The text is copied to ``evidence/texts/STUDY.txt`` and the study's ``text`` and
    ``text_part`` set; the study, with every appraisal quoting it, is then checked as `kb
    check` would. If anything is wrong, the text and the study are left as they were.
    """
    text = read_outside_text(file)
    with repository_lock(paths.root):
        return _change(paths, lambda records: _add_text(records, study_id, text, part, force))


def read_outside_text(file: Path) -> str:
    """A text file a reviewer gives: UTF-8 (with or without a byte-order mark), not empty,
    within the size cap for held texts; ``ChangeRefused`` says what is wrong with it."""
    try:
        raw = file.read_bytes()
    except OSError as error:
        raise ChangeRefused(f"cannot read {file}: {error.strerror or error}") from None
    if len(raw) > MAX_TEXT_BYTES:
        raise ChangeRefused(f"{file} is over {MAX_TEXT_BYTES // (1024 * 1024)} MiB")
    if b"\0" in raw:
        raise ChangeRefused(f"{file} is not a text file (it holds NUL bytes)")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        byte, line = undecodable_byte(raw, error)
        raise ChangeRefused(f"{file} is not UTF-8: {byte} on line {line}") from None
    if not text.strip():
        raise ChangeRefused(f"{file} is empty")
    return text


def _add_text(records: _Records, study_id: str, text: str, part: str, force: bool) -> Written:
    paths = records.paths
    found = records.study(study_id)
    if found is None:
        raise RecordNotFound(f"no valid study has ID '{study_id}'; run `kb check`")
    old_file, study = found
    relative = (TEXTS_FOLDER / f"{study_id}.txt").as_posix()
    target = paths.root / relative
    if (study.text or target.exists()) and not force:
        held = study.text or relative
        raise RecordExists(f"study {study_id} already has a held text ({held}); use --force")
    previous = target.read_bytes() if target.exists() else None
    data = study.model_dump(mode="json", exclude_none=True)
    data.update(text=relative, text_part=part)
    write_text(target, text)
    try:
        changed, errors = records.check_change(old_file, RecordFile(old_file.path, "study", data))
        if errors or changed is None:
            raise ChangeRefused(f"nothing was written: {'; '.join(errors)}")
        path = paths.root / old_file.path
        write_record(path, changed, force=True)
    except BaseException:
        if previous is None:
            target.unlink(missing_ok=True)
        else:
            target.write_bytes(previous)
        raise
    return Written(relative, study_id, records.refresh([path]))


@dataclass
class ImportResult:
    """What ``kb import`` found in a file and did with each entry."""

    format: str
    planned: list[Planned]
    written: list[str]
    refreshed: str | None
    ignored: list[int] = field(default_factory=list)  # lines outside any entry

    def count(self, action: str) -> int:
        return sum(planned.action == action for planned in self.planned)

    def as_dict(self) -> dict[str, Any]:
        """What was (or would be) created, skipped and flagged, for ``kb import --json``."""
        created, skipped, flagged = [], [], []
        for planned in self.planned:
            entry = planned.entry
            where = {"entry": entry.number, "key": entry.key, "line": entry.line}
            notes = {"notes": entry.notes} if entry.notes else {}
            if planned.action == "create" and planned.study is not None:
                study_id = planned.study.id
                created.append(
                    {
                        **where,
                        "id": study_id,
                        "file": record_path(Path(), "study", study_id).as_posix(),
                        "study": record_data(planned.study),
                        **notes,
                    }
                )
            elif planned.action == "skip" and planned.match is not None:
                skipped.append(
                    {
                        **where,
                        "duplicate_of": planned.match.existing_id,
                        "match": planned.match.kind,
                        "score": round(planned.match.score, 1),
                        "reason": str(planned.match),
                        **notes,
                    }
                )
            else:
                possible = (
                    {"possible_duplicate_of": planned.match.existing_id} if planned.match else {}
                )
                flagged.append({**where, "problems": planned.problems, **possible, **notes})
        return {
            "format": self.format,
            "created": created,
            "skipped": skipped,
            "flagged": flagged,
            "ignored_lines": self.ignored,
            "written": self.written,
            "refreshed": self.refreshed,
        }


def import_references(
    paths: pipeline.Paths,
    file: Path,
    format_name: str | None = None,
    dry_run: bool = False,
    allow_duplicate: bool = False,
    all_or_nothing: bool = False,
) -> ImportResult:
    """Plan the studies of a reference export and, unless a dry run, write the new ones."""
    found = read_references(file, format_name)
    with nullcontext() if dry_run else repository_lock(paths.root):
        return _change(
            paths,
            lambda records: _import(records, found, dry_run, allow_duplicate, all_or_nothing),
        )


def _import(
    records: _Records,
    found: References,
    dry_run: bool,
    allow_duplicate: bool,
    all_or_nothing: bool,
) -> ImportResult:
    paths = records.paths
    planner = _Planner.over(paths.root, records, allow_duplicate)
    planner.relate(found.entries)
    for entry in found.entries:
        planner.plan(entry)
    creating = [planned for planned in planner.planned if planned.study is not None]
    flagged = any(planned.action == "flag" for planned in planner.planned)
    if dry_run or not creating or (all_or_nothing and flagged):
        return ImportResult(found.format, planner.planned, [], None, found.ignored)
    written: list[Path] = []
    try:
        for planned in creating:
            assert planned.study is not None
            path = record_path(paths.root, "study", planned.study.id)
            write_record(path, planned.study)
            written.append(path)
    except BaseException:
        if all_or_nothing:
            for path in written:
                path.unlink(missing_ok=True)
        raise
    refreshed = records.refresh(written)
    return ImportResult(
        found.format,
        planner.planned,
        [_shown(paths, path) for path in written],
        refreshed,
        found.ignored,
    )
