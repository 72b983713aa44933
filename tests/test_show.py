"""`kb show` reads the store with plain `sqlite3` and ranks related recommendations without
networkx; these tests hold it to the full path it replaced, for every record of the real
knowledge base: the rows SQLModel reads, the graph's ranking, and the command's output."""

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any, get_args

import pytest
import yaml
from pydantic import BaseModel
from sqlalchemy import select
from sqlmodel import SQLModel

from kb import pipeline
from kb.brief.record_text import record_text
from kb.errors import KnowledgeBaseError
from kb.graph.evidence import graph_of, related_recommendations
from kb.graph.related import related_in_document
from kb.records.document import (
    DOCUMENT_KEYS,
    AppraisalEntry,
    Document,
    EvidenceEntry,
    ExampleEntry,
    FigureEntry,
    HeadlineEntry,
    JudgementEntry,
    LocationEntry,
    RatingEntry,
    RecommendationEntry,
    RemovedEntry,
    SourceEntry,
    StudyEntry,
    ThemeEntry,
    entries,
)
from kb.records.models import (
    Appraisal,
    DowngradeRating,
    Example,
    Figure,
    Finding,
    Recommendation,
    Removal,
    Source,
    Study,
    Theme,
    UpgradeRating,
)
from kb.references.record_citations import RecordCitations
from kb.site_config import site_info
from kb.store.current import build_db
from kb.store.database import BOOKKEEPING_TABLES, open_store
from kb.store.describe import describe_record
from kb.store.export import (
    STORE_TABLES,
    export_document,
    open_read_only,
    table_rows,
)
from tests.conftest import REPOSITORY, run_kb

pytestmark = pytest.mark.cli


@pytest.fixture(scope="module")
def real_kb(tmp_path_factory: pytest.TempPathFactory) -> pipeline.Paths:
    """The repository's knowledge base, with a current store of its own in a temporary folder."""
    work = tmp_path_factory.mktemp("real-store")
    paths = pipeline.Paths(REPOSITORY, work / "kb.sqlite", work / "index")
    build_db(paths)
    return paths


@pytest.fixture
def renamed_kb(tiny_kb: Path) -> pipeline.Paths:
    """The tiny knowledge base with a record of every kind renamed, and a removed study."""
    for old, new in (
        ("krause-2012", "krause-rinne-2012"),
        ("recruitment", "hiring"),
        ("anonymise", "anonymise-applications"),
        ("blind-cv-pilot", "blind-cv-trial"),
        ("wales-staff-share", "welsh-staff-share"),
    ):
        assert run_kb("mv", old, new, "--root", tiny_kb).exit_code == 0
    tombstone = {
        "id": "doe-2019",
        "former_ids": ["doe-2018"],
        "type": "study",
        "title": "Doe (2019): Quotas in one trust",
        "removed_on": "2026-12-02",
        "reason": "A duplicate of krause-2012.",
    }
    (tiny_kb / "removed").mkdir()
    (tiny_kb / "removed" / "doe-2019.yaml").write_text(yaml.safe_dump(tombstone, sort_keys=False))
    paths = pipeline.Paths.for_root(tiny_kb)
    build_db(paths)
    return paths


def _record_ids(document: Document) -> Iterator[str]:
    """Every ID `kb show` answers to: records', evidence links', former and removed ones."""
    for key, records in document.items():
        for record in records:
            yield record["id"]
            if key != "evidence":
                yield from record["former_ids"]


# --- The store, read with sqlite3 ---------------------------------------------------------


@pytest.mark.parametrize("kb", ["real_kb", "renamed_kb"])
def test_every_row_is_read_as_sqlmodel_reads_it(kb: str, request: pytest.FixtureRequest) -> None:
    """Each table `export_document` reads gives the rows, values and order SQLAlchemy gives
    for the same query through the table models: JSON and booleans decoded alike."""
    paths: pipeline.Paths = request.getfixturevalue(kb)
    tables = SQLModel.metadata.tables
    assert {name for name, _ in STORE_TABLES} == set(tables) - set(BOOKKEEPING_TABLES)
    engine = open_store(paths.database)
    connection = open_read_only(paths.database)
    try:
        with engine.connect() as opened:
            for name, order in STORE_TABLES:
                table = tables[name]
                query = select(table).order_by(*[table.c[column] for column in order])
                expected = [dict(row) for row in opened.execute(query).mappings()]
                # Compared as text, so that the columns' order and the values' types count:
                # True is 1 to ==, but a JSON document says true.
                assert list(map(repr, table_rows(connection, name, order))) == list(
                    map(repr, expected)
                ), name
    finally:
        connection.close()
        engine.dispose()


def test_sources_and_studies_keep_the_record_models_fields_in_order() -> None:
    assert tuple(SourceEntry.__annotations__) == tuple(Source.model_fields)
    assert tuple(StudyEntry.__annotations__) == (
        *(name for name in Study.model_fields if name != "findings"),
        "doi_url",
    )


@pytest.mark.parametrize(
    ("entry", "model", "but"),
    [
        (ThemeEntry, Theme, set()),
        (ExampleEntry, Example, set()),
        (FigureEntry, Figure, set()),
        (RemovedEntry, Removal, set()),
        (AppraisalEntry, Appraisal, set()),
        (RatingEntry, DowngradeRating, set()),
        (RatingEntry, UpgradeRating, set()),
        (RecommendationEntry, Recommendation, {"strength", "headline"}),
        (EvidenceEntry, Finding, {"study"}),
    ],
)
def test_each_entry_of_the_document_has_its_record_models_fields(
    entry: type, model: type[BaseModel], but: set[str]
) -> None:
    """The document's entries hold what the records hold, and only what is added on purpose."""
    assert set(entry.__annotations__) - but == set(model.model_fields)


def test_the_export_document_has_the_typed_shape_key_for_key(real_kb: pipeline.Paths) -> None:
    """Every entry the store gives back has exactly its ``TypedDict``'s keys, in that order,
    and every nested mapping (location, judgement, headline, appraisal) its own."""
    document = export_document(real_kb.database)
    assert tuple(document) == tuple(Document.__annotations__) == DOCUMENT_KEYS
    nested = {"location": LocationEntry, "evidence_judgement": JudgementEntry}
    nested |= {"headline": HeadlineEntry, "appraisal": AppraisalEntry}
    for key in DOCUMENT_KEYS:
        entry_type = get_args(Document.__annotations__[key])[0]
        # The real knowledge base has records of every kind; no record has been removed yet.
        assert entries(document, key) or key == "removed", key
        for entry in entries(document, key):
            assert tuple(entry) == tuple(entry_type.__annotations__), (key, entry["id"])
            for name, shape in nested.items():
                if entry.get(name) is not None:
                    assert set(entry[name]) == set(shape.__annotations__), (entry["id"], name)


# --- Related recommendations without the graph ------------------------------------------------


def test_related_recommendations_rank_as_the_graph_ranks_them(real_kb: pipeline.Paths) -> None:
    document = export_document(real_kb.database)
    graph = graph_of(document)
    recommendations = [rec["id"] for rec in document["recommendations"]]
    assert len(recommendations) > 50
    related = 0
    for rec in recommendations:
        for k in (5, len(recommendations)):
            expected = related_recommendations(graph, rec, k)
            assert related_in_document(document, rec, k) == expected, rec
            related += bool(expected)
    assert related > 50  # most recommendations share evidence with another


# --- The command, against the full path -------------------------------------------------------


def _full_path(
    paths: pipeline.Paths, document: Document, graph: Any, record_id: str, as_json: bool
) -> str:
    """What `kb show` printed before it went without SQLModel and networkx (related
    recommendations from the evidence graph), as one text: standard output, then error."""
    try:
        described = describe_record(document, record_id)
    except KnowledgeBaseError as error:
        return f"error: {error}\n"
    note = f"note: {described['renamed']['note']}\n" if "renamed" in described else ""
    citations = RecordCitations(document, site_info(paths.root))
    shown = described["record"]["id"]
    if as_json:
        cited = {**described, **citations.cite(described["type"], shown)}
        return json.dumps(cited, indent=2, ensure_ascii=False) + "\n" + note
    related = None
    if described["type"] == "recommendation":
        related = related_recommendations(graph, shown)
    return record_text(document, described, citations, related) + note


@pytest.mark.parametrize("kb", ["real_kb", "renamed_kb"])
def test_show_prints_what_the_full_path_printed_for_every_record(
    kb: str, request: pytest.FixtureRequest
) -> None:
    """Every record of the real knowledge base, and of one with every kind of record renamed
    and a study removed (its former IDs too), shown as text and as JSON."""
    paths: pipeline.Paths = request.getfixturevalue(kb)
    document = export_document(paths.database)  # held to SQLModel's reading above
    graph = graph_of(document)
    record_ids = [*_record_ids(document), "no-such-record"]
    assert len(record_ids) > (400 if kb == "real_kb" else 10)
    for record_id in record_ids:
        for as_json in (False, True):
            args = ["show", record_id, "--root", paths.root, "--database", paths.database]
            result = run_kb(*args, *(["--json"] if as_json else []))
            expected = _full_path(paths, document, graph, record_id, as_json)
            assert result.stdout + result.stderr == expected, (record_id, as_json)
            assert result.exit_code == (1 if expected.startswith("error: ") else 0)


def test_show_rebuilds_a_store_that_is_out_of_date(tiny_kb: Path) -> None:
    assert run_kb("build-db", "--root", tiny_kb).exit_code == 0
    record = tiny_kb / "recommendations" / "targets.yaml"
    record.write_text(record.read_text().replace("representation targets", "targets now", 1))
    result = run_kb("show", "targets", "--root", tiny_kb)
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0].endswith(": Publish targets now")
    assert pipeline.store_is_current(pipeline.Paths.for_root(tiny_kb))


def test_show_without_a_store_builds_it(tiny_kb: Path) -> None:
    result = run_kb("show", "krause-2012", "--root", tiny_kb)
    assert (result.exit_code, result.stdout.split(":")[0]) == (0, "Study krause-2012")
    assert sqlite3.connect(tiny_kb / "build" / "kb.sqlite").execute(
        "SELECT count(*) FROM study"
    ).fetchone() == (1,)
