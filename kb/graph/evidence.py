"""The evidence graph: how recommendations, studies, themes, sources, examples and figures link.

``build_graph`` reads the SQLite store (never the YAML) into a ``networkx.MultiDiGraph`` whose
nodes are record IDs (unique across record types) with a ``type`` attribute. Every other
function answers one reviewer's question from the graph alone and returns JSON-ready data.
docs/graph.md describes the graph, each function and the overall-level rule.
"""

from collections import Counter, defaultdict
from collections.abc import Mapping
from typing import Any, Literal, TypedDict

import networkx as nx
from sqlalchemy.engine import Engine

from kb.errors import RecordNotFound
from kb.graph.related import Related, Support, most_related, support_from
from kb.records.document import Document, HeadlineEntry
from kb.records.levels import (
    contradicts,
    headline,
    overall_level,
    rank,
    supports,
)
from kb.records.quotes import shared_passages
from kb.records.urls import record_url
from kb.records.vocabularies import Direction, Relation, Strength
from kb.references.citations import short_citation as study_label
from kb.store.export import export_document

NODE_TYPES = ("source", "theme", "recommendation", "study", "example", "figure")
EDGE_TYPES = ("evidence", "theme", "parent", "source", "example", "cites", "responds_to")
STRONGEST_SHOWN = 3
MOST_CITED_SHOWN = 10


class Item(TypedDict):
    """One evidence link as the graph's answers list it, with its study's label and type."""

    id: str
    study: str
    study_label: str
    study_type: str
    relation: str
    strength: str
    direction: str
    horizon: str
    basis: str
    claim: str | None
    summary: str
    quote: str
    source: str | None  # the source report quoted, for a link on a source's words


class EvidenceProfile(TypedDict):
    """How well one recommendation is supported (``evidence_profile``)."""

    id: str
    title: str
    kind: str
    headline: HeadlineEntry
    links: int
    studies: int
    passages: int
    shared_passages: list[list[str]]
    by_relation: dict[str, int]
    by_strength: dict[str, int]
    by_study_type: dict[str, int]
    by_direction: dict[str, int]
    strongest_supporting: list[Item]
    contradicting: list[Item]
    examples: list[str]
    computed_level: str
    reason: str
    judgement_level: str | None
    disagrees: bool


class WeakRecommendation(TypedDict):
    id: str
    title: str
    links: int
    best_level: str
    judgement_level: str | None


class UnlinkedRecommendation(TypedDict):
    id: str
    title: str
    judgement_level: str | None


class ThemeGap(TypedDict):
    id: str
    title: str
    recommendations: int
    links: int
    best_level: str | None


class EvidenceGaps(TypedDict):
    """Where the evidence is thin (``evidence_gaps``)."""

    recommendations_on_s0_s1: list[WeakRecommendation]
    themes_without_s3: list[ThemeGap]
    recommendations_without_links: list[UnlinkedRecommendation]


class StudyUse(TypedDict):
    """One recommendation a study bears on, and what it would lose without the study."""

    id: str
    title: str
    links: list[Item]
    level: str
    level_without: str
    drops: bool


class StudyUses(TypedDict):
    """What rests on a study (``studies_uses``)."""

    id: str
    label: str
    title: str | None
    study_type: str
    recommendations: list[StudyUse]
    examples: list[str]
    figures: list[str]


# --- Building -------------------------------------------------------------------------------


# Export-document key → node type and the attributes each node carries; the first names the
# node's label (a study's label is its short citation). Kept as a table, so not reformatted.
# fmt: off
NODE_ATTRIBUTES: dict[
    Literal["sources", "themes", "recommendations", "studies", "examples", "figures"],
    tuple[str, tuple[str, ...]],
] = {
    "sources": ("source", ("title", "authors", "publisher", "year", "series", "url")),
    "themes": ("theme", ("title", "parent", "source", "section")),
    "recommendations": ("recommendation", (
        "title", "statement", "kind", "source", "section", "page", "position", "addressed_to",
        "involves", "wording", "judgement_level", "judgement_basis", "judgement_quote",
        "area_of_focus")),
    "studies": ("study", (
        "title", "authors", "year", "study_type", "container", "doi", "doi_url", "url",
        "setting", "in_reference_list")),
    "examples": ("example", (
        "name", "description", "evaluation_status", "place", "sector", "url", "source")),
    "figures": ("figure", ("title", "value", "source", "section")),
}
EVIDENCE_ATTRIBUTES = (
    "id", "claim", "relation", "strength", "direction", "horizon", "summary", "basis", "quote",
    "quote_unchecked", "source_report", "section", "page", "recorded_by", "recorded_on")
# fmt: on


def _flat(row: Mapping[str, Any]) -> dict[str, Any]:
    """An export-document record with its location and judgement lifted to the top level."""
    judgement = row.get("evidence_judgement") or {}
    return {
        **row,
        "section": None,
        "page": None,
        # "source" names an edge's end in node-link JSON, so an evidence link's source
        # report is kept as "source_report".
        "source_report": row.get("source"),
        **(row.get("location") or {}),
        "study_type": row.get("type"),
        "judgement_level": judgement.get("level"),
        "judgement_basis": judgement.get("basis"),
        "judgement_quote": judgement.get("quote"),
    }


def _nodes(document: Document) -> list[tuple[str, dict[str, Any]]]:
    """Every node with its attributes, in type order then ID order."""
    nodes = []
    for key, (node_type, names) in NODE_ATTRIBUTES.items():
        for row in document[key]:
            flat = _flat(row)
            label = flat[names[0]]
            if node_type == "study":
                label = study_label(flat["authors"], flat["year"], flat["title"] or row["id"])
            nodes.append(
                (
                    row["id"],
                    {
                        "type": node_type,
                        "label": label,
                        **{name: flat[name] for name in names},
                        "site_path": record_url(node_type, row["id"]),
                    },
                )
            )
    return nodes


Edge = tuple[str, str, str, dict[str, Any]]


def _edges(document: Document) -> list[Edge]:
    """Every edge as (from, to, key, attributes), sorted; the key is the type or the link ID."""
    edges: list[Edge] = []
    for theme in document["themes"]:
        if theme["parent"]:
            edges.append((theme["id"], theme["parent"], "parent", {}))
        edges.append((theme["id"], theme["source"], "source", {}))
    for rec in document["recommendations"]:
        edges.extend(
            (rec["id"], theme, "theme", {"rank": rank}) for rank, theme in enumerate(rec["themes"])
        )
        edges.extend((rec["id"], target, "responds_to", {}) for target in rec["responds_to"])
    for link in document["evidence"]:
        flat = _flat(link)
        edges.append(
            (
                link["study"],
                link["recommendation"],
                link["id"],
                {"type": "evidence", **{name: flat[name] for name in EVIDENCE_ATTRIBUTES}},
            )
        )
    for example in document["examples"]:
        edges.extend((example["id"], rec, "example", {}) for rec in example["recommendations"])
        edges.extend((example["id"], study, "cites", {}) for study in example["studies"])
    for figure in document["figures"]:
        edges.extend((figure["id"], study, "cites", {}) for study in figure["studies"])
        edges.extend((figure["id"], theme, "theme", {}) for theme in figure["themes"])
    return sorted(edges, key=lambda edge: edge[:3])


def build_graph(engine: Engine) -> "nx.MultiDiGraph[str]":
    """Read the store into the evidence graph; the same store always gives the same graph."""
    return graph_of(export_document(engine))


def graph_of(document: Document) -> "nx.MultiDiGraph[str]":
    """The evidence graph of an export document (``kb.store.export``), for a caller that has one."""
    graph: nx.MultiDiGraph[str] = nx.MultiDiGraph()
    graph.add_nodes_from(_nodes(document))
    for source, target, key, attributes in _edges(document):
        graph.add_edge(source, target, key=key, **{"type": key, **attributes})
    return graph


# --- Reading the graph ----------------------------------------------------------------------


def _of_type(graph: "nx.MultiDiGraph[str]", node_type: str) -> list[str]:
    return sorted(
        node for node, attributes in graph.nodes(data=True) if attributes.get("type") == node_type
    )


def _node(graph: "nx.MultiDiGraph[str]", node_id: str, node_type: str) -> dict[str, Any]:
    if graph.nodes.get(node_id, {}).get("type") != node_type:
        raise RecordNotFound(
            f"no {node_type} has ID '{node_id}'; check the ID with `kb show {node_id}`"
        )
    return graph.nodes[node_id]


def _linked_from(graph: "nx.MultiDiGraph[str]", node_id: str, edge_type: str) -> list[str]:
    """IDs of the nodes with an ``edge_type`` edge into ``node_id``, sorted."""
    return sorted(
        {u for u, _, kind in graph.in_edges(node_id, data="type", default="") if kind == edge_type}
    )


def _item(graph: "nx.MultiDiGraph[str]", study_id: str, link: dict[str, Any]) -> Item:
    """One evidence link (an edge's attributes) as an item, with its study's label and type."""
    study = graph.nodes[study_id]
    return {
        "id": link["id"],
        "study": study_id,
        "study_label": study["label"],
        "study_type": study["study_type"],
        "relation": link["relation"],
        "strength": link["strength"],
        "direction": link["direction"],
        "horizon": link["horizon"],
        "basis": link["basis"],
        "claim": link["claim"],
        "summary": link["summary"],
        "quote": link["quote"],
        "source": link["source_report"],
    }


def _evidence(graph: "nx.MultiDiGraph[str]", recommendation_id: str) -> list[Item]:
    """The evidence links bearing on a recommendation, as items sorted by link ID."""
    items = [
        _item(graph, study_id, link)
        for study_id, _, link in graph.in_edges(recommendation_id, data=True)
        if link["type"] == "evidence"
    ]
    return sorted(items, key=lambda item: item["id"])


def _strongest_first(items: list[Item]) -> list[Item]:
    return sorted(items, key=lambda item: (-rank(item["strength"]), item["study"], item["id"]))


def support_of(graph: "nx.MultiDiGraph[str]", recommendation_id: str) -> Support:
    """The ``Support`` of one recommendation, read from its evidence links and examples."""
    return support_from(
        _evidence(graph, recommendation_id), _linked_from(graph, recommendation_id, "example")
    )


class SupportTable:
    """Every recommendation's ``Support``, each worked out on first use and then kept.

    Functions that look at other recommendations' evidence take one; pass the same table to
    every call while the graph stays the same (as the site build does), so that no
    recommendation's evidence is read twice. Without one, each call reads only what it needs.
    """

    def __init__(self, graph: "nx.MultiDiGraph[str]"):
        self.graph = graph
        self._known: dict[str, Support] = {}

    def __getitem__(self, recommendation_id: str) -> Support:
        support = self._known.get(recommendation_id)
        if support is None:
            support = self._known[recommendation_id] = support_of(self.graph, recommendation_id)
        return support


def _counts(values: list[str], vocabulary: list[str]) -> dict[str, int]:
    counted = Counter(values)
    return {value: counted[value] for value in vocabulary}


def evidence_profile(graph: "nx.MultiDiGraph[str]", recommendation_id: str) -> EvidenceProfile:
    """How well a recommendation is supported, and by what, beside the source's own judgement.

    ``headline`` is the level it is shown with (``kb.records.levels.headline``). ``studies`` counts
    the studies behind its links, and ``shared_passages`` groups the links that rest on one passage
    of a text (one sentence citing several studies): they are not independent support. Counts by
    relation, strength and direction cover every vocabulary value (zeros included); counts by study
    type list the types present. ``strongest_supporting`` holds the three strongest supporting
    items, ``contradicting`` every contradicting one.
    """
    node = _node(graph, recommendation_id, "recommendation")
    items = _evidence(graph, recommendation_id)
    level, reason = overall_level(items)
    shown = headline(node["kind"], level, reason, node["judgement_level"], node["judgement_basis"])
    shared = shared_passages(
        [(item["id"], item["source"] or item["study"], item["quote"]) for item in items]
    )
    return {
        "id": recommendation_id,
        "title": node["title"],
        "kind": node["kind"],
        "headline": shown.as_dict(),
        "links": len(items),
        "studies": len({item["study"] for item in items}),
        "passages": len(items) - sum(len(group) - 1 for group in shared),
        "shared_passages": shared,
        "by_relation": _counts([i["relation"] for i in items], [r.value for r in Relation]),
        "by_strength": _counts([i["strength"] for i in items], [s.value for s in Strength]),
        "by_study_type": dict(sorted(Counter(i["study_type"] for i in items).items())),
        "by_direction": _counts([i["direction"] for i in items], [d.value for d in Direction]),
        "strongest_supporting": _strongest_first(list(filter(supports, items)))[:STRONGEST_SHOWN],
        "contradicting": _strongest_first(list(filter(contradicts, items))),
        "examples": _linked_from(graph, recommendation_id, "example"),
        "computed_level": level,
        "reason": reason,
        "judgement_level": node["judgement_level"],
        "disagrees": shown.flagged,
    }


def _theme_members(graph: "nx.MultiDiGraph[str]") -> dict[str, set[str]]:
    """For each theme, the recommendations in it or in any theme nested below it."""
    members: dict[str, set[str]] = {theme: set() for theme in _of_type(graph, "theme")}
    for rec in _of_type(graph, "recommendation"):
        for _, theme, kind in graph.out_edges(rec, data="type", default=""):
            if kind != "theme":
                continue
            while theme is not None:  # validation guarantees the parents form no cycle
                members[theme].add(rec)
                theme = graph.nodes[theme]["parent"]
    return members


def evidence_gaps(graph: "nx.MultiDiGraph[str]") -> EvidenceGaps:
    """Where the evidence is thin: the basis of the evidence gap map.

    Lists recommendations (kind ``recommendation`` only) whose evidence links are all S0–S1,
    recommendations with no evidence link and no practice example, and themes holding
    recommendations where none of them, in the theme or its sub-themes, has an evidence link at
    S3 or above. Sections that hold no recommendation (a summary, a conclusion) are not gaps.
    """
    weak: list[WeakRecommendation] = []
    unlinked: list[UnlinkedRecommendation] = []
    for rec in _of_type(graph, "recommendation"):
        node = graph.nodes[rec]
        if node["kind"] != "recommendation":
            continue
        items = _evidence(graph, rec)
        best = max((rank(item["strength"]) for item in items), default=None)
        if best is not None and best <= 1:
            weak.append(
                {
                    "id": rec,
                    "title": node["title"],
                    "links": len(items),
                    "best_level": f"S{best}",
                    "judgement_level": node["judgement_level"],
                }
            )
        if not items and not _linked_from(graph, rec, "example"):
            unlinked.append(
                {"id": rec, "title": node["title"], "judgement_level": node["judgement_level"]}
            )
    themes: list[ThemeGap] = []
    for theme, members in _theme_members(graph).items():
        recs = [rec for rec in members if graph.nodes[rec]["kind"] == "recommendation"]
        if not recs:
            continue
        ranks = [rank(item["strength"]) for rec in recs for item in _evidence(graph, rec)]
        if max(ranks, default=0) < 3:
            themes.append(
                {
                    "id": theme,
                    "title": graph.nodes[theme]["title"],
                    "recommendations": len(recs),
                    "links": len(ranks),
                    "best_level": f"S{max(ranks)}" if ranks else None,
                }
            )
    return {
        "recommendations_on_s0_s1": weak,
        "themes_without_s3": themes,
        "recommendations_without_links": unlinked,
    }


def studies_uses(
    graph: "nx.MultiDiGraph[str]", study_id: str, support: SupportTable | None = None
) -> StudyUses:
    """What rests on a study: "if this study is retracted, what changes?".

    For each recommendation it bears on: its links from this study, the computed level with
    and without them, and ``drops`` when the level would fall. Also the practice examples and
    key figures that cite it. ``support`` is a table shared between calls (see
    ``SupportTable``).
    """
    node = _node(graph, study_id, "study")
    support = SupportTable(graph) if support is None else support
    links_to: dict[str, list[Item]] = defaultdict(list)
    for _, rec, link in graph.out_edges(study_id, data=True):
        if link["type"] == "evidence":
            links_to[rec].append(_item(graph, study_id, link))
    bears_on: list[StudyUse] = []
    for rec in sorted(links_to):
        level, without = support[rec].level, support[rec].level_without(study_id)
        bears_on.append(
            {
                "id": rec,
                "title": graph.nodes[rec]["title"],
                "links": sorted(links_to[rec], key=lambda item: item["id"]),
                "level": level,
                "level_without": without,
                "drops": rank(without) < rank(level),
            }
        )
    cited_by = sorted(
        u for u, _, kind in graph.in_edges(study_id, data="type", default="") if kind == "cites"
    )
    return {
        "id": study_id,
        "label": node["label"],
        "title": node["title"],
        "study_type": node["study_type"],
        "recommendations": bears_on,
        "examples": [u for u in cited_by if graph.nodes[u]["type"] == "example"],
        "figures": [u for u in cited_by if graph.nodes[u]["type"] == "figure"],
    }


def related_recommendations(
    graph: "nx.MultiDiGraph[str]",
    recommendation_id: str,
    k: int = 5,
    support: SupportTable | None = None,
) -> list[Related]:
    """The ``k`` recommendations that share most evidence with one recommendation.

    score = (2 × Jaccard over supporting studies + Jaccard over practice examples) / 3, so
    shared studies weigh twice as much as shared examples and the score runs from 0 to 1.
    Only scores above 0 are listed; ties are broken by ID (``kb.graph.related.most_related``, which
    ``kb show`` uses on the export document). ``support`` is a table shared between calls
    (see ``SupportTable``).
    """
    _node(graph, recommendation_id, "recommendation")
    table = SupportTable(graph) if support is None else support

    def bears_on(shared: str) -> list[str]:
        """The recommendations a study's evidence links or a practice example bear on."""
        return [
            rec
            for _, rec, kind in graph.out_edges(shared, data="type", default="")
            if kind in ("evidence", "example")
        ]

    return most_related(
        recommendation_id,
        table.__getitem__,
        bears_on,
        lambda other: graph.nodes[other]["title"],
        k,
    )


def graph_stats(graph: "nx.MultiDiGraph[str]") -> dict[str, Any]:
    """Size and structure: counts by type, most-cited studies, orphans, connected components.

    Most-cited studies are ranked by evidence links, then ID. An orphan study has no edge at
    all; an orphan recommendation (any kind) has no evidence link and no practice example.
    """
    nodes = Counter(attributes.get("type") for _, attributes in graph.nodes(data=True))
    edges = Counter(kind for _, _, kind in graph.edges(data="type", default=""))
    cited: dict[str, list[str]] = defaultdict(list)
    for study, rec, kind in graph.edges(data="type", default=""):
        if kind == "evidence":
            cited[study].append(rec)
    components = [len(component) for component in nx.weakly_connected_components(graph)]
    return {
        "nodes": {kind: nodes[kind] for kind in NODE_TYPES},
        "edges": {kind: edges[kind] for kind in EDGE_TYPES},
        "most_cited_studies": [
            {
                "id": study,
                "label": graph.nodes[study]["label"],
                "links": len(recs),
                "recommendations": len(set(recs)),
            }
            for study, recs in sorted(cited.items(), key=lambda pair: (-len(pair[1]), pair[0]))
        ][:MOST_CITED_SHOWN],
        "orphan_studies": [s for s in _of_type(graph, "study") if graph.degree(s) == 0],
        "orphan_recommendations": [
            rec
            for rec in _of_type(graph, "recommendation")
            if not _evidence(graph, rec) and not _linked_from(graph, rec, "example")
        ],
        "components": len(components),
        "largest_component": max(components, default=0),
        "isolated_nodes": nx.number_of_isolates(graph),
    }
