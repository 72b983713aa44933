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

A brief is framed in one language (``language``, English or Welsh): our words come from that
language's catalogue (``kb.localization``), as the site's do, while record text (statements,
quotes, summaries, titles, references) stays as it was written, in English. Sentences that
set record text among our words are ``Said``: a string whose pieces say which is which, so the
HTML and Word writers can mark the English as English.
"""

import datetime
import gettext
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from kb.brief.records import Records
from kb.localization import ENGLISH, RecordText, Said, compose, day_in, joined, translations
from kb.records.document import (
    EvidenceEntry,
    ExampleEntry,
    JudgementEntry,
    LocationEntry,
    RecommendationEntry,
    SourceEntry,
    StudyEntry,
)
from kb.records.levels import (
    ENGLISH_WORDS,
    appraised_level,
    best_support,
    contradicts,
    rank,
    supports,
)
from kb.records.quotes import shared_passages
from kb.records.urls import record_url
from kb.records.vocabularies import LABELS, STRENGTH_DEFINITIONS, RecommendationKind, Strength
from kb.references.citations import (
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
    basis_words: str  # whose words these are, where, and who recorded them when (``Said``)
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
    gaps: list[str]  # each a ``Said``: our words, with the records' among them
    examples: list[ExampleShown]
    citation: str  # the source report at the statement's section, and this record (``Said``)
    source_id: str
    section: str
    page: int | None
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

    def words(self, language: str = ENGLISH) -> str:
        """E.g. "Made on 4 December 2026 from the Race Equality Evidence Knowledge Base
        (https://…/), whose latest release is 1.0.0 of 1 December 2026." The release is the
        latest listed in kb-release.yaml; the records may have changed since."""
        words = translations(language)
        _ = words.gettext
        values = {
            "day": day_in(self.made_on, language),
            "site": _(self.site.name),
            "where": f" ({self.site.url})" if self.site.url else "",
        }
        if self.release is None:
            return (
                _(
                    "Made on %(day)s from the %(site)s%(where)s, which has no release yet: its "
                    "records as they stood that day."
                )
                % values
            )
        release = self.release.label(words, language)
        return _(
            "Made on %(day)s from the %(site)s%(where)s, whose latest release is %(release)s."
        ) % {
            **values,
            "release": release,
        }


@dataclass(frozen=True)
class Brief:
    """A brief: key messages, one part per statement, the reference list and the edition,
    framed in ``language``."""

    title: str
    items: list[BriefItem]
    references: list[ReferenceShown]
    edition: Edition
    language: str = ENGLISH

    @property
    def overview(self) -> str:
        """The first key message: what the brief covers and how strong its evidence is."""
        return overview(
            [(item.kind, item.strength) for item in self.items], translations(self.language)
        )

    @property
    def edition_words(self) -> str:
        """Where and when the brief was made (``Edition.words``), in its language."""
        return self.edition.words(self.language)

    @property
    def key_messages(self) -> list[BriefItem]:
        """The statements strongest first (the selection's order among equals)."""
        return sorted(self.items, key=lambda item: -item.strength.rank)


def day_words(day: datetime.date) -> str:
    """'4 December 2026'."""
    return day_in(day)


def _kind_count(kind: str, number: int, words: gettext.NullTranslations) -> str:
    """ "3 recommendations", "1 key message"…, in ``words``' language."""
    forms = {
        "recommendation": ("%(num)s recommendation", "%(num)s recommendations"),
        "key-message": ("%(num)s key message", "%(num)s key messages"),
        "recurring": ("%(num)s recurring recommendation", "%(num)s recurring recommendations"),
        "government-action": ("%(num)s government action", "%(num)s government actions"),
    }
    one, many = forms[kind]
    return words.ngettext(one, many, number) % {"num": number}


def overview(
    items: list[tuple[str, StrengthInWords]], words: gettext.NullTranslations = ENGLISH_WORDS
) -> str:
    """ "5 recommendations. Headline strength of evidence: Limited (S3) for 2, Very limited (S2)
    for 3." The site's brief page (docs/javascripts/brief.js) writes the same sentence from
    the same messages (``kb.render.script_words``)."""
    kinds = Counter(kind for kind, _ in items)
    parts = [_kind_count(kind, count, words) for kind, count in kinds.items()]
    if len(parts) == 1:
        covers = parts[0]
    else:
        statements = words.ngettext("%(num)s statement", "%(num)s statements", len(items))
        covers = f"{statements % {'num': len(items)}}: {', '.join(parts)}"
    levels = Counter(strength.words for _, strength in items)
    ranks = {strength.words: strength.rank for _, strength in items}
    counts = ", ".join(
        words.gettext("%(level)s for %(num)s") % {"level": level, "num": levels[level]}
        for level in sorted(levels, key=lambda level: -ranks[level])
    )
    return words.gettext("%(covers)s. Headline strength of evidence: %(levels)s.") % {
        "covers": covers,
        "levels": counts,
    }


def strength_in_words(
    rec: RecommendationEntry, links: int, words: gettext.NullTranslations = ENGLISH_WORDS
) -> StrengthInWords:
    """The headline level in words: its label, the scale's definition, and the rule's reason
    (the headline's own reason is in the language of the document it comes from,
    ``kb.localization.in_language``)."""
    _ = words.gettext
    headline = rec["headline"]
    level = headline["level"]
    if level is None:
        return StrengthInWords(None, -1, _("Not rated"), f"{_sentence(headline['reason'])}.", "")
    strength = Strength(level)
    reason = words.ngettext(
        "Computed from %(num)s evidence link: %(reason)s.",
        "Computed from %(num)s evidence links: %(reason)s.",
        links,
    ) % {"num": links, "reason": headline["reason"]}
    return StrengthInWords(
        level,
        strength.rank,
        f"{_(strength.label)} ({level})",
        _(STRENGTH_DEFINITIONS[strength][0]),
        reason,
    )


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


def _level_words(level: str, words: gettext.NullTranslations) -> str:
    return f"{words.gettext(LABELS[level])} ({level})"


def location_said(
    location: LocationEntry, words: gettext.NullTranslations = ENGLISH_WORDS, capital: bool = False
) -> Said:
    """Where in its source a record is, 'section “Recruitment”, p. 12' (``capital``:
    "Section…"), the section's name kept as record text
    (``kb.references.citations.location_text``)."""
    word = words.gettext("Section") if capital else words.gettext("section")
    page = (
        compose(words.gettext(", p. %(page)s"), page=str(location["page"]))
        if location.get("page")
        else ""
    )
    return joined([word, " “", RecordText(location["section"]), "”", page])


def basis_words(
    link: EvidenceEntry, study: StudyEntry, words: gettext.NullTranslations = ENGLISH_WORDS
) -> Said:
    """Whose words a link's quote is and who recorded it when: the source report's (where in
    it), or a named reviewer's appraisal of the study (its design, and how its level follows
    from the study's type and GRADE's domains; the steps are the rules' own English words, as
    the site shows them)."""
    _ = words.gettext
    who = {"who": RecordText(link["recorded_by"]), "day": str(link["recorded_on"])}
    if link["basis"] == "source":
        if location := link["location"]:
            return compose(
                _("The source report's words, %(location)s; recorded by %(who)s on %(day)s."),
                location=location_said(location, words),
                **who,
            )
        return compose(_("The source report's words; recorded by %(who)s on %(day)s."), **who)
    appraisal = link["appraisal"]
    part = _(LABELS[study["text_part"]]).lower() if study["text_part"] else _("own text")
    result = appraised_level(
        study["type"],
        appraisal["downgrades"] if appraisal else [],
        appraisal["upgrades"] if appraisal else [],
    )
    return compose(
        _(
            "Appraisal by %(who)s on %(day)s, of the study's %(part)s: %(design)s. "
            "Level: %(steps)s → %(level)s."
        ),
        part=part,
        design=RecordText(appraisal["design"] if appraisal else ""),
        steps=RecordText(result.explained()),
        level=str(result.level),
        **who,
    )


def _strongest(
    records: Records, links: list[EvidenceEntry], words: gettext.NullTranslations
) -> list[EvidenceShown]:
    """Each supporting study's strongest supporting link, strongest first."""
    best: dict[str, EvidenceEntry] = {}
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
                study_type=words.gettext(LABELS[study["type"]]),
                level=link["strength"],
                level_words=_level_words(link["strength"], words),
                claim=link["claim"],
                summary=link["summary"],
                quote=link["quote"],
                basis=link["basis"],
                basis_words=basis_words(link, study, words),
                quote_checked=not link["quote_unchecked"],
            )
        )
    return shown


def _study_title(study: StudyEntry) -> str:
    return study["title"] or study["reference"] or study["id"]


def _named(records: Records, links: list[EvidenceEntry], words: gettext.NullTranslations) -> Said:
    """'Krause and Rinne (2012): our summary; …' for at most ``NAMED_UNCERTAINTIES`` links."""
    named = []
    for link in links[:NAMED_UNCERTAINTIES]:
        study = records.studies[link["study"]]
        label = short_citation(study["authors"], study["year"], _study_title(study))
        named.append(joined([RecordText(label), ": ", RecordText(link["summary"].rstrip("."))]))
    more = len(links) - NAMED_UNCERTAINTIES
    if more > 0:
        named.append(
            compose(words.ngettext("and %(num)s more", "and %(num)s more", more), num=more)
        )
    return joined(named, "; ")


def gaps_and_uncertainties(
    records: Records,
    rec: RecommendationEntry,
    links: list[EvidenceEntry],
    words: gettext.NullTranslations = ENGLISH_WORDS,
) -> list[str]:
    """What the records say against, beside or beneath a statement's headline level."""
    _, ngettext = words.gettext, words.ngettext
    headline = rec["headline"]
    gaps: list[str] = []
    if headline["level"] is not None:
        best = best_support(links)
        if not best:
            gaps.append(_("No evidence link supports it: its level is S0, an evidence gap."))
        elif len(best) == 1:
            gaps.append(
                _("Only one study supports it: a single study is not yet a body of evidence.")
            )
    against = sorted((link for link in links if contradicts(link)), key=lambda link: link["id"])
    if against:
        said = ngettext(
            "%(num)s evidence link contradicts it: %(links)s.",
            "%(num)s evidence links contradict it: %(links)s.",
            len(against),
        )
        gaps.append(compose(said, num=len(against), links=_named(records, against, words)))
    qualifying = sorted(
        (link for link in links if link["relation"] == "qualifies" and rank(link["strength"])),
        key=lambda link: link["id"],
    )
    if qualifying:
        said = ngettext(
            "%(num)s evidence link qualifies it: %(links)s.",
            "%(num)s evidence links qualify it: %(links)s.",
            len(qualifying),
        )
        gaps.append(compose(said, num=len(qualifying), links=_named(records, qualifying, words)))
    empty = sorted((link for link in links if rank(link["strength"]) == 0), key=lambda x: x["id"])
    if empty:
        said = ngettext(
            "%(num)s link records evidence looked for and not found (S0): %(links)s.",
            "%(num)s links record evidence looked for and not found (S0): %(links)s.",
            len(empty),
        )
        gaps.append(compose(said, num=len(empty), links=_named(records, empty, words)))
    shared = shared_passages(
        [(link["id"], link["source"] or link["study"], link["quote"]) for link in links]
    )
    if shared:
        resting = sum(len(group) for group in shared)
        said = ngettext(
            "%(resting)s of its %(num)s evidence link rest on a passage they share with "
            "another: not independent support.",
            "%(resting)s of its %(num)s evidence links rest on a passage they share with "
            "another: not independent support.",
            len(links),
        )
        gaps.append(said % {"resting": resting, "num": len(links)})
    unchecked = sum(bool(link["quote_unchecked"]) for link in links)
    if unchecked:
        said = ngettext(
            "%(num)s quote is not checked against a held text.",
            "%(num)s quotes are not checked against a held text.",
            unchecked,
        )
        gaps.append(said % {"num": unchecked})
    if headline["explanation"]:
        gaps.append(headline["explanation"])
    if headline["flagged"]:
        gaps.append(
            _(
                "Flagged for review: the headline level and the source's own judgement are "
                "far apart."
            )
        )
    judgement = rec["evidence_judgement"]
    if judgement:
        gaps.append(_judgement(judgement, words))
    return gaps


def _judgement(judgement: JudgementEntry, words: gettext.NullTranslations) -> Said:
    """The source's own judgement of the evidence, quoted, and where it says it."""
    _ = words.gettext
    quote = RecordText(judgement["quote"])
    if judgement["location"]:
        location = location_said(judgement["location"], words)
        if judgement["basis"] == "stated":
            said = _("The report says (%(location)s): “%(quote)s”")
        else:
            said = _("We read from the report (%(location)s): “%(quote)s”")
        return compose(said, location=location, quote=quote)
    if judgement["basis"] == "stated":
        return compose(_("The report says: “%(quote)s”"), quote=quote)
    return compose(_("We read from the report: “%(quote)s”"), quote=quote)


def _example(example: ExampleEntry, words: gettext.NullTranslations) -> ExampleShown:
    status = example["evaluation_status"]
    if status == "not-stated":
        said = words.gettext("evaluation not stated")
    else:
        said = words.gettext(LABELS[status]).lower()
    return ExampleShown(example["id"], example["name"], said, example["description"])


def _paragraphs(text: str) -> list[str]:
    """A statement's paragraphs (split at blank lines), each on one line."""
    return [" ".join(part.split()) for part in re.split(r"\n[ \t]*\n", text) if part.strip()]


def citation_said(
    rec: RecommendationEntry,
    source: SourceEntry,
    site: SiteInfo,
    words: gettext.NullTranslations = ENGLISH_WORDS,
) -> Said:
    """How to cite a statement, in words (``kb.references.citations.recommendation_citation``'s
    text): the source report's reference (record text), located, and this record, with its permanent
    address when the site's is set; our words in ``words``' language."""
    _ = words.gettext
    address = site.absolute(record_url("recommendation", rec["id"]))
    values = {
        "reference": RecordText(reference_text(source_reference(source))),
        "location": location_said(rec["location"], words, capital=True),
        "id": rec["id"],
        "site": _(site.name),
    }
    if address:
        said = _("%(reference)s %(location)s; recommendation %(id)s in %(site)s, %(address)s.")
        return compose(said, address=address, **values)
    return compose(_("%(reference)s %(location)s; recommendation %(id)s in %(site)s."), **values)


def brief_item(
    records: Records, rec_id: str, site: SiteInfo, words: gettext.NullTranslations = ENGLISH_WORDS
) -> BriefItem:
    """Everything a brief says about one statement, our words in ``words``' language."""
    rec = records.recommendations[rec_id]
    links = records.evidence_of[rec_id]
    source = records.sources[rec["source"]]
    evidence = _strongest(records, links, words)
    path = record_url("recommendation", rec_id)
    return BriefItem(
        id=rec_id,
        kind=rec["kind"],
        kind_label=words.gettext(RecommendationKind(rec["kind"]).label),
        title=rec["title"],
        statement=_paragraphs(rec["statement"]),
        themes=[records.themes[theme]["title"] for theme in rec["themes"]],
        strength=strength_in_words(rec, len(links), words),
        evidence=evidence,
        links=len(links),
        gaps=gaps_and_uncertainties(records, rec, links, words),
        examples=[_example(example, words) for example in records.examples_of[rec_id]],
        citation=citation_said(rec, source, site, words),
        source_id=source["id"],
        section=rec["location"]["section"],
        page=rec["location"]["page"],
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


def theme_title(theme: str, language: str = ENGLISH) -> Said:
    """ "Evidence brief: THEME", the theme's title kept as record text."""
    return compose(
        translations(language).gettext("Evidence brief: %(theme)s"), theme=RecordText(theme)
    )


def make_brief(
    records: Records,
    statement_ids: list[str],
    edition: Edition,
    title: str | None = None,
    language: str = ENGLISH,
) -> Brief:
    """The brief for ``statement_ids`` (checked by ``kb.brief.selection``), in that order, its
    own words in ``language``. The headlines are said in the language of ``records``' document
    (``kb.localization.in_language``)."""
    words = translations(language)
    items = [brief_item(records, rec_id, edition.site, words) for rec_id in statement_ids]
    title = title or words.gettext("Evidence brief")
    return Brief(title, items, references_of(records, items), edition, language)
