"""The export document's shape: one typed entry per record, as every later step reads it.

Validation gives pydantic models (``kb.records.models``) and the store keeps them as flat tables;
from the store on, the graph, the search index, the pages and the briefs all read the one
document ``kb.store.export.export_document`` gives, whose entries these ``TypedDict`` classes
describe key by key, so the type checker holds every reader to the keys the document has.
They live with the records, not the store, because every step reads them (citations too,
which come before the store).

They are dictionaries rather than classes because the document is also the public JSON
download (``kb export``): its keys, their order and their values are the interface, and a
dictionary is what ``json.dumps`` writes as it is. Add keys here and in ``export``; never rename
or remove them.
"""

from collections.abc import Mapping, Sequence
from typing import Any, Literal, TypedDict


class LocationEntry(TypedDict):
    """Where in a source a passage is: its section's heading and, where known, its page."""

    section: str
    page: int | None


class SourceEntry(TypedDict):
    id: str
    former_ids: list[str]
    title: str
    authors: list[str]
    publisher: str | None
    year: int
    date: str | None
    series: str | None
    licence: str | None
    url: str | None
    text: str | None
    reference: str | None
    note: str | None


class ThemeEntry(TypedDict):
    id: str
    former_ids: list[str]
    title: str
    parent: str | None
    source: str
    location: LocationEntry
    note: str | None


class HeadlineEntry(TypedDict):
    """The level a statement is shown with (``kb.records.levels.Headline``)."""

    level: str | None
    label: str
    reason: str
    source_level: str | None
    source_basis: str | None
    explanation: str
    flagged: bool


class JudgementEntry(TypedDict):
    """The source's own judgement of a recommendation's evidence."""

    level: str
    basis: str
    quote: str
    location: LocationEntry | None
    note: str | None


class RecommendationEntry(TypedDict):
    id: str
    former_ids: list[str]
    kind: str
    title: str
    title_cy: str | None
    statement: str
    themes: list[str]
    source: str
    strength: str | None  # the headline level; None: not judged
    headline: HeadlineEntry
    location: LocationEntry
    position: int | None
    addressed_to: list[str]
    involves: list[str]
    wording: str | None
    responds_to: list[str]
    area_of_focus: list[str]
    evidence_judgement: JudgementEntry | None
    note: str | None


class StudyEntry(TypedDict):
    id: str
    former_ids: list[str]
    authors: list[str]
    year: int | None
    title: str | None
    container: str | None
    volume: str | None
    issue: str | None
    pages: str | None
    publisher: str | None
    url: str | None
    doi: str | None
    type: str
    setting: list[str]
    reference: str | None
    cited_as: list[str]
    in_reference_list: bool
    text: str | None
    text_part: str | None
    note: str | None
    doi_url: str | None


class RatingEntry(TypedDict):
    """One GRADE domain that moved an appraisal's level, by how many levels and why."""

    domain: str
    levels: int
    reason: str


class AppraisalEntry(TypedDict):
    """A reviewer's reading of a study (``kb.records.models.Appraisal``)."""

    design: str
    population: str
    setting: str
    sample_size: str | None
    downgrades: list[RatingEntry]
    upgrades: list[RatingEntry]
    rationale: str


class EvidenceEntry(TypedDict):
    id: str
    study: str
    recommendation: str
    claim: str | None
    relation: str
    strength: str
    direction: str
    horizon: str
    summary: str
    basis: str
    quote: str
    quote_unchecked: bool
    source: str | None
    location: LocationEntry | None
    appraisal: AppraisalEntry | None
    above_ceiling: str | None
    recorded_by: str
    recorded_on: str
    note: str | None


class ExampleEntry(TypedDict):
    id: str
    name: str
    description: str
    place: str | None
    sector: str | None
    evaluation_status: str
    quote: str
    url: str | None
    note: str | None
    former_ids: list[str]
    source: str
    location: LocationEntry
    studies: list[str]
    recommendations: list[str]


class FigureEntry(TypedDict):
    id: str
    title: str
    value: str
    quote: str
    note: str | None
    former_ids: list[str]
    source: str
    location: LocationEntry
    studies: list[str]
    themes: list[str]


class RemovedEntry(TypedDict):
    """A removed record's tombstone (``kb.records.models.Removal``)."""

    id: str
    type: str
    title: str
    removed_on: str
    removed_by: str | None
    reason: str
    former_ids: list[str]


class Document(TypedDict):
    """The whole knowledge base: each kind of record's entries, sorted by ID."""

    sources: list[SourceEntry]
    themes: list[ThemeEntry]
    recommendations: list[RecommendationEntry]
    studies: list[StudyEntry]
    evidence: list[EvidenceEntry]
    examples: list[ExampleEntry]
    figures: list[FigureEntry]
    removed: list[RemovedEntry]


# Any one entry, where a step handles records of every kind alike (an ID, a title, a file).
Entry = (
    SourceEntry
    | ThemeEntry
    | RecommendationEntry
    | StudyEntry
    | EvidenceEntry
    | ExampleEntry
    | FigureEntry
    | RemovedEntry
)


# The document's keys: where each kind of record's entries are.
DocumentKey = Literal[
    "sources", "themes", "recommendations", "studies", "evidence", "examples", "figures", "removed"
]

# The same, in the document's order.
DOCUMENT_KEYS: tuple[DocumentKey, ...] = (
    "sources", "themes", "recommendations", "studies", "evidence", "examples", "figures", "removed"
)  # fmt: skip


def entries(document: Document, key: DocumentKey) -> Sequence[Mapping[str, Any]]:
    """The entries under one key chosen at run time, as read-only mappings: for the steps that
    treat every kind of record alike (finding a record by ID, comparing two versions)."""
    return document[key]
