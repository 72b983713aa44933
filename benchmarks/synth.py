"""Synthetic knowledge bases of any size, for measuring how the tool scales.

``synthesise`` writes record files and source texts that ``kb check`` accepts, shaped like a
real knowledge base: field lengths are drawn from the real records' lengths, prose is a
word-to-next-word chain over the real records' vocabulary, and the number of evidence links per
study follows a Zipf-like law (many single-link studies, a few hubs), as citations do. Every
record type, study type, strength level and other vocabulary value appears at least once when
the counts allow it.

Output depends only on the arguments and the sample records: one seed gives byte-identical
files. All randomness comes from one ``random.Random(seed)``.
"""

import itertools
import math
import random
import re
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, TypeVar

import click

from kb.cli import fails_cleanly
from kb.errors import KnowledgeBaseError, NotAKnowledgeBase
from kb.records.dump import dump_record
from kb.records.levels import usual_ceiling
from kb.records.load import load_records
from kb.records.models import (
    EvidenceJudgement,
    Example,
    Figure,
    Finding,
    Location,
    Recommendation,
    Record,
    Source,
    Study,
    Theme,
)
from kb.records.validate import design_given_as_reason
from kb.records.vocabularies import (
    Basis,
    Direction,
    EvaluationStatus,
    Horizon,
    JudgementBasis,
    RecommendationKind,
    Relation,
    Strength,
    StudyType,
    Wording,
)
from kb.settings import setting_value

T = TypeVar("T")

RECOMMENDATIONS_PER_SOURCE = 60  # the real report holds 58
RECOMMENDATIONS_PER_THEME = 4.5
STUDIES_PER_EXAMPLE = 6
STUDIES_PER_FIGURE = 15
MOST_LINKS = 60  # the busiest hub study's evidence links, at most
WORD = re.compile(r"[A-Za-z0-9]+(?:[-'][A-Za-z0-9]+)*")

# Who and when the synthetic evidence links say they were recorded.
_RECORDED_BY = "Synthetic generator"
_RECORDED_ON = date(2026, 1, 1)
# Rough shares in the real records; every value keeps some weight so each appears. Studies
# awaiting classification are left out: they are a reviewer's to-do, and `kb check` warns.
_TYPE_SHARES = {
    StudyType.SYSTEMATIC_REVIEW: 6,
    StudyType.REVIEW: 20,
    StudyType.RANDOMISED_TRIAL: 5,
    StudyType.QUASI_EXPERIMENTAL: 4,
    StudyType.OBSERVATIONAL: 11,
    StudyType.QUALITATIVE: 12,
    StudyType.MIXED_METHODS: 4,
    StudyType.EVALUATION_REPORT: 3,
    StudyType.STATISTICS: 18,
    StudyType.BOOK: 6,
    StudyType.POLICY_GUIDANCE: 23,
    StudyType.COMMENTARY: 32,
    StudyType.EXPERT_COMMUNICATION: 2,
}
_STUDY_TYPES = {
    study_type: _TYPE_SHARES.get(study_type, 2)
    for study_type in StudyType
    if study_type.value != "unclassified"
}
_STRENGTHS = {
    Strength.S0: 5,
    Strength.S1: 35,
    Strength.S2: 22,
    Strength.S3: 24,
    Strength.S4: 9,
    Strength.S5: 5,
}
_RELATIONS = {
    Relation.SUPPORTS: 60,
    Relation.QUALIFIES: 14,
    Relation.CONTRADICTS: 4,
    Relation.PRACTICE_EXAMPLE: 5,
    Relation.CONTEXT: 19,
}
_DIRECTIONS = {
    Direction.POSITIVE: 55,
    Direction.MIXED: 12,
    Direction.NO_EFFECT: 6,
    Direction.HARM: 3,
    Direction.NOT_ASSESSED: 24,
}
_JUDGEMENT_BASES = {JudgementBasis.STATED: 30, JudgementBasis.INFERRED: 70}
_HORIZONS = {Horizon.SHORT_TERM: 15, Horizon.LONG_TERM: 10, Horizon.NOT_STATED: 75}
_KINDS = {
    RecommendationKind.RECOMMENDATION: 65,
    RecommendationKind.KEY_MESSAGE: 14,
    RecommendationKind.GOVERNMENT_ACTION: 11,
    RecommendationKind.RECURRING: 10,
}
_EVALUATION = {
    EvaluationStatus.EVALUATED: 25,
    EvaluationStatus.NOT_EVALUATED: 20,
    EvaluationStatus.UNDER_DEVELOPMENT: 10,
    EvaluationStatus.NOT_STATED: 45,
}

# Used only when no real records are found to learn from.
_FALLBACK_TEXT = (
    "the evidence suggests that targeted support for staff and service users improves access "
    "to care and reduces inequalities in outcomes across health social care education housing "
    "and employment services while data on ethnicity should be collected monitored and "
    "reported so that leaders can act on disparities in recruitment progression and pay the "
    "review found limited studies of interventions in Wales and few evaluations of training "
    "programmes mentoring schemes or community engagement although qualitative research "
    "describes experiences of discrimination racism and exclusion in public services"
)
_FALLBACK_LENGTHS = {
    "title": (40, 70, 120),
    "statement": (60, 180, 400),
    "quote": (80, 240, 500),
    "summary": (60, 130, 190),
    "note": (40, 130, 400),
    "description": (80, 160, 250),
    "name": (15, 35, 60),
    "value": (5, 12, 30),
}
_FALLBACK_SURNAMES = ("Smith", "Patel", "Jones", "Khan", "Williams", "Ahmed", "Davies", "Evans")


class OutputNotEmpty(KnowledgeBaseError):
    """The folder to write a synthetic knowledge base into already holds records."""


# --- Learning shapes from real records --------------------------------------------------------


@dataclass
class Corpus:
    """What synthetic text imitates: field lengths, vocabulary and word order, names."""

    lengths: dict[str, list[int]] = field(default_factory=dict)
    words: list[str] = field(default_factory=list)
    following: dict[str, list[str]] = field(default_factory=dict)
    surnames: list[str] = field(default_factory=list)
    containers: list[str] = field(default_factory=list)
    settings: list[str] = field(default_factory=list)
    actors: list[str] = field(default_factory=list)
    records: int = 0

    def add_text(self, field_name: str, text: str) -> None:
        self.lengths.setdefault(field_name, []).append(len(text))
        tokens = WORD.findall(text)
        self.words.extend(tokens)
        for first, second in itertools.pairwise(tokens):
            self.following.setdefault(first, []).append(second)


_PROSE_FIELDS = {
    "title",
    "statement",
    "quote",
    "summary",
    "note",
    "description",
    "name",
    "value",
}


def _walk(corpus: Corpus, kind: str, data: dict[str, Any]) -> None:
    for key, value in data.items():
        if key in _PROSE_FIELDS and isinstance(value, str):
            corpus.add_text(f"{kind}.{key}", value)
        elif key == "findings" and isinstance(value, list):
            for finding in value:
                if isinstance(finding, dict):
                    _walk(corpus, "finding", finding)
        elif key == "evidence_judgement" and isinstance(value, dict):
            _walk(corpus, "judgement", value)
        elif key == "authors" and isinstance(value, list):
            corpus.surnames.extend(
                name.split(",")[0].strip() for name in value if isinstance(name, str)
            )
        elif key == "container" and isinstance(value, str):
            corpus.containers.append(value)
        elif key == "setting" and isinstance(value, list):
            corpus.settings.extend(item for item in value if isinstance(item, str))
        elif key in ("addressed_to", "involves") and isinstance(value, list):
            corpus.actors.extend(item for item in value if isinstance(item, str))


def corpus_from(root: Path | None) -> Corpus:
    """Learn lengths and vocabulary from the records under ``root``, or use a small default."""
    corpus = Corpus()
    if root is not None:
        try:
            records, _ = load_records(root, max_file_bytes=1 << 20, max_field_chars=20000)
        except NotAKnowledgeBase:
            records = []
        for record in records:
            _walk(corpus, record.kind, record.data)
        corpus.records = len(records)
    if not corpus.words:
        corpus = Corpus()
        corpus.add_text("fallback", _FALLBACK_TEXT)
        corpus.lengths = {}
    corpus.surnames = sorted({name for name in corpus.surnames if WORD.fullmatch(name)}) or list(
        _FALLBACK_SURNAMES
    )
    corpus.containers = sorted(set(corpus.containers)) or ["Journal of Public Policy"]
    corpus.settings = sorted(set(corpus.settings)) or ["Wales", "England", "UK"]
    corpus.actors = sorted(set(corpus.actors)) or ["Welsh Government", "Health boards"]
    return corpus


# --- Drawing values -----------------------------------------------------------------------------


class _Draw:
    """Every random choice the generator makes, from one seeded generator."""

    def __init__(self, seed: int, corpus: Corpus):
        self.rng = random.Random(seed)
        self.corpus = corpus

    def weighted(self, weights: dict[T, int]) -> T:
        return self.rng.choices(list(weights), weights=list(weights.values()))[0]

    def covering(self, index: int, weights: dict[T, int]) -> T:
        """The ``index``-th value while some value has not appeared yet, then a weighted draw."""
        values = list(weights)
        return values[index] if index < len(values) else self.weighted(weights)

    def length(self, kind: str, name: str) -> int:
        lengths = self.corpus.lengths.get(f"{kind}.{name}")
        if lengths:
            return self.rng.choice(lengths)
        low, middle, high = _FALLBACK_LENGTHS.get(name, (40, 120, 300))
        return round(self.rng.triangular(low, high, middle))

    def words(self, length: int) -> list[str]:
        """Words in an order learned from the real records, about ``length`` characters long."""
        corpus, rng = self.corpus, self.rng
        word = rng.choice(corpus.words)
        out = [word]
        size = len(word)
        while size < length:
            successors = corpus.following.get(word)
            if successors and rng.random() < 0.9:
                word = rng.choice(successors)
            else:
                word = rng.choice(corpus.words)
            out.append(word)
            size += len(word) + 1
        return out

    def sentence(self, length: int, end: str = ".") -> str:
        words = self.words(max(length - len(end), 3))
        words[0] = words[0][:1].upper() + words[0][1:]
        return " ".join(words) + end

    def prose(self, kind: str, name: str, end: str = ".") -> str:
        """One or more sentences as long as a real ``kind.name`` value."""
        length = self.length(kind, name)
        sentences = []
        while length > 0:
            part = min(length, self.rng.randint(60, 200))
            sentences.append(self.sentence(part, end))
            length -= part
        return " ".join(sentences)

    def title(self, kind: str, name: str = "title") -> str:
        return self.sentence(self.length(kind, name), end="")

    def maybe(self, probability: float) -> bool:
        return self.rng.random() < probability


def _without_other_design(finding: Finding, study_type: StudyType) -> Finding:
    """The link, without its note where the words drawn for it happen to give another design
    than the study's as the reason for its level ("guidance, hence S1"), which `kb check`
    would warn about."""
    if finding.note and design_given_as_reason(finding.note, study_type):
        return finding.model_copy(update={"note": None})
    return finding


def _slug(words: Sequence[str], most: int = 24) -> str:
    slug = "-".join(re.sub(r"[^a-z0-9]+", "-", word.lower()).strip("-") for word in words)
    slug = re.sub(r"-+", "-", slug).strip("-")[:most].strip("-")
    return slug or "record"


class _Ids:
    """Unique record IDs, ignoring case, as the validator requires."""

    def __init__(self) -> None:
        self.taken: set[str] = set()

    def new(self, base: str) -> str:
        candidate, number = base, 1
        while candidate in self.taken:
            number += 1
            candidate = f"{base}-{number}"
        self.taken.add(candidate)
        return candidate


def _zipf_exponent(mean: float, most: int) -> float:
    """The exponent s for which P(k) ∝ k^-s on 1..most has the given mean (bisection)."""

    def mean_for(s: float) -> float:
        weights: list[float] = [k**-s for k in range(1, most + 1)]
        return sum(k * w for k, w in zip(range(1, most + 1), weights, strict=True)) / sum(weights)

    low, high = 0.0, 8.0
    for _ in range(60):
        middle = (low + high) / 2
        if mean_for(middle) > mean:
            low = middle
        else:
            high = middle
    return (low + high) / 2


def link_counts(draw: _Draw, studies: int, links: int, most: int) -> list[int]:
    """Evidence links per study, summing to ``links``: many single-link studies, a few hubs."""
    if studies == 0 or most == 0:
        return [0] * studies
    links = min(links, studies * most)
    if links < studies:
        counts = [1] * links + [0] * (studies - links)
        draw.rng.shuffle(counts)
        return counts
    mean = links / studies
    exponent = 0.0 if mean >= (most + 1) / 2 else _zipf_exponent(mean, most)
    weights = [k**-exponent for k in range(1, most + 1)]
    counts = draw.rng.choices(range(1, most + 1), weights=weights, k=studies)
    total = sum(counts)
    while total != links:
        index = draw.rng.randrange(studies)
        if total < links and counts[index] < most:
            counts[index] += 1
            total += 1
        elif total > links and counts[index] > 1:
            counts[index] -= 1
            total -= 1
    return counts


# --- The knowledge base -----------------------------------------------------------------------


@dataclass
class _Passages:
    """What each source's text must contain, section by section, in order."""

    sections: dict[str, dict[str, list[str]]] = field(default_factory=dict)

    def add(self, source: str, section: str, *texts: str) -> None:
        self.sections.setdefault(source, {}).setdefault(section, []).extend(texts)


@dataclass
class SynthResult:
    """What ``synthesise`` wrote."""

    counts: dict[str, int]
    links: int
    files: int
    bytes: int
    sample_records: int


class _Generator:
    def __init__(self, draw: _Draw):
        self.draw = draw
        self.ids = _Ids()
        self.passages = _Passages()
        self.unseen_strengths = list(Strength)  # each level appears where a study allows it

    # Sources and themes

    def sources(self, count: int) -> list[Source]:
        draw = self.draw
        out = []
        for number in range(1, count + 1):
            source_id = self.ids.new(f"synth-report-{number}")
            out.append(
                Source(
                    id=source_id,
                    title=draw.title("source"),
                    authors=self.authors(),
                    publisher="Synthetic Centre for Public Policy",
                    year=draw.rng.randint(2015, 2024),
                    series="synth-reports",
                    licence="CC0-1.0",
                    text=f"evidence/sources/{source_id}.txt",
                    note="A synthetic report written by benchmarks/synth.py for benchmarks.",
                )
            )
        return out

    def themes(self, sources: list[Source], count: int) -> list[Theme]:
        draw = self.draw
        out: list[Theme] = []
        tops: dict[str, list[str]] = {}
        for index in range(max(count, len(sources))):
            source = sources[index % len(sources)]
            title = draw.title("theme")
            theme_id = self.ids.new(_slug(title.split()[:3], 20))
            source_tops = tops.setdefault(source.id, [])
            parent = None
            if source_tops and draw.maybe(0.6):
                parent = draw.rng.choice(source_tops)
            else:
                source_tops.append(theme_id)
            self.passages.add(source.id, title)
            out.append(
                Theme(
                    id=theme_id,
                    title=title,
                    parent=parent,
                    source=source.id,
                    location=Location(section=title),
                )
            )
        return out

    def authors(self) -> list[str]:
        draw = self.draw
        count = min(int(draw.rng.paretovariate(1.6)), 12)
        return [
            f"{draw.rng.choice(draw.corpus.surnames)}, {chr(65 + draw.rng.randrange(26))}."
            for _ in range(count)
        ]

    # Recommendations

    def recommendations(self, themes: list[Theme], count: int) -> list[Recommendation]:
        draw = self.draw
        positions: Counter[str] = Counter()
        drafts: list[dict[str, Any]] = []
        wordings = dict.fromkeys(Wording, 1)
        for index in range(count):
            theme = themes[index] if index < len(themes) else draw.rng.choice(themes)
            positions[theme.id] += 1
            kind = draw.covering(index, _KINDS)
            statement = draw.prose("recommendation", "statement")
            self.passages.add(theme.source, theme.title, statement)
            draft: dict[str, Any] = {
                "id": self.ids.new(f"{theme.id}-{positions[theme.id]}"),
                "kind": kind,
                "title": draw.title("recommendation"),
                "statement": statement,
                "source": theme.source,
                "themes": [theme.id],
                "location": Location(section=theme.title, page=draw.rng.randint(1, 80)),
                "position": positions[theme.id],
            }
            if draw.maybe(0.2):
                draft["addressed_to"] = draw.rng.sample(draw.corpus.actors, 1)
            if draw.maybe(0.3):
                draft["involves"] = draw.rng.sample(
                    draw.corpus.actors, min(len(draw.corpus.actors), draw.rng.randint(1, 2))
                )
            if kind == RecommendationKind.RECOMMENDATION:
                draft["wording"] = draw.covering(positions["*"], wordings)
                positions["*"] += 1
            if kind == RecommendationKind.RECURRING:
                questions = [draw.sentence(draw.rng.randint(50, 140), end="?")]
                self.passages.add(theme.source, theme.title, *questions)
                draft["area_of_focus"] = questions
            if draw.maybe(0.4):
                draft["note"] = draw.prose("recommendation", "note")
            drafts.append(draft)
        recurring: dict[str, list[str]] = {}
        for draft in drafts:
            if draft["kind"] == RecommendationKind.RECURRING:
                recurring.setdefault(draft["source"], []).append(draft["id"])
        for draft in drafts:
            choices = recurring.get(draft["source"], [])
            if draft["kind"] != RecommendationKind.RECURRING and choices and draw.maybe(0.3):
                draft["responds_to"] = sorted(draw.rng.sample(choices, min(2, len(choices))))
        return [Recommendation(**draft) for draft in drafts]

    def judge(
        self, recommendations: list[Recommendation], studies: list[Study], themes: list[Theme]
    ) -> list[Recommendation]:
        """Give each recommendation the source's overall judgement, consistent with its links."""
        draw = self.draw
        strongest: dict[str, int] = {}
        for study in studies:
            for finding in study.findings:
                rank = finding.strength.rank
                strongest[finding.recommendation] = max(
                    strongest.get(finding.recommendation, 0), rank
                )
        titles = {theme.id: theme.title for theme in themes}
        out = []
        judged = 0
        unseen = list(Strength)
        for rec in recommendations:
            if rec.kind != RecommendationKind.RECOMMENDATION and not draw.maybe(0.2):
                out.append(rec)
                continue
            # S4 and S5 only where some link is above S1, so `kb check` does not warn.
            weak = rec.id in strongest and strongest[rec.id] <= 1
            allowed = [level for level in unseen if not (weak and level.rank >= 4)]
            if allowed:
                level = allowed[0]
                unseen.remove(level)
            else:
                level = draw.weighted(_STRENGTHS)
                if weak and level.rank >= 4:
                    level = Strength(f"S{draw.rng.randint(1, 3)}")
            judged += 1
            quote = draw.prose("judgement", "quote")
            section = titles[rec.themes[0]]
            self.passages.add(rec.source, section, quote)
            judgement = EvidenceJudgement(
                level=level,
                basis=draw.covering(judged, _JUDGEMENT_BASES),
                quote=quote,
                location=Location(section=section),
                note=draw.prose("judgement", "note") if draw.maybe(0.5) else None,
            )
            out.append(rec.model_copy(update={"evidence_judgement": judgement}))
        return out

    # Studies and their evidence links

    def studies(
        self,
        count: int,
        links: int,
        recommendations: list[Recommendation],
        themes: list[Theme],
    ) -> list[Study]:
        draw = self.draw
        most = min(MOST_LINKS, len(recommendations))
        counts = link_counts(draw, count, links, most)
        # Some recommendations attract far more evidence than others.
        popularity = list(
            itertools.accumulate(1 / rank for rank in range(1, len(recommendations) + 1))
        )
        order = list(recommendations)
        draw.rng.shuffle(order)
        titles = {theme.id: theme.title for theme in themes}
        out = []
        finding_index = 0
        for index in range(count):
            study_type = draw.covering(index, _STUDY_TYPES)
            authors = self.authors()
            year = draw.rng.randint(1990, 2024)
            study_id = self.ids.new(f"{_slug([authors[0].split(',')[0]], 16)}-{year}")
            chosen: dict[str, Recommendation] = {}
            while len(chosen) < counts[index]:
                rec = draw.rng.choices(order, cum_weights=popularity)[0]
                chosen.setdefault(rec.id, rec)
            findings = []
            for rec in chosen.values():
                findings.append(self.finding(study_id, study_type, rec, titles, finding_index))
                finding_index += 1
            out.append(self.study(study_id, study_type, authors, year, findings))
        return self.cover_strengths(out)

    def cover_strengths(self, studies: list[Study]) -> list[Study]:
        """Give a level no link has yet to a link whose study's type allows it and whose own
        level other links share, so that every level appears when the links allow it."""
        seen = Counter(finding.strength for study in studies for finding in study.findings)
        for level in reversed(Strength):
            if seen[level]:
                continue
            for index, study in enumerate(studies):
                if usual_ceiling(study.type).rank < level.rank:
                    continue
                spare = [n for n, f in enumerate(study.findings) if seen[f.strength] > 1]
                if spare:
                    finding = study.findings[spare[0]]
                    seen[finding.strength] -= 1
                    seen[level] += 1
                    findings = list(study.findings)
                    findings[spare[0]] = finding.model_copy(update={"strength": level})
                    studies[index] = study.model_copy(update={"findings": findings})
                    break
        return studies

    def finding(
        self,
        study_id: str,
        study_type: StudyType,
        rec: Recommendation,
        titles: dict[str, str],
        index: int,
    ) -> Finding:
        draw = self.draw
        # Never above the study type's usual ceiling, as reviewers rate: no warning.
        ceiling = usual_ceiling(study_type).rank
        allowed = [level for level in self.unseen_strengths if level.rank <= ceiling]
        if allowed:  # the highest first, while a study that allows it is at hand
            strength = allowed[-1]
            self.unseen_strengths.remove(strength)
        else:
            strength = draw.weighted({k: w for k, w in _STRENGTHS.items() if k.rank <= ceiling})
        quote = draw.prose("finding", "quote")
        section = titles[rec.themes[0]]
        self.passages.add(rec.source, section, quote)
        return Finding(
            id=self.ids.new(f"{study_id}--{rec.id}"[:60]),
            recommendation=rec.id,
            relation=draw.covering(index, _RELATIONS),
            strength=strength,
            direction=draw.covering(index, _DIRECTIONS),
            horizon=draw.covering(index, _HORIZONS),
            summary=draw.sentence(draw.length("finding", "summary")),
            basis=Basis.SOURCE,
            quote=quote,
            source=rec.source,
            location=Location(section=section),
            recorded_by=_RECORDED_BY,
            recorded_on=_RECORDED_ON,
            note=draw.prose("finding", "note") if draw.maybe(0.8) else None,
        )

    def study(
        self,
        study_id: str,
        study_type: StudyType,
        authors: list[str],
        year: int,
        findings: list[Finding],
    ) -> Study:
        draw = self.draw
        title = draw.title("study")
        container = draw.rng.choice(draw.corpus.containers)
        surnames = [author.split(",")[0] for author in authors]
        if len(surnames) == 1:
            cited = f"{surnames[0]}, {year}"
        elif len(surnames) == 2:
            cited = f"{surnames[0]} and {surnames[1]}, {year}"
        else:
            cited = f"{surnames[0]} et al., {year}"
        journal = draw.maybe(0.5)
        return Study(
            id=study_id,
            authors=authors,
            year=year,
            title=title,
            container=container,
            volume=str(draw.rng.randint(1, 60)) if journal else None,
            issue=str(draw.rng.randint(1, 12)) if journal and draw.maybe(0.7) else None,
            pages=f"{(first := draw.rng.randint(1, 900))}-{first + draw.rng.randint(5, 30)}"
            if journal
            else None,
            url=f"https://example.org/studies/{study_id}" if draw.maybe(0.3) else None,
            doi=f"10.{draw.rng.randint(1000, 99999)}/{study_id}" if draw.maybe(0.4) else None,
            type=study_type,
            setting=draw.rng.sample(draw.corpus.settings, 1) if draw.maybe(0.5) else [],
            reference=f"{', '.join(authors)} ({year}). {title}. {container}.",
            cited_as=[cited],
            in_reference_list=not draw.maybe(0.05),
            note=draw.prose("study", "note") if draw.maybe(0.7) else None,
            findings=[_without_other_design(finding, study_type) for finding in findings],
        )

    # Examples and figures

    def examples(
        self,
        count: int,
        studies: list[Study],
        recommendations: list[Recommendation],
        themes: list[Theme],
    ) -> list[Example]:
        draw = self.draw
        by_source: dict[str, list[str]] = {}
        for rec in recommendations:
            by_source.setdefault(rec.source, []).append(rec.id)
        out = []
        for index in range(count):
            theme = draw.rng.choice(themes)
            same_source = by_source.get(theme.source, [])
            name = draw.title("example", "name")
            quote = draw.prose("example", "quote")
            self.passages.add(theme.source, theme.title, quote)
            out.append(
                Example(
                    id=self.ids.new(_slug(name.split()[:4], 40)),
                    name=name,
                    description=draw.sentence(draw.length("example", "description")),
                    place=draw.rng.choice(draw.corpus.settings),
                    sector=draw.rng.choice(["health", "social care", "education", "housing"]),
                    evaluation_status=draw.covering(index, _EVALUATION),
                    quote=quote,
                    source=theme.source,
                    location=Location(section=theme.title),
                    url=f"https://example.org/practice/{index}" if draw.maybe(0.5) else None,
                    studies=sorted(
                        {draw.rng.choice(studies).id for _ in range(draw.rng.randint(0, 3))}
                    ),
                    recommendations=sorted(
                        {draw.rng.choice(same_source) for _ in range(draw.rng.randint(0, 2))}
                    )
                    if same_source
                    else [],
                    note=draw.prose("example", "note") if draw.maybe(0.6) else None,
                )
            )
        return out

    def figures(self, count: int, studies: list[Study], themes: list[Theme]) -> list[Figure]:
        draw = self.draw
        out = []
        for _ in range(count):
            theme = draw.rng.choice(themes)
            title = draw.title("figure")
            quote = draw.prose("figure", "quote")
            self.passages.add(theme.source, theme.title, quote)
            out.append(
                Figure(
                    id=self.ids.new(_slug(title.split()[:4], 40)),
                    title=title,
                    value=f"{draw.rng.randint(1, 99)}%",
                    quote=quote,
                    source=theme.source,
                    location=Location(section=theme.title),
                    studies=sorted(
                        {draw.rng.choice(studies).id for _ in range(draw.rng.randint(1, 3))}
                    ),
                    themes=[theme.id],
                    note=draw.prose("figure", "note") if draw.maybe(0.5) else None,
                )
            )
        return out

    def source_text(self, source: Source) -> str:
        """The report's full text: each section's heading, then its passages among filler."""
        draw = self.draw
        parts = [source.title, "; ".join(source.authors), str(source.year)]
        for heading, passages in self.passages.sections.get(source.id, {}).items():
            parts.append(heading)
            for passage in passages:
                if draw.maybe(0.5):
                    parts.append(f"{draw.prose('finding', 'quote')} {passage}")
                else:
                    parts.append(passage)
        return "\n\n".join(parts) + "\n"


def _files(
    out: Path,
    sources: list[Source],
    themes: list[Theme],
    recommendations: list[Recommendation],
    studies: list[Study],
    examples: list[Example],
    figures: list[Figure],
) -> Iterator[tuple[Path, Record]]:
    folders: list[tuple[str, Sequence[Record]]] = [
        ("evidence/sources", sources),
        ("recommendations/themes", themes),
        ("recommendations", recommendations),
        ("evidence/studies", studies),
        ("evidence/examples", examples),
        ("evidence/figures", figures),
    ]
    for folder, records in folders:
        for record in records:
            yield out / folder / f"{record.id}.yaml", record  # type: ignore[attr-defined]


def synthesise(
    out: Path,
    studies: int,
    recommendations: int,
    links: int | None = None,
    seed: int = 42,
    sources: int | None = None,
    like: Path | None = None,
) -> SynthResult:
    """Write a synthetic knowledge base into ``out``, which must hold no records yet.

    ``links`` is the number of evidence links (default three per study); ``sources`` the number
    of reports, each with its own text (default one per 60 recommendations); ``like`` the
    knowledge base whose records set lengths and vocabulary (default: a built-in word list).
    """
    for folder in ("recommendations", "evidence"):
        if (out / folder).exists() and any((out / folder).iterdir()):
            raise OutputNotEmpty(
                f"{out / folder} already exists and is not empty; name a new folder"
            )
    recommendations = max(recommendations, 1)
    links = 3 * studies if links is None else links
    sources = sources or max(1, round(recommendations / RECOMMENDATIONS_PER_SOURCE))
    sources = min(sources, recommendations)
    corpus = corpus_from(like)
    draw = _Draw(seed, corpus)
    generator = _Generator(draw)

    source_records = generator.sources(sources)
    theme_count = max(2, math.ceil(recommendations / RECOMMENDATIONS_PER_THEME))
    theme_records = generator.themes(source_records, min(theme_count, recommendations))
    rec_records = generator.recommendations(theme_records, recommendations)
    study_records = generator.studies(studies, links, rec_records, theme_records)
    rec_records = generator.judge(rec_records, study_records, theme_records)
    example_records = (
        generator.examples(
            max(1, studies // STUDIES_PER_EXAMPLE), study_records, rec_records, theme_records
        )
        if studies
        else []
    )
    figure_records = (
        generator.figures(max(1, studies // STUDIES_PER_FIGURE), study_records, theme_records)
        if studies
        else []
    )

    written = 0
    files = 0
    for path, record in _files(
        out,
        source_records,
        theme_records,
        rec_records,
        study_records,
        example_records,
        figure_records,
    ):
        path.parent.mkdir(parents=True, exist_ok=True)
        text = dump_record(record)
        path.write_text(text, encoding="utf-8")
        written += len(text.encode())
        files += 1
    for source in source_records:
        text = generator.source_text(source)
        (out / str(source.text)).write_text(text, encoding="utf-8")
        written += len(text.encode())
        files += 1
    counts = {
        "sources": len(source_records),
        "themes": len(theme_records),
        "recommendations": len(rec_records),
        "studies": len(study_records),
        "examples": len(example_records),
        "figures": len(figure_records),
    }
    return SynthResult(
        counts=counts,
        links=sum(len(study.findings) for study in study_records),
        files=files,
        bytes=written,
        sample_records=corpus.records,
    )


@click.command()
@click.argument("out_dir", metavar="OUT_DIR", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--studies", type=click.IntRange(0), default=1000, show_default=True, help="Studies to write."
)
@click.option(
    "--recommendations",
    type=click.IntRange(1),
    default=200,
    show_default=True,
    help="Recommendations to write.",
)
@click.option(
    "--links",
    type=click.IntRange(0),
    help="Evidence links in all, spread unevenly over studies.  [default: 3 per study]",
)
@click.option(
    "--sources",
    type=click.IntRange(1),
    help="Reports, each with its own full text.  [default: 1 per 60 recommendations]",
)
@click.option(
    "--seed", type=int, default=42, show_default=True, help="Seed: same seed, same files."
)
@click.option(
    "--like",
    metavar="PATH",
    help="Knowledge base whose records set text lengths and vocabulary.  "
    "[default: --root or KB_ROOT, else a built-in word list]",
)
@fails_cleanly
def main(
    out_dir: Path,
    studies: int,
    recommendations: int,
    links: int | None,
    sources: int | None,
    seed: int,
    like: str | None,
) -> None:
    """Write a synthetic knowledge base into OUT_DIR that `kb check` accepts.

    Text lengths and vocabulary are drawn from the real records; evidence links per study
    follow a Zipf-like law (many single-link studies, a few hubs); every record type and
    strength level appears. One seed always gives the same files.

    Example: python -m benchmarks.synth --studies 1000 --links 3000 --seed 1 /tmp/kb-1000
    """
    result = synthesise(
        out_dir,
        studies=studies,
        recommendations=recommendations,
        links=links,
        seed=seed,
        sources=sources,
        like=Path(setting_value("root", like)),
    )
    counts = ", ".join(f"{count} {name}" for name, count in result.counts.items())
    click.echo(
        f"wrote {out_dir}: {counts}, {result.links} evidence links "
        f"({result.files} files, {result.bytes / 1e6:.1f} MB)"
    )


if __name__ == "__main__":
    main()
