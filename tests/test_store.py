"""`kb build-db`, `kb stats`, `kb show` and `kb export` on the tiny knowledge base."""

import json
import random
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy.exc import IntegrityError

from kb import paths as kb_paths
from kb import pipeline
from kb.localization import catalogue_state
from kb.records.read import check
from kb.records.validate import KnowledgeBase
from kb.store import database as store
from kb.store.current import build_db, current_store
from tests.conftest import run_kb

pytestmark = pytest.mark.cli


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
        build_db(paths)
    assert database.read_bytes() == before
    # Nothing half-written is left beside it; the records the check parsed are kept.
    kept = ["kb.sqlite", "parsed-records.marshal"]
    assert sorted(path.name for path in database.parent.iterdir()) == kept


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
        "removed",
    ]
    recommendation = document["recommendations"][0]
    assert {"id", "title", "statement", "themes", "source", "strength"} <= set(recommendation)
    assert recommendation["id"] == "anonymise"
    assert recommendation["themes"] == ["recruitment"]
    # The headline is the level computed from the links: one study at S2 gives S1, beside
    # the report's own S2 (kb.records.levels.headline).
    assert recommendation["strength"] == "S1"
    assert recommendation["headline"] == {
        "level": "S1",
        "label": "Expert opinion",
        "reason": "one level below its strongest supporting study (S2), which no other study "
        "matches",
        "source_level": "S2",
        "source_basis": "stated",
        "explanation": "The report itself judges the evidence S2 (very limited); the headline "
        "is S1 because one level below its strongest supporting study (S2), which no other "
        "study matches.",
        "flagged": False,
    }
    study = document["studies"][0]
    assert {"id", "authors", "year", "title", "type", "doi", "url"} <= set(study)
    assert study["authors"] == ["Krause, A.", "Rinne, U."]
    assert study["doi_url"] == "https://doi.org/10.1234/IZA.44"
    assert document["evidence"] == [
        {
            "id": "krause-2012--anonymise",
            "study": "krause-2012",
            "recommendation": "anonymise",
            "claim": None,
            "relation": "supports",
            "strength": "S2",
            "direction": "positive",
            "horizon": "short-term",
            "summary": "A pilot found anonymised applications narrowed gaps in callbacks.",
            "basis": "source",
            "quote": "Anonymised applications reduced callback gaps in a pilot "
            "(Krause et al., 2012).",
            "quote_unchecked": False,
            "source": "tiny-report",
            "location": {"section": "Recruitment", "page": None},
            "appraisal": None,
            "above_ceiling": None,
            "recorded_by": "Fixture author",
            "recorded_on": "2026-11-26",
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


def test_the_store_schema_written_out_is_the_fingerprint_of_the_tables() -> None:
    """kb.paths tells a current store from one built by an older kb without loading SQLModel,
    by the fingerprint written out in STORE_SCHEMA; it must be that of the tables now."""
    fingerprint = store.schema_fingerprint()
    assert fingerprint == kb_paths.STORE_SCHEMA, (
        f"the tables changed: set STORE_SCHEMA in kb/paths.py to {fingerprint}"
    )


def test_a_store_built_with_other_tables_is_rebuilt(tiny_kb: Path) -> None:
    paths = pipeline.Paths.for_root(tiny_kb)
    build_db(paths)
    assert pipeline.store_is_current(paths)
    connection = sqlite3.connect(paths.database)
    connection.execute(f"PRAGMA user_version = {kb_paths.STORE_SCHEMA + 1}")
    connection.close()
    assert not pipeline.store_is_current(paths)
    current_store(paths).dispose()
    assert pipeline.store_is_current(paths)


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
    assert lines[-4:-2] == [
        "Recommendation lists  (recommendations, positions complete, judged, with evidence or "
        "an S0 gap)",
        "  recruitment                    2  yes    2   2  Recruitment",
    ]
    state = catalogue_state("cy")
    assert lines[-2:] == [
        "Interface translations  (messages, translated, drafts awaiting review)",
        f"  cy                      {state.messages:>6}{state.translated:>6}{state.drafts:>6}",
    ]


# --- Changing the store in place (`kb add`) ----------------------------------------------------


def stored_tables(database: Path) -> dict[str, list[tuple]]:
    """The schema and every row of every table of records, sorted: equal for stores that hold
    the same records (the store's bookkeeping, ``store.BOOKKEEPING_TABLES``, left out)."""
    connection = sqlite3.connect(database)
    try:
        schema = connection.execute("SELECT type, name, sql FROM sqlite_master").fetchall()
        names = [
            name
            for kind, name, _ in schema
            if kind == "table" and name not in store.BOOKKEEPING_TABLES
        ]
        tables = {name: connection.execute(f"SELECT * FROM {name}").fetchall() for name in names}
    finally:
        connection.close()
    return {name: sorted(rows, key=repr) for name, rows in {"": schema, **tables}.items()}


def built_from_scratch(root: Path, folder: Path) -> dict[str, list[tuple]]:
    """The tables of a store built by `kb build-db` from the records as they are now."""
    paths = pipeline.Paths.for_root(root, database=str(folder / "from-scratch.sqlite"))
    build_db(paths)
    return stored_tables(paths.database)


def _krause(root: Path) -> KnowledgeBase:
    """The knowledge base of krause-2012.yaml alone, as read and checked in full."""
    knowledge_base, _ = check(pipeline.Paths.for_root(root))
    return KnowledgeBase(
        root=root,
        studies={"krause-2012": knowledge_base.studies["krause-2012"]},
        files={"krause-2012": knowledge_base.files["krause-2012"]},
    )


def test_rows_replaced_in_place_are_the_rows_of_a_full_build(tiny_kb: Path, tmp_path: Path) -> None:
    paths = pipeline.Paths.for_root(tiny_kb)
    build_db(paths)
    path = tiny_kb / "evidence/studies/krause-2012.yaml"
    path.write_text(path.read_text().replace("type: evaluation-report", "type: review\nnote: N."))
    engine = store.open_store(paths.database)
    # krause-2012 is one of the studies of an example: replacing its row breaks no reference.
    with store.updating(engine) as connection:
        store.replace_rows(connection, ["evidence/studies/krause-2012.yaml"], _krause(tiny_kb))
    engine.dispose()
    assert stored_tables(paths.database) == built_from_scratch(tiny_kb, tmp_path)
    assert pipeline.store_is_current(paths)
    # Its warnings were not given, so the store does not hold them: the next build checks it.
    connection = sqlite3.connect(paths.database)
    digest = connection.execute(
        "SELECT digest FROM record_file WHERE path = 'evidence/studies/krause-2012.yaml'"
    ).fetchone()
    connection.close()
    assert digest == (store.UNCHECKED,)


def test_a_change_in_place_that_breaks_a_reference_is_rolled_back(tiny_kb: Path) -> None:
    paths = pipeline.Paths.for_root(tiny_kb)
    build_db(paths)
    before = stored_tables(paths.database)
    engine = store.open_store(paths.database)
    with pytest.raises(IntegrityError), store.updating(engine) as connection:
        store.replace_rows(
            connection, ["evidence/studies/krause-2012.yaml"], KnowledgeBase(tiny_kb)
        )
    engine.dispose()
    assert stored_tables(paths.database) == before


def test_a_change_in_place_cut_short_leaves_the_store_as_it_was_and_out_of_date(
    tiny_kb: Path, tmp_path: Path
) -> None:
    paths = pipeline.Paths.for_root(tiny_kb)
    build_db(paths)
    before = stored_tables(paths.database)
    engine = store.open_store(paths.database)
    with pytest.raises(RuntimeError, match="killed"), store.updating(engine) as connection:
        store.replace_rows(connection, ["evidence/studies/krause-2012.yaml"], _krause(tiny_kb))
        connection.exec_driver_sql("DELETE FROM evidence")
        raise RuntimeError("killed before the commit")
    engine.dispose()
    assert stored_tables(paths.database) == before
    # SQLite may have written part of the change into the file before undoing it, so the
    # file's time cannot tell; the marker left behind does.
    assert store.changing_marker(paths.database).exists()
    assert not pipeline.store_is_current(paths)
    build_db(paths)
    assert not store.changing_marker(paths.database).exists()
    assert pipeline.store_is_current(paths)
    assert stored_tables(paths.database) == built_from_scratch(tiny_kb, tmp_path)


@pytest.mark.slow
def test_a_killed_change_in_place_never_leaves_a_store_that_looks_current_but_is_not(
    tiny_kb: Path, tmp_path: Path
) -> None:
    """Kill `kb import` (which changes a current store in place) while it works; whenever the
    store then counts as current it holds what a full build would, and a build makes it so."""
    from tests.test_hostile_interruptions import BIN, database_rows, kill_after, ris, start

    paths = pipeline.Paths.for_root(tiny_kb)
    chance = random.Random(42)
    marker = store.changing_marker(paths.database)
    for attempt in range(3):
        assert run_kb("build-db", "--root", tiny_kb).exit_code == 0
        references = tmp_path / f"references-{attempt}.ris"
        references.write_text(ris(range(300), f"t{attempt}"))
        process = start(BIN / "kb", "import", references, "--root", tiny_kb)
        if attempt < 2:  # while the transaction is open
            kill_after(process, chance.uniform(0, 0.05), marker.exists)
        else:
            kill_after(process, chance.uniform(0.5, 3.0))
        database_rows(paths.database)  # SQLite's integrity and foreign-key checks pass
        if pipeline.store_is_current(paths):
            assert stored_tables(paths.database) == built_from_scratch(tiny_kb, tmp_path)
        else:
            assert attempt == 2 or marker.exists()
            assert run_kb("check", "--root", tiny_kb).exit_code == 0
    assert run_kb("build-db", "--root", tiny_kb).exit_code == 0
    assert pipeline.store_is_current(paths)


def test_the_same_records_give_the_same_store_byte_for_byte(tiny_kb: Path, tmp_path: Path) -> None:
    """The store, and so the downloaded copy and its checksum, does not change with the
    process that wrote it (Python's hash seed orders sets, and so once the indexes)."""
    import os
    import subprocess
    import sys

    written = []
    for seed in ("1", "2", "3"):
        database = tmp_path / f"kb-{seed}.sqlite"
        subprocess.run(
            [
                sys.executable,
                "-m",
                "kb",
                "build-db",
                "--root",
                str(tiny_kb),
                "--database",
                database,
            ],
            check=True,
            capture_output=True,
            env={**os.environ, "PYTHONHASHSEED": seed},
        )
        written.append(database.read_bytes())
    assert written[0] == written[1] == written[2]
