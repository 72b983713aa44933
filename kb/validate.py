"""Check records against the schema and each other, reporting every problem at once.

Checks: the schema (types, vocabularies, required fields, ID pattern, URLs, DOIs, years), that
the file name is the record's ID, that IDs are unique regardless of case, that every reference
resolves, that verbatim text is found in its source, and that no two studies share a DOI.
"""

import re
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from kb.errors import Problem
from kb.load import FieldPath, FileRefused, RecordFile, format_field, read_text_file
from kb.models import (
    RECORD_MODELS,
    Example,
    Figure,
    Finding,
    Recommendation,
    RecommendationKind,
    Record,
    Source,
    Study,
    StudyType,
    Theme,
)
from kb.quotes import find_quote, normalise_text


@dataclass
class KnowledgeBase:
    """Every valid record, by kind and ID, with the file each came from."""

    root: Path
    sources: dict[str, Source] = field(default_factory=dict)
    themes: dict[str, Theme] = field(default_factory=dict)
    recommendations: dict[str, Recommendation] = field(default_factory=dict)
    studies: dict[str, Study] = field(default_factory=dict)
    examples: dict[str, Example] = field(default_factory=dict)
    figures: dict[str, Figure] = field(default_factory=dict)
    files: dict[str, RecordFile] = field(default_factory=dict)

    def by_kind(self, kind: str) -> dict[str, Any]:
        return {
            "source": self.sources,
            "theme": self.themes,
            "recommendation": self.recommendations,
            "study": self.studies,
            "example": self.examples,
            "figure": self.figures,
        }[kind]

    def findings(self) -> Iterator[tuple[Study, int, Finding]]:
        """Every evidence link, with its study and its place in the study's list."""
        for study in self.studies.values():
            for index, finding in enumerate(study.findings):
                yield study, index, finding


def _field_location(data: Any, loc: tuple[Any, ...], error_type: str) -> FieldPath:
    """Turn pydantic's error location into a path through the record's own data."""
    path: list[str | int] = []
    for part in loc:
        if (isinstance(data, dict) and part in data) or (
            isinstance(data, list) and isinstance(part, int) and part < len(data)
        ):
            data = data[part]
        else:
            if error_type in ("missing", "extra_forbidden") and isinstance(part, str):
                path.append(part)
            break
        path.append(part)
    return tuple(path)


def _message(error: dict[str, Any]) -> str:
    kind = error["type"]
    if kind == "missing":
        return "required field is missing"
    if kind == "extra_forbidden":
        return "unknown field"
    if kind == "enum":
        return "must be one of: " + error["ctx"]["expected"].replace("'", "")
    if kind == "string_pattern_mismatch":
        return "must be lower-case letters, digits and hyphens (at most 64, not starting with -)"
    if kind == "string_too_short":
        return "must not be empty"
    if kind == "value_error":
        return str(error["ctx"]["error"])
    message: str = error["msg"]
    return message[0].lower() + message[1:]


def _schema_problems(record: RecordFile, error: ValidationError) -> Iterator[Problem]:
    for detail in error.errors():
        location = _field_location(record.data, detail["loc"], detail["type"])
        yield Problem(
            record.path,
            record.line_of(location),
            record.record_id,
            format_field(location),
            _message(detail),
        )


def schema_problems(record: RecordFile) -> list[Problem]:
    """What the schema finds wrong with one record on its own, as ``kb check`` words it."""
    try:
        RECORD_MODELS[record.kind].model_validate(record.data)
    except ValidationError as error:
        return list(_schema_problems(record, error))
    return []


class _Checker:
    """Collects problems for one validation run."""

    def __init__(self, knowledge_base: KnowledgeBase):
        self.kb = knowledge_base
        self.problems: list[Problem] = []
        self._texts: dict[str, str | None] = {}
        self._found: dict[tuple[str, str], bool] = {}

    def report(
        self, record_id: str, location: FieldPath, message: str, severity: str = "error"
    ) -> None:
        record = self.kb.files[record_id]
        self.problems.append(
            Problem(
                record.path,
                record.line_of(location),
                record_id,
                format_field(location),
                message,
                severity,
            )
        )

    def require(self, record_id: str, location: FieldPath, target: str | None, kinds: str) -> None:
        """Report ``target`` unless it is the ID of a record of one of ``kinds``."""
        if target is None:
            return
        if target == record_id:
            self.report(record_id, location, "a record cannot refer to itself")
            return
        for kind in kinds.split("|"):
            if target in self.kb.by_kind(kind):
                return
        self.report(record_id, location, f"no {kinds.replace('|', ' or ')} has ID '{target}'")

    def source_text(self, source_id: str) -> str | None:
        """The normalised full text of a source, or None when it has none that can be read.

        The first call for a source reads its file and reports why it could not be read.
        """
        if source_id not in self._texts:
            source = self.kb.sources.get(source_id)
            text = None
            if source is not None and source.text:
                try:
                    text = normalise_text(read_text_file(self.kb.root, source.text))
                except FileRefused as refused:
                    self.report(source_id, ("text",), str(refused))
            self._texts[source_id] = text
        return self._texts[source_id]

    def verbatim(self, record_id: str, location: FieldPath, text: str, source_id: str) -> None:
        """Report ``text`` unless it is found in the source's text."""
        source_text = self.source_text(source_id)
        if source_text is None:
            return
        found = self._found.get((source_id, text))
        if found is None:  # sections and shared quotes recur: look each up once
            found = self._found[source_id, text] = _found_in(text, source_text)
        if not found:
            shown = text if len(text) <= 60 else text[:57] + "..."
            self.report(
                record_id, location, f"not found verbatim in source '{source_id}': {shown!r}"
            )


_NEEDS_NORMALISING = re.compile(r"[*`<]|  |\.\.\.")


def _found_in(text: str, normalised_source: str) -> bool:
    """Whether ``text`` is in the source, by plain search when normalising could not change it.

    Plain printable ASCII without ``*``, backquotes, ``<``, double spaces or an ellipsis is
    left as it is by ``normalise_text`` and is one part, so ``in`` gives ``find_quote``'s answer
    without normalising the quote first; anything else takes the full route.
    """
    if (
        text
        and text.isascii()
        and text.isprintable()
        and text == text.strip()
        and not _NEEDS_NORMALISING.search(text)
    ):
        return text in normalised_source
    return find_quote(text, normalised_source) >= 0


def _check_sources(check: _Checker) -> None:
    for source in check.kb.sources.values():
        check.source_text(source.id)  # reports a text that is missing or cannot be read


def _check_themes(check: _Checker) -> None:
    for theme in check.kb.themes.values():
        check.require(theme.id, ("parent",), theme.parent, "theme")
        check.require(theme.id, ("source",), theme.source, "source")
        check.verbatim(theme.id, ("location", "section"), theme.location.section, theme.source)
        seen = {theme.id}
        parent = theme.parent
        while parent in check.kb.themes:
            if parent in seen:
                check.report(theme.id, ("parent",), "themes' parents form a cycle")
                break
            seen.add(parent)
            parent = check.kb.themes[parent].parent


def _check_recommendations(check: _Checker) -> None:
    kb = check.kb
    for rec in kb.recommendations.values():
        check.require(rec.id, ("source",), rec.source, "source")
        for index, theme in enumerate(rec.themes):
            check.require(rec.id, ("themes", index), theme, "theme")
        for index, target in enumerate(rec.responds_to):
            check.require(rec.id, ("responds_to", index), target, "recommendation")
            other = kb.recommendations.get(target)
            if other is not None and other.kind != RecommendationKind.RECURRING:
                check.report(
                    rec.id, ("responds_to", index), f"'{target}' is not a recurring recommendation"
                )
        check.verbatim(rec.id, ("statement",), rec.statement, rec.source)
        check.verbatim(rec.id, ("location", "section"), rec.location.section, rec.source)
        for index, question in enumerate(rec.area_of_focus):
            check.verbatim(rec.id, ("area_of_focus", index), question, rec.source)
        judgement = rec.evidence_judgement
        if judgement is not None:
            check.verbatim(rec.id, ("evidence_judgement", "quote"), judgement.quote, rec.source)
            if judgement.location is not None:
                check.verbatim(
                    rec.id,
                    ("evidence_judgement", "location", "section"),
                    judgement.location.section,
                    rec.source,
                )
        elif rec.kind == RecommendationKind.RECOMMENDATION:
            check.report(
                rec.id,
                ("evidence_judgement",),
                "no overall evidence judgement yet; "
                "record the source's view (S0 if it found no evidence)",
                "warning",
            )


def _check_studies(check: _Checker) -> None:
    kb = check.kb
    doi_owners: dict[str, str] = {}
    for study in kb.studies.values():
        if study.doi:
            key = study.doi.lower()
            if key in doi_owners:
                check.report(
                    study.id,
                    ("doi",),
                    f"DOI {study.doi} is also the DOI of study '{doi_owners[key]}'",
                )
            else:
                doi_owners[key] = study.id
        if study.type == StudyType.UNCLASSIFIED:
            check.report(
                study.id,
                ("type",),
                "type is not yet classified; read the study and choose its design",
                "warning",
            )
        for index, finding in enumerate(study.findings):
            where = ("findings", index)
            check.require(
                study.id, (*where, "recommendation"), finding.recommendation, "recommendation"
            )
            check.require(study.id, (*where, "source"), finding.source, "source")
            check.verbatim(study.id, (*where, "quote"), finding.quote, finding.source)
            check.verbatim(
                study.id, (*where, "location", "section"), finding.location.section, finding.source
            )


def _check_examples_and_figures(check: _Checker) -> None:
    for example in check.kb.examples.values():
        check.require(example.id, ("source",), example.source, "source")
        for index, study in enumerate(example.studies):
            check.require(example.id, ("studies", index), study, "study")
        for index, rec in enumerate(example.recommendations):
            check.require(example.id, ("recommendations", index), rec, "recommendation")
        check.verbatim(example.id, ("quote",), example.quote, example.source)
        check.verbatim(
            example.id, ("location", "section"), example.location.section, example.source
        )
    for figure in check.kb.figures.values():
        check.require(figure.id, ("source",), figure.source, "source")
        for index, study in enumerate(figure.studies):
            check.require(figure.id, ("studies", index), study, "study")
        for index, theme in enumerate(figure.themes):
            check.require(figure.id, ("themes", index), theme, "theme")
        check.verbatim(figure.id, ("quote",), figure.quote, figure.source)
        check.verbatim(figure.id, ("location", "section"), figure.location.section, figure.source)


# Study types whose findings should rarely be rated S4 or S5 (rigorous causal evidence).
_OPINION_TYPES = (StudyType.COMMENTARY, StudyType.EXPERT_COMMUNICATION, StudyType.POLICY_GUIDANCE)


def _check_evidence_rules(check: _Checker) -> None:
    """Warn about strength levels that do not fit their evidence (see docs/graph.md)."""
    findings: dict[str, list[Finding]] = {}
    for study, index, finding in check.kb.findings():
        findings.setdefault(finding.recommendation, []).append(finding)
        if finding.strength.rank >= 4 and study.type in _OPINION_TYPES:
            check.report(
                study.id,
                ("findings", index, "strength"),
                f"{finding.strength} from "
                f"a study of type {study.type}; S4 and S5 need rigorous research",
                "warning",
            )
    for rec in check.kb.recommendations.values():
        judgement = rec.evidence_judgement
        links = findings.get(rec.id, [])
        if (
            judgement
            and judgement.level.rank >= 4
            and links
            and all(finding.strength.rank <= 1 for finding in links)
        ):
            check.report(
                rec.id,
                ("evidence_judgement", "level"),
                f"judged {judgement.level}, "
                f"but all {len(links)} of its evidence links are S1 or below",
                "warning",
            )


def _unique_ids(records: Iterable[tuple[RecordFile, str, FieldPath]]) -> Iterator[Problem]:
    """Report IDs used twice, ignoring case (they become URLs and file names)."""
    first: dict[str, RecordFile] = {}
    for record, record_id, location in records:
        key = record_id.lower()
        if key in first:
            earlier = first[key]
            yield Problem(
                record.path,
                record.line_of(location),
                record.record_id,
                format_field(location),
                f"ID '{record_id}' is already used in {earlier.path}",
            )
        else:
            first[key] = record


def validate_records(root: Path, records: list[RecordFile]) -> tuple[KnowledgeBase, list[Problem]]:
    """Validate records read by ``load_records``; return the valid ones and every problem."""
    kb = KnowledgeBase(root=root)
    problems: list[Problem] = []
    valid: list[tuple[RecordFile, Record]] = []
    for record in records:
        try:
            model = RECORD_MODELS[record.kind].model_validate(record.data)
        except ValidationError as error:
            problems.extend(_schema_problems(record, error))
            continue
        valid.append((record, model))

    # Records' own IDs first, so a clashing evidence link is reported rather than its target.
    ids: list[tuple[RecordFile, str, FieldPath]] = [
        (record, model.id, ("id",))
        for record, model in valid  # type: ignore[attr-defined]
    ]
    for record, model in valid:
        if isinstance(model, Study):
            ids.extend(
                (record, finding.id, ("findings", index, "id"))
                for index, finding in enumerate(model.findings)
            )
    duplicates = list(_unique_ids(ids))
    problems.extend(duplicates)
    taken = Counter(problem.path for problem in duplicates if problem.field == "id")

    for record, model in valid:
        record_id: str = model.id  # type: ignore[attr-defined]
        if Path(record.path).stem != record_id:
            problems.append(
                Problem(
                    record.path,
                    record.line_of(("id",)),
                    record_id,
                    "id",
                    f"file name must be the ID: rename to {record_id}.yaml",
                )
            )
            continue
        if taken[record.path]:
            continue
        kb.by_kind(record.kind)[record_id] = model
        kb.files[record_id] = record

    check = _Checker(kb)
    _check_sources(check)
    _check_themes(check)
    _check_recommendations(check)
    _check_studies(check)
    _check_examples_and_figures(check)
    _check_evidence_rules(check)
    problems.extend(check.problems)
    return kb, sorted(problems)
