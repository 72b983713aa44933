"""`kb build-db`, `kb stats`, `kb show` and `kb export` on the tiny knowledge base."""

import json
import sqlite3
from pathlib import Path

import pytest

from kb import pipeline, store
from tests.conftest import run_kb


def test_build_db_writes_every_table(tiny_kb: Path) -> None:
    result = run_kb("build-db", "--root", tiny_kb)
    assert result.exit_code == 0
    assert result.output == (
        f"wrote {tiny_kb / 'build' / 'kb.sqlite'}: 1 source, 1 theme, 2 recommendation, "
        "2 recommendation_theme, 1 study, 1 evidence, 1 example, 1 example_study, "
        "1 example_recommendation, 1 figure, 1 figure_theme\n"
    )
    connection = sqlite3.connect(tiny_kb / "build" / "kb.sqlite")
    assert connection.execute("PRAGMA foreign_key_check").fetchall() == []
    assert connection.execute(
        "SELECT study_id, recommendation_id, strength FROM evidence"
    ).fetchall() == [("krause-2012", "anonymise", "S2")]
    assert connection.execute("SELECT doi, doi_key FROM study").fetchall() == [
        ("10.1234/IZA.44", "10.1234/iza.44")
    ]


def test_failed_build_leaves_previous_database(tiny_kb: Path, monkeypatch) -> None:
    assert run_kb("build-db", "--root", tiny_kb).exit_code == 0
    database = tiny_kb / "build" / "kb.sqlite"
    before = database.read_bytes()
    (tiny_kb / "recommendations" / "targets.yaml").unlink()

    def fail_midway(*args, **kwargs):
        raise RuntimeError("killed mid-build")

    monkeypatch.setattr(store, "_check_database", fail_midway)
    paths = pipeline.Paths.for_root(tiny_kb)
    with pytest.raises(RuntimeError):
        pipeline.build_db(paths)
    assert database.read_bytes() == before
    assert sorted(path.name for path in database.parent.iterdir()) == ["kb.sqlite"]


def test_invalid_records_never_reach_the_database(tiny_kb: Path) -> None:
    assert run_kb("build-db", "--root", tiny_kb).exit_code == 0
    database = tiny_kb / "build" / "kb.sqlite"
    before = database.read_bytes()
    (tiny_kb / "recommendations" / "targets.yaml").write_text("id: targets\n")
    result = run_kb("build-db", "--root", tiny_kb)
    assert result.exit_code == 1
    assert result.stdout.splitlines()[0].startswith("recommendations/targets.yaml:1: targets:")
    assert result.stderr == (
        "error: 5 problems found; nothing was written. Fix the records and run again.\n"
    )
    assert database.read_bytes() == before


def test_export_json_shape(tiny_kb: Path) -> None:
    result = run_kb("export", "--format", "json", "--root", tiny_kb)
    assert result.exit_code == 0
    document = json.loads(result.output)
    assert list(document) == [
        "sources",
        "themes",
        "recommendations",
        "studies",
        "evidence",
        "examples",
        "figures",
    ]
    recommendation = document["recommendations"][0]
    assert {"id", "title", "statement", "themes", "source", "strength"} <= set(recommendation)
    assert recommendation["id"] == "anonymise"
    assert recommendation["themes"] == ["recruitment"]
    assert recommendation["strength"] == "S2"
    study = document["studies"][0]
    assert {"id", "authors", "year", "title", "type", "doi", "url"} <= set(study)
    assert study["authors"] == ["Krause, A.", "Rinne, U."]
    assert study["doi_url"] == "https://doi.org/10.1234/IZA.44"
    assert document["evidence"] == [
        {
            "id": "krause-2012--anonymise",
            "study": "krause-2012",
            "recommendation": "anonymise",
            "relation": "supports",
            "strength": "S2",
            "direction": "positive",
            "horizon": "short-term",
            "summary": "A pilot found anonymised applications narrowed gaps in callbacks.",
            "quote": "Anonymised applications reduced callback gaps in a pilot "
            "(Krause et al., 2012).",
            "source": "tiny-report",
            "location": {"section": "Recruitment", "page": None},
            "note": None,
        }
    ]


def test_store_is_rebuilt_when_records_change(tiny_kb: Path) -> None:
    assert run_kb("build-db", "--root", tiny_kb).exit_code == 0
    path = tiny_kb / "recommendations" / "targets.yaml"
    path.write_text(path.read_text().replace("Publish representation targets", "New title"))
    document = json.loads(run_kb("export", "--root", tiny_kb).output)
    assert [rec["title"] for rec in document["recommendations"]] == [
        "Anonymise applications",
        "New title",
    ]


def test_show_lists_what_refers_to_a_record(tiny_kb: Path) -> None:
    result = run_kb("show", "krause-2012", "--json", "--root", tiny_kb)
    assert json.loads(result.output)["referred_by"] == [
        {"type": "evidence", "id": "krause-2012--anonymise", "field": "study"},
        {"type": "example", "id": "blind-cv-pilot", "field": "studies"},
    ]
    missing = run_kb("show", "nothing-here", "--root", tiny_kb)
    assert missing.exit_code == 1
    assert missing.stderr == (
        "error: no record has ID 'nothing-here'; try `kb search` to find one\n"
    )


def test_stats_counts_levels_and_lists(tiny_kb: Path) -> None:
    figures = json.loads(run_kb("stats", "--json", "--root", tiny_kb).output)
    assert figures["counts"] == {
        "sources": 1,
        "themes": 1,
        "recommendations": 2,
        "studies": 1,
        "evidence": 1,
        "examples": 1,
        "figures": 1,
    }
    assert figures["evidence_by_strength"]["S2"] == 1
    assert figures["recommendation_lists"] == [
        {
            "theme": "recruitment",
            "title": "Recruitment",
            "recommendations": 2,
            "positions_complete": True,
            "judged": 2,
            "with_evidence_or_gap": 2,
        }
    ]


def test_usage_error_exits_2(tiny_kb: Path) -> None:
    result = run_kb("export", "--format", "yaml", "--root", tiny_kb)
    assert result.exit_code == 2


def test_stats_human_output(tiny_kb: Path) -> None:
    result = run_kb("stats", "--root", tiny_kb)
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert lines[:8] == [
        "Records",
        "  sources                      1",
        "  themes                       1",
        "  recommendations              2",
        "  studies                      1",
        "  evidence                     1",
        "  examples                     1",
        "  figures                      1",
    ]
    assert "  not judged                   0" in lines
    assert lines[-2:] == [
        "Recommendation lists  (recommendations, positions complete, judged, with evidence or "
        "an S0 gap)",
        "  recruitment                    2  yes    2   2  Recruitment",
    ]
