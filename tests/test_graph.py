"""The evidence graph: a hand-built knowledge base with a known answer for every function."""

import enum
import json
import random
import shutil
from fractions import Fraction
from pathlib import Path
from typing import Any

import networkx as nx
import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from kb import pipeline
from kb.errors import RecordNotFound
from kb.files import indented_json
from kb.graph.evidence import (
    Item,
    SupportTable,
    build_graph,
    evidence_gaps,
    evidence_profile,
    graph_of,
    graph_stats,
    related_recommendations,
    studies_uses,
)
from kb.graph.files import export_graph, flattened, graph_file
from kb.records.levels import disagrees, overall_level
from kb.records.vocabularies import Relation, Strength
from kb.store import database as store
from kb.store.current import build_db, current_store
from kb.store.export import export_document
from tests.conftest import run_kb

pytestmark = pytest.mark.unit

# --- A small knowledge base, written as YAML records -------------------------------------------
#
# Themes: health > care, work, other.  Evidence (study → recommendation, relation, level):
#   s-a: r-two supports S4, r-one supports S4, r-contra supports S5
#   s-b: r-two supports S4, r-two qualifies S2 (a second, parallel edge), r-contra supports S5
#   s-c: r-contra contradicts S2     s-gap: r-gap context S0     s-op: r-weak supports S1
#   s-blog (commentary): r-contra qualifies S4      s-orphan: nothing
# Examples: ex-1 → r-one, r-two and cites s-a; ex-2 → r-contra.  r-two responds to r-recur.


def _theme(theme_id: str, parent: str | None = None) -> dict[str, Any]:
    record = {
        "id": theme_id,
        "title": theme_id.title(),
        "source": "rep",
        "location": {"section": theme_id.title()},
    }
    return {**record, "parent": parent} if parent else record


def _rec(rec_id: str, theme: str, judged: str | None, **extra: Any) -> dict[str, Any]:
    record = {
        "id": rec_id,
        "title": f"Title of {rec_id}",
        "statement": f"Do {rec_id}.",
        "source": "rep",
        "themes": [theme],
        "location": {"section": "Recommendations"},
        **extra,
    }
    if judged:
        record["evidence_judgement"] = {
            "level": judged,
            "basis": "stated",
            "quote": f"Evidence is {judged}.",
        }
    return record


def _finding(
    study: str,
    rec: str,
    relation: str,
    strength: str,
    direction: str = "positive",
    suffix: str = "",
) -> dict[str, Any]:
    return {
        "id": f"{study}--{rec}{suffix}",
        "recommendation": rec,
        "relation": relation,
        "strength": strength,
        "direction": direction,
        "horizon": "short-term",
        "summary": f"{study} on {rec}.",
        "basis": "source",
        "quote": "As the report says.",
        "source": "rep",
        "location": {"section": "Evidence"},
        "recorded_by": "A reviewer",
        "recorded_on": "2026-01-01",
    }


def _study(
    study_id: str, study_type: str, *findings: tuple[Any, ...], **extra: Any
) -> dict[str, Any]:
    return {
        "id": study_id,
        **extra,
        "type": study_type,
        "findings": [_finding(study_id, *finding) for finding in findings],
    }


def _example(example_id: str, recs: list[str], studies: list[str]) -> dict[str, Any]:
    return {
        "id": example_id,
        "name": f"Example {example_id}",
        "description": "A scheme.",
        "evaluation_status": "evaluated",
        "quote": "A scheme ran.",
        "source": "rep",
        "location": {"section": "Examples"},
        "studies": studies,
        "recommendations": recs,
    }


RECORDS = {
    "evidence/sources": [
        {"id": "rep", "title": "The Report", "year": 2021, "text": "evidence/sources/rep.txt"}
    ],
    "recommendations/themes": [
        _theme("health"),
        _theme("care", "health"),
        _theme("work"),
        _theme("other"),
    ],
    "recommendations": [
        _rec("r-none", "work", "S0"),
        _rec("r-gap", "work", "S3"),
        _rec("r-two", "care", "S4", responds_to=["r-recur"]),
        _rec("r-one", "care", "S5"),
        _rec("r-contra", "health", "S5"),
        _rec("r-weak", "work", "S4"),
        _rec("r-recur", "work", None, kind="recurring"),
    ],
    "evidence/studies": [
        _study(
            "s-a",
            "randomised-trial",
            ("r-two", "supports", "S4"),
            ("r-one", "supports", "S4"),
            ("r-contra", "supports", "S5"),
            authors=["Smith, J.", "Jones, K.", "Brown, L."],
            year=2019,
        ),
        _study(
            "s-b",
            "systematic-review",
            ("r-two", "supports", "S4"),
            ("r-two", "qualifies", "S2", "mixed", "-caveat"),
            ("r-contra", "supports", "S5"),
            authors=["Lee, M."],
            year=2020,
        ),
        _study(
            "s-c",
            "observational",
            ("r-contra", "contradicts", "S2", "no-effect"),
            authors=["Khan, A.", "Patel, R."],
            year=2018,
        ),
        _study("s-gap", "review", ("r-gap", "context", "S0", "not-assessed"), title="Gap review"),
        _study("s-op", "expert-communication", ("r-weak", "supports", "S1")),
        _study("s-blog", "commentary", ("r-contra", "qualifies", "S4"), title="A blog"),
        _study("s-orphan", "book", title="A book"),
    ],
    "evidence/examples": [
        _example("ex-1", ["r-one", "r-two"], ["s-a"]),
        _example("ex-2", ["r-contra"], []),
    ],
    "evidence/figures": [
        {
            "id": "fig-1",
            "title": "A share",
            "value": "5%",
            "quote": "5% do.",
            "source": "rep",
            "location": {"section": "Other"},
            "themes": ["other"],
        }
    ],
}


# The report's text: every passage the records quote from it.
REPORT_TEXT = """Health. Care. Work. Other. Recommendations. Evidence. Examples.
Do r-none. Do r-gap. Do r-two. Do r-one. Do r-contra. Do r-weak. Do r-recur.
Evidence is S0. Evidence is S3. Evidence is S4. Evidence is S5.
As the report says. A scheme ran. 5% do.
"""


def write_kb(root: Path, records: dict[str, list[dict[str, Any]]]) -> Path:
    """Write each record to FOLDER/ID.yaml below ``root``, and the report's text."""
    (root / "evidence" / "sources").mkdir(parents=True, exist_ok=True)
    (root / "evidence" / "sources" / "rep.txt").write_text(REPORT_TEXT, encoding="utf-8")
    for folder, folder_records in records.items():
        (root / folder).mkdir(parents=True, exist_ok=True)
        for record in folder_records:
            text = yaml.safe_dump(record, sort_keys=False, allow_unicode=True)
            (root / folder / f"{record['id']}.yaml").write_text(text, encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def kb_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = write_kb(tmp_path_factory.mktemp("graph") / "kb", RECORDS)
    build_db(pipeline.Paths.for_root(root))
    return root


@pytest.fixture(scope="module")
def graph(kb_root: Path) -> nx.MultiDiGraph:
    return build_graph(current_store(pipeline.Paths.for_root(kb_root)))


def _items(*specs: tuple[str, str, str]) -> list[dict[str, str]]:
    """Evidence items from (study, relation, strength) triples."""
    return [
        {"id": f"{study}-{index}", "study": study, "relation": relation, "strength": level}
        for index, (study, relation, level) in enumerate(specs)
    ]


# --- The graph ---------------------------------------------------------------------------------


def test_graph_nodes_and_edges_carry_what_pages_need(graph: nx.MultiDiGraph) -> None:
    assert list(graph.nodes)[:6] == ["rep", "care", "health", "other", "work", "r-contra"]
    assert graph.nodes["s-a"] == {
        "type": "study",
        "label": "Smith et al. (2019)",
        "title": None,
        "authors": ["Smith, J.", "Jones, K.", "Brown, L."],
        "year": 2019,
        "study_type": "randomised-trial",
        "container": None,
        "doi": None,
        "doi_url": None,
        "url": None,
        "setting": [],
        "in_reference_list": True,
        "site_path": "studies/s-a/",
    }
    assert graph.nodes["r-one"]["judgement_level"] == "S5"
    assert graph.nodes["ex-1"]["evaluation_status"] == "evaluated"
    assert graph.edges["s-b", "r-two", "s-b--r-two-caveat"] == {
        "type": "evidence",
        "id": "s-b--r-two-caveat",
        "claim": None,
        "relation": "qualifies",
        "strength": "S2",
        "direction": "mixed",
        "horizon": "short-term",
        "summary": "s-b on r-two.",
        "basis": "source",
        "quote": "As the report says.",
        "quote_unchecked": False,
        "source_report": "rep",
        "section": "Evidence",
        "page": None,
        "recorded_by": "A reviewer",
        "recorded_on": "2026-01-01",
    }
    assert sorted(
        (u, v, k) for u, v, k, kind in graph.edges(keys=True, data="type") if kind != "evidence"
    ) == [
        ("care", "health", "parent"),
        ("care", "rep", "source"),
        ("ex-1", "r-one", "example"),
        ("ex-1", "r-two", "example"),
        ("ex-1", "s-a", "cites"),
        ("ex-2", "r-contra", "example"),
        ("fig-1", "other", "theme"),
        ("health", "rep", "source"),
        ("other", "rep", "source"),
        ("r-contra", "health", "theme"),
        ("r-gap", "work", "theme"),
        ("r-none", "work", "theme"),
        ("r-one", "care", "theme"),
        ("r-recur", "work", "theme"),
        ("r-two", "care", "theme"),
        ("r-two", "r-recur", "responds_to"),
        ("r-weak", "work", "theme"),
        ("work", "rep", "source"),
    ]


def test_graph_is_read_from_the_store_alone(
    kb_root: Path, graph: nx.MultiDiGraph, tmp_path: Path
) -> None:
    database = tmp_path / "kb.sqlite"
    shutil.copy(kb_root / "build" / "kb.sqlite", database)
    again = build_graph(store.open_store(database))
    assert list(again.nodes(data=True)) == list(graph.nodes(data=True))
    assert list(again.edges(keys=True, data=True)) == list(graph.edges(keys=True, data=True))


# --- The overall-level rule ----------------------------------------------------------------------

RULE_CASES = {
    "no links": ([], "S0", "no supporting evidence"),
    "only S0": ([("a", "supports", "S0"), ("b", "context", "S0")], "S0", "no supporting evidence"),
    "only qualifies": ([("a", "qualifies", "S5")], "S0", "no supporting evidence"),
    "two consistent S4": (
        [("a", "supports", "S4"), ("b", "supports", "S4")],
        "S4",
        "2 studies support it at S4 or above",
    ),
    "one S4 only": (
        [("a", "supports", "S4")],
        "S3",
        "one level below its strongest supporting study (S4), which no other study matches",
    ),
    "one study twice": (
        [("a", "supports", "S4"), ("a", "supports", "S4")],
        "S3",
        "one level below its strongest supporting study (S4), which no other study matches",
    ),
    "a weaker second study never lowers": (
        [("a", "supports", "S5"), ("b", "supports", "S2")],
        "S4",
        "one level below its strongest supporting study (S5), which no other study matches",
    ),
    "S5 S4 S3": (
        [("a", "supports", "S5"), ("b", "supports", "S4"), ("c", "supports", "S3")],
        "S4",
        "2 studies support it at S4 or above",
    ),
    "one S1": ([("a", "supports", "S1")], "S1", "one study supports it, at S1"),
    "contradiction cap": (
        [("a", "supports", "S5"), ("b", "supports", "S5"), ("c", "contradicts", "S2")],
        "S4",
        "2 studies support it at S5 or above; one level lower for 1 contradicting item",
    ),
    "contradictions stop at S1": (
        [("a", "supports", "S2"), ("b", "contradicts", "S3"), ("c", "contradicts", "S1")],
        "S1",
        "one level below its strongest supporting study (S2), which "
        "no other study matches; one level lower for 2 contradicting "
        "items",
    ),
    "an S0 contradiction is a gap": (
        [("a", "supports", "S4"), ("b", "supports", "S4"), ("c", "contradicts", "S0")],
        "S4",
        "2 studies support it at S4 or above",
    ),
}


@pytest.mark.parametrize("specs, level, reason", RULE_CASES.values(), ids=RULE_CASES.keys())
def test_overall_level_rule(specs: list[tuple[str, str, str]], level: str, reason: str) -> None:
    assert overall_level(_items(*specs)) == (level, reason)


@pytest.mark.parametrize(
    "computed, judged, expected",
    [
        ("S3", None, False),
        ("S2", "S3", False),
        ("S1", "S3", True),
        ("S5", "S3", True),
        ("S0", "S1", True),
        ("S1", "S0", True),
        ("S0", "S0", False),
    ],
)
def test_disagreement(computed: str, judged: str | None, expected: bool) -> None:
    assert disagrees(computed, judged) is expected


# --- Profiles, gaps, reverse dependency, related, stats ---------------------------------------


def test_profile_counts_and_items(graph: nx.MultiDiGraph) -> None:
    profile = evidence_profile(graph, "r-two")
    assert profile == {
        "id": "r-two",
        "title": "Title of r-two",
        "kind": "recommendation",
        "headline": {
            "level": "S4",
            "label": "Good",
            "reason": "2 studies support it at S4 or above",
            "source_level": None,
            "source_basis": None,
            "explanation": "",
            "flagged": False,
        },
        "links": 3,
        "studies": 2,
        "passages": 3,  # the quote is too short to say which passage it is
        "shared_passages": [],
        "by_relation": {
            "supports": 2,
            "qualifies": 1,
            "contradicts": 0,
            "practice-example": 0,
            "context": 0,
        },
        "by_strength": {"S0": 0, "S1": 0, "S2": 1, "S3": 0, "S4": 2, "S5": 0},
        "by_study_type": {"randomised-trial": 1, "systematic-review": 2},
        "by_direction": {"positive": 2, "mixed": 1, "no-effect": 0, "harm": 0, "not-assessed": 0},
        "strongest_supporting": [
            {
                "id": "s-a--r-two",
                "study": "s-a",
                "study_label": "Smith et al. (2019)",
                "study_type": "randomised-trial",
                "relation": "supports",
                "strength": "S4",
                "direction": "positive",
                "horizon": "short-term",
                "basis": "source",
                "claim": None,
                "summary": "s-a on r-two.",
                "quote": "As the report says.",
                "source": "rep",
            },
            {
                "id": "s-b--r-two",
                "study": "s-b",
                "study_label": "Lee (2020)",
                "study_type": "systematic-review",
                "relation": "supports",
                "strength": "S4",
                "direction": "positive",
                "horizon": "short-term",
                "basis": "source",
                "claim": None,
                "summary": "s-b on r-two.",
                "quote": "As the report says.",
                "source": "rep",
            },
        ],
        "contradicting": [],
        "examples": ["ex-1"],
        "computed_level": "S4",
        "reason": "2 studies support it at S4 or above",
        "judgement_level": "S4",
        "disagrees": False,
    }


@pytest.mark.parametrize(
    "rec, level, judged, flagged",
    [
        ("r-none", "S0", "S0", False),
        ("r-gap", "S0", "S3", True),
        ("r-two", "S4", "S4", False),
        ("r-one", "S3", "S5", True),
        ("r-contra", "S4", "S5", False),
        ("r-weak", "S1", "S4", True),
        ("r-recur", "S0", None, False),
    ],
)
def test_profile_levels(
    graph: nx.MultiDiGraph, rec: str, level: str, judged: str | None, flagged: bool
) -> None:
    profile = evidence_profile(graph, rec)
    assert (profile["computed_level"], profile["judgement_level"], profile["disagrees"]) == (
        level,
        judged,
        flagged,
    )


def test_profile_lists_contradicting_items(graph: nx.MultiDiGraph) -> None:
    profile = evidence_profile(graph, "r-contra")
    assert [item["id"] for item in profile["contradicting"]] == ["s-c--r-contra"]
    assert [item["id"] for item in profile["strongest_supporting"]] == [
        "s-a--r-contra",
        "s-b--r-contra",
    ]


def test_profile_of_unknown_or_wrong_type_id(graph: nx.MultiDiGraph) -> None:
    with pytest.raises(RecordNotFound, match="no recommendation has ID 's-a'"):
        evidence_profile(graph, "s-a")
    with pytest.raises(RecordNotFound, match="no study has ID 'r-one'"):
        studies_uses(graph, "r-one")


def test_gaps(graph: nx.MultiDiGraph) -> None:
    assert evidence_gaps(graph) == {
        "recommendations_on_s0_s1": [
            {
                "id": "r-gap",
                "title": "Title of r-gap",
                "links": 1,
                "best_level": "S0",
                "judgement_level": "S3",
            },
            {
                "id": "r-weak",
                "title": "Title of r-weak",
                "links": 1,
                "best_level": "S1",
                "judgement_level": "S4",
            },
        ],
        "themes_without_s3": [
            # "other" holds no recommendation, so it is no gap; "work" counts only its
            # recommendations, not its key message.
            {"id": "work", "title": "Work", "recommendations": 3, "links": 2, "best_level": "S1"},
        ],
        "recommendations_without_links": [
            {"id": "r-none", "title": "Title of r-none", "judgement_level": "S0"}
        ],
    }


def test_uses_tells_what_a_retraction_changes(graph: nx.MultiDiGraph) -> None:
    uses = studies_uses(graph, "s-a")
    assert [
        (
            row["id"],
            row["level"],
            row["level_without"],
            row["drops"],
            [link["id"] for link in row["links"]],
        )
        for row in uses["recommendations"]
    ] == [
        ("r-contra", "S4", "S3", True, ["s-a--r-contra"]),
        ("r-one", "S3", "S0", True, ["s-a--r-one"]),
        ("r-two", "S4", "S3", True, ["s-a--r-two"]),
    ]
    assert (uses["label"], uses["examples"], uses["figures"]) == (
        "Smith et al. (2019)",
        ["ex-1"],
        [],
    )
    contradicting = studies_uses(graph, "s-c")["recommendations"]
    assert [(row["level"], row["level_without"], row["drops"]) for row in contradicting] == [
        ("S4", "S5", False)
    ]
    assert studies_uses(graph, "s-orphan")["recommendations"] == []


def test_related_ranking_breaks_ties_by_id(graph: nx.MultiDiGraph) -> None:
    assert related_recommendations(graph, "r-two") == [
        {
            "id": "r-contra",
            "title": "Title of r-contra",
            "score": 0.667,
            "shared_studies": ["s-a", "s-b"],
            "shared_examples": [],
        },
        {
            "id": "r-one",
            "title": "Title of r-one",
            "score": 0.667,
            "shared_studies": ["s-a"],
            "shared_examples": ["ex-1"],
        },
    ]
    assert [row["id"] for row in related_recommendations(graph, "r-two", k=1)] == ["r-contra"]
    assert [(row["id"], row["score"]) for row in related_recommendations(graph, "r-one")] == [
        ("r-two", 0.667),
        ("r-contra", 0.333),
    ]
    assert related_recommendations(graph, "r-weak") == []


def test_stats(graph: nx.MultiDiGraph) -> None:
    stats = graph_stats(graph)
    assert stats["nodes"] == {
        "source": 1,
        "theme": 4,
        "recommendation": 7,
        "study": 7,
        "example": 2,
        "figure": 1,
    }
    assert stats["edges"] == {
        "evidence": 10,
        "theme": 8,
        "parent": 1,
        "source": 4,
        "example": 3,
        "cites": 1,
        "responds_to": 1,
    }
    assert [
        (row["id"], row["links"], row["recommendations"]) for row in stats["most_cited_studies"]
    ] == [
        ("s-a", 3, 3),
        ("s-b", 3, 2),
        ("s-blog", 1, 1),
        ("s-c", 1, 1),
        ("s-gap", 1, 1),
        ("s-op", 1, 1),
    ]
    assert stats["orphan_studies"] == ["s-orphan"]
    assert stats["orphan_recommendations"] == ["r-none", "r-recur"]
    assert (stats["components"], stats["largest_component"], stats["isolated_nodes"]) == (2, 21, 1)


# --- Export --------------------------------------------------------------------------------


def _as_dicts(graph: nx.MultiDiGraph) -> tuple[dict[str, Any], dict[Any, Any]]:
    return dict(graph.nodes(data=True)), {
        (u, v, k): data for u, v, k, data in graph.edges(keys=True, data=True)
    }


def test_export_json_round_trips(graph: nx.MultiDiGraph, tmp_path: Path) -> None:
    path = tmp_path / "graph.json"
    assert export_graph(graph, "json", path) == {
        "format": "json",
        "path": str(path),
        "nodes": 22,
        "edges": 28,
    }
    again = nx.node_link_graph(
        json.loads(path.read_text()), directed=True, multigraph=True, edges="edges"
    )
    assert list(again.nodes(data=True)) == list(graph.nodes(data=True))
    assert list(again.edges(keys=True, data=True)) == list(graph.edges(keys=True, data=True))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["graph.json"]


def test_export_graphml_round_trips(graph: nx.MultiDiGraph, tmp_path: Path) -> None:
    path = tmp_path / "graph.graphml"
    export_graph(graph, "graphml", path)
    again = nx.read_graphml(path, edge_key_type=str, force_multigraph=True)
    assert _as_dicts(again) == _as_dicts(flattened(graph))
    assert again.nodes["s-a"]["authors"] == '["Smith, J.", "Jones, K.", "Brown, L."]'
    assert "title" not in again.nodes["s-a"]
    assert again.nodes["s-a"]["year"] == 2019


def test_export_gexf_round_trips(graph: nx.MultiDiGraph, tmp_path: Path) -> None:
    path = tmp_path / "graph.gexf"
    export_graph(graph, "gexf", path)
    again = nx.read_gexf(path)
    assert _as_dicts(again) == _as_dicts(flattened(graph, gexf=True))
    assert again.edges["care", "health", "parent"] == {
        "edge_type": "parent",
        "id": "care>health:parent",
    }


def test_export_is_deterministic_and_atomic(
    graph: nx.MultiDiGraph, kb_root: Path, tmp_path: Path, monkeypatch
) -> None:
    first, second = tmp_path / "a.graphml", tmp_path / "b.graphml"
    export_graph(graph, "graphml", first)
    export_graph(build_graph(store.open_store(kb_root / "build" / "kb.sqlite")), "graphml", second)
    assert first.read_bytes() == second.read_bytes()

    def fail(*args: Any) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(nx, "write_graphml_xml", fail)
    with pytest.raises(OSError):
        export_graph(graph, "graphml", first)
    assert first.read_bytes() == second.read_bytes()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.graphml", "b.graphml"]


def test_graph_of_the_export_document_is_the_graph_of_the_store(
    graph: nx.MultiDiGraph, kb_root: Path
) -> None:
    document = export_document(current_store(pipeline.Paths.for_root(kb_root)))
    again = graph_of(document)
    assert list(again.nodes(data=True)) == list(graph.nodes(data=True))
    assert list(again.edges(keys=True, data=True)) == list(graph.edges(keys=True, data=True))


def _awkward_graph() -> nx.MultiDiGraph:
    """Every kind of value the exports write, and text that XML escapes or cannot hold."""
    text = "a & b < c > d \"e\" 'f'\r\n\tg\u2028\x0b é \U0001f600 \ud800"
    graph = nx.MultiDiGraph()
    graph.add_node(
        "n&<1>",
        type="study",
        label=text,
        title="",
        year=2020,
        score=1.5,
        big=float("inf"),
        small=-float("inf"),
        unknown=float("nan"),
        flag=True,
        off=False,
        authors=["A, B", "C"],
        nested={"x": [1]},
        missing=None,
    )
    graph.add_node("bare")  # no attributes at all
    graph.add_node(3, type="theme", label=None, title=" ", year="2021")  # a second type of year
    graph.add_edge("n&<1>", 3, key="k&1", type="evidence", id='e"1', rank=0, summary=text)
    graph.add_edge(3, "bare", key="parent", type="parent")
    graph.add_edge(3, "bare", key=7, type="theme", rank=2.5, quote="")
    return graph


@pytest.mark.parametrize("format", ["graphml", "gexf"])
@pytest.mark.parametrize("which", ["kb", "awkward"])
def test_graph_file_writes_the_bytes_networkx_writes(
    graph: nx.MultiDiGraph, tmp_path: Path, format: str, which: str
) -> None:
    exported = graph if which == "kb" else _awkward_graph()
    path = tmp_path / f"graph.{format}"
    export_graph(exported, format, path)  # networkx's writers
    assert graph_file(exported, format) == path.read_bytes()


def test_graph_file_json_is_node_link_data_as_json_dumps_writes_it(
    graph: nx.MultiDiGraph,
) -> None:
    data = nx.node_link_data(graph, edges="edges")
    expected = json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    assert graph_file(graph, "json") == expected.encode()


def test_graph_file_leaves_what_it_does_not_write_to_networkx(tmp_path: Path) -> None:
    graph = nx.MultiDiGraph()
    graph.add_node("a", type="study", start=2001, pid="b")  # GEXF: time and hierarchy
    graph.add_node("b", type="theme")
    graph.add_edge("a", "b", key="k", type="theme", weight=2.0, label="w")  # GEXF: edge fields
    for format in ("graphml", "gexf"):
        path = tmp_path / f"graph.{format}"
        export_graph(graph, format, path)
        assert graph_file(graph, format) == path.read_bytes()
    graph.nodes["b"]["span"] = (1, 2)  # a value neither format holds
    for format in ("graphml", "gexf"):
        with pytest.raises((TypeError, nx.NetworkXError)):
            graph_file(graph, format)


_JSON_SCALARS = st.none() | st.booleans() | st.integers() | st.floats() | st.text()
_JSON_KEYS = st.text() | st.integers() | st.floats() | st.booleans() | st.none()
_JSON_VALUES = st.recursive(
    _JSON_SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.tuples(inner, inner)
        | st.dictionaries(_JSON_KEYS, inner, max_size=4)
    ),
    max_leaves=12,
)


@given(_JSON_VALUES)
def test_indented_json_is_what_json_dumps_writes(value: Any) -> None:
    assert indented_json(value) == json.dumps(value, indent=2, ensure_ascii=False)


def test_indented_json_writes_enumerations_and_refuses_what_json_refuses() -> None:
    class Level(enum.StrEnum):
        HIGH = "high"

    class Count(enum.IntEnum):
        TWO = 2

    value = {"level": Level.HIGH, Level.HIGH: [Count.TWO], Count.TWO: Strength.S3}
    assert indented_json(value) == json.dumps(value, indent=2, ensure_ascii=False)
    for refused in ([object()], {(1, 2): 1}):
        with pytest.raises(TypeError):
            json.dumps(refused, indent=2)
        with pytest.raises(TypeError):
            indented_json(refused)


# --- Rule checks in `kb check` -------------------------------------------------------------------


def test_check_warns_about_levels_that_do_not_fit(kb_root: Path) -> None:
    result = run_kb("check", "--root", kb_root)
    assert result.exit_code == 0
    ceiling = "lower it, or say in `above_ceiling` what in the source justifies it"
    assert result.output == (
        "evidence/studies/s-a.yaml:40: s-a: findings[2].strength: warning: S5 is above the "
        f"usual ceiling for a study of type randomised-trial (S4); {ceiling}\n"
        "evidence/studies/s-b.yaml:21: s-b: findings[1]: warning: 2 links to r-two from this "
        "study; merge them into one, or give each a different `claim` saying which part it "
        "bears on\n"
        "evidence/studies/s-blog.yaml:8: s-blog: findings[0].strength: warning: S4 is above the "
        f"usual ceiling for a study of type commentary (S1); {ceiling}\n"
        "recommendations/r-weak.yaml:10: r-weak: evidence_judgement.level: warning: judged S4, "
        "but all 1 of its evidence links are S1 or below\n"
        "ok: 1 sources, 4 themes, 7 recommendations, 7 studies, 2 examples, 1 figures, "
        "10 evidence links; 0 errors, 4 warnings\n"
    )


# --- The command line --------------------------------------------------------------------------


def test_cli_profile(kb_root: Path) -> None:
    result = run_kb("graph", "profile", "--root", kb_root, "r-contra")
    assert result.exit_code == 0
    assert (
        result.output
        == """\
r-contra: Title of r-contra
  headline level      S4
  computed level      S4  (2 studies support it at S5 or above; one level lower for 1 \
contradicting item)
  source's judgement  S5
  The report itself judges the evidence S5 (strong); the headline is S4 because 2 studies \
support it at S5 or above; one level lower for 1 contradicting item.
  evidence links      4 from 4 studies
    by relation      supports 2, qualifies 1, contradicts 1
    by strength      S2 1, S4 1, S5 2
    by study type    commentary 1, observational 1, randomised-trial 1, systematic-review 1
    by direction     positive 3, no-effect 1
  strongest supporting  (2)
    S5  supports    s-a--r-contra  Smith et al. (2019)
    S5  supports    s-b--r-contra  Lee (2020)
  contradicting  (1)
    S2  contradicts s-c--r-contra  Khan and Patel (2018)
  practice examples   ex-2
"""
    )


def test_cli_profile_flags_disagreement_and_unknown_ids(kb_root: Path) -> None:
    result = run_kb("graph", "profile", "--root", kb_root, "r-one")
    assert result.output.splitlines()[3] == "  source's judgement  S5  DISAGREES"
    missing = run_kb("graph", "profile", "--root", kb_root, "nothing")
    assert missing.exit_code == 1
    assert missing.stderr == (
        "error: no recommendation has ID 'nothing'; check the ID with `kb show nothing`\n"
    )


def test_cli_gaps_json(kb_root: Path, graph: nx.MultiDiGraph) -> None:
    result = run_kb("graph", "gaps", "--root", kb_root, "--json")
    assert result.exit_code == 0
    assert (
        result.output
        == """\
{
  "recommendations_on_s0_s1": [
    {
      "id": "r-gap",
      "title": "Title of r-gap",
      "links": 1,
      "best_level": "S0",
      "judgement_level": "S3"
    },
    {
      "id": "r-weak",
      "title": "Title of r-weak",
      "links": 1,
      "best_level": "S1",
      "judgement_level": "S4"
    }
  ],
  "themes_without_s3": [
    {
      "id": "work",
      "title": "Work",
      "recommendations": 3,
      "links": 2,
      "best_level": "S1"
    }
  ],
  "recommendations_without_links": [
    {
      "id": "r-none",
      "title": "Title of r-none",
      "judgement_level": "S0"
    }
  ]
}
"""
    )


def test_cli_gaps(kb_root: Path) -> None:
    assert (
        run_kb("graph", "gaps", "--root", kb_root).output
        == """\
Recommendations resting only on S0–S1 (2)
  r-gap                       S0  Title of r-gap
  r-weak                      S1  Title of r-weak
Themes with no S3+ evidence (1)
  work                        S1  Work
Recommendations with no evidence or examples (1)
  r-none                      -   Title of r-none
"""
    )


def test_cli_related_and_uses(kb_root: Path) -> None:
    assert (
        run_kb("graph", "related", "--root", kb_root, "r-two", "-k", "2").output
        == """\
0.667  r-contra: Title of r-contra
       shared studies: s-a, s-b
0.667  r-one: Title of r-one
       shared studies: s-a
       shared examples: ex-1
"""
    )
    assert run_kb("graph", "related", "--root", kb_root, "r-weak").output == (
        "no recommendation shares supporting studies or examples with r-weak\n"
    )
    assert (
        run_kb("graph", "uses", "--root", kb_root, "s-c").output
        == """\
s-c: Khan and Patel (2018) (observational)
  recommendations  (1)
    r-contra                    S4 -> S5 without it  (keeps its level)
      S2  contradicts s-c--r-contra  Khan and Patel (2018)
  examples         -
  figures          -
"""
    )


def test_cli_stats(kb_root: Path) -> None:
    result = run_kb("graph", "stats", "--root", kb_root)
    assert (
        result.output
        == """\
Nodes  (22)
  source                       1
  theme                        4
  recommendation               7
  study                        7
  example                      2
  figure                       1
Edges  (28)
  evidence                    10
  theme                        8
  parent                       1
  source                       4
  example                      3
  cites                        1
  responds_to                  1
Most-cited studies  (evidence links, recommendations)
     3   3  s-a  Smith et al. (2019)
     3   2  s-b  Lee (2020)
     1   1  s-blog  A blog
     1   1  s-c  Khan and Patel (2018)
     1   1  s-gap  Gap review
     1   1  s-op  s-op
Orphan studies  (1)
  s-orphan
Orphan recommendations  (2)
  r-none
  r-recur
Components  2 (largest 21 nodes; 1 isolated)
"""
    )
    assert json.loads(run_kb("graph", "stats", "--root", kb_root, "--json").output)[
        "orphan_studies"
    ] == ["s-orphan"]


def test_cli_export(kb_root: Path, tmp_path: Path) -> None:
    path = tmp_path / "out" / "graph.gexf"
    result = run_kb("graph", "export", "--root", kb_root, "--format", "gexf", path)
    assert result.output == f"wrote {path} (gexf): 22 nodes, 28 edges\n"
    assert nx.read_gexf(path).number_of_edges() == 28
    bad = run_kb("graph", "export", "--root", kb_root, "--format", "dot", path)
    assert bad.exit_code == 2


def test_every_graph_command_has_help_with_an_example_and_docs() -> None:
    docs = (Path(__file__).parents[1] / "docs" / "graph.md").read_text(encoding="utf-8")
    for command in ("profile", "gaps", "related", "uses", "stats", "export"):
        help_text = run_kb("graph", command, "--help").output
        assert "Example: kb graph " + command in help_text
        assert "--json" in help_text
        assert f"kb graph {command}" in docs


# --- Shared support tables ----------------------------------------------------------------------


def _random_graph(rng: random.Random) -> nx.MultiDiGraph:
    """Four recommendations, eight studies and two examples, linked at random."""
    graph = nx.MultiDiGraph()
    recs, studies = [f"r{n}" for n in range(4)], [f"s{n}" for n in range(8)]
    graph.add_nodes_from((rec, {"type": "recommendation", "title": rec}) for rec in recs)
    graph.add_nodes_from(
        (study, {"type": "study", "label": study, "title": None, "study_type": "review"})
        for study in studies
    )
    for number in range(rng.randint(0, 24)):
        study, rec = rng.choice(studies), rng.choice(recs)
        link = {
            "type": "evidence",
            "id": f"{study}--{rec}-{number}",
            "relation": rng.choice([r.value for r in Relation]),
            "strength": rng.choice([s.value for s in Strength]),
            "direction": "positive",
            "horizon": "short",
            "summary": "",
            "basis": "source",
            "claim": None,
            "quote": f"Passage {number}.",
            "source_report": "rep",
        }
        graph.add_edge(study, rec, key=link["id"], **link)
    for example in ("ex-1", "ex-2"):
        graph.add_node(example, type="example")
        for rec in rng.sample(recs, rng.randint(0, 2)):
            graph.add_edge(example, rec, key="example", type="example")
    return graph


def _rule_items(graph: nx.MultiDiGraph, rec: str, without: str | None = None) -> list[Item]:
    return [
        {
            "id": link["id"],
            "study": study,
            "relation": link["relation"],
            "strength": link["strength"],
        }
        for study, _, link in graph.in_edges(rec, data=True)
        if link["type"] == "evidence" and study != without
    ]


def _brute_force_related(graph: nx.MultiDiGraph, rec: str) -> list[tuple[str, float]]:
    """Every other recommendation scored from the rule's definition, best first, then by ID."""

    def studies_of(other: str) -> set[str]:
        return {
            item["study"]
            for item in _rule_items(graph, other)
            if item["relation"] == "supports" and item["strength"] != "S0"
        }

    def examples_of(other: str) -> set[str]:
        return {u for u, _, kind in graph.in_edges(other, data="type") if kind == "example"}

    def jaccard(first: set[str], second: set[str]) -> Fraction:
        return Fraction(len(first & second), len(first | second)) if first | second else Fraction(0)

    recs = sorted(n for n, kind in graph.nodes(data="type") if kind == "recommendation")
    scores = {
        other: (
            2 * jaccard(studies_of(rec), studies_of(other))
            + jaccard(examples_of(rec), examples_of(other))
        )
        / 3
        for other in recs
        if other != rec
    }
    ranked = sorted((-score, other) for other, score in scores.items() if score)
    return [(other, round(float(-score), 3)) for score, other in ranked[:5]]


def test_shared_support_table_agrees_with_the_rule() -> None:
    """With one ``SupportTable`` for every call, as the site build uses, each level is
    ``overall_level``'s and each related list the one the score's definition gives."""
    rng = random.Random(42)
    for _ in range(300):
        graph = _random_graph(rng)
        table = SupportTable(graph)
        for study in (n for n, kind in graph.nodes(data="type") if kind == "study"):
            uses = studies_uses(graph, study, support=table)
            assert uses == studies_uses(graph, study)
            for row in uses["recommendations"]:
                assert row["level"] == overall_level(_rule_items(graph, row["id"]))[0]
                without = overall_level(_rule_items(graph, row["id"], without=study))[0]
                assert row["level_without"] == without
        for rec in (n for n, kind in graph.nodes(data="type") if kind == "recommendation"):
            related = related_recommendations(graph, rec, support=table)
            assert related == related_recommendations(graph, rec)
            assert [(row["id"], row["score"]) for row in related] == _brute_force_related(
                graph, rec
            )
