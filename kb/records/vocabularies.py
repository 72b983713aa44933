"""The schema's vocabularies, and the characters no record text may hold.

Plain Python, part of the one schema (``kb.records.models`` holds the rest and re-exports these),
kept apart so that commands which only show or search records (`kb search`, `kb --help`) need not
load pydantic and SQLModel to know a strength level or a label.
"""

import re
from enum import StrEnum

# --- Vocabularies -------------------------------------------------------------------------


class Labelled(StrEnum):
    """A vocabulary whose values are stored as slugs and shown to people as labels."""

    @property
    def label(self) -> str:
        return LABELS.get(self.value, self.value)


class Strength(Labelled):
    S0 = "S0"
    S1 = "S1"
    S2 = "S2"
    S3 = "S3"
    S4 = "S4"
    S5 = "S5"

    @property
    def rank(self) -> int:
        return int(self.value[1])


class StudyType(Labelled):
    SYSTEMATIC_REVIEW = "systematic-review"
    REVIEW = "review"
    RANDOMISED_TRIAL = "randomised-trial"
    QUASI_EXPERIMENTAL = "quasi-experimental"
    OBSERVATIONAL = "observational"
    QUALITATIVE = "qualitative"
    MIXED_METHODS = "mixed-methods"
    EVALUATION_REPORT = "evaluation-report"
    POLICY_GUIDANCE = "policy-guidance"
    STATISTICS = "statistics"
    COMMENTARY = "commentary"
    BOOK = "book"
    EXPERT_COMMUNICATION = "expert-communication"
    UNCLASSIFIED = "unclassified"


# Study types that are research designs: published as scholarly articles when a journal is
# given (citations) and described as ScholarlyArticle in JSON-LD.
RESEARCH_DESIGNS = frozenset(
    {
        StudyType.SYSTEMATIC_REVIEW,
        StudyType.REVIEW,
        StudyType.RANDOMISED_TRIAL,
        StudyType.QUASI_EXPERIMENTAL,
        StudyType.OBSERVATIONAL,
        StudyType.QUALITATIVE,
        StudyType.MIXED_METHODS,
    }
)


class Relation(Labelled):
    SUPPORTS = "supports"
    QUALIFIES = "qualifies"
    CONTRADICTS = "contradicts"
    PRACTICE_EXAMPLE = "practice-example"
    CONTEXT = "context"


class Direction(Labelled):
    POSITIVE = "positive"
    MIXED = "mixed"
    NO_EFFECT = "no-effect"
    HARM = "harm"
    NOT_ASSESSED = "not-assessed"


class Horizon(Labelled):
    SHORT_TERM = "short-term"
    LONG_TERM = "long-term"
    NOT_STATED = "not-stated"


class RecommendationKind(Labelled):
    RECOMMENDATION = "recommendation"
    KEY_MESSAGE = "key-message"
    RECURRING = "recurring"
    GOVERNMENT_ACTION = "government-action"


class Wording(Labelled):
    """Our reading of how a statement is worded: never a grade of its evidence."""

    IMPERATIVE = "imperative"
    CONDITIONAL = "conditional"
    RESEARCH = "research"


class JudgementBasis(Labelled):
    """Whether the source states an overall judgement of the evidence or we infer it."""

    STATED = "stated"
    INFERRED = "inferred"


class Basis(Labelled):
    """What an evidence link rests on: a source report's words, or a reviewer's appraisal."""

    SOURCE = "source"
    APPRAISAL = "appraisal"


class TextPart(Labelled):
    """How much of a study a held text is."""

    ABSTRACT = "abstract"
    EXCERPT = "excerpt"
    FULL_TEXT = "full-text"


class Downgrade(Labelled):
    """GRADE's reasons to rate a study's evidence down."""

    RISK_OF_BIAS = "risk-of-bias"
    INCONSISTENCY = "inconsistency"
    INDIRECTNESS = "indirectness"
    IMPRECISION = "imprecision"
    PUBLICATION_BIAS = "publication-bias"


class Upgrade(Labelled):
    """GRADE's reasons to rate non-randomised evidence up."""

    LARGE_EFFECT = "large-effect"
    DOSE_RESPONSE = "dose-response"
    PLAUSIBLE_CONFOUNDING = "plausible-confounding"


class EvaluationStatus(Labelled):
    EVALUATED = "evaluated"
    NOT_EVALUATED = "not-evaluated"
    UNDER_DEVELOPMENT = "under-development"
    NOT_STATED = "not-stated"


class RecordType(Labelled):
    """The kinds of record that have a page of their own on the site."""

    SOURCE = "source"
    THEME = "theme"
    RECOMMENDATION = "recommendation"
    STUDY = "study"
    EXAMPLE = "example"
    FIGURE = "figure"

    @property
    def label(self) -> str:
        return RECORD_TYPE_LABELS[self.value]


RECORD_TYPE_LABELS = {
    "source": "Source report",
    "theme": "Theme",
    "recommendation": "Statement (recommendation, key message…)",
    "study": "Study",
    "example": "Practice example",
    "figure": "Key figure",
}

LABELS = {
    "S0": "No evidence found",
    "S1": "Expert opinion",
    "S2": "Very limited",
    "S3": "Limited",
    "S4": "Good",
    "S5": "Strong",
    "systematic-review": "Systematic review / meta-analysis",
    "review": "Review",
    "randomised-trial": "Randomised trial",
    "quasi-experimental": "Quasi-experimental",
    "observational": "Observational quantitative",
    "qualitative": "Qualitative",
    "mixed-methods": "Mixed methods",
    "evaluation-report": "Evaluation report",
    "policy-guidance": "Policy or guidance document",
    "statistics": "Statistics or dataset",
    "commentary": "Commentary / blog / news",
    "book": "Book or chapter",
    "expert-communication": "Expert communication",
    "unclassified": "Not yet classified",
    "supports": "Supports",
    "qualifies": "Qualifies",
    "contradicts": "Contradicts",
    "practice-example": "Practice example",
    "context": "Context",
    "positive": "Positive",
    "mixed": "Mixed",
    "no-effect": "No effect",
    "harm": "Harm",
    "not-assessed": "Not assessed",
    "short-term": "Short-term",
    "long-term": "Long-term",
    "not-stated": "Not stated",
    "recommendation": "Recommendation",
    "key-message": "Key message",
    "recurring": "Recurring recommendation",
    "government-action": "Government action",
    "imperative": "Imperative",
    "conditional": "Conditional",
    "research": "Calls for research",
    "stated": "Stated by the source",
    "inferred": "Inferred by us",
    "source": "From the source report",
    "appraisal": "Reviewer's appraisal",
    "abstract": "Abstract",
    "excerpt": "Excerpt",
    "full-text": "Full text",
    "risk-of-bias": "Risk of bias",
    "inconsistency": "Inconsistency",
    "indirectness": "Indirectness",
    "imprecision": "Imprecision",
    "publication-bias": "Publication bias",
    "large-effect": "Large effect",
    "dose-response": "Dose-response gradient",
    "plausible-confounding": "Plausible confounding would reduce the effect",
    "evaluated": "Evaluated",
    "not-evaluated": "Not evaluated",
    "under-development": "Under development",
}

STRENGTH_DEFINITIONS = {
    Strength.S5: (
        "Several rigorous causal studies or a good systematic review, consistent.",
        "GRADE high; EEF 4–5 padlocks; EIF level 4",
    ),
    Strength.S4: (
        "At least one rigorous causal study, or a review with limitations (e.g. short-term only).",
        "GRADE moderate; EEF 3 padlocks; EIF level 3",
    ),
    Strength.S3: (
        "Few or small or non-causal studies, or a qualitative finding.",
        "GRADE low; EEF 2 padlocks; EIF level 2",
    ),
    Strength.S2: (
        "A single uncontrolled study, descriptive grey literature, or a practice example.",
        "GRADE very low; EEF 1 padlock; EIF NL2",
    ),
    Strength.S1: (
        "Expert opinion or consensus: stakeholders, lived experience, practice learning.",
        "Below GRADE very low; no EEF or EIF rating",
    ),
    Strength.S0: (
        "No evidence found: looked for and not found (not the same as 'no effect').",
        "Evidence gap",
    ),
}


# --- Optional fields ------------------------------------------------------------------------

# Fields a link edit may clear, and where they sit in the link.
CLEARABLE_LINK_FIELDS = {
    "claim": (),
    "note": (),
    "above_ceiling": (),
    "page": ("location",),
    "sample_size": ("appraisal",),
}
# Study fields an edit may clear (the others are required, or changed by other commands).
CLEARABLE_STUDY_FIELDS = (
    "authors",
    "year",
    "title",
    "container",
    "volume",
    "issue",
    "pages",
    "publisher",
    "url",
    "doi",
    "setting",
    "reference",
    "cited_as",
    "note",
)


# --- File formats ---------------------------------------------------------------------------

# The formats `kb graph export` writes the evidence graph in (``kb.graph.files``).
EXPORT_FORMATS = ("graphml", "gexf", "json")


# --- Plain text ------------------------------------------------------------------------------

# Characters no record text may hold: C0 and C1 controls except tab and line feed, DEL, lone
# surrogates and the two non-characters. They only get in through YAML escapes ("\e", "\0") or
# code, can rewrite a terminal that prints them, and SQLite cannot store lone surrogates.
# ``kb.records.load`` refuses them in every key and value of a record file; the models refuse them
# in every text field, so a record built in code is held to the same rule.
CONTROL_CHARACTERS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")


def control_character_message(text: str) -> str | None:
    """Say which control character ``text`` holds, or return None when it holds none."""
    found = CONTROL_CHARACTERS.search(text)
    if found is None:
        return None
    return f"contains the control character U+{ord(found.group()):04X}; records hold plain text"
