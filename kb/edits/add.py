"""Add records: one study, one evidence link, or the studies of a reference export.

Every change runs under the repository lock (``kb.records.write``): read the records, check the new
or changed record with the validate module (the very checks of ``kb check``: schema,
vocabularies, references, verbatim quotes, unique IDs and DOIs), write each file atomically
in the canonical style, then refresh the store and the search index. What the change is
checked against, the store or every record, is ``kb.edits.changing``'s choice, so adding a link to a
large knowledge base takes about as long as to a small one.

New study IDs follow the knowledge base's convention: the first author's family name (an
organisation's whole name) and the year, as a slug — ``priest-2015``; ``nd`` for no year. When
that is taken, a letter is added from ``b`` on (``priest-2015b``), as reference lists do.
Evidence links are ``<study>--<recommendation>``, then ``--2``, ``--3``….
"""

import string
import subprocess
import unicodedata
from contextlib import nullcontext
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any

from kb.edits.changing import Records, errors_in, make_change, shown
from kb.errors import ChangeRefused, RecordExists
from kb.files import repository_lock, write_text
from kb.paths import Paths
from kb.records.dump import record_data
from kb.records.levels import appraised_level
from kb.records.load import MAX_TEXT_BYTES, RecordFile, undecodable_byte
from kb.records.models import ID_PATTERN, Study
from kb.records.validate import validate_records
from kb.records.vocabularies import Basis
from kb.records.write import record_path, record_text, write_record
from kb.references.duplicates import DuplicateFinder, Match, Reference, family_name
from kb.references.importers import ImportEntry, References, read_references
from kb.store.aliases import not_found

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


# --- Planning new studies --------------------------------------------------------------------


def _study_problems(root: Path, record_id: str, fields: dict[str, Any]) -> list[str]:
    """What the validate module finds wrong with a new study record on its own."""
    path = f"evidence/studies/{record_id}.yaml"
    _, problems = validate_records(root, [RecordFile(path, "study", {"id": record_id, **fields})])
    return errors_in(problems, path)


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
        cls, root: Path, records: Records, allow_duplicate: bool, leave_out: str = ""
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
    """A change that was written: the file, the record's ID, what was refreshed, whether the
    record was ``created`` or ``replaced``, and what ``--json`` says of it."""

    path: str
    record_id: str
    refreshed: str
    action: str = "created"
    entry: dict[str, Any] = field(default_factory=dict)  # the record written, for --json
    written: list[str] = field(default_factory=list)  # every file written

    def as_dict(self) -> dict[str, Any]:
        """What was created or replaced, the files written and what was refreshed, shaped
        as ``kb import --json`` is."""
        entry = {"id": self.record_id, "file": self.path, **self.entry}
        return {
            "created": [entry] if self.action == "created" else [],
            "replaced": [entry] if self.action == "replaced" else [],
            "written": self.written or [self.path],
            "refreshed": self.refreshed,
        }


def suggest_id(paths: Paths, authors: list[str], year: int | None, title: str | None) -> str:
    """The ID a new study with these details would get."""
    return make_change(paths, lambda records: suggest_study_id(authors, year, title, records.taken))


def add_study(
    paths: Paths,
    fields: dict[str, Any],
    record_id: str | None = None,
    force: bool = False,
    allow_duplicate: bool = False,
) -> Written:
    """Write a new study record (or, with ``force``, replace one's details, keeping its
    evidence links)."""
    fields = {name: value for name, value in fields.items() if value not in (None, "", [], ())}
    with repository_lock(paths.root):
        return make_change(
            paths, lambda records: _add_study(records, fields, record_id, force, allow_duplicate)
        )


def _add_study(
    records: Records,
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
    return Written(
        shown(paths, path),
        study.id,
        records.refresh([path]),
        "replaced" if existing else "created",
        {"study": record_data(study)},
    )


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
    paths: Paths,
    study_id: str,
    recommendation_id: str,
    finding: dict[str, Any],
    finding_id: str | None = None,
) -> Written:
    """Append an evidence link to a study.

    A link from a source report (``basis: source``) takes the recommendation's source and
    section unless given. An appraisal (``basis: appraisal``) quotes the study itself, and
    its level, unless given, is the one its appraisal gives (``kb.records.levels.appraised_level``).
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
        return make_change(
            paths,
            lambda records: _add_evidence(
                records, study_id, recommendation_id, dict(finding), finding_id
            ),
        )


def _add_evidence(
    records: Records,
    study_id: str,
    recommendation_id: str,
    finding: dict[str, Any],
    finding_id: str | None,
) -> Written:
    paths = records.paths
    found = records.study(study_id)
    if found is None:
        raise not_found(
            records.paths, study_id, f"no valid study has ID '{study_id}'; run `kb check`"
        )
    old_file, study = found
    recommendation = records.recommendation_location(recommendation_id)
    if recommendation is None:
        raise not_found(
            paths, recommendation_id, f"no valid recommendation has ID '{recommendation_id}'"
        )
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
    link = next(finding for finding in changed.findings if finding.id == new["id"])
    return Written(
        shown(paths, path),
        new["id"],
        records.refresh([path]),
        entry={"study_id": study_id, "evidence": record_data(link)},
    )


TEXTS_FOLDER = Path("evidence", "texts")


def add_text(paths: Paths, study_id: str, file: Path, part: str, force: bool = False) -> Written:
    """Keep a study's abstract or excerpt beside the records, so appraisals can quote it.

    The text is copied to ``evidence/texts/STUDY.txt`` and the study's ``text`` and
    ``text_part`` set; the study, with every appraisal quoting it, is then checked as `kb
    check` would. If anything is wrong, the text and the study are left as they were.
    """
    text = read_outside_text(file)
    with repository_lock(paths.root):
        return make_change(paths, lambda records: _add_text(records, study_id, text, part, force))


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


def _add_text(records: Records, study_id: str, text: str, part: str, force: bool) -> Written:
    paths = records.paths
    found = records.study(study_id)
    if found is None:
        raise not_found(
            records.paths, study_id, f"no valid study has ID '{study_id}'; run `kb check`"
        )
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
    return Written(
        relative,
        study_id,
        records.refresh([path]),
        "replaced" if previous is not None or study.text else "created",
        {"study_file": old_file.path, "part": part},
        [relative, old_file.path],
    )


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
    paths: Paths,
    file: Path,
    format_name: str | None = None,
    dry_run: bool = False,
    allow_duplicate: bool = False,
    all_or_nothing: bool = False,
) -> ImportResult:
    """Plan the studies of a reference export and, unless a dry run, write the new ones."""
    found = read_references(file, format_name)
    with nullcontext() if dry_run else repository_lock(paths.root):
        return make_change(
            paths,
            lambda records: _import(records, found, dry_run, allow_duplicate, all_or_nothing),
        )


def _import(
    records: Records,
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
        [shown(paths, path) for path in written],
        refreshed,
        found.ignored,
    )
