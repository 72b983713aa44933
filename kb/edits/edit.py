"""Change or remove records: an evidence link's fields, a study's details, a link, a study.

Each change is worked out as a plan of file changes (``kb.edits.changes``), checked with the very
checks of ``kb check`` (nothing is written if the records would have an error they have not
now), and then, unless a dry run, written under the repository lock, each file atomically,
followed by a refresh of the store and the search index, as ``kb add`` does.

A change to one study's file is checked against the store when it is current
(``kb.edits.changing``); removing a study, which may touch practice examples and key figures too,
reads and checks every record.

Levels follow the rules of ``kb.records.levels``: an appraised link's level is the one its appraisal
gives, so a change to its domains, or to its study's type, recomputes it; a ``--strength``
that disagrees is refused in ``kb check``'s words. Who recorded a link (``recorded_by``,
``recorded_on``) says who made its judgement: an edit that changes its level or its basis
records the editor and the day, and any other edit keeps them (``--by`` and ``--on`` set
them).
"""

import copy
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from pydantic import ValidationError

from kb.edits.add import reviewer_name
from kb.edits.changes import (
    Changed,
    FieldChange,
    FileChange,
    Plan,
    as_written,
    field_changes,
    new_problems,
    refuse_errors,
    rewritten,
)
from kb.edits.changing import OnDisk, Records, make_change, read_all, refresh
from kb.edits.tombstones import study_tombstone, tombstone_path
from kb.errors import ChangeRefused, RecordExists, RecordNotFound
from kb.files import repository_lock
from kb.paths import Paths
from kb.records.dump import record_data
from kb.records.levels import appraised_level
from kb.records.load import RecordFile
from kb.records.models import Removal, Study
from kb.records.validate import schema_problems
from kb.records.vocabularies import CLEARABLE_LINK_FIELDS, Basis, StudyType
from kb.store.aliases import not_found

_APPRAISAL_OPTIONS = ("design", "population", "setting", "sample_size", "rationale")


@dataclass
class Recorder:
    """Who makes a change, and when, as given (``--by``, ``--on``); git's ``user.name`` and
    today stand in when a level changes and they were not given, and today when only who
    was given."""

    by: str | None = None
    on: str | None = None

    def stamp(self, link: dict[str, Any], judged: bool, paths: Paths) -> None:
        """Record who and when in ``link``: what was given, and for a new judgement (its
        level or basis changed, or ``--by`` given) the editor and today for what was not."""
        if self.by:
            link["recorded_by"] = self.by
        elif judged:
            name = reviewer_name(paths.root)
            if not name:
                raise ChangeRefused(
                    f"{link['id']}'s level changes, so say who is making the judgement: give "
                    "--by NAME, or set your name with `git config user.name NAME`"
                )
            link["recorded_by"] = name
        if self.on or self.by or judged:
            link["recorded_on"] = self.on or date.today().isoformat()


@dataclass
class EvidenceEdit:
    """What to change in an evidence link: fields to set, location and appraisal parts to
    set, GRADE ratings to set (``levels`` 0 removes a domain's), fields to clear."""

    fields: dict[str, Any] = field(default_factory=dict)
    location: dict[str, Any] = field(default_factory=dict)
    appraisal: dict[str, Any] = field(default_factory=dict)
    downgrades: list[dict[str, Any]] = field(default_factory=list)
    upgrades: list[dict[str, Any]] = field(default_factory=list)
    clear: list[str] = field(default_factory=list)
    recorder: Recorder = field(default_factory=Recorder)

    def touches_appraisal(self) -> bool:
        return bool(self.appraisal or self.downgrades or self.upgrades) or any(
            CLEARABLE_LINK_FIELDS[name] == ("appraisal",) for name in self.clear
        )


def locked(paths: Paths, dry_run: bool) -> AbstractContextManager[Any]:
    """The repository lock, except for a dry run, which writes nothing (as ``kb import``)."""
    return nullcontext() if dry_run else repository_lock(paths.root)


def edit_evidence(paths: Paths, link_id: str, edit: EvidenceEdit, dry_run: bool = False) -> Changed:
    """Change an evidence link's fields; an appraised link's level follows its appraisal."""
    with locked(paths, dry_run):
        return make_change(paths, lambda records: _edit_evidence(records, link_id, edit, dry_run))


def _edit_evidence(records: Records, link_id: str, edit: EvidenceEdit, dry_run: bool) -> Changed:
    old_file, study = _link_study(records, link_id)
    data = study.model_dump(mode="json", exclude_none=True)
    index = next(i for i, link in enumerate(data["findings"]) if link["id"] == link_id)
    before = data["findings"][index]
    link = _edited_link(records, study, copy.deepcopy(before), edit)
    judged = (link["strength"], link["basis"]) != (before["strength"], before["basis"])
    edit.recorder.stamp(link, judged, records.paths)
    data["findings"][index] = link
    return _change_study(records, old_file, data, dry_run)


def _link_study(records: Records, link_id: str) -> tuple[RecordFile, Study]:
    found = records.study_of_link(link_id)
    if found is None:
        raise RecordNotFound(f"no valid evidence link has ID '{link_id}'; run `kb check`")
    return found


def _edited_link(
    records: Records, study: Study, link: dict[str, Any], edit: EvidenceEdit
) -> dict[str, Any]:
    """``link`` with ``edit`` made; for an appraisal, its level as the appraisal gives it
    unless a level was given."""
    basis_before = link["basis"]
    link.update(edit.fields)
    basis = link["basis"]
    if basis != basis_before and basis == Basis.APPRAISAL:
        for name in ("source", "above_ceiling", "location"):  # a report's, not the study's
            link.pop(name, None)
    elif basis != basis_before:
        link.pop("appraisal", None)
        source, section = records.recommendation_location(link["recommendation"]) or (None, "")
        link.setdefault("source", source)
        link["location"] = {"section": section}
    if edit.location:
        link["location"] = {**link.get("location", {}), **edit.location}
    if basis != Basis.APPRAISAL and edit.touches_appraisal():
        raise ChangeRefused(
            f"nothing was written: {link['id']} rests on a source report's words (basis "
            "source); --design, --population, --setting, --sample-size, --rationale, "
            "--downgrade and --upgrade are for an appraisal (add --basis appraisal)"
        )
    if basis == Basis.APPRAISAL:
        appraisal = {**link.get("appraisal", {}), **edit.appraisal}
        appraisal["downgrades"] = _rated(appraisal.get("downgrades", []), edit.downgrades)
        appraisal["upgrades"] = _rated(appraisal.get("upgrades", []), edit.upgrades)
        link["appraisal"] = appraisal
    for name in edit.clear:
        place = link
        for part in CLEARABLE_LINK_FIELDS[name]:
            place = place.get(part, {})
        place.pop(name, None)
    if basis == Basis.APPRAISAL and "strength" not in edit.fields:
        link["strength"] = _appraised(study.type, link)
    return link


def _rated(ratings: list[dict[str, Any]], given: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``ratings`` with each given domain's rating replaced, added, or (at 0 levels) removed."""
    rated = [dict(rating) for rating in ratings]
    for rating in given:
        place = next((i for i, r in enumerate(rated) if r["domain"] == rating["domain"]), None)
        if rating["levels"] == 0:
            if place is not None:
                del rated[place]
        elif place is None:
            rated.append(dict(rating))
        else:
            rated[place] = dict(rating)
    return rated


def _appraised(study_type: str, link: dict[str, Any]) -> str:
    appraisal = link.get("appraisal", {})
    return appraised_level(
        StudyType(study_type), appraisal.get("downgrades", ()), appraisal.get("upgrades", ())
    ).level.value


def _change_study(
    records: Records, old_file: RecordFile, data: dict[str, Any], dry_run: bool
) -> Changed:
    """Check the study ``old_file`` holds changed to ``data`` as ``kb check`` would and,
    unless a dry run, write it and refresh the store and index."""
    root = records.paths.root
    try:
        study = Study.model_validate(data)
    except ValidationError:
        problems = schema_problems(RecordFile(old_file.path, "study", data))
        refuse_errors(problems)
        raise  # not reached: a ValidationError always has problems
    change, written = rewritten(root, old_file, study)
    if not change.fields:
        return Changed(Plan([]), dry_run)
    _, problems = records.change_problems(old_file, written)
    refuse_errors(problems)
    plan = Plan([change], [problem for problem in problems if problem.severity == "warning"])
    if dry_run:
        return Changed(plan, dry_run)
    files = plan.apply(root)
    return Changed(plan, dry_run, files, records.refresh([root / old_file.path]))


# --- Studies ---------------------------------------------------------------------------------


def edit_study(
    paths: Paths,
    study_id: str,
    fields: dict[str, Any],
    clear: list[str],
    recorder: Recorder | None = None,
    dry_run: bool = False,
) -> Changed:
    """Change a study's details; a new type recomputes the level of its appraised links."""
    with locked(paths, dry_run):
        return make_change(
            paths,
            lambda records: _edit_study(
                records, study_id, fields, clear, recorder or Recorder(), dry_run
            ),
        )


def _edit_study(
    records: Records,
    study_id: str,
    fields: dict[str, Any],
    clear: list[str],
    recorder: Recorder,
    dry_run: bool,
) -> Changed:
    found = records.study(study_id)
    if found is None:
        raise not_found(
            records.paths, study_id, f"no valid study has ID '{study_id}'; run `kb check`"
        )
    old_file, study = found
    data = study.model_dump(mode="json", exclude_none=True)
    data.update(fields)
    for name in clear:
        data.pop(name, None)
    if data["type"] != study.type and data["type"] in {kind.value for kind in StudyType}:
        for link in data.get("findings", []):
            if link["basis"] == Basis.APPRAISAL and "appraisal" in link:
                level = _appraised(data["type"], link)
                if level != link["strength"]:
                    link["strength"] = level
                    recorder.stamp(link, True, records.paths)
    return _change_study(records, old_file, data, dry_run)


def remove_evidence(paths: Paths, link_id: str, dry_run: bool = False) -> Changed:
    """Remove an evidence link from its study."""
    with locked(paths, dry_run):
        return make_change(paths, lambda records: _remove_evidence(records, link_id, dry_run))


def _remove_evidence(records: Records, link_id: str, dry_run: bool) -> Changed:
    old_file, study = _link_study(records, link_id)
    data = study.model_dump(mode="json", exclude_none=True)
    data["findings"] = [link for link in data["findings"] if link["id"] != link_id]
    return _change_study(records, old_file, data, dry_run)


def remove_study(
    paths: Paths,
    study_id: str,
    reason: str,
    force: bool = False,
    dry_run: bool = False,
    recorder: Recorder | None = None,
) -> Changed:
    """Remove a study's file (and its held text), leaving its tombstone,
    ``removed/STUDY-ID.yaml``, which says when, by whom and why (``reason``), so that its
    page says so. While practice examples or key figures cite it, or it has evidence links,
    it is kept unless ``force``, which removes those links and takes it out of those lists."""
    recorder = recorder or Recorder()
    with locked(paths, dry_run):
        state = read_all(paths)
        root = paths.root
        study = state.kb.studies.get(study_id)
        if study is None:
            raise not_found(paths, study_id, f"no valid study has ID '{study_id}'; run `kb check`")
        record = state.kb.files[study_id]
        citing = [
            (other, index)
            for kind in ("example", "figure")
            for other in state.kb.by_kind(kind).values()
            for index, cited in enumerate(other.studies)
            if cited == study_id
        ]
        if (citing or study.findings) and not force:
            raise ChangeRefused(
                f"nothing was removed: study {study_id} {_dependants(state, citing, study)}; "
                "remove those first, or add --force to remove the study with its links and "
                "take it out of those lists"
            )
        links = enumerate(study.findings)
        gone = [FieldChange(f"findings[{i}]", record_data(link), None) for i, link in links]
        changes = [FileChange("delete", record.path, fields=gone)]
        shared = any(
            other.text == study.text for other in state.kb.studies.values() if other is not study
        )
        if study.text and not shared and (root / study.text).is_file():
            changes.append(FileChange("delete", study.text))
        tombstone, tombstone_read = _tombstone(paths, study, reason, recorder)
        changes.append(tombstone)
        written: list[RecordFile] = [tombstone_read]
        for other, _ in citing:
            kept = [cited for cited in other.studies if cited != study_id]
            change, read = rewritten(
                root, state.kb.files[other.id], other.model_copy(update={"studies": kept})
            )
            changes.append(change)
            written.append(read)
        problems = new_problems(state, [record.path], written)
        refuse_errors(problems)
        plan = Plan(changes, [problem for problem in problems if problem.severity == "warning"])
        if dry_run:
            return Changed(plan, dry_run)
        files = plan.apply(root)
        return Changed(plan, dry_run, files, refresh(paths))


def _tombstone(
    paths: Paths, study: Study, reason: str, recorder: Recorder
) -> tuple[FileChange, RecordFile]:
    """The tombstone a removed study leaves (``kb.edits.tombstones``), and it as written."""
    path = tombstone_path(study.id)
    if (paths.root / path).exists():
        raise RecordExists(f"nothing was removed: {path} exists already; an ID is removed once")
    by = recorder.by or reviewer_name(paths.root)
    data = study_tombstone(study, reason, by, recorder.on or date.today().isoformat())
    try:
        tombstone = Removal.model_validate(data)
    except ValidationError:
        refuse_errors(schema_problems(RecordFile(path, "removal", data)))
        raise
    text, read = as_written(paths.root, path, "removal", tombstone)
    fields = field_changes({}, record_data(tombstone))
    return FileChange("create", path, fields=fields, content=text), read


def _dependants(state: OnDisk, citing: list[tuple[Any, int]], study: Study) -> str:
    """What keeps a study: ``is cited by FILE (studies[0]) and has 2 evidence links (…)``."""
    parts = []
    if citing:
        places = ", ".join(
            f"{state.kb.files[other.id].path} (studies[{index}])" for other, index in citing
        )
        parts.append(f"is cited by {places}")
    if study.findings:
        count = len(study.findings)
        ids = ", ".join(link.id for link in study.findings)
        parts.append(f"has {count} evidence link{'s' if count != 1 else ''} ({ids})")
    return " and ".join(parts)
