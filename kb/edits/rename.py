"""Rename a record's ID everywhere it is used: its file, every reference, derived IDs.

A record's ID is its file's name and its page's address, and other records name it:

- a source: themes', recommendations', evidence links', practice examples' and key figures'
  ``source``;
- a theme: themes' ``parent``, recommendations' and key figures' ``themes``;
- a recommendation: other recommendations' ``responds_to``, evidence links'
  ``recommendation``, practice examples' ``recommendations``;
- a study: practice examples' and key figures' ``studies``;
- practice examples and key figures: nothing names them.

Evidence-link IDs made from a study's and a recommendation's IDs (``<study>--<recommendation>``,
then ``--2``…) are renamed with either; a link given an ID of its own keeps it. A held text
named for its record (``evidence/texts/<study>.txt``; a source's text beside it) is renamed
too. An evidence link's own ID can be renamed as well.

The renamed record lists its old ID in ``former_ids``, so the old ID still leads to it: in
``kb show``, the search filters and the graph commands, and on the site, whose page at the
old address redirects to the new one (``kb.store.aliases``). An evidence link has no page of its
own and no former IDs: a renamed link is not found by its old ID.

Every record is read and the change checked as ``kb check`` would check the result. Words in
notes and summaries that mention the old ID are not references: they are left alone, and
listed (``Plan.notes``) so that a reviewer can change them by hand.
"""

import difflib
import re
from collections.abc import Iterator
from pathlib import PurePosixPath
from typing import Any

from pydantic import ValidationError

from kb.edits.changes import (
    Changed,
    FileChange,
    Plan,
    new_problems,
    record_file_path,
    refuse_errors,
    rewritten,
)
from kb.edits.changing import OnDisk, read_all, refresh
from kb.edits.edit import locked
from kb.errors import ChangeRefused, RecordExists, RecordNotFound, RecordRemoved, RecordRenamed
from kb.paths import Paths
from kb.records.load import FieldPath, RecordFile, format_field
from kb.records.models import ID_PATTERN, RECORD_MODELS, Record
from kb.records.read import RECORD_KINDS
from kb.records.validate import schema_problems
from kb.store.aliases import Removed, Renamed, aliases_on_disk

# Kind of record renamed → (kind of record naming it, field): a list field ends in "[]", and
# "findings[]." is a field of each evidence link.
REFERENCES: dict[str, list[tuple[str, str]]] = {
    "source": [
        ("theme", "source"),
        ("recommendation", "source"),
        ("study", "findings[].source"),
        ("example", "source"),
        ("figure", "source"),
    ],
    "theme": [("theme", "parent"), ("recommendation", "themes[]"), ("figure", "themes[]")],
    "recommendation": [
        ("recommendation", "responds_to[]"),
        ("study", "findings[].recommendation"),
        ("example", "recommendations[]"),
    ],
    "study": [("example", "studies[]"), ("figure", "studies[]")],
    "example": [],
    "figure": [],
}


def rename(paths: Paths, old_id: str, new_id: str, dry_run: bool = False) -> Changed:
    """Rename the record (or evidence link) ``old_id`` to ``new_id`` everywhere."""
    with locked(paths, dry_run):
        state = read_all(paths)
        renaming = _Renaming(state, old_id, new_id)
        plan, written, moved = renaming.plan()
        problems = new_problems(state, [], written, moved, renaming.renamed_ids)
        refuse_errors(problems)
        plan.warnings = [problem for problem in problems if problem.severity == "warning"]
        plan.notes = renaming.mentions()
        if dry_run:
            return Changed(plan, dry_run)
        files = plan.apply(paths.root)
        return Changed(plan, dry_run, files, refresh(paths))


class _Renaming:
    """The data of every record a rename changes, keyed by the record's (old) ID."""

    def __init__(self, state: OnDisk, old: str, new: str) -> None:
        self.state, self.old, self.new = state, old, new
        if not ID_PATTERN.fullmatch(new):
            raise ChangeRefused(
                f"nothing was written: the new ID {new!r} must be lower-case letters, digits "
                "and hyphens (at most 64, not starting with -)"
            )
        if new == old:
            raise ChangeRefused(f"nothing was written: {old} is already called {new}")
        self.kind, self.link_study = self._find()
        own_former = [] if self.kind == "evidence" else self._model(old).former_ids  # type: ignore[attr-defined]
        if new.lower() in state.taken and new not in own_former:
            raise RecordExists(f"the ID {new} is already used ({self._user(new)}); choose another")
        self.data: dict[str, dict[str, Any]] = {}
        self.renamed_ids = {new: old}
        self.texts: list[FileChange] = []

    def _find(self) -> tuple[str, str | None]:
        """The kind of record ``old`` is, or ``evidence`` and the study holding the link."""
        kb = self.state.kb
        for kind in RECORD_KINDS:
            if self.old in kb.by_kind(kind):
                return kind, None
        for study, _, finding in kb.findings():
            if finding.id == self.old:
                return "evidence", study.id
        found = aliases_on_disk(self.state.records).find(self.old)
        if isinstance(found, Renamed):
            raise RecordRenamed(f"{found.words()}; rename {found.new_id} instead")
        if isinstance(found, Removed):
            raise RecordRemoved(f"{found.words(self.old)}; there is nothing to rename")
        if any(record.record_id == self.old for record in self.state.records):
            raise RecordNotFound(f"no valid record has ID '{self.old}'; run `kb check`")
        known = [*kb.files, *(finding.id for *_, finding in kb.findings())]
        close = difflib.get_close_matches(self.old, known, n=1)
        hint = f"; did you mean '{close[0]}'?" if close else ""
        raise RecordNotFound(f"no record or evidence link has ID '{self.old}'{hint}")

    def _user(self, record_id: str) -> str:
        """The file using an ID, for a message."""
        key = record_id.lower()
        for record in self.state.records:
            links = [f.get("id") for f in record.data.get("findings") or [] if isinstance(f, dict)]
            former = record.data.get("former_ids")
            former = former if isinstance(former, list) else []
            named = [record.record_id, PurePosixPath(record.path).stem, *links, *former]
            if key in {str(name).lower() for name in named}:
                return record.path
        return "by a file"

    def _model(self, record_id: str) -> Record:
        """A valid record, by its ID."""
        kb = self.state.kb
        record: Record = kb.by_kind(kb.files[record_id].kind)[record_id]
        return record

    def _of(self, record_id: str) -> dict[str, Any]:
        """The data of a record, as changed so far."""
        if record_id not in self.data:
            record = self._model(record_id)
            self.data[record_id] = record.model_dump(mode="json", exclude_none=True)
        return self.data[record_id]

    def plan(self) -> tuple[Plan, list[RecordFile], dict[str, str]]:
        """Every file to change, the changed records as written (held texts under their old
        names, which hold the same text), and each moved file's new path → old path."""
        if self.kind == "evidence":
            assert self.link_study is not None
            for link in self._of(self.link_study)["findings"]:
                if link["id"] == self.old:
                    link["id"] = self.new
        else:
            data = self._of(self.old)
            data["id"] = self.new
            # The old ID keeps leading to the record: kb show, the search filters, the site.
            kept = [former for former in data.get("former_ids", []) if former != self.new]
            data["former_ids"] = [*kept, self.old]
            self._references()
            self._derived_links()
            self._held_text()
        changes: list[FileChange] = []
        written: list[RecordFile] = []
        moved: dict[str, str] = {}
        for record_id in sorted(self.data, key=lambda rid: (rid != self.old, self._path(rid))):
            old_file = self.state.kb.files[record_id]
            to = record_file_path(old_file.kind, self.new) if record_id == self.old else None
            try:
                record = RECORD_MODELS[old_file.kind].model_validate(self.data[record_id])
            except ValidationError:
                data = self.data[record_id]
                refuse_errors(schema_problems(RecordFile(old_file.path, old_file.kind, data)))
                raise
            change, read = rewritten(self.state.paths.root, old_file, record, to)
            changes.append(change)
            if to:
                moved[to] = old_file.path
                changes.extend(self.texts)
                for text in self.texts:  # checked against the text where it is now: the same
                    data = {**read.data, "text": text.path}
                    read = RecordFile(read.path, read.kind, data, read.lines)
            written.append(read)
        return Plan(changes), written, moved

    def mentions(self) -> list[str]:
        """Where the old ID is still written in words (a note, a summary), once renamed."""
        word = re.compile(rf"(?<![\w-]){re.escape(self.old)}(?![\w-])")
        found = []
        for record_id, record in sorted(self.state.kb.files.items(), key=lambda i: i[1].path):
            changed = self.data.get(record_id) or self._model(record_id).model_dump(mode="json")
            path = record_file_path(record.kind, self.new) if record_id == self.old else record.path
            for where, value in _strings(changed, ()):
                if where[:1] != ("former_ids",) and word.search(value):
                    found.append(f"{path}: {format_field(where)} mentions {self.old} in words")
        return found

    def _path(self, record_id: str) -> str:
        return self.state.kb.files[record_id].path

    def _references(self) -> None:
        """Point every reference to the old ID at the new one."""
        for kind, place in REFERENCES[self.kind]:
            for record in self.state.kb.by_kind(kind).values():
                if _names(record.model_dump(mode="json"), place, self.old):
                    _rename_in(self._of(record.id), place, self.old, self.new)

    def _derived_links(self) -> None:
        """Rename the evidence-link IDs made from the old ID."""
        for study, index, finding in self.state.kb.findings():
            if self.kind == "study" and study.id == self.old:
                study_id, recommendation_id = self.new, finding.recommendation
            elif self.kind == "recommendation" and finding.recommendation == self.old:
                study_id, recommendation_id = study.id, self.new
            else:
                continue
            suffix = _derived(finding.id, study.id, finding.recommendation)
            if suffix is None:
                continue
            renamed = f"{study_id}--{recommendation_id}{suffix}"
            if not ID_PATTERN.fullmatch(renamed):
                raise ChangeRefused(
                    f"nothing was written: the evidence link {finding.id} would become "
                    f"{renamed}, longer than 64 characters; give it a shorter ID first "
                    f"(`kb mv {finding.id} SHORTER-ID`)"
                )
            self._of(study.id)["findings"][index]["id"] = renamed
            self.renamed_ids[renamed] = finding.id

    def _held_text(self) -> None:
        """Rename a study's or source's held text named for its ID."""
        data = self._of(self.old)
        text = data.get("text")
        if self.kind not in ("study", "source") or not text:
            return
        path = PurePosixPath(text)
        if path.stem != self.old or not (self.state.paths.root / text).is_file():
            return
        target = path.with_stem(self.new).as_posix()
        if (self.state.paths.root / target).exists():
            raise RecordExists(
                f"nothing was written: {target} exists already; move it away, then run again"
            )
        data["text"] = target
        raw = (self.state.paths.root / text).read_bytes()
        self.texts.append(FileChange("rename", text, target, content=raw))


def _strings(value: Any, where: FieldPath) -> Iterator[tuple[FieldPath, str]]:
    """Every text in a record's data, with its field path."""
    if isinstance(value, str):
        yield where, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(item, (*where, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _strings(item, (*where, index))


def _derived(link_id: str, study_id: str, recommendation_id: str) -> str | None:
    """The suffix (``""``, ``--2``…) of a link ID made from a study's and a recommendation's
    IDs, or None when the link was given an ID of its own."""
    base = f"{study_id}--{recommendation_id}"
    if link_id == base:
        return ""
    found = re.fullmatch(re.escape(base) + r"(--[0-9]+)", link_id)
    return found.group(1) if found else None


def _names(data: dict[str, Any], place: str, record_id: str) -> bool:
    """Whether the field ``place`` of a record's data names ``record_id``."""
    if place.startswith("findings[]."):
        name = place.removeprefix("findings[].")
        return any(link.get(name) == record_id for link in data.get("findings", []))
    if place.endswith("[]"):
        return record_id in data.get(place[:-2], [])
    return data.get(place) == record_id


def _rename_in(data: dict[str, Any], place: str, old: str, new: str) -> None:
    """Replace ``old`` by ``new`` in the field ``place`` of a record's data."""
    if place.startswith("findings[]."):
        name = place.removeprefix("findings[].")
        for link in data.get("findings", []):
            if link.get(name) == old:
                link[name] = new
    elif place.endswith("[]"):
        key = place[:-2]
        data[key] = [new if value == old else value for value in data[key]]
    elif data.get(place) == old:
        data[place] = new
