"""One record in words, for people: what ``kb show`` prints (``kb show --json`` gives it all).

A statement (a recommendation, key message…) is shown as a policy writer reads it: its
words, its headline strength and what that means (``kb.brief.content``), its evidence grouped
by relation with each link's level, its practice examples, the statements related to it
(``kb.graph.related``, ranked as ``kb.graph.evidence.related_recommendations`` ranks them on its
page), and its citation. Any other record shows its title, its citation and quote
(``kb.references.record_citations``), its main fields, and the records that refer to it. Plain text
throughout: no Markdown markers.
"""

from collections.abc import Iterator, Mapping
from typing import Any

from kb.brief.content import basis_words, strength_in_words
from kb.brief.records import Records
from kb.brief.text import one_line
from kb.graph.related import Related
from kb.records.document import Document, EvidenceEntry, RecommendationEntry
from kb.records.levels import rank
from kb.records.vocabularies import LABELS, Relation
from kb.references.citations import short_citation
from kb.references.record_citations import RecordCitations
from kb.store.describe import Described, Referrer

Row = Mapping[str, Any]  # a record of any type but a statement, shown field by field
# The fields a record of each other type is shown with, in this order, with their labels.
_FIELDS = {
    "source": [("publisher", "Publisher"), ("year", "Year"), ("licence", "Licence")],
    "theme": [("parent", "Part of")],
    "study": [("type", "Type"), ("setting", "Setting"), ("doi", "DOI"), ("url", "Address")],
    "evidence": [
        ("study", "Study"),
        ("recommendation", "Bears on"),
        ("relation", "Relation"),
        ("strength", "Level"),
        ("direction", "Direction of effect"),
        ("horizon", "Time horizon"),
        ("summary", "Our summary"),
    ],
    "example": [
        ("evaluation_status", "Evaluation"),
        ("description", "Our summary"),
        ("place", "Place"),
        ("sector", "Sector"),
        ("recommendations", "Illustrates"),
        ("studies", "Cites"),
    ],
    "figure": [("value", "Value"), ("themes", "Themes"), ("studies", "Cites")],
}
_VOCABULARY_FIELDS = {"type", "relation", "direction", "horizon", "evaluation_status"}


def _value(field: str, value: Any) -> str:
    if isinstance(value, list):
        return "; ".join(one_line(item) for item in value)
    if field in _VOCABULARY_FIELDS:
        label: str = LABELS.get(value, value)
        return label
    return one_line(value)


def _title(record_type: str, row: Row) -> str:
    if record_type == "study":
        return short_citation(row["authors"], row["year"], row.get("title") or row["id"])
    if record_type == "evidence":
        return f"{row['study']} → {row['recommendation']}"
    return one_line(row.get("title") or row.get("name") or row["id"])


def _evidence_lines(records: Records, links: list[EvidenceEntry]) -> Iterator[str]:
    """The links grouped by relation (supports first), strongest first within each."""
    studies = {link["study"] for link in links}
    yield (
        f"Evidence: {len(links)} link{'s' if len(links) != 1 else ''} from {len(studies)} "
        f"stud{'y' if len(studies) == 1 else 'ies'}"
        if links
        else "Evidence: no evidence link is recorded"
    )
    for relation in Relation:
        group = [link for link in links if link["relation"] == relation]
        if not group:
            continue
        yield f"  {relation.label} ({len(group)})"
        for link in sorted(group, key=lambda link: (-rank(link["strength"]), link["study"])):
            study = records.studies[link["study"]]
            cited = short_citation(study["authors"], study["year"], study["title"] or "")
            level = f"{link['strength']} {LABELS[link['strength']]}"
            yield f"    {level:<20} {cited}: {one_line(link['summary'])} [{link['id']}]"


def _statement_lines(
    records: Records, citations: RecordCitations, rec: RecommendationEntry, related: list[Related]
) -> Iterator[str]:
    links = records.evidence_of[rec["id"]]
    kind = LABELS[rec["kind"]]
    yield f"{kind} {rec['id']}: {one_line(rec['title'])}"
    yield ""
    for paragraph in rec["statement"].split("\n\n"):
        if paragraph.strip():
            yield f"“{one_line(paragraph)}”"
    yield ""
    strength = strength_in_words(rec, len(links))
    yield f"Strength of evidence: {strength.words}. {strength.meaning}"
    if strength.reason:
        yield f"  {strength.reason}"
    if rec["headline"]["explanation"]:
        yield f"  {one_line(rec['headline']['explanation'])}"
    yield ""
    yield from _evidence_lines(records, links)
    yield ""
    examples = records.examples_of[rec["id"]]
    yield f"Practice examples: {len(examples)}" if examples else "Practice examples: none linked"
    for example in examples:
        status = LABELS[example["evaluation_status"]].lower()
        yield f"  {one_line(example['name'])} ({status}) [{example['id']}]"
    yield ""
    yield "Related"
    themes = "; ".join(f"{one_line(records.themes[t]['title'])} [{t}]" for t in rec["themes"])
    yield f"  Themes: {themes}"
    for label, targets in (
        ("Responds to", rec["responds_to"]),
        (
            "Answered by",
            [
                other["id"]
                for other in records.recommendations.values()
                if rec["id"] in other["responds_to"]
            ],
        ),
    ):
        for target in targets:
            yield f"  {label}: {one_line(records.recommendations[target]['title'])} [{target}]"
    for other in related:
        studies, examples_shared = len(other["shared_studies"]), len(other["shared_examples"])
        parts = [
            f"{studies} supporting stud{'y' if studies == 1 else 'ies'}" if studies else "",
            f"{examples_shared} practice example{'s' if examples_shared != 1 else ''}"
            if examples_shared
            else "",
        ]
        shares = "shares " + " and ".join(part for part in parts if part)
        yield f"  Shares evidence: {one_line(other['title'])} [{other['id']}] ({shares})"
    yield ""
    cite = citations.cite("recommendation", rec["id"])
    yield f"Cite: {one_line(cite['citation'])}"
    if cite["permalink"] is None:
        yield f"Page: {cite['path']} on the site"


def _other_lines(
    records: Records,
    citations: RecordCitations,
    record_type: str,
    row: Row,
    referred_by: list[Referrer],
) -> Iterator[str]:
    yield f"{record_type.capitalize()} {row['id']}: {_title(record_type, row)}"
    cite = citations.cite(record_type, row["id"])
    if cite["quote"]:
        yield f"Quote: “{one_line(cite['quote'])}”"
    for field, label in _FIELDS.get(record_type, []):
        value = row.get(field)
        if value not in (None, "", []):
            yield f"{label}: {_value(field, value)}"
    if record_type == "evidence":
        (link,) = (
            link for link in records.evidence_of[row["recommendation"]] if link["id"] == row["id"]
        )
        yield f"Basis: {one_line(basis_words(link, records.studies[link['study']]))}"
    if row.get("note"):
        yield f"Reviewer's note: {one_line(row['note'])}"
    yield f"Cite: {one_line(cite['citation'])}"
    yield f"Page: {cite['permalink'] or cite['path'] + ' on the site'}"
    if referred_by:
        yield f"Referred to by {len(referred_by)} record{'s' if len(referred_by) != 1 else ''}:"
        for referrer in referred_by:
            yield f"  {referrer['type']} {referrer['id']} ({referrer['field']})"


def record_text(
    document: Document,
    described: Described,
    citations: RecordCitations,
    related: list[Related] | None = None,
) -> str:
    """One record in words. ``described`` is ``kb.store.describe.describe_record``'s answer;
    ``related``, for a statement, ``kb.graph.related.related_in_document``'s."""
    records = Records(document)
    record_type, row = described["type"], described["record"]
    if record_type == "recommendation":
        rec = records.recommendations[row["id"]]
        lines = _statement_lines(records, citations, rec, related or [])
    else:
        lines = _other_lines(records, citations, record_type, row, described["referred_by"])
    return "\n".join(lines) + "\n"
