"""What the pages show, worked out once from the export document and the evidence graph.

``SiteModel`` indexes the records every way the pages look them up (evidence by
recommendation and by study, themes with their ancestors, examples and figures by what they
cite) and holds each recommendation's evidence profile. It knows nothing of Markdown or HTML.

The level a recommendation is *shown* with is its headline level (``kb.records.levels.headline``):
the level computed from its evidence links, with the source's own judgement beside it where the
two differ. Statements that are not recommendations are "Not judged".
"""

import math
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Mapping
from typing import Any, TypedDict

import networkx as nx

from kb.graph.evidence import (
    EvidenceGaps,
    EvidenceProfile,
    StudyUses,
    SupportTable,
    evidence_gaps,
    evidence_profile,
    related_recommendations,
    studies_uses,
)
from kb.graph.related import Related
from kb.records.document import (
    Document,
    EvidenceEntry,
    ExampleEntry,
    FigureEntry,
    HeadlineEntry,
    RecommendationEntry,
    SourceEntry,
    StudyEntry,
    ThemeEntry,
)
from kb.records.vocabularies import STRENGTH_DEFINITIONS, Direction, Strength
from kb.render.dependencies import NotedMapping, PageReads, Read

LEVELS = [level.value for level in Strength]
NOT_JUDGED = "none"
DIRECTIONS = [direction.value for direction in Direction]


def slug(text: str) -> str:
    """A URL-safe key for free text (actors): lower-case letters, digits and hyphens."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:60] or "x"


def level_label(level: str | None) -> str:
    return Strength(level).label if level else "Not judged"


def level_definition(level: str | None) -> str:
    return STRENGTH_DEFINITIONS[Strength(level)][0] if level else ""


class MapRow(TypedDict):
    """One theme's row of an evidence map: its count under each column, and each count's
    bubble size (``_with_bubble_sizes``)."""

    theme: str
    depth: int
    total: int
    cells: list[tuple[str, int, int]]  # column (a level or a direction), count, bubble size


# The model's mappings whose reads a page notes (``SiteModel.notes``).
NOTED = (
    "sources", "themes", "recommendations", "studies", "examples", "figures", "evidence_of_rec",
    "evidence_of_study", "examples_of_rec", "examples_of_study", "figures_of_theme",
    "figures_of_study", "children", "themes_of_source", "recs_of_theme", "responses",
    "recs_of_source", "profiles",
)  # fmt: skip


class GraphAnswers:
    """What the graph says of each record (its evidence profile, the recommendations related
    to it, what rests on a study), worked out once per build and kept: every language's pages
    ask the same graph, and the digests of what the pages read ask again
    (``kb.render.dependencies``). The answers are shared, so nothing may change them."""

    def __init__(self, graph: "nx.MultiDiGraph[str]"):
        self.graph = graph
        # Each recommendation's evidence weighed once per build.
        self.support = SupportTable(graph)
        self._profiles: dict[str, EvidenceProfile] = {}
        self._related: dict[str, list[Related]] = {}
        self._uses: dict[str, StudyUses] = {}

    def profile(self, rec_id: str) -> EvidenceProfile:
        if rec_id not in self._profiles:
            self._profiles[rec_id] = evidence_profile(self.graph, rec_id)
        return self._profiles[rec_id]

    def related(self, rec_id: str) -> list[Related]:
        if rec_id not in self._related:
            self._related[rec_id] = related_recommendations(
                self.graph, rec_id, support=self.support
            )
        return self._related[rec_id]

    def uses(self, study_id: str) -> StudyUses:
        if study_id not in self._uses:
            self._uses[study_id] = studies_uses(self.graph, study_id, support=self.support)
        return self._uses[study_id]


class SiteModel:
    """Every record, indexed for the pages, with profiles and related recommendations.
    ``answers`` are the graph's, shared with the other languages' models of the same graph."""

    def __init__(
        self,
        document: Document,
        graph: "nx.MultiDiGraph[str]",
        answers: GraphAnswers | None = None,
    ):
        self.document = document
        self.graph = graph
        if answers is None or answers.graph is not graph:
            answers = GraphAnswers(graph)
        self.answers = answers
        self.evidence = document["evidence"]
        evidence_of_rec: dict[str, list[EvidenceEntry]] = defaultdict(list)
        evidence_of_study: dict[str, list[EvidenceEntry]] = defaultdict(list)
        for link in self.evidence:
            evidence_of_rec[link["recommendation"]].append(link)
            evidence_of_study[link["study"]].append(link)
        examples_of_rec: dict[str, list[str]] = defaultdict(list)
        examples_of_study: dict[str, list[str]] = defaultdict(list)
        for example in document["examples"]:
            for rec_id in example["recommendations"]:
                examples_of_rec[rec_id].append(example["id"])
            for study_id in example["studies"]:
                examples_of_study[study_id].append(example["id"])
        figures_of_theme: dict[str, list[str]] = defaultdict(list)
        figures_of_study: dict[str, list[str]] = defaultdict(list)
        for figure in document["figures"]:
            for theme_id in figure["themes"]:
                figures_of_theme[theme_id].append(figure["id"])
            for study_id in figure["studies"]:
                figures_of_study[study_id].append(figure["id"])
        children: dict[str, list[str]] = defaultdict(list)
        themes_of_source: dict[str, list[str]] = defaultdict(list)
        for theme in document["themes"]:
            if theme["parent"]:
                children[theme["parent"]].append(theme["id"])
            themes_of_source[theme["source"]].append(theme["id"])
        recs_of_theme: dict[str, list[str]] = defaultdict(list)
        responses: dict[str, list[str]] = defaultdict(list)
        recs_of_source: dict[str, list[str]] = defaultdict(list)
        for rec in document["recommendations"]:
            for theme_id in rec["themes"]:
                recs_of_theme[theme_id].append(rec["id"])
            for target in rec["responds_to"]:
                responses[target].append(rec["id"])
            recs_of_source[rec["source"]].append(rec["id"])
        # Each record, and each list kept by a record's ID, as the pages read them: a page's
        # reads of these are noted once ``notes`` is called (``kb.render.dependencies``).
        self.sources: Mapping[str, SourceEntry] = {row["id"]: row for row in document["sources"]}
        self.themes: Mapping[str, ThemeEntry] = {row["id"]: row for row in document["themes"]}
        self.recommendations: Mapping[str, RecommendationEntry] = {
            row["id"]: row for row in document["recommendations"]
        }
        self.studies: Mapping[str, StudyEntry] = {row["id"]: row for row in document["studies"]}
        self.examples: Mapping[str, ExampleEntry] = {row["id"]: row for row in document["examples"]}
        self.figures: Mapping[str, FigureEntry] = {row["id"]: row for row in document["figures"]}
        self.evidence_of_rec: Mapping[str, list[EvidenceEntry]] = evidence_of_rec
        self.evidence_of_study: Mapping[str, list[EvidenceEntry]] = evidence_of_study
        self.examples_of_rec: Mapping[str, list[str]] = examples_of_rec
        self.examples_of_study: Mapping[str, list[str]] = examples_of_study
        self.figures_of_theme: Mapping[str, list[str]] = figures_of_theme
        self.figures_of_study: Mapping[str, list[str]] = figures_of_study
        self.children: Mapping[str, list[str]] = children
        self.themes_of_source: Mapping[str, list[str]] = themes_of_source
        self.recs_of_theme: Mapping[str, list[str]] = recs_of_theme
        self.responses: Mapping[str, list[str]] = responses
        self.recs_of_source: Mapping[str, list[str]] = recs_of_source
        self.profiles: Mapping[str, EvidenceProfile] = {
            rec: self.answers.profile(rec) for rec in self.recommendations
        }
        self.reads: PageReads | None = None

    # --- What the pages read ------------------------------------------------------------------

    def notes(self, reads: PageReads) -> None:
        """From now on, note in ``reads`` every record (and list kept by a record's ID) a page
        reads through this model, and each answer of ``study_label``, ``related`` and ``uses``,
        which come from the graph."""
        self.reads = reads
        for name in NOTED:
            setattr(self, name, NotedMapping(name, getattr(self, name), reads))

    def read_value(self, read: Read) -> Any:
        """What a read gives in this build, for its digest; ``KeyError`` when it gives none.
        (Digests are worked out between pages, so these lookups are noted against none.)"""
        name, key = read
        if name in NOTED:
            return getattr(self, name)[key]
        answers: dict[str, Callable[[str], Any]] = {
            "study_label": self.study_label,
            "related": self.related,
            "uses": self.uses,
        }
        if name not in answers:
            raise KeyError(read)
        return answers[name](key)

    # --- Themes ----------------------------------------------------------------------------

    def ancestors(self, theme_id: str) -> list[str]:
        """The theme and every theme above it, nearest first."""
        chain, seen = [], set()
        current: str | None = theme_id
        while current and current in self.themes and current not in seen:
            chain.append(current)
            seen.add(current)
            current = self.themes[current]["parent"]
        return chain

    def theme_order(self) -> list[tuple[str, int]]:
        """Every theme as (ID, depth), each followed by the themes nested in it: themes that
        hold recommendations first, then the report's other sections (its summary, conclusion
        and annexes), each group by ID."""
        ordered: list[tuple[str, int]] = []
        holding = {
            theme
            for rec in self.recommendations.values()
            if rec["kind"] == "recommendation"
            for first in rec["themes"]
            for theme in self.ancestors(first)
        }

        def key(theme_id: str) -> tuple[bool, str]:
            return theme_id not in holding, theme_id

        def visit(theme_id: str, depth: int) -> None:
            ordered.append((theme_id, depth))
            for child in sorted(self.children[theme_id], key=key):
                visit(child, depth + 1)

        for theme_id in sorted(self.themes, key=key):
            if not self.themes[theme_id]["parent"]:
                visit(theme_id, 0)
        return ordered

    def facet_themes(self, rec_id: str) -> list[str]:
        """A recommendation's themes with all their ancestors: a filter on a theme finds it."""
        found: dict[str, None] = {}
        for theme in self.recommendations[rec_id]["themes"]:
            found.update(dict.fromkeys(self.ancestors(theme)))
        return list(found)

    def recs_under(self, theme_id: str) -> list[str]:
        """Recommendations in the theme or any theme nested in it, in ID order."""
        found: set[str] = set()
        stack = [theme_id]
        while stack:
            current = stack.pop()
            found.update(self.recs_of_theme[current])
            stack.extend(self.children[current])
        return sorted(found)

    def links_under(self, theme_id: str) -> int:
        """How many evidence links bear on the theme's statements, sub-themes included."""
        return sum(len(self.evidence_of_rec[rec]) for rec in self.recs_under(theme_id))

    # --- Levels ----------------------------------------------------------------------------

    def shown_level(self, rec_id: str) -> str | None:
        """The headline level; None for a statement that is not judged."""
        return self.recommendations[rec_id]["strength"]

    def headline_of(self, rec_id: str) -> HeadlineEntry:
        """The headline level with its reason, and the source's judgement where it differs."""
        return self.recommendations[rec_id]["headline"]

    def study_label(self, study_id: str) -> str:
        if self.reads:
            self.reads.note("study_label", study_id)
        label: str = self.graph.nodes[study_id]["label"]
        return label

    def related(self, rec_id: str) -> list[Related]:
        if self.reads:
            self.reads.note("related", rec_id)
        return self.answers.related(rec_id)

    def uses(self, study_id: str) -> StudyUses:
        if self.reads:
            self.reads.note("uses", study_id)
        return self.answers.uses(study_id)

    def gaps(self) -> EvidenceGaps:
        return evidence_gaps(self.graph)

    # --- Facets and figures ----------------------------------------------------------------

    def facets(self, rec_id: str) -> dict[str, list[str]]:
        """The explorer's filter values for one recommendation."""
        rec = self.recommendations[rec_id]
        links = self.evidence_of_rec[rec_id]
        return {
            "theme": self.facet_themes(rec_id),
            "level": [self.shown_level(rec_id) or NOT_JUDGED],
            "kind": [rec["kind"]],
            "direction": sorted({link["direction"] for link in links}),
            "actor": sorted({slug(actor) for actor in [*rec["addressed_to"], *rec["involves"]]}),
            "type": sorted({self.studies[link["study"]]["type"] for link in links}),
        }

    def actor_names(self) -> dict[str, str]:
        """Actor slug → the most common spelling of that actor."""
        spellings: dict[str, Counter[str]] = defaultdict(Counter)
        for rec in self.recommendations.values():
            for actor in [*rec["addressed_to"], *rec["involves"]]:
                spellings[slug(actor)][actor] += 1
        return {key: counts.most_common(1)[0][0] for key, counts in sorted(spellings.items())}

    def headline(self) -> dict[str, Any]:
        """The home page's figures."""
        recs = [r for r in self.recommendations.values() if r["kind"] == "recommendation"]
        judged = Counter(
            judgement["level"] if (judgement := r["evidence_judgement"]) else None for r in recs
        )
        computed = Counter(r["strength"] for r in recs)
        total = len(recs) or 1
        return {
            "recommendations": len(recs),
            "statements": len(self.recommendations),
            "studies": len(self.studies),
            "links": len(self.evidence),
            "examples": len(self.examples),
            "figures": len(self.figures),
            "themes": len(self.themes),
            "sources": len(self.sources),
            "by_level": [
                {
                    "level": level,
                    "judged": judged[level],
                    "judged_share": round(100 * judged[level] / total),
                    "computed": computed[level],
                    "computed_share": round(100 * computed[level] / total),
                }
                for level in LEVELS
            ],
            "not_judged": judged[None],
        }

    def gap_grid(self) -> list[MapRow]:
        """Theme × level counts of recommendations (kind ``recommendation``), by shown level.

        Themes that hold no recommendation (a report's summary or conclusion) are left out: an
        empty row there is not a gap in the evidence. Each cell carries its bubble size.
        """
        rows = []
        for theme_id, depth in self.theme_order():
            recs = self._recommendations_under(theme_id)
            if not recs:
                continue
            counts = Counter(self.shown_level(rec) or NOT_JUDGED for rec in recs)
            rows.append((theme_id, depth, len(recs), [*LEVELS, NOT_JUDGED], counts))
        return _with_bubble_sizes(rows)

    def direction_grid(self) -> list[MapRow]:
        """Theme × direction: how many recommendations have at least one evidence link whose
        finding runs that way. A recommendation with links of two directions counts in both,
        as the explorer's direction filter finds it under both."""
        rows = []
        for theme_id, depth in self.theme_order():
            recs = self._recommendations_under(theme_id)
            if not recs:
                continue
            counts: Counter[str] = Counter()
            for rec in recs:
                counts.update({link["direction"] for link in self.evidence_of_rec[rec]})
            rows.append((theme_id, depth, len(recs), DIRECTIONS, counts))
        return _with_bubble_sizes(rows)

    def _recommendations_under(self, theme_id: str) -> list[str]:
        return [
            rec
            for rec in self.recs_under(theme_id)
            if self.recommendations[rec]["kind"] == "recommendation"
        ]


BUBBLE_SIZES = 5


def _with_bubble_sizes(
    rows: list[tuple[str, int, int, list[str], Counter[str]]],
) -> list[MapRow]:
    """A map's rows from (theme, depth, total, columns, counts), each count with a bubble size
    from 1 to ``BUBBLE_SIZES``, its area in proportion to its count against the map's largest
    (0 for an empty cell)."""
    largest = max((counts[key] for *_, keys, counts in rows for key in keys), default=0) or 1
    return [
        {
            "theme": theme,
            "depth": depth,
            "total": total,
            "cells": [
                (key, counts[key], math.ceil(BUBBLE_SIZES * math.sqrt(counts[key] / largest)))
                for key in keys
            ],
        }
        for theme, depth, total, keys, counts in rows
    ]
