"""The one schema: the record files' models and the SQLite tables built from them.

Record models describe what reviewers write in YAML and reject anything else (unknown keys,
wrong types, values outside a vocabulary). Table models describe the store. Their vocabularies
(strength levels, study types, labels) are in ``kb.records.vocabularies``, which needs neither
pydantic nor SQLModel. Every step after the store reads the records back in one typed shape,
``kb.records.document``.

Why a record and its table are two classes, not one SQLModel class: a record file nests (a
study holds its findings, a finding its location and appraisal, a recommendation its themes and
the source's judgement), while the store is flat and relational (a column per field, a join
table per list of IDs), and SQLModel's ``table=True`` classes do not validate on creation, so
one class could not both refuse a bad record file and be a table.
"""

import re
from datetime import date
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
)
from pydantic_core import PydanticCustomError
from sqlalchemy import JSON, Column, ForeignKey, String
from sqlmodel import Field as TableField
from sqlmodel import SQLModel

from kb.records.types import ID_PATTERN as ID_PATTERN
from kb.records.vocabularies import (
    Basis,
    Direction,
    Downgrade,
    EvaluationStatus,
    Horizon,
    JudgementBasis,
    RecommendationKind,
    RecordType,
    Relation,
    Strength,
    StudyType,
    TextPart,
    Upgrade,
    Wording,
    control_character_message,
)

# --- Field types ------------------------------------------------------------------------------

DOI_PATTERN = re.compile(r"^10\.\d{4,9}/\S+$")
_DOI_PREFIX = re.compile(r"^(?:https?://(?:dx\.)?doi\.org/|doi:\s*)", re.IGNORECASE)
# The largest whole number a record may hold: well inside SQLite's 64-bit integers.
MAX_WHOLE_NUMBER = 999_999_999
_DIGITS = re.compile(r"[0-9]{1,9}")
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
# Characters RFC 3986 never allows unescaped in an address; some end an HTML attribute or a
# Markdown link, so a record has to percent-encode them.
_URL_UNSAFE = re.compile(r'[\s"<>\\^`{|}]')


def _plain_text(value: str) -> str:
    message = control_character_message(value)
    if message:
        raise ValueError(message)
    return value


def _whole_number(value: Any) -> Any:
    """Whole numbers are written with the digits 0-9 only: no sign, ``_``, exponent or point."""
    if isinstance(value, str) and not _DIGITS.fullmatch(value):
        raise PydanticCustomError(  # pydantic's own wording, which it gives for "1e3" too
            "int_parsing", "Input should be a valid integer, unable to parse string as an integer"
        )
    return value


def _check_url(value: str) -> str:
    if not re.fullmatch(r"https?://[^\s/$.?#][^\s]*", value, re.IGNORECASE):
        raise ValueError("must be an http:// or https:// address with no spaces")
    unsafe = _URL_UNSAFE.search(value)
    if unsafe:
        character = unsafe.group()
        raise ValueError(f"must percent-encode {character!r} (write it as %{ord(character):02X})")
    return value


def normalise_doi(value: str) -> str:
    """Return a DOI without resolver prefix, as written; its match key is the lower-case form."""
    return _DOI_PREFIX.sub("", value.strip())


def _check_doi(value: str) -> str:
    doi = normalise_doi(value)
    if not DOI_PATTERN.fullmatch(doi):
        raise ValueError("must look like 10.NNNN/suffix (a resolver prefix is allowed)")
    return doi


def _check_year(value: int) -> int:
    latest = date.today().year + 1
    if not 1800 <= value <= latest:
        raise ValueError(f"must be between 1800 and {latest}")
    return value


def _iso_date(value: Any) -> Any:
    """Dates are written YYYY-MM-DD, and nothing else (pydantic would take a number too)."""
    if isinstance(value, str) and not _ISO_DATE.fullmatch(value):
        raise ValueError("must be a date written YYYY-MM-DD")
    if isinstance(value, int | float):
        raise ValueError("must be a date written YYYY-MM-DD")
    return value


# A day known to be today or past: dates up to it need no call of ``date.today()``, which costs
# 10 µs, 0.4 s of a 10,000-study check (40,000 dates). Days only go forward, so it stays true.
_known_past = date.min


def _check_date(value: date) -> date:
    global _known_past
    if value > _known_past:
        today = date.today()
        if value > today:
            raise ValueError("must not be in the future")
        _known_past = today
    if value.year < 1800:
        raise ValueError("must be after 1800")
    return value


def _check_relative_path(value: str) -> str:
    parts = value.split("/")
    if value.startswith("/") or "\\" in value or ":" in parts[0] or ".." in parts:
        raise ValueError(
            "must be a path inside the knowledge base, from its root, with / between folders "
            "and no .. (e.g. evidence/sources/report.txt)"
        )
    return value


def _distinct(values: list[str]) -> list[str]:
    seen: set[str] = set()
    for value in values:
        if value in seen:
            raise ValueError(f"lists '{value}' twice")
        seen.add(value)
    return values


PlainText = AfterValidator(_plain_text)
RecordId = Annotated[str, StringConstraints(pattern=ID_PATTERN.pattern)]
RecordIds = Annotated[list[RecordId], AfterValidator(_distinct)]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1), PlainText]
Url = Annotated[
    str, StringConstraints(strip_whitespace=True), PlainText, AfterValidator(_check_url)
]
Doi = Annotated[str, PlainText, AfterValidator(_check_doi)]
RelativePath = Annotated[Text, AfterValidator(_check_relative_path)]
WholeNumber = Annotated[int, BeforeValidator(_whole_number), Field(ge=1, le=MAX_WHOLE_NUMBER)]
Year = Annotated[int, BeforeValidator(_whole_number), AfterValidator(_check_year)]
Date = Annotated[date, BeforeValidator(_iso_date), AfterValidator(_check_date)]


FormerIds = RecordIds
FORMER_IDS = (
    "IDs this record had before: renamed by `kb mv`, or records merged into it. Each still "
    "finds it: `kb show OLD-ID`, and the old page's address leads here."
)


class Record(BaseModel):
    """Common settings: unknown keys are errors, and strings are never coerced from numbers."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Location(Record):
    """Where in a source a statement or quote comes from."""

    section: Text = Field(description="Heading of the section, as printed in the source.")
    page: WholeNumber | None = Field(None, description="Page number, where known.")


# --- Record models -----------------------------------------------------------------------


class Source(Record):
    """A report the knowledge base synthesises."""

    id: RecordId
    former_ids: FormerIds = Field(default_factory=list, description=FORMER_IDS)
    title: Text
    authors: list[Text] = Field(default_factory=list, description="People as 'Family, I.'.")
    publisher: Text | None = None
    year: Year
    date: Text | None = Field(None, description="Publication date as printed.")
    series: RecordId | None = Field(None, description="Slug shared by reports of one series.")
    licence: Text | None = None
    url: Url | None = None
    text: RelativePath | None = Field(None, description="Path of the full text, from the root.")
    reference: Text | None = Field(None, description="How the source is cited, verbatim.")
    note: Text | None = None


class Theme(Record):
    """A section of a source; themes nest through ``parent``."""

    id: RecordId
    former_ids: FormerIds = Field(default_factory=list, description=FORMER_IDS)
    title: Text
    parent: RecordId | None = None
    source: RecordId
    location: Location
    note: Text | None = None


class EvidenceJudgement(Record):
    """The source's overall judgement of a recommendation's evidence, as the source states it
    or as we infer it from the source's words (``basis`` says which)."""

    level: Strength
    basis: JudgementBasis = Field(
        description="`stated` when the source itself judges this evidence; `inferred` when it "
        "is our reading of nearby text."
    )
    quote: Text = Field(description="Verbatim passage of the source that states or grounds it.")
    location: Location | None = None
    note: Text | None = None


class Recommendation(Record):
    """A recommendation (or key message, recurring recommendation, government action)."""

    id: RecordId
    former_ids: FormerIds = Field(default_factory=list, description=FORMER_IDS)
    kind: RecommendationKind = RecommendationKind.RECOMMENDATION
    title: Text = Field(description="Short title in our own words.")
    title_cy: Text | None = Field(
        None,
        description="The short title in Welsh, our own words written by a Welsh speaker (never "
        "a translation of the source's words): the Welsh site shows and searches it.",
    )
    statement: Text = Field(description="The statement verbatim from the source.")
    source: RecordId
    themes: RecordIds = Field(min_length=1)
    location: Location
    position: WholeNumber | None = Field(None, description="Place in its list, from 1.")
    addressed_to: list[Text] = Field(
        default_factory=list,
        description="Who the source asks to act, only where it says so; empty when it does not.",
    )
    involves: list[Text] = Field(
        default_factory=list,
        description="Who is to be involved, engaged, consulted, funded or supported, in the "
        "source's words.",
    )
    wording: Wording | None = Field(
        None, description="Our reading of the wording; never a grade of the evidence."
    )
    responds_to: RecordIds = Field(
        default_factory=list, description="Recurring recommendations this one answers."
    )
    area_of_focus: list[Text] = Field(
        default_factory=list, description="For recurring recommendations: verbatim questions."
    )
    evidence_judgement: EvidenceJudgement | None = None
    note: Text | None = None


_RatingLevels = Annotated[int, BeforeValidator(_whole_number), Field(ge=1, le=2)]


class DowngradeRating(Record):
    """A reason to rate the evidence down, by how many levels and why."""

    domain: Downgrade
    levels: _RatingLevels = Field(description="1 for a serious concern, 2 for a very serious one.")
    reason: Text


class UpgradeRating(Record):
    """A reason to rate non-randomised evidence up, by how many levels and why."""

    domain: Upgrade
    levels: _RatingLevels = Field(description="1, or 2 for a very large effect.")
    reason: Text


class Appraisal(Record):
    """A reviewer's structured reading of a study itself, in the manner of GRADE."""

    design: Text = Field(description="What the study did, in our words.")
    population: Text = Field(description="Who was studied.")
    setting: Text = Field(description="Where and in what kind of service or organisation.")
    sample_size: Text | None = Field(None, description="As the study states it, where it does.")
    downgrades: list[DowngradeRating] = Field(
        default_factory=list, description="Each domain that lowered the level."
    )
    upgrades: list[UpgradeRating] = Field(
        default_factory=list, description="Each domain that raised the level."
    )
    rationale: Text = Field(description="Why the evidence bears on the recommendation as rated.")


class Finding(Record):
    """What one study says about one recommendation: an evidence link."""

    id: RecordId
    recommendation: RecordId
    claim: Text | None = Field(
        None,
        description="Which part of the recommendation the link bears on; needed when a study "
        "has more than one link to the same recommendation.",
    )
    relation: Relation
    strength: Strength
    direction: Direction
    horizon: Horizon
    summary: Text = Field(description="One sentence in our own words.")
    basis: Basis = Field(
        description="`source`: what a source report says of the study; `appraisal`: a "
        "reviewer's own reading of the study."
    )
    quote: Text = Field(
        description="Verbatim passage: of the source report (basis source) or of the study's "
        "held text (basis appraisal)."
    )
    quote_unchecked: bool = Field(
        False,
        description="True when the quote's text is not held, so it cannot be checked; `kb "
        "check` warns and the site says so.",
    )
    source: RecordId | None = Field(None, description="The source report quoted (basis source).")
    location: Location | None = Field(
        None, description="Where the quote is: required for basis source."
    )
    appraisal: Appraisal | None = Field(None, description="Required for basis appraisal.")
    above_ceiling: Text | None = Field(
        None,
        description="Why a source link is rated above its study type's usual ceiling, in the "
        "source's words where possible.",
    )
    recorded_by: Text = Field(description="Who encoded or appraised the link.")
    recorded_on: Date = Field(description="When, as YYYY-MM-DD.")
    note: Text | None = None


class Study(Record):
    """An item of evidence: a paper, review, report, blog, dataset or communication."""

    id: RecordId
    former_ids: FormerIds = Field(default_factory=list, description=FORMER_IDS)
    authors: list[Text] = Field(default_factory=list, description="People as 'Family, I.'.")
    year: Year | None = None
    title: Text | None = None
    container: Text | None = Field(None, description="Journal, publisher, book or website.")
    volume: Text | None = None
    issue: Text | None = None
    pages: Text | None = None
    publisher: Text | None = None
    url: Url | None = None
    doi: Doi | None = None
    type: StudyType
    setting: list[Text] = Field(default_factory=list, description="Countries or UK nations.")
    reference: Text | None = Field(None, description="The reference-list entry verbatim.")
    cited_as: list[Text] = Field(default_factory=list, description="In-text citation forms.")
    in_reference_list: bool = True
    text: RelativePath | None = Field(
        None, description="Path of the study's held text (abstract or excerpt), from the root."
    )
    text_part: TextPart | None = Field(None, description="What the held text is; needed with text.")
    note: Text | None = None
    findings: list[Finding] = Field(default_factory=list)


class Example(Record):
    """A named initiative the source presents as practice."""

    id: RecordId
    former_ids: FormerIds = Field(default_factory=list, description=FORMER_IDS)
    name: Text
    description: Text = Field(description="One sentence in our own words.")
    place: Text | None = None
    sector: Text | None = None
    evaluation_status: EvaluationStatus
    quote: Text
    source: RecordId
    location: Location
    url: Url | None = None
    studies: RecordIds = Field(default_factory=list)
    recommendations: RecordIds = Field(default_factory=list)
    note: Text | None = None


class Figure(Record):
    """A key figure quoted in a source, with the work it cites."""

    id: RecordId
    former_ids: FormerIds = Field(default_factory=list, description=FORMER_IDS)
    title: Text = Field(description="What the figure measures, in our own words.")
    value: Text
    quote: Text
    source: RecordId
    location: Location
    studies: RecordIds = Field(default_factory=list)
    themes: RecordIds = Field(default_factory=list)
    note: Text | None = None


class Removal(Record):
    """A record taken out of the knowledge base (`kb rm`): its page stays, saying that it was
    removed, when and why. One file per removed record, named after its ID."""

    id: RecordId
    former_ids: FormerIds = Field(default_factory=list, description="The record's own former IDs.")
    type: RecordType = Field(description="What kind of record it was.")
    title: Text = Field(description="What it was, as its page named it (a study: its reference).")
    removed_on: Date = Field(description="When, as YYYY-MM-DD.")
    removed_by: Text | None = Field(None, description="Who removed it.")
    reason: Text = Field(description="Why, in words a reader of the site understands.")


RECORD_MODELS: dict[str, type[Record]] = {
    "source": Source,
    "theme": Theme,
    "recommendation": Recommendation,
    "study": Study,
    "example": Example,
    "figure": Figure,
    "removal": Removal,
}

# --- Tables ------------------------------------------------------------------------------------


def _json_column() -> Any:
    return TableField(default_factory=list, sa_column=Column(JSON, nullable=False))


def _reference(table_column: str, nullable: bool = False) -> Any:
    return TableField(
        default=None,
        sa_column=Column(String, ForeignKey(table_column), nullable=nullable, index=True),
    )


class Origin(SQLModel):
    """Where a row's record lives on disk, so any later step can point a reviewer at it."""

    file: str
    line: int
    digest: str = TableField(description="Hash of the record's content, for incremental updates.")


class SourceRow(Origin, table=True):
    __tablename__ = "source"
    id: str = TableField(primary_key=True)
    title: str
    authors: list[str] = _json_column()
    publisher: str | None = None
    year: int
    date: str | None = None
    series: str | None = None
    licence: str | None = None
    url: str | None = None
    text_path: str | None = None
    reference: str | None = None
    note: str | None = None


class ThemeRow(Origin, table=True):
    __tablename__ = "theme"
    id: str = TableField(primary_key=True)
    title: str
    parent_id: str | None = _reference("theme.id", nullable=True)
    source_id: str = _reference("source.id")
    section: str
    page: int | None = None
    note: str | None = None


class RecommendationRow(Origin, table=True):
    __tablename__ = "recommendation"
    id: str = TableField(primary_key=True)
    kind: str = TableField(index=True)
    title: str
    title_cy: str | None = None
    statement: str
    source_id: str = _reference("source.id")
    section: str
    page: int | None = None
    position: int | None = None
    addressed_to: list[str] = _json_column()
    involves: list[str] = _json_column()
    wording: str | None = None
    area_of_focus: list[str] = _json_column()
    judgement_level: str | None = TableField(default=None, index=True)
    judgement_basis: str | None = None
    judgement_quote: str | None = None
    judgement_section: str | None = None
    judgement_page: int | None = None
    judgement_note: str | None = None
    note: str | None = None


class RecommendationThemeRow(SQLModel, table=True):
    __tablename__ = "recommendation_theme"
    recommendation_id: str = TableField(foreign_key="recommendation.id", primary_key=True)
    theme_id: str = TableField(foreign_key="theme.id", primary_key=True, index=True)
    rank: int = 0


class RecommendationResponseRow(SQLModel, table=True):
    __tablename__ = "recommendation_response"
    recommendation_id: str = TableField(foreign_key="recommendation.id", primary_key=True)
    recurring_id: str = TableField(foreign_key="recommendation.id", primary_key=True, index=True)


class StudyRow(Origin, table=True):
    __tablename__ = "study"
    id: str = TableField(primary_key=True)
    authors: list[str] = _json_column()
    year: int | None = TableField(default=None, index=True)
    title: str | None = None
    container: str | None = None
    volume: str | None = None
    issue: str | None = None
    pages: str | None = None
    publisher: str | None = None
    url: str | None = None
    doi: str | None = None
    doi_key: str | None = TableField(default=None, index=True)
    type: str = TableField(index=True)
    setting: list[str] = _json_column()
    reference: str | None = None
    cited_as: list[str] = _json_column()
    in_reference_list: bool = True
    text_path: str | None = None
    text_part: str | None = None
    note: str | None = None


class EvidenceRow(SQLModel, table=True):
    __tablename__ = "evidence"
    id: str = TableField(primary_key=True)
    study_id: str = TableField(foreign_key="study.id", index=True)
    recommendation_id: str = TableField(foreign_key="recommendation.id", index=True)
    claim: str | None = None
    relation: str
    strength: str = TableField(index=True)
    direction: str
    horizon: str
    summary: str
    basis: str = TableField(index=True)
    quote: str
    quote_unchecked: bool = False
    source_id: str | None = TableField(default=None, foreign_key="source.id")
    section: str | None = None
    page: int | None = None
    appraisal: dict[str, Any] | None = TableField(
        default=None, sa_column=Column(JSON, nullable=True)
    )
    above_ceiling: str | None = None
    recorded_by: str
    recorded_on: str
    note: str | None = None
    line: int
    rank: int = 0


class ExampleRow(Origin, table=True):
    __tablename__ = "example"
    id: str = TableField(primary_key=True)
    name: str
    description: str
    place: str | None = None
    sector: str | None = None
    evaluation_status: str
    quote: str
    source_id: str = TableField(foreign_key="source.id")
    section: str
    page: int | None = None
    url: str | None = None
    note: str | None = None


class ExampleStudyRow(SQLModel, table=True):
    __tablename__ = "example_study"
    example_id: str = TableField(foreign_key="example.id", primary_key=True)
    study_id: str = TableField(foreign_key="study.id", primary_key=True, index=True)


class ExampleRecommendationRow(SQLModel, table=True):
    __tablename__ = "example_recommendation"
    example_id: str = TableField(foreign_key="example.id", primary_key=True)
    recommendation_id: str = TableField(
        foreign_key="recommendation.id", primary_key=True, index=True
    )


class FigureRow(Origin, table=True):
    __tablename__ = "figure"
    id: str = TableField(primary_key=True)
    title: str
    value: str
    quote: str
    source_id: str = TableField(foreign_key="source.id")
    section: str
    page: int | None = None
    note: str | None = None


class FigureStudyRow(SQLModel, table=True):
    __tablename__ = "figure_study"
    figure_id: str = TableField(foreign_key="figure.id", primary_key=True)
    study_id: str = TableField(foreign_key="study.id", primary_key=True, index=True)


class FigureThemeRow(SQLModel, table=True):
    __tablename__ = "figure_theme"
    figure_id: str = TableField(foreign_key="figure.id", primary_key=True)
    theme_id: str = TableField(foreign_key="theme.id", primary_key=True, index=True)


class FormerIdRow(SQLModel, table=True):
    """An ID a record had before (``former_ids``), and the record it leads to now."""

    __tablename__ = "former_id"
    id: str = TableField(primary_key=True)
    record_type: str  # a ``RecordType``, or ``removal`` for a removed record's own former ID
    record_id: str = TableField(index=True)
    rank: int = 0  # its place in the record's list
    file: str = TableField(index=True)  # the file of the record listing it


class RecordFileRow(SQLModel, table=True):
    """A record file whose rows the store holds, with the digest of what they were made from:
    the file's bytes and the code that read and stored them. A build replaces only the rows of
    files whose digest changed (``kb.store.database.update_store``). Not in the downloaded
    copy: it describes this store, not the records. A file has a digest here only while the
    store also holds its warnings (``ProblemRow``)."""

    __tablename__ = "record_file"
    path: str = TableField(primary_key=True)
    digest: str


class ProblemRow(SQLModel, table=True):
    """A warning the last full check found (an error stops the build): what a build that
    checks only the changed files against the store reports for the others. Not in the
    downloaded copy, with ``RecordFileRow``."""

    __tablename__ = "problem"
    id: int | None = TableField(default=None, primary_key=True)
    path: str = TableField(index=True)
    line: int
    record_id: str
    field: str
    message: str
    severity: str


class RemovedRow(Origin, table=True):
    """A removed record's tombstone (``Removal``)."""

    __tablename__ = "removed"
    id: str = TableField(primary_key=True)
    type: str
    title: str
    removed_on: str
    removed_by: str | None = None
    reason: str
