"""Check records against the schema and each other, reporting every problem at once.

Checks: the schema (types, vocabularies, required fields, ID pattern, URLs, DOIs, years), that
the file name is the record's ID, that IDs are unique regardless of case, that every reference
resolves, that verbatim text is found in its source, and that no two studies share a DOI.
"""

import functools
import re
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from pydantic import ValidationError

from kb.errors import Problem
from kb.records.levels import NOT_UPGRADED, ONE_LEVEL_ONLY, appraised_level, link_ceiling
from kb.records.load import FieldPath, FileRefused, RecordFile, format_field, read_text_file
from kb.records.models import (
    RECORD_MODELS,
    Appraisal,
    DowngradeRating,
    Example,
    Figure,
    Finding,
    Recommendation,
    Record,
    Removal,
    Source,
    Study,
    Theme,
    UpgradeRating,
)
from kb.records.quotes import find_quote, normalise_text
from kb.records.vocabularies import Basis, RecommendationKind, Strength, StudyType, TextPart


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
    removed: dict[str, Removal] = field(default_factory=dict)  # tombstones (``kb rm``)
    files: dict[str, RecordFile] = field(default_factory=dict)

    def by_kind(self, kind: str) -> dict[str, Any]:
        kinds: dict[str, dict[str, Any]] = {
            "source": self.sources,
            "theme": self.themes,
            "recommendation": self.recommendations,
            "study": self.studies,
            "example": self.examples,
            "figure": self.figures,
            "removal": self.removed,
        }
        return kinds[kind]

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


# Keys that records used to have, by kind of record and where they sit, with what replaced
# them: ``kb check`` names the new keys instead of calling the old ones unknown.
RENAMED_KEYS: dict[tuple[str, str], str] = {
    ("recommendation", "actors"): (
        "no longer used: write who the source asks to act as `addressed_to` (empty when it "
        "does not say) and who is to be involved as `involves`"
    ),
    ("recommendation", "recommendation_strength"): (
        "renamed to `wording` (imperative, conditional or research): our reading of the "
        "wording, never a grade"
    ),
}


def _message(error: Mapping[str, Any], kind_of_record: str = "") -> str:
    kind = error["type"]
    if kind == "missing":
        return "required field is missing"
    if kind == "extra_forbidden":
        renamed = RENAMED_KEYS.get((kind_of_record, str(error["loc"][-1])))
        return renamed or "unknown field"
    if kind == "enum":
        expected: str = error["ctx"]["expected"]
        return "must be one of: " + expected.replace("'", "")
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
            _message(detail, record.kind),
        )


def schema_problems(record: RecordFile) -> list[Problem]:
    """What the schema finds wrong with one record on its own, as ``kb check`` words it."""
    try:
        RECORD_MODELS[record.kind].model_validate(record.data)
    except ValidationError as error:
        return list(_schema_problems(record, error))
    return []


class OtherRecords(Protocol):
    """What checking one record needs to know of all the others (``check_record``).

    ``kb.store.database.StoredRecords`` answers from the store, which holds every valid record.
    """

    def has(self, kind: str, record_id: str) -> bool:
        """Whether a valid record of ``kind`` has this ID."""
        ...

    def source(self, source_id: str) -> tuple[RecordFile, Source] | None:
        """The source with this ID and the file it came from, if there is one."""
        ...

    def same_ids(self, keys: Collection[str]) -> list[tuple[RecordFile, str, FieldPath]]:
        """Every ID (record or evidence link) whose lower-case form is one of ``keys``."""
        ...

    def same_doi(self, key: str) -> list[tuple[RecordFile, str, str]]:
        """Every study (file, ID, DOI) whose DOI in lower case is ``key``."""
        ...


class _Checker:
    """Collects problems for one validation run."""

    def __init__(self, knowledge_base: KnowledgeBase, others: OtherRecords | None = None):
        self.kb = knowledge_base
        self.others = others
        self.problems: list[Problem] = []
        self._texts: dict[str, HeldText | None] = {}
        self._found: dict[tuple[str, str], bool] = {}
        self._other_files: dict[str, RecordFile] = {}

    def report(
        self, record_id: str, location: FieldPath, message: str, severity: str = "error"
    ) -> None:
        record = self.kb.files.get(record_id) or self._other_files[record_id]
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
            if self.others is not None and self.others.has(kind, target):
                return
        self.report(record_id, location, f"no {kinds.replace('|', ' or ')} has ID '{target}'")

    def source_text(self, source_id: str) -> "HeldText | None":
        """A source's held text, or None when no source has this ID.

        The first call for a source reads its file and reports why it could not be read.
        """
        if source_id not in self._texts:
            source = self.kb.sources.get(source_id)
            if source is None and self.others is not None:
                found = self.others.source(source_id)
                if found is not None:
                    self._other_files[source_id], source = found
            self._texts[source_id] = (
                None if source is None else self._read(source_id, "source", source.text)
            )
        return self._texts[source_id]

    def study_text(self, study: Study) -> "HeldText":
        """A study's held text (an abstract or excerpt, ``kb add text``)."""
        key = f"study:{study.id}"
        if key not in self._texts:
            self._texts[key] = self._read(study.id, "study", study.text)
        held = self._texts[key]
        assert held is not None
        return held

    def _read(self, record_id: str, kind: str, path: str | None) -> "HeldText":
        name = f"{kind} '{record_id}'"
        if path is None:
            return HeldText(name, None, held=False)
        try:
            return HeldText(name, _normalised(read_text_file(self.kb.root, path)), held=True)
        except FileRefused as refused:
            self.report(record_id, ("text",), str(refused))
            return HeldText(name, None, held=True)

    def in_source(
        self, record_id: str, location: FieldPath, text: str, source_id: str | None
    ) -> None:
        """Report ``text`` unless it is found in the held text of source ``source_id``."""
        if source_id is not None:
            self.verbatim(record_id, location, text, self.source_text(source_id))

    def verbatim(
        self,
        record_id: str,
        location: FieldPath,
        text: str,
        held: "HeldText | None",
        unchecked: bool = False,
        quiet_when_not_held: bool = False,
    ) -> None:
        """Report ``text`` unless it is found in ``held``; report a text that is not held,
        as an error, or as a warning when the record says the quote is unchecked."""
        if held is None or (held.held and held.text is None):
            return  # no such record, or a text that cannot be read: reported already
        if held.text is None:
            if quiet_when_not_held:
                return
            if unchecked:
                self.report(
                    record_id,
                    location,
                    f"not checked: {held.name} holds no text to check it against",
                    "warning",
                )
            else:
                self.report(record_id, location, _NOT_HELD[held.name.split(" ")[0]](held.name))
            return
        if unchecked:
            self.report(
                record_id,
                (*location[:-1], "quote_unchecked"),
                f"{held.name} holds its text, so the quote can be checked: remove quote_unchecked",
                "warning",
            )
        found = self._found.get((held.name, text))
        if found is None:  # sections and shared quotes recur: look each up once
            found = self._found[held.name, text] = _found_in(text, held.text)
        if not found:
            shown = text if len(text) <= 60 else text[:57] + "..."
            self.report(record_id, location, f"not found verbatim in {held.name}: {shown!r}")


@dataclass(frozen=True)
class HeldText:
    """The text a quote is checked against: a source's full text or a study's held text."""

    name: str  # "source 'x'" or "study 'x'", for messages
    text: str | None  # normalised; None when not held or unreadable
    held: bool  # whether the record names a text file


_NOT_HELD = {
    "source": lambda name: (
        f"{name} holds no text to check this against; add its full text (`text:` in its "
        "record), or for an evidence link set `quote_unchecked: true`"
    ),
    "study": lambda name: (
        f"{name} holds no text to check this quote against; store its abstract with `kb add "
        f"text {name.split(chr(39))[1]} FILE`, or set `quote_unchecked: true`"
    ),
}


@functools.lru_cache(maxsize=64)
def _normalised(text: str) -> str:
    """``normalise_text`` of a source's text, remembered: a command that checks records one at
    a time (``check_record``) meets the same source again, read afresh but equal. (Four were
    kept until a build checked changed studies this way: at 10,000 studies, citing 33 reports,
    each study then took 130 ms, not 25.)"""
    return normalise_text(text)


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
        check.in_source(theme.id, ("location", "section"), theme.location.section, theme.source)
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
        check.in_source(rec.id, ("statement",), rec.statement, rec.source)
        check.in_source(rec.id, ("location", "section"), rec.location.section, rec.source)
        for index, question in enumerate(rec.area_of_focus):
            check.in_source(rec.id, ("area_of_focus", index), question, rec.source)
        judgement = rec.evidence_judgement
        if judgement is not None:
            check.in_source(rec.id, ("evidence_judgement", "quote"), judgement.quote, rec.source)
            if judgement.location is not None:
                check.in_source(
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
    for study in check.kb.studies.values():
        _check_study(check, study)
    check.problems.extend(
        _shared_dois(
            (check.kb.files[study.id], study.id, study.doi)
            for study in check.kb.studies.values()
            if study.doi
        )
    )


def _check_study(check: _Checker, study: Study) -> None:
    """The checks of one study and its evidence links: the same in ``kb check`` and for a
    study checked alone against the store (``check_record``)."""
    if study.type == StudyType.UNCLASSIFIED:
        check.report(
            study.id,
            ("type",),
            "type is not yet classified; read the study and choose its design",
            "warning",
        )
    if study.text is not None and study.text_part is None:
        check.report(study.id, ("text_part",), "say what the held text is: " + _TEXT_PARTS)
    if study.text is None and study.text_part is not None:
        check.report(study.id, ("text_part",), "there is no held text (`text`) to describe")
    if study.text is not None:
        check.study_text(study)  # reports a text that is missing or cannot be read
    for index, finding in enumerate(study.findings):
        where = ("findings", index)
        check.require(
            study.id, (*where, "recommendation"), finding.recommendation, "recommendation"
        )
        if finding.basis == Basis.SOURCE:
            _check_source_link(check, study, finding, where)
        else:
            _check_appraised_link(check, study, finding, where)
    _check_pairs(check, study)
    _check_notes(check, study)


_TEXT_PARTS = ", ".join(part.value for part in TextPart)


def _check_source_link(check: _Checker, study: Study, finding: Finding, where: FieldPath) -> None:
    """A link resting on a source report's words: the quote is the report's."""
    for name in ("source", "location"):
        if getattr(finding, name) is None:
            check.report(
                study.id, (*where, name), f"required when basis is source: {_SOURCE_FIELDS[name]}"
            )
    if finding.appraisal is not None:
        check.report(
            study.id,
            (*where, "appraisal"),
            "an appraisal needs `basis: appraisal` (and then quotes the study, not a source)",
        )
    check.require(study.id, (*where, "source"), finding.source, "source")
    if finding.source is not None:
        held = check.source_text(finding.source)
        check.verbatim(
            study.id, (*where, "quote"), finding.quote, held, unchecked=finding.quote_unchecked
        )
        if finding.location is not None:
            check.verbatim(
                study.id,
                (*where, "location", "section"),
                finding.location.section,
                held,
                quiet_when_not_held=True,
            )
    ceiling = link_ceiling(study.type, finding.relation)
    if finding.strength.rank > ceiling.rank and finding.above_ceiling is None:
        check.report(
            study.id,
            (*where, "strength"),
            f"{finding.strength} is above the usual ceiling for a study of type {study.type} "
            f"({ceiling}); lower it, or say in `above_ceiling` what in the source justifies it",
            "warning",
        )
    elif finding.strength.rank <= ceiling.rank and finding.above_ceiling is not None:
        check.report(
            study.id,
            (*where, "above_ceiling"),
            f"{finding.strength} is not above the usual ceiling for a study of type "
            f"{study.type} ({ceiling}); remove above_ceiling",
            "warning",
        )


_SOURCE_FIELDS = {
    "source": "the ID of the source report whose words the quote is",
    "location": "the section of the source the quote is in",
}


def _check_appraised_link(
    check: _Checker, study: Study, finding: Finding, where: FieldPath
) -> None:
    """A reviewer's appraisal of the study itself: the quote is the study's own words."""
    if finding.source is not None:
        check.report(
            study.id,
            (*where, "source"),
            "an appraised link quotes the study itself, not a source report: remove source "
            "(or use `basis: source` for a source report's words)",
        )
    if finding.above_ceiling is not None:
        check.report(
            study.id,
            (*where, "above_ceiling"),
            "an appraisal's level follows from its domains: remove above_ceiling",
        )
    check.verbatim(
        study.id,
        (*where, "quote"),
        finding.quote,
        check.study_text(study),
        unchecked=finding.quote_unchecked,
    )
    appraisal = finding.appraisal
    if appraisal is None:
        check.report(
            study.id,
            (*where, "appraisal"),
            "required when basis is appraisal: design, population, setting, rationale, and "
            "each domain that moved the level",
        )
        return
    if study.type == StudyType.UNCLASSIFIED:
        check.report(
            study.id,
            (*where, "basis"),
            "classify the study's type before appraising it: the appraisal starts from it",
        )
        return
    _check_domains(check, study, appraisal, where)
    result = appraised_level(
        study.type,
        [rating.model_dump() for rating in appraisal.downgrades],
        [rating.model_dump() for rating in appraisal.upgrades],
    )
    if finding.strength != result.level:
        check.report(
            study.id,
            (*where, "strength"),
            f"the appraisal gives {result.level} ({result.explained()}), not {finding.strength}",
        )


def _check_domains(check: _Checker, study: Study, appraisal: Appraisal, where: FieldPath) -> None:
    rated: tuple[tuple[str, Sequence[DowngradeRating | UpgradeRating]], ...] = (
        ("downgrades", appraisal.downgrades),
        ("upgrades", appraisal.upgrades),
    )
    for key, ratings in rated:
        seen: set[str] = set()
        for index, rating in enumerate(ratings):
            place = (*where, "appraisal", key, index)
            if rating.domain in seen:
                check.report(
                    study.id, (*place, "domain"), f"{rating.domain} is rated twice; rate it once"
                )
            seen.add(rating.domain)
            if key == "upgrades" and study.type in NOT_UPGRADED:
                check.report(
                    study.id,
                    (*place, "domain"),
                    f"GRADE rates up only non-randomised evidence, not a {study.type}",
                )
            if rating.domain in ONE_LEVEL_ONLY and rating.levels > 1:
                check.report(study.id, (*place, "levels"), f"{rating.domain} moves one level")


def _check_pairs(check: _Checker, study: Study) -> None:
    """One link per study and recommendation, unless each says which claim it bears on."""
    links: dict[str, list[int]] = {}
    for index, finding in enumerate(study.findings):
        links.setdefault(finding.recommendation, []).append(index)
    for recommendation, indexes in links.items():
        if len(indexes) < 2:
            continue
        claims = [study.findings[index].claim for index in indexes]
        if None in claims or len(set(claims)) < len(claims):
            check.report(
                study.id,
                ("findings", indexes[1]),
                f"{len(indexes)} links to {recommendation} from this study; merge them into one, "
                "or give each a different `claim` saying which part it bears on",
                "warning",
            )


# A note that gives a study's design as the reason for a level ("Blog post, hence S1") names
# the design in the clause before "hence/so/→ S<level>". Phrases that name a design plainly,
# longest first; a note naming one that is not the study's type contradicts it.
_DESIGN_PHRASES: list[tuple[str, StudyType]] = [
    ("systematic review", StudyType.SYSTEMATIC_REVIEW),
    ("meta-analysis", StudyType.SYSTEMATIC_REVIEW),
    ("randomised", StudyType.RANDOMISED_TRIAL),
    ("randomized", StudyType.RANDOMISED_TRIAL),
    ("monitoring data", StudyType.STATISTICS),
    ("statistics", StudyType.STATISTICS),
    ("data analysis report", StudyType.STATISTICS),
    ("expert communication", StudyType.EXPERT_COMMUNICATION),
    ("personal communication", StudyType.EXPERT_COMMUNICATION),
    ("guidance", StudyType.POLICY_GUIDANCE),
    ("manifesto", StudyType.POLICY_GUIDANCE),
    ("strategy", StudyType.POLICY_GUIDANCE),
    ("blog", StudyType.COMMENTARY),
    ("commentary", StudyType.COMMENTARY),
    ("magazine", StudyType.COMMENTARY),
    ("qualitative", StudyType.QUALITATIVE),
    ("evidence review", StudyType.REVIEW),
    ("literature review", StudyType.REVIEW),
]
# What ends a reason clause: "hence/so/therefore S<level>" or "→ S<level>". The clause is the
# text before it, back to the sentence's or the previous clause's end. (Found marker first:
# a pattern that scanned forward for the marker from every start was quadratic in a note's
# length, 20 of a 10,000-study check's 48 s.)
_REASON_MARKER = re.compile(r"\b(?:hence|so|therefore)\s+S[0-5]\b|→\s*S[0-5]\b")
_CLAUSE_END = re.compile(r"[.;:]")


def design_given_as_reason(note: str, study_type: StudyType) -> StudyType | None:
    """The design a link's note gives as the reason for its level ("guidance, hence S1") where
    that is not ``study_type``: the note or the study's type is out of date."""
    start = 0
    for match in _REASON_MARKER.finditer(note):
        clause = _CLAUSE_END.split(note[start : match.start()])[-1].lower()
        start = match.end()
        named = [kind for phrase, kind in _DESIGN_PHRASES if phrase in clause]
        if named and study_type not in named:
            return named[0]
    return None


def _check_notes(check: _Checker, study: Study) -> None:
    """Warn when a link's note gives a design as the reason for its level that is not the
    study's type (the note or the type is out of date)."""
    for index, finding in enumerate(study.findings):
        named = design_given_as_reason(finding.note or "", study.type)
        if named is not None:
            check.report(
                study.id,
                ("findings", index, "note"),
                f"the note gives the reason as {named.label.lower()}, but the study's "
                f"type is {study.type}; correct the type or the note",
                "warning",
            )


def _shared_dois(studies: Iterable[tuple[RecordFile, str, str]]) -> Iterator[Problem]:
    """Report a study whose DOI an earlier one has, ignoring case (a DOI names one work)."""
    owners: dict[str, str] = {}
    for record, study_id, doi in studies:
        key = doi.lower()
        if key in owners:
            yield Problem(
                record.path,
                record.line_of(("doi",)),
                study_id,
                "doi",
                f"DOI {doi} is also the DOI of study '{owners[key]}'",
            )
        else:
            owners[key] = study_id


def _check_examples_and_figures(check: _Checker) -> None:
    for example in check.kb.examples.values():
        check.require(example.id, ("source",), example.source, "source")
        for index, study in enumerate(example.studies):
            check.require(example.id, ("studies", index), study, "study")
        for index, rec in enumerate(example.recommendations):
            check.require(example.id, ("recommendations", index), rec, "recommendation")
        check.in_source(example.id, ("quote",), example.quote, example.source)
        check.in_source(
            example.id, ("location", "section"), example.location.section, example.source
        )
    for figure in check.kb.figures.values():
        check.require(figure.id, ("source",), figure.source, "source")
        for index, study in enumerate(figure.studies):
            check.require(figure.id, ("studies", index), study, "study")
        for index, theme in enumerate(figure.themes):
            check.require(figure.id, ("themes", index), theme, "theme")
        check.in_source(figure.id, ("quote",), figure.quote, figure.source)
        check.in_source(figure.id, ("location", "section"), figure.location.section, figure.source)


def _check_evidence_rules(check: _Checker) -> None:
    """Warn about a judgement its evidence links do not bear out (see docs/graph.md); the
    strength of each link is checked with its study (``_check_study``)."""
    findings: dict[str, list[Finding]] = {}
    for *_, finding in check.kb.findings():
        findings.setdefault(finding.recommendation, []).append(finding)
    for rec in check.kb.recommendations.values():
        judgement = rec.evidence_judgement
        if judgement is None:
            continue
        strengths = [finding.strength for finding in findings.get(rec.id, [])]
        unsupported = unsupported_judgement(judgement.level, strengths)
        if unsupported:
            check.report(rec.id, JUDGEMENT_LEVEL, unsupported, "warning")


# Where ``_check_evidence_rules`` reports, and no other check warns.
JUDGEMENT_LEVEL: FieldPath = ("evidence_judgement", "level")


def unsupported_judgement(level: Strength, links: Sequence[Strength]) -> str | None:
    """Why a judgement of ``level`` is not borne out by evidence links of these strengths,
    if it is not: judged S4 or above, with every link S1 or below."""
    if level.rank >= 4 and links and all(strength.rank <= 1 for strength in links):
        return f"judged {level}, but all {len(links)} of its evidence links are S1 or below"
    return None


def _unique_ids(records: Iterable[tuple[RecordFile, str, FieldPath]]) -> Iterator[Problem]:
    """Report IDs used twice, ignoring case (they become URLs and file names): records',
    evidence links', removed records' and former IDs alike (``_clash`` says how)."""
    first: dict[str, tuple[RecordFile, FieldPath]] = {}
    for record, record_id, location in records:
        key = record_id.lower()
        if key in first:
            yield Problem(
                record.path,
                record.line_of(location),
                record.record_id,
                format_field(location),
                _clash(record_id, record, location, *first[key]),
            )
        else:
            first[key] = (record, location)


def _clash(
    record_id: str,
    record: RecordFile,
    location: FieldPath,
    earlier: RecordFile,
    earlier_location: FieldPath,
) -> str:
    """Why an ID cannot be used where it is, given where it was used first."""
    if location[:1] == ("former_ids",):
        if earlier.path == record.path and earlier_location == ("id",):
            return "a record's former IDs cannot include its own ID"
        if earlier.kind == "removal" and earlier_location == ("id",):
            return (
                f"'{record_id}' is the ID of a removed record ({earlier.path}); an old ID either "
                "leads to the record it became or says it was removed, not both"
            )
        if earlier_location[:1] == ("former_ids",):
            return (
                f"'{record_id}' is already a former ID of {earlier.record_id} ({earlier.path}); "
                "an old ID leads to one record"
            )
        return (
            f"'{record_id}' is in use ({earlier.path}), so it cannot be a former ID: it would "
            "no longer lead here. Remove it from former_ids, or rename that record"
        )
    if earlier_location[:1] == ("former_ids",):
        return (
            f"ID '{record_id}' is a former ID of {earlier.record_id} ({earlier.path}) and still "
            "leads there; choose another ID"
        )
    if earlier.kind == "removal":
        return (
            f"ID '{record_id}' belonged to a removed record ({earlier.path}), whose old page says "
            "so; choose another ID"
        )
    if record.kind == "removal" and location == ("id",):
        return (
            f"'{record_id}' is marked removed, but {earlier.path} has that ID; delete this file "
            "if the ID was given to a new record on purpose"
        )
    return f"ID '{record_id}' is already used in {earlier.path}"


def _record_ids(record: RecordFile, model: Record) -> list[tuple[RecordFile, str, FieldPath]]:
    """The IDs a record uses: its own, then its evidence links', then its former IDs."""
    record_id: str = model.id  # type: ignore[attr-defined]
    ids: list[tuple[RecordFile, str, FieldPath]] = [(record, record_id, ("id",))]
    if isinstance(model, Study):
        ids.extend(
            (record, finding.id, ("findings", index, "id"))
            for index, finding in enumerate(model.findings)
        )
    former: list[str] = getattr(model, "former_ids", [])
    ids.extend((record, old, ("former_ids", index)) for index, old in enumerate(former))
    return ids


def _in_check_order(
    ids: list[tuple[RecordFile, str, FieldPath]],
) -> list[tuple[RecordFile, str, FieldPath]]:
    """Records' own IDs first, so a clashing evidence link is reported rather than its target;
    each group in the records' order."""
    return sorted(ids, key=lambda entry: entry[2] != ("id",))


def _dropped(duplicates: list[Problem]) -> set[str]:
    """Files whose record's own ID is already used: their records are left out."""
    return {problem.path for problem in duplicates if problem.field == "id"}


def _misnamed(record: RecordFile, record_id: str) -> Problem | None:
    """The problem of a file not named for its record's ID, if it is not."""
    if Path(record.path).stem == record_id:
        return None
    return Problem(
        record.path,
        record.line_of(("id",)),
        record_id,
        "id",
        f"file name must be the ID: rename to {record_id}.yaml",
    )


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

    ids = [entry for record, model in valid for entry in _record_ids(record, model)]
    duplicates = list(_unique_ids(_in_check_order(ids)))
    problems.extend(duplicates)
    dropped = _dropped(duplicates)

    for record, model in valid:
        record_id: str = model.id  # type: ignore[attr-defined]
        misnamed = _misnamed(record, record_id)
        if misnamed is not None:
            problems.append(misnamed)
            continue
        if record.path in dropped:
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


def check_record(
    root: Path, record: RecordFile, others: OtherRecords
) -> tuple[Study | None, list[Problem]]:
    """Validate one study record against the others, without reading them all.

    Runs the checks of ``validate_records`` that concern the record, with what they need to
    know of the other records taken from ``others`` (IDs in use, references, source texts,
    DOIs). The problems are those ``validate_records`` reports for the record's file, in the
    same words, when the file comes after every other (as when ``kb add`` changes it). Any that
    land in another file are returned too (a source text that cannot be read; an evidence link
    elsewhere with the record's own ID, which ``kb check`` reports there), so a caller can tell
    that the change reaches beyond the record. Returns the study when it is valid enough to be
    stored, and the problems, sorted.
    """
    if record.kind != "study":
        raise ValueError(f"only a study is checked on its own, not a {record.kind}")
    try:
        study = Study.model_validate(record.data)
    except ValidationError as error:
        return None, sorted(_schema_problems(record, error))
    own = _record_ids(record, study)
    known = others.same_ids({record_id.lower() for _, record_id, _ in own})
    problems = list(_unique_ids(_in_check_order([*known, *own])))
    misnamed = _misnamed(record, study.id)
    if misnamed is not None or record.path in _dropped(problems):
        return None, sorted([*problems, *([misnamed] if misnamed else [])])
    kb = KnowledgeBase(root=root, studies={study.id: study}, files={study.id: record})
    check = _Checker(kb, others)
    _check_study(check, study)
    if study.doi:
        same_doi = others.same_doi(study.doi.lower())
        check.problems.extend(_shared_dois([*same_doi, (record, study.id, study.doi)]))
    return study, sorted(problems + check.problems)
