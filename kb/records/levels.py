"""How strong evidence is: every rule that turns evidence into a strength level, in one place.

- ``USUAL_CEILING``: the highest level a single link from each type of study normally gets.
- ``appraised_level``: the level of a reviewer's appraisal, GRADE's way (start from the design,
  move down or up by domain).
- ``overall_level``: the computed level of a recommendation's body of evidence.
- ``headline``: the one level a recommendation is shown with, and what to say beside it.

``kb check`` enforces them, the graph and the pages apply them, and the methodology page prints
their docstrings and tables, so the rules people read are the rules the code applies.
"""

import gettext
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from kb.records.document import HeadlineEntry
from kb.records.vocabularies import (
    Downgrade,
    JudgementBasis,
    RecommendationKind,
    Relation,
    Strength,
    StudyType,
    Upgrade,
)

# Study type → the highest level one link from such a study normally gets, and why, in the
# scale's own words. A source link above it needs a reason (``above_ceiling``); an appraisal
# starts from it.
USUAL_CEILING: dict[StudyType, tuple[Strength, str]] = {
    StudyType.SYSTEMATIC_REVIEW: (Strength.S5, "a good systematic review"),
    StudyType.RANDOMISED_TRIAL: (Strength.S4, "one rigorous causal study"),
    StudyType.QUASI_EXPERIMENTAL: (Strength.S4, "one rigorous causal study"),
    StudyType.REVIEW: (Strength.S3, "a review that is not systematic"),
    StudyType.OBSERVATIONAL: (Strength.S3, "non-causal quantitative research"),
    StudyType.QUALITATIVE: (Strength.S3, "a qualitative finding"),
    StudyType.MIXED_METHODS: (Strength.S3, "non-causal research"),
    StudyType.EVALUATION_REPORT: (Strength.S3, "an evaluation, often uncontrolled"),
    StudyType.BOOK: (Strength.S3, "at most a synthesis of non-causal research"),
    StudyType.STATISTICS: (Strength.S2, "descriptive data, such as monitoring statistics"),
    StudyType.POLICY_GUIDANCE: (Strength.S1, "guidance or consensus"),
    StudyType.COMMENTARY: (Strength.S1, "opinion"),
    StudyType.EXPERT_COMMUNICATION: (Strength.S1, "expert opinion"),
    StudyType.UNCLASSIFIED: (Strength.S1, "a study not yet read"),
}

# Designs that GRADE never rates up: randomised evidence starts at the top of what one study
# can reach, and a systematic review at the top of the scale.
NOT_UPGRADED = frozenset({StudyType.RANDOMISED_TRIAL, StudyType.SYSTEMATIC_REVIEW})
# Domains where only one level up is possible (GRADE: +2 is for a very large effect only).
ONE_LEVEL_ONLY = frozenset({Upgrade.DOSE_RESPONSE, Upgrade.PLAUSIBLE_CONFOUNDING})


def usual_ceiling(study_type: str) -> Strength:
    """The usual ceiling of a study type (``USUAL_CEILING``)."""
    return USUAL_CEILING[StudyType(study_type)][0]


def link_ceiling(study_type: str, relation: str) -> Strength:
    """The highest level a link from a source report normally gets without a stated reason.

    It is the usual ceiling of the study's type, except that a practice example is S2 by the
    scale's own definition, whatever kind of publication describes it.
    """
    ceiling = usual_ceiling(study_type)
    if relation == Relation.PRACTICE_EXAMPLE and ceiling.rank < 2:
        return Strength.S2
    return ceiling


# --- Appraisals ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Appraised:
    """The level an appraisal gives, with its steps in words."""

    start: Strength
    level: Strength
    steps: list[str]

    def explained(self) -> str:
        return "; ".join(self.steps)


def appraised_level(
    study_type: str,
    downgrades: Iterable[Mapping[str, Any]] = (),
    upgrades: Iterable[Mapping[str, Any]] = (),
) -> Appraised:
    """The level of a reviewer's appraisal of one study for one recommendation.

    1. Start at the usual ceiling of the study's type (the table above): a systematic review at
       S5, a randomised trial or quasi-experiment at S4, other research at S3, statistics at
       S2, guidance, commentary and expert communication at S1.
    2. Go down one level for each serious concern, two for a very serious one, in each of
       GRADE's five domains: risk of bias, inconsistency, indirectness, imprecision and
       publication bias.
    3. Go up one level for a large effect (two for a very large one), a dose-response gradient,
       or when plausible confounding would have reduced the effect found; only for designs
       that are not randomised trials or systematic reviews, as GRADE does.
    4. The result is never above S5, nor above S4 for a single study (S5 asks for several
       studies or a systematic review), and never below S2 for research (GRADE's "very low")
       or below S1 for opinion.
    """
    start = usual_ceiling(study_type)
    steps = [f"starts at {start} ({USUAL_CEILING[StudyType(study_type)][1]})"]
    value = start.rank
    for rating in downgrades:
        value -= int(rating["levels"])
        steps.append(f"down {rating['levels']} for {Downgrade(rating['domain']).label.lower()}")
    for rating in upgrades:
        value += int(rating["levels"])
        steps.append(f"up {rating['levels']} for {Upgrade(rating['domain']).label.lower()}")
    highest = 5 if study_type == StudyType.SYSTEMATIC_REVIEW else 4
    lowest = min(start.rank, 2)
    level = Strength(f"S{max(lowest, min(highest, value))}")
    if level.rank != value:
        limit = "lowest" if value < level.rank else "highest"
        steps.append(f"held at {level}, the {limit} it can be")
    return Appraised(start, level, steps)


# --- A recommendation's body of evidence -------------------------------------------------

_RANKS = {level.value: level.rank for level in Strength}


def rank(level: str) -> int:
    """A level's place on the scale: S0 → 0 … S5 → 5."""
    return _RANKS[level]


def supports(item: Mapping[str, Any]) -> bool:
    """Whether an evidence link counts as support (rule 1 of ``overall_level``)."""
    return item["relation"] == Relation.SUPPORTS and rank(item["strength"]) >= 1


def contradicts(item: Mapping[str, Any]) -> bool:
    """Whether an evidence link counts against (rule 4 of ``overall_level``)."""
    return item["relation"] == Relation.CONTRADICTS and rank(item["strength"]) >= 1


def best_support(items: Iterable[Mapping[str, Any]]) -> dict[str, int]:
    """Each supporting study's strongest supporting rank (rule 1 of ``overall_level``)."""
    best: dict[str, int] = {}
    for item in items:
        if supports(item):
            best[item["study"]] = max(best.get(item["study"], 0), rank(item["strength"]))
    return best


def supported_level(ranks: list[int]) -> int:
    """Rule 3 of ``overall_level``: the level of supporting ranks (strongest first, not empty)
    before any contradicting item lowers it. Only the two strongest matter."""
    second = ranks[1] if len(ranks) > 1 else 0
    return max(second, ranks[0] - 1, 1)


def computed_rank(ranks: list[int], contradicting: int) -> int:
    """``overall_level``'s level as a rank, from the supporting ranks (strongest first) and
    the number of contradicting items, without the reasons."""
    if not ranks:
        return 0
    level = supported_level(ranks)
    return max(level - 1, 1) if contradicting else level


# The words the reasons are composed in: English, the messages themselves, unless a page in
# another language passes its catalogue (``kb.localization.translations``).
ENGLISH_WORDS = gettext.NullTranslations()


def overall_level(
    items: Sequence[Mapping[str, Any]], words: gettext.NullTranslations = ENGLISH_WORDS
) -> tuple[str, str]:
    """The computed overall level of a body of evidence, and the reason for it, in words
    (``words``: English, or a catalogue's language).

    1. Supporting items are ``supports`` links at S1 or above, whatever their basis (a source
       report's words or a reviewer's appraisal); each study counts once, at its strongest.
       S0 links are gaps, whatever their relation; ``qualifies``, ``context`` and
       ``practice-example`` links do not count.
    2. No supporting item: S0.
    3. Otherwise the higher of: the highest level at least two studies reach, and one level
       below the strongest study (a single study is not yet a body of evidence); never below
       S1, since some support exists.
    4. Any contradicting item (``contradicts`` at S1 or above) lowers that one level, again
       never below S1.
    """
    best = best_support(items)
    if not best:
        return "S0", words.gettext("no supporting evidence")
    ranks = sorted(best.values(), reverse=True)
    second = ranks[1] if len(ranks) > 1 else 0
    level = supported_level(ranks)
    if level == second:
        studies = sum(value >= level for value in ranks)
        reason = words.ngettext(
            "%(num)d study supports it at %(level)s or above",
            "%(num)d studies support it at %(level)s or above",
            studies,
        ) % {"num": studies, "level": f"S{level}"}
    elif ranks[0] == 1:
        reason = words.gettext("one study supports it, at S1")
    else:
        reason = words.gettext(
            "one level below its strongest supporting study (%(level)s), which no other "
            "study matches"
        ) % {"level": f"S{ranks[0]}"}
    contradicting = sum(contradicts(item) for item in items)
    if contradicting:
        level = max(level - 1, 1)
        reason += words.ngettext(
            "; one level lower for %(num)d contradicting item",
            "; one level lower for %(num)d contradicting items",
            contradicting,
        ) % {"num": contradicting}
    return f"S{level}", reason


def disagrees(computed: str, judged: str | None) -> bool:
    """True when the source's judgement and the computed level differ by two or more levels,
    or when one says there is no evidence (S0) and the other that there is some."""
    if judged is None:
        return False
    difference = abs(rank(computed) - rank(judged))
    return difference >= 2 or (rank(computed) == 0) != (rank(judged) == 0)


# --- The headline -------------------------------------------------------------------------

NOT_JUDGED = "Not judged"


@dataclass(frozen=True)
class Headline:
    """The one level a statement is shown with, and what is said beside it."""

    level: str | None  # None: not judged (statements that are not recommendations)
    reason: str  # why the level is what it is
    source_level: str | None  # the source's judgement, where it differs from ``level``
    source_basis: str | None  # stated or inferred, with ``source_level``
    explanation: str  # one plain sentence on a difference, or ""
    flagged: bool  # the difference is large enough to call for another look

    @property
    def label(self) -> str:
        return Strength(self.level).label if self.level else NOT_JUDGED

    def as_dict(self) -> HeadlineEntry:
        return {
            "level": self.level,
            "label": self.label,
            "reason": self.reason,
            "source_level": self.source_level,
            "source_basis": self.source_basis,
            "explanation": self.explanation,
            "flagged": self.flagged,
        }


def headline(
    kind: str,
    computed: str,
    reason: str,
    judged: str | None,
    judged_basis: str | None,
    words: gettext.NullTranslations = ENGLISH_WORDS,
) -> Headline:
    """The headline level of a statement: the level computed from its evidence links, with
    what is said beside it in ``words``' language (English unless a catalogue is given).

    1. Only recommendations are rated. Key messages, recurring recommendations and government
       actions are "Not judged": they summarise or frame the recommendations, and the report
       does not ask for their evidence to be weighed.
    2. A recommendation's headline is the level computed from all its evidence links by the
       overall-level rule. It is the one level that follows from recorded evidence by a rule
       anyone can check, and it moves when a reviewer adds or appraises evidence.
    3. The source's own overall judgement is shown beside it only where the two differ, with
       one sentence saying so: "the report says" where the report states its judgement, "our
       reading of the report" where we inferred it.
    """
    if kind != RecommendationKind.RECOMMENDATION:
        what = words.gettext(RecommendationKind(kind).label).lower()
        rated = words.gettext("only recommendations are rated; this is a %(kind)s")
        return Headline(None, rated % {"kind": what}, None, None, "", False)
    if judged is None or judged == computed:
        return Headline(computed, reason, None, None, "", False)
    values = {
        "level": judged,
        "label": words.gettext(Strength(judged).label).lower(),
        "computed": computed,
        "reason": reason,
    }
    if judged_basis == JudgementBasis.STATED:
        explanation = words.gettext(
            "The report itself judges the evidence %(level)s (%(label)s); the headline is "
            "%(computed)s because %(reason)s."
        )
    else:
        explanation = words.gettext(
            "Our reading of the report's own words puts the evidence at %(level)s "
            "(%(label)s); the headline is %(computed)s because %(reason)s."
        )
    explanation %= values
    return Headline(
        computed, reason, judged, judged_basis, explanation, disagrees(computed, judged)
    )
