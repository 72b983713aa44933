"""Add records: one study, one evidence link, or the studies of a reference export.

Every change runs under the repository lock (``kb.write``): read the records, check the new
or changed record with the validate module (the very checks of ``kb check``: schema,
vocabularies, references, verbatim quotes, unique IDs and DOIs), write each file atomically
in the canonical style, then refresh the store and the search index.

New study IDs follow the knowledge base's convention: the first author's family name (an
organisation's whole name) and the year, as a slug — ``priest-2015``; ``nd`` for no year. When
that is taken, a letter is added from ``b`` on (``priest-2015b``), as reference lists do.
Evidence links are ``<study>--<recommendation>``, then ``--2``, ``--3``….
"""

import string
import unicodedata
from contextlib import nullcontext
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from kb import pipeline, store
from kb.duplicates import DuplicateFinder, Reference, family_name
from kb.errors import ChangeRefused, Problem, RecordExists, RecordNotFound, RecordsInvalid
from kb.importers import ImportEntry, read_references
from kb.load import RecordFile, load_records
from kb.models import ID_PATTERN, Study
from kb.search import update_index
from kb.settings import setting_value
from kb.validate import KnowledgeBase, validate_records
from kb.write import record_path, record_text, repository_lock, write_record

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


@dataclass
class _State:
    """The records on disk, validated, with the IDs they use."""

    records: list[RecordFile]
    kb: KnowledgeBase
    problems: list[Problem]
    taken: set[str]


def _read(paths: pipeline.Paths) -> _State:
    records, problems = load_records(
        paths.root,
        max_file_bytes=int(setting_value("max_file_bytes")),
        max_field_chars=int(setting_value("max_field_chars")),
    )
    knowledge_base, found = validate_records(paths.root, records)
    return _State(records, knowledge_base, problems + found, taken_ids(records))


def _reference(record: Any) -> Reference:
    return Reference(
        record.id, record.title, record.year, tuple(record.authors), getattr(record, "doi", None)
    )


def _errors(problems: list[Problem], path: str) -> list[str]:
    return [f"{p.field}: {p.message}" for p in problems if p.path == path and p.severity == "error"]


def _study_problems(root: Path, record_id: str, fields: dict[str, Any]) -> list[str]:
    """What the validate module finds wrong with a new study record on its own."""
    path = f"evidence/studies/{record_id}.yaml"
    _, problems = validate_records(root, [RecordFile(path, "study", {"id": record_id, **fields})])
    return _errors(problems, path)


def _shown(paths: pipeline.Paths, path: Path) -> str:
    return path.relative_to(paths.root).as_posix() if path.is_relative_to(paths.root) else str(path)


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
        update_index(engine, paths.index)
    finally:
        engine.dispose()
    return (
        f"updated the store ({_shown(paths, paths.database)}) "
        f"and the search index ({_shown(paths, paths.index)})"
    )


# --- Planning new studies --------------------------------------------------------------------


@dataclass
class Planned:
    """What happens to one entry: ``create`` a study, ``skip`` a duplicate, ``flag`` a bad one."""

    entry: ImportEntry
    action: str
    record_id: str | None
    details: str
    study: Study | None = None


@dataclass
class _Planner:
    """Decides entry by entry, remembering the studies it plans so later entries see them."""

    root: Path
    taken: set[str]
    finder: DuplicateFinder
    allow_duplicate: bool = False
    planned: list[Planned] = field(default_factory=list)

    @classmethod
    def over(
        cls, root: Path, state: _State, allow_duplicate: bool, leave_out: str = ""
    ) -> "_Planner":
        known = [_reference(s) for s in state.kb.studies.values() if s.id != leave_out]
        known += [_reference(source) for source in state.kb.sources.values()]
        taken = state.taken - {leave_out}
        return cls(root, taken, DuplicateFinder(known), allow_duplicate)

    def plan(self, entry: ImportEntry, record_id: str | None = None) -> Planned:
        planned = self._decide(entry, record_id)
        self.planned.append(planned)
        return planned

    def _decide(self, entry: ImportEntry, record_id: str | None) -> Planned:
        if entry.problems:
            return Planned(entry, "flag", None, f"{entry.where}: {'; '.join(entry.problems)}")
        fields = entry.fields
        if not (fields.get("title") or fields.get("authors") or fields.get("doi")):
            return Planned(entry, "flag", None, f"{entry.where}: no title, authors or DOI")
        reference = Reference(
            "",
            fields.get("title"),
            fields.get("year"),
            tuple(fields.get("authors", ())),
            fields.get("doi"),
        )
        match = self.finder.find(reference)
        if match and (match.kind == "same-doi" or not self.allow_duplicate):
            hint = "" if match.kind == "same-doi" else "; --allow-duplicate adds it anyway"
            return Planned(entry, "skip", match.existing_id, f"{match}{hint}")
        record_id = record_id or suggest_study_id(
            fields.get("authors", []), fields.get("year"), fields.get("title"), self.taken
        )
        problems = _study_problems(self.root, record_id, fields)
        if not problems:
            study = Study.model_validate({"id": record_id, **fields})
            # What `kb check` would refuse in the file as written: its size, a field's length.
            _, problems = record_text(record_path(self.root, "study", record_id), study)
        if problems:
            return Planned(entry, "flag", None, f"{entry.where}: {'; '.join(problems)}")
        self.taken.add(record_id)
        self.finder.add(replace(reference, id=record_id))
        return Planned(entry, "create", record_id, study.title or "(no title)", study)


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
    return suggest_study_id(authors, year, title, _read(paths).taken)


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
        state = _read(paths)
        existing = state.kb.studies.get(record_id or "")
        if record_id and record_id.lower() in state.taken and not (existing and force):
            if existing:
                raise RecordExists(
                    f"study {record_id} already exists; use --force to replace its details"
                )
            raise RecordExists(f"the ID {record_id} is already used; choose another")
        planner = _Planner.over(paths.root, state, allow_duplicate, existing.id if existing else "")
        planned = planner.plan(ImportEntry(1, "the new study", fields), record_id)
        if planned.study is None:
            raise ChangeRefused(f"nothing was written: {planned.details}")
        study = planned.study
        if existing:
            study = study.model_copy(update={"findings": existing.findings})
        path = record_path(paths.root, "study", study.id)
        write_record(path, study, force=force)
        return Written(_shown(paths, path), study.id, refresh(paths))


def add_evidence(
    paths: pipeline.Paths,
    study_id: str,
    recommendation_id: str,
    finding: dict[str, Any],
    finding_id: str | None = None,
) -> Written:
    """Append an evidence link to a study; the source and section default to the
    recommendation's."""
    finding = dict(finding)
    with repository_lock(paths.root):
        state = _read(paths)
        study = state.kb.studies.get(study_id)
        if study is None:
            raise RecordNotFound(f"no valid study has ID '{study_id}'; run `kb check`")
        recommendation = state.kb.recommendations.get(recommendation_id)
        if recommendation is None:
            raise RecordNotFound(f"no valid recommendation has ID '{recommendation_id}'")
        location = {
            "section": finding.pop("section", None) or recommendation.location.section,
            "page": finding.pop("page", None),
        }
        new = {
            "id": finding_id or new_finding_id(study_id, recommendation_id, state.taken),
            "recommendation": recommendation_id,
            **finding,
            "source": finding.get("source") or recommendation.source,
            "location": {key: value for key, value in location.items() if value is not None},
        }
        new = {key: value for key, value in new.items() if value is not None}
        old_file = state.kb.files[study_id]
        data = study.model_dump(mode="json", exclude_none=True)
        data["findings"] = [*data.get("findings", []), new]
        records = [r for r in state.records if r.path != old_file.path]
        records.append(RecordFile(old_file.path, "study", data))
        after, problems = validate_records(paths.root, records)
        before = {(p.field, p.message) for p in state.problems if p.path == old_file.path}
        new_problems = [p for p in problems if (p.field, p.message) not in before]
        errors = _errors(new_problems, old_file.path)
        if errors:
            raise ChangeRefused(f"nothing was written to {old_file.path}: {'; '.join(errors)}")
        path = paths.root / old_file.path
        write_record(path, after.studies[study_id], force=True)
        return Written(_shown(paths, path), new["id"], refresh(paths))


@dataclass
class ImportResult:
    """What ``kb import`` found in a file and did with each entry."""

    format: str
    planned: list[Planned]
    written: list[str]
    refreshed: str | None

    def count(self, action: str) -> int:
        return sum(planned.action == action for planned in self.planned)


def import_references(
    paths: pipeline.Paths,
    file: Path,
    format_name: str | None = None,
    dry_run: bool = False,
    allow_duplicate: bool = False,
    all_or_nothing: bool = False,
) -> ImportResult:
    """Plan the studies of a reference export and, unless a dry run, write the new ones."""
    found_format, entries = read_references(file, format_name)
    with nullcontext() if dry_run else repository_lock(paths.root):
        planner = _Planner.over(paths.root, _read(paths), allow_duplicate)
        for entry in entries:
            planner.plan(entry)
        creating = [planned for planned in planner.planned if planned.study is not None]
        flagged = any(planned.action == "flag" for planned in planner.planned)
        if dry_run or not creating or (all_or_nothing and flagged):
            return ImportResult(found_format, planner.planned, [], None)
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
        refreshed = refresh(paths)
    return ImportResult(
        found_format,
        planner.planned,
        [_shown(paths, path) for path in written],
        refreshed,
    )
