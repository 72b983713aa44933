"""What a brief says, worked out once from the records for every format.

``make_brief`` turns a list of statement IDs into a ``Brief``: plain data, every value record
text or words made from the rules of ``kb.records.levels``, nothing yet escaped or formatted. The
writers (``kb.brief.text``, ``kb.brief.html``, ``kb.brief.word``) only lay it out.

What each part claims, and on what basis:

- the statement is the record's, verbatim from the source report;
- the strength is the headline level (``kb.records.levels.headline``) with the scale's own
definition
  of that level (``kb.records.vocabularies.STRENGTH_DEFINITIONS``) and the reason the rule gives;
- the strongest evidence is the supporting links, one per study, strongest first, each with
  its verbatim quote, our one-line summary and its basis: the source report's words (with the
  section they come from and who recorded them, when) or a named reviewer's appraisal (with
  its design and how its level follows from GRADE's domains);
- the gaps and uncertainties are what the records say against or beside that level: no
  support, one study only, contradicting, qualifying and S0 links, links resting on one
  shared passage, quotes not checked, and the source's own judgement where it differs;
- the citation is the source report at the statement's section, and the record's permanent
  address when the site's address is set (``kb.site_config``);
- the reference list holds the source reports and the studies shown, author–date
  (``kb.references.citations.reference_text``).
"""

import datetime
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from kb.brief.records import Records, Row
from kb.records.levels import appraised_level, best_support, contradicts, rank, supports
from kb.records.quotes import shared_passages
from kb.records.urls import record_url
from kb.records.vocabularies import LABELS, STRENGTH_DEFINITIONS, RecommendationKind, Strength
from kb.references.citations import (
    location_text,
    recommendation_citation,
    reference_text,
    short_citation,
    source_reference,
    study_reference,
)
from kb.site_config import SiteInfo

if TYPE_CHECKING:  # kb.history.release reads git and the store; a brief only names a release
    from kb.history.release import Release

_WEB_ADDRESS = re.compile(r"https?://\S+$", re.IGNORECASE)
# How many studies a statement's strongest evidence shows; the rest are on its page.
STRONGEST_SHOWN = 3
# How many qualifying or gap links the uncertainties name before "and N more".
NAMED_UNCERTAINTIES = 3


@dataclass(frozen=True)
class StrengthInWords:
    """A statement's headline level, and what it means, in plain words."""

    level: str | None  # S0–S5; None for a statement that is not rated
    rank: int  # 0–5; -1 when not rated
    words: str  # "Limited (S3)", or "Not rated"
    meaning: str  # the scale's definition of the level, or why it is not rated
    reason: str  # how the level follows from the evidence links, or ""


@dataclass(frozen=True)
class EvidenceShown:
    """One study's strongest supporting link, as a brief shows it."""

    link_id: str
    study_id: str
    study: str  # the short citation, "Krause and Rinne (2012)"
    study_type: str  # "Evaluation report"
    level: str  # "S2"
    level_words: str  # "Very limited (S2)"
    claim: str | None  # which part of the statement it bears on, where several do
    summary: str  # ours, one sentence
    quote: str  # verbatim, from the report or from the study's held text
    basis: str  # "source" or "appraisal"
    basis_words: str  # whose words these are, where, and who recorded them when
    quote_checked: bool


@dataclass(frozen=True)
class ExampleShown:
    """A practice example linked to a statement."""

    example_id: str
    name: str
    status: str  # "evaluated", "not evaluated", "evaluation not stated"…
    description: str  # ours, one sentence


@dataclass(frozen=True)
class BriefItem:
    """Everything a brief says about one statement."""

    id: str
    kind: str  # "recommendation", "key-message"…
    kind_label: str
    title: str
    statement: list[str]  # its paragraphs, verbatim
    themes: list[str]  # their titles
    strength: StrengthInWords
    evidence: list[EvidenceShown]
    links: int  # how many evidence links it has in all
    gaps: list[str]
    examples: list[ExampleShown]
    citation: str  # the source report at the statement's section, and this record
    source_id: str
    section: str
    page: str | None
    path: str  # its page, relative to the site's root
    permalink: str | None  # its page's permanent address; None while the site's is unset
    references: list[str] = field(default_factory=list)  # IDs of the references it cites


@dataclass(frozen=True)
class ReferenceShown:
    """One entry of the reference list."""

    id: str
    text: str  # author–date, kb.references.citations.reference_text
    address: str | None  # the DOI's or web address the text ends with, if http(s)
    sort_key: tuple[str, str, str]


@dataclass(frozen=True)
class Edition:
    """Which knowledge base a brief comes from, which release, and when it was made."""

    site: SiteInfo
    release: "Release | None"
    made_on: datetime.date

    def words(self) -> str:
        """E.g. "Made on 4 December 2026 from the Race Equality Evidence Knowledge Base
        (https://…/), whose latest release is 1.0.0 of 1 December 2026." The release is the
        latest listed in kb-release.yaml; the records may have changed since."""
        where = f" ({self.site.url})" if self.site.url else ""
        made = f"Made on {day_words(self.made_on)} from the {self.site.name}{where}"
        if self.release is None:
            return f"{made}, which has no release yet: its records as they stood that day."
        return f"{made}, whose latest release is {self.release.label()}."


@dataclass(frozen=True)
class Brief:
    """A brief: key messages, one part per statement, the reference list and the edition."""

    title: str
    items: list[BriefItem]
    references: list[ReferenceShown]
    edition: Edition

    @property
    def overview(self) -> str:
        """The first key message: what the brief covers and how strong its evidence is."""
        return overview([(item.kind, item.strength) for item in self.items])

    @property
    def key_messages(self) -> list[BriefItem]:
        """The statements strongest first (the selection's order among equals)."""
        return sorted(self.items, key=lambda item: -item.strength.rank)


def day_words(day: datetime.date) -> str:
    """'4 December 2026'."""
    return f"{day.day} {day:%B %Y}"


def _counted(number: int, singular: str, plural: str) -> str:
    return f"{number} {singular if number == 1 else plural}"


_KIND_NOUNS = {
    "recommendation": ("recommendation", "recommendations"),
    "key-message": ("key message", "key messages"),
    "recurring": ("recurring recommendation", "recurring recommendations"),
    "government-action": ("government action", "government actions"),
}


def overview(items: list[tuple[str, StrengthInWords]]) -> str:
    """ "5 recommendations. Headline strength of evidence: Limited (S3) for 2, Very limited (S2)
    for 3." The site's brief page (docs/javascripts/brief.js) writes the same sentence."""
    kinds = Counter(kind for kind, _ in items)
    parts = [_counted(count, *_KIND_NOUNS[kind]) for kind, count in kinds.items()]
    if len(parts) == 1:
        covers = parts[0]
    else:
        covers = f"{_counted(len(items), 'statement', 'statements')}: {', '.join(parts)}"
    levels = Counter(strength.words for _, strength in items)
    ranks = {strength.words: strength.rank for _, strength in items}
    counts = ", ".join(
        f"{words} for {levels[words]}" for words in sorted(levels, key=lambda words: -ranks[words])
    )
    return f"{covers}. Headline strength of evidence: {counts}."


def strength_in_words(rec: Row, links: int) -> StrengthInWords:
    """The headline level in words: its label, the scale's definition, and the rule's reason."""
    headline = rec["headline"]
    level = headline["level"]
    if level is None:
        return StrengthInWords(None, -1, "Not rated", f"{_sentence(headline['reason'])}.", "")
    strength = Strength(level)
    studies = "" if links == 1 else "s"
    reason = f"Computed from {links} evidence link{studies}: {headline['reason']}."
    return StrengthInWords(
        level,
        strength.rank,
        f"{strength.label} ({level})",
        STRENGTH_DEFINITIONS[strength][0],
        reason,
    )


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


def _level_words(level: str) -> str:
    return f"{LABELS[level]} ({level})"


def basis_words(link: Row, study: Row) -> str:
    """Whose words a link's quote is and who recorded it when: the source report's (where in
    it), or a named reviewer's appraisal of the study (its design, and how its level follows
    from the study's type and GRADE's domains)."""
    who = f"{link['recorded_by']} on {link['recorded_on']}"
    if link["basis"] == "source":
        where = f", {location_text(link['location'])}" if link.get("location") else ""
        return f"The source report's words{where}; recorded by {who}."
    appraisal = link["appraisal"] or {}
    part = LABELS[study["text_part"]].lower() if study.get("text_part") else "own text"
    result = appraised_level(
        study["type"], appraisal.get("downgrades", []), appraisal.get("upgrades", [])
    )
    return (
        f"Appraisal by {who}, of the study's {part}: {appraisal.get('design', '')}. "
        f"Level: {result.explained()} → {result.level}."
    )


def _strongest(records: Records, links: list[Row]) -> list[EvidenceShown]:
    """Each supporting study's strongest supporting link, strongest first."""
    best: dict[str, Row] = {}
    for link in sorted(links, key=lambda link: (-rank(link["strength"]), link["id"])):
        if supports(link) and link["study"] not in best:
            best[link["study"]] = link
    ordered = sorted(best.values(), key=lambda link: (-rank(link["strength"]), link["study"]))
    shown = []
    for link in ordered[:STRONGEST_SHOWN]:
        study = records.studies[link["study"]]
        shown.append(
            EvidenceShown(
                link_id=link["id"],
                study_id=study["id"],
                study=short_citation(study["authors"], study["year"], _study_title(study)),
                study_type=LABELS[study["type"]],
                level=link["strength"],
                level_words=_level_words(link["strength"]),
                claim=link["claim"],
                summary=link["summary"],
                quote=link["quote"],
                basis=link["basis"],
                basis_words=basis_words(link, study),
                quote_checked=not link["quote_unchecked"],
            )
        )
    return shown


def _study_title(study: Row) -> str:
    title: str = study.get("title") or study.get("reference") or study["id"]
    return title


def _named(records: Records, links: list[Row]) -> str:
    """'Krause and Rinne (2012): our summary; …' for at most ``NAMED_UNCERTAINTIES`` links."""
    named = []
    for link in links[:NAMED_UNCERTAINTIES]:
        study = records.studies[link["study"]]
        label = short_citation(study["authors"], study["year"], _study_title(study))
        named.append(f"{label}: {link['summary'].rstrip('.')}")
    more = len(links) - NAMED_UNCERTAINTIES
    return "; ".join(named) + (f"; and {more} more" if more > 0 else "")


def gaps_and_uncertainties(records: Records, rec: Row, links: list[Row]) -> list[str]:
    """What the records say against, beside or beneath a statement's headline level."""
    headline = rec["headline"]
    gaps = []
    if headline["level"] is not None:
        best = best_support(links)
        if not best:
            gaps.append("No evidence link supports it: its level is S0, an evidence gap.")
        elif len(best) == 1:
            gaps.append("Only one study supports it: a single study is not yet a body of evidence.")
    against = sorted((link for link in links if contradicts(link)), key=lambda link: link["id"])
    if against:
        count = _counted(len(against), "evidence link contradicts", "evidence links contradict")
        gaps.append(f"{count} it: {_named(records, against)}.")
    qualifying = sorted(
        (link for link in links if link["relation"] == "qualifies" and rank(link["strength"])),
        key=lambda link: link["id"],
    )
    if qualifying:
        count = _counted(len(qualifying), "evidence link qualifies", "evidence links qualify")
        gaps.append(f"{count} it: {_named(records, qualifying)}.")
    empty = sorted((link for link in links if rank(link["strength"]) == 0), key=lambda x: x["id"])
    if empty:
        count = _counted(len(empty), "link records", "links record")
        gaps.append(f"{count} evidence looked for and not found (S0): {_named(records, empty)}.")
    shared = shared_passages(
        [(link["id"], link["source"] or link["study"], link["quote"]) for link in links]
    )
    if shared:
        resting = sum(len(group) for group in shared)
        gaps.append(
            f"{resting} of its {len(links)} evidence links rest on a passage they share with "
            "another: not independent support."
        )
    unchecked = sum(bool(link["quote_unchecked"]) for link in links)
    if unchecked:
        count = _counted(unchecked, "quote is", "quotes are")
        gaps.append(f"{count} not checked against a held text.")
    if headline["explanation"]:
        gaps.append(headline["explanation"])
    if headline["flagged"]:
        gaps.append(
            "Flagged for review: the headline level and the source's own judgement are far apart."
        )
    judgement = rec["evidence_judgement"]
    if judgement:
        who = "The report says" if judgement["basis"] == "stated" else "We read from the report"
        where = f" ({location_text(judgement['location'])})" if judgement["location"] else ""
        gaps.append(f"{who}{where}: “{judgement['quote']}”")
    return gaps


def _example(example: Row) -> ExampleShown:
    status = example["evaluation_status"]
    words = "evaluation not stated" if status == "not-stated" else LABELS[status].lower()
    return ExampleShown(example["id"], example["name"], words, example["description"])


def _paragraphs(text: str) -> list[str]:
    """A statement's paragraphs (split at blank lines), each on one line."""
    return [" ".join(part.split()) for part in re.split(r"\n[ \t]*\n", text) if part.strip()]


def brief_item(records: Records, rec_id: str, site: SiteInfo) -> BriefItem:
    """Everything a brief says about one statement."""
    rec = records.recommendations[rec_id]
    links = records.evidence_of[rec_id]
    source = records.sources[rec["source"]]
    evidence = _strongest(records, links)
    path = record_url("recommendation", rec_id)
    return BriefItem(
        id=rec_id,
        kind=rec["kind"],
        kind_label=RecommendationKind(rec["kind"]).label,
        title=rec["title"],
        statement=_paragraphs(rec["statement"]),
        themes=[records.themes[theme]["title"] for theme in rec["themes"]],
        strength=strength_in_words(rec, len(links)),
        evidence=evidence,
        links=len(links),
        gaps=gaps_and_uncertainties(records, rec, links),
        examples=[_example(example) for example in records.examples_of[rec_id]],
        citation=recommendation_citation(rec, source, site)["text"],
        source_id=source["id"],
        section=rec["location"]["section"],
        page=rec["location"].get("page"),
        path=path,
        permalink=site.absolute(path),
        references=[source["id"], *(shown.study_id for shown in evidence)],
    )


def reference_of(records: Records, reference_id: str) -> ReferenceShown:
    """A source report or study as an entry of the reference list."""
    if reference_id in records.sources:
        reference = source_reference(records.sources[reference_id])
        address = reference.get("url")
    else:
        study = records.studies[reference_id]
        reference = study_reference(study)
        address = study.get("doi_url") or reference.get("url")
    text = reference_text(reference, address)
    first = reference["authors"][0] if reference["authors"] else reference["title"]
    return ReferenceShown(
        reference_id,
        text,
        address if address and _WEB_ADDRESS.match(address) else None,
        (first.casefold(), str(reference["year"] or ""), str(reference["title"]).casefold()),
    )


def references_of(records: Records, items: list[BriefItem]) -> list[ReferenceShown]:
    """The references the items cite, in author–date order."""
    wanted = dict.fromkeys(reference for item in items for reference in item.references)
    return sorted(
        (reference_of(records, reference) for reference in wanted),
        key=lambda reference: (reference.sort_key, reference.id),
    )


def make_brief(
    records: Records, statement_ids: list[str], edition: Edition, title: str | None = None
) -> Brief:
    """The brief for ``statement_ids`` (checked by ``kb.brief.selection``), in that order."""
    items = [brief_item(records, rec_id, edition.site) for rec_id in statement_ids]
    return Brief(title or "Evidence brief", items, references_of(records, items), edition)
