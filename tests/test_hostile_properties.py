"""Properties that hold for any input, checked with hypothesis (derandomised, few examples).

- A record the schema accepts, written by ``kb.records.dump``, survives load → validate → store →
  export and reads back as the same record.
- Any text in any text field is dumped and read back identically by ``kb.records.load.parse_yaml``.
- ``kb.records.quotes.normalise_text`` is idempotent: normalising normalised text changes nothing.
"""

import copy
import shutil
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from kb import pipeline
from kb.errors import RecordsInvalid
from kb.records.dump import dump_record
from kb.records.load import parse_yaml
from kb.records.models import RECORD_MODELS, Recommendation, Study
from kb.records.quotes import normalise_text, quote_parts
from kb.records.vocabularies import (
    CONTROL_CHARACTERS,
    Direction,
    Horizon,
    JudgementBasis,
    RecommendationKind,
    Relation,
    Strength,
    StudyType,
    Wording,
)
from kb.store import database as store
from kb.store.current import build_db, current_store
from kb.store.export import export_document
from tests.conftest import DATA

pytestmark = pytest.mark.hostile

TINY = DATA / "tiny"
SOURCE_TEXT = "evidence/sources/tiny-report.txt"
TINY_IDS = {"tiny-report", "recruitment", "anonymise", "targets", "krause-2012"}
# Between texts appended to the source: no word, hyphen or list tag can run across it.
SEPARATOR = "\n\n|<|\n\n"
FAST = settings(
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)

# --- Strategies built from kb.records.models -----------------------------------------------------

# Any Unicode a record may hold: everything but lone surrogates, non-characters and the
# control characters that the loader and the models refuse (tab and line feed are fine).
texts = st.text(
    st.characters(exclude_categories=("Cs", "Cc", "Cn"), include_characters="\t\n"),
    min_size=1,
    max_size=40,
).filter(lambda text: not CONTROL_CHARACTERS.search(text) and text.strip())
_ID_START = "abcdefghijklmnopqrstuvwxyz0123456789"
ids = (
    st.tuples(st.sampled_from(_ID_START), st.text(_ID_START + "-", max_size=63))
    .map("".join)
    .filter(lambda value: value not in TINY_IDS)
)
# Text that a quote check can find: something is left once the PDF noise is removed.
quotable = texts.filter(lambda text: bool(quote_parts(text)))


@st.composite
def locations(draw: st.DrawFn, with_page: bool = True) -> dict[str, Any]:
    page = draw(st.none() | st.integers(1, 999_999_999)) if with_page else None
    return {"section": draw(quotable), "page": page}


@st.composite
def knowledge_bases(draw: st.DrawFn) -> tuple[list[Recommendation], list[Study]]:
    """Recommendations and studies that link to them and to the tiny knowledge base."""
    names = draw(st.lists(ids, min_size=2, max_size=12, unique=True))
    rec_count = draw(st.integers(1, max(1, len(names) // 3)))
    rec_ids, other_ids = names[:rec_count], names[rec_count:]
    kinds = [draw(st.sampled_from(RecommendationKind)) for _ in rec_ids]
    recurring = [rec for rec, kind in zip(rec_ids, kinds, strict=True) if kind == "recurring"]
    recommendations = []
    for rec_id, kind in zip(rec_ids, kinds, strict=True):
        judged = draw(st.booleans())
        data = {
            "id": rec_id,
            "kind": kind,
            "title": draw(texts),
            "statement": draw(quotable),
            "source": "tiny-report",
            "themes": ["recruitment"],
            "location": draw(locations()),
            "position": draw(st.none() | st.integers(1, 999)),
            "addressed_to": draw(st.lists(texts, max_size=2)),
            "involves": draw(st.lists(texts, max_size=3)),
            "wording": draw(st.none() | st.sampled_from(Wording)),
            "responds_to": draw(
                st.lists(st.sampled_from(others), max_size=2, unique=True)
                if (others := [other for other in recurring if other != rec_id])
                else st.just([])
            ),
            "area_of_focus": draw(st.lists(quotable, max_size=2)),
            "evidence_judgement": {
                "level": draw(st.sampled_from(Strength)),
                "basis": draw(st.sampled_from(JudgementBasis)),
                "quote": draw(quotable),
                # The export keeps no page for a judgement: see test_export_keeps_every_page.
                "location": draw(st.none() | locations(with_page=False)),
                "note": draw(st.none() | texts),
            }
            if judged
            else None,
            "note": draw(st.none() | texts),
        }
        recommendations.append(Recommendation.model_validate(data))
    targets = [*rec_ids, "anonymise", "targets"]
    studies = []
    study_count = len(other_ids) // 2 + 1
    finding_ids = iter(other_ids[study_count:])
    for index, study_id in enumerate(other_ids[:study_count]):
        findings = []
        for _ in range(draw(st.integers(0, 2))):
            finding_id = next(finding_ids, None)
            if finding_id is None:
                break
            findings.append(
                {
                    "id": finding_id,
                    "recommendation": draw(st.sampled_from(targets)),
                    "claim": draw(st.none() | texts),
                    "relation": draw(st.sampled_from(Relation)),
                    "strength": draw(st.sampled_from(Strength)),
                    "direction": draw(st.sampled_from(Direction)),
                    "horizon": draw(st.sampled_from(Horizon)),
                    "summary": draw(texts),
                    "basis": "source",
                    "quote": draw(quotable),
                    "source": "tiny-report",
                    "location": draw(locations()),
                    "above_ceiling": draw(st.none() | texts),
                    "recorded_by": draw(texts),
                    "recorded_on": draw(st.dates(date(1990, 1, 1), date(2026, 1, 1))),
                    "note": draw(st.none() | texts),
                }
            )
        data = {
            "id": study_id,
            "authors": draw(st.lists(texts, max_size=3)),
            "year": draw(st.none() | st.integers(1800, 2025)),
            "title": draw(st.none() | texts),
            "container": draw(st.none() | texts),
            "volume": draw(st.none() | texts),
            "pages": draw(st.none() | texts),
            "url": draw(st.none() | st.just(f"https://example.org/{study_id}?a=1&b=%22")),
            "doi": draw(st.none() | st.just(f"10.5555/{index}<{study_id}>")),
            "type": draw(st.sampled_from(StudyType)),
            "setting": draw(st.lists(texts, max_size=2)),
            "reference": draw(st.none() | texts),
            "cited_as": draw(st.lists(texts, max_size=2)),
            "in_reference_list": draw(st.booleans()),
            "note": draw(st.none() | texts),
            "findings": findings,
        }
        try:
            studies.append(Study.model_validate(data))
        except ValidationError:
            assume(False)
    return recommendations, studies


def verbatim_texts(recommendations: list[Recommendation], studies: list[Study]) -> list[str]:
    """Every text that the quote check looks for in the source."""
    found = []
    for rec in recommendations:
        found += [rec.statement, rec.location.section, *rec.area_of_focus]
        judgement = rec.evidence_judgement
        if judgement:
            found.append(judgement.quote)
            if judgement.location:
                found.append(judgement.location.section)
    for study in studies:
        for finding in study.findings:
            found += [finding.quote, finding.location.section]
    return found


# --- Reading the records back from the export ----------------------------------------------


def without(data: dict[str, Any], *keys: str) -> dict[str, Any]:
    return {key: value for key, value in data.items() if key not in keys}


def exported_records(document: dict[str, Any]) -> dict[str, Any]:
    """Recommendations and studies rebuilt from the export document, by ID."""
    records: dict[str, Any] = {}
    for rec in document["recommendations"]:
        records[rec["id"]] = Recommendation.model_validate(without(rec, "strength", "headline"))
    findings: dict[str, list[dict[str, Any]]] = {}
    for link in document["evidence"]:
        findings.setdefault(link["study"], []).append(without(link, "study"))
    for study in document["studies"]:
        data = {**without(study, "doi_url"), "findings": findings.get(study["id"], [])}
        records[study["id"]] = Study.model_validate(data)
    return records


def findings_by_id(record: Any) -> Any:
    """The export lists evidence by ID, so a study's findings are compared in that order."""
    if isinstance(record, Study):
        return record.model_copy(
            update={"findings": sorted(record.findings, key=lambda finding: finding.id)}
        )
    return record


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("round-trip")


@settings(FAST, max_examples=15)
@given(generated=knowledge_bases())
def test_any_valid_record_survives_load_store_export(
    workspace: Path, generated: tuple[list[Recommendation], list[Study]]
) -> None:
    recommendations, studies = generated
    root = workspace / "kb"
    shutil.rmtree(root, ignore_errors=True)
    shutil.copytree(TINY, root)
    source = root / SOURCE_TEXT
    texts = verbatim_texts(recommendations, studies)
    source.write_text(source.read_text() + SEPARATOR + SEPARATOR.join(texts) + "\n")
    for record in [*recommendations, *studies]:
        folder = "recommendations" if isinstance(record, Recommendation) else "evidence/studies"
        (root / folder / f"{record.id}.yaml").write_text(dump_record(record), encoding="utf-8")

    paths = pipeline.Paths.for_root(root)
    try:
        build_db(paths)
    except RecordsInvalid as error:
        pytest.fail("\n".join(map(str, error.problems)))
    document = export_document(store.open_store(paths.database))
    exported = exported_records(document)
    for record in [*recommendations, *studies]:
        assert findings_by_id(exported[record.id]) == findings_by_id(record)


def test_export_keeps_every_page(tiny_kb: Path) -> None:
    path = tiny_kb / "recommendations" / "targets.yaml"
    text = path.read_text().replace(
        "  quote: There is little evidence about whether targets alone work.",
        "  quote: There is little evidence about whether targets alone work.\n"
        "  location:\n    section: Recruitment\n    page: 7",
    )
    path.write_text(text)
    document = export_document(current_store(pipeline.Paths.for_root(tiny_kb)))
    judgement = document["recommendations"][1]["evidence_judgement"]
    assert judgement["location"] == {"section": "Recruitment", "page": 7}


# --- Any text in any text field reads back as written ----------------------------------------

MINIMAL = {
    "source": {"id": "s", "title": "T", "year": 2000},
    "theme": {"id": "t", "title": "T", "source": "s", "location": {"section": "S"}},
    "recommendation": {
        "id": "r",
        "title": "T",
        "statement": "S",
        "source": "s",
        "themes": ["t"],
        "location": {"section": "S"},
        "addressed_to": ["A"],
        "involves": ["I"],
        "evidence_judgement": {"level": "S1", "basis": "stated", "quote": "Q"},
    },
    "study": {
        "id": "st",
        "type": "review",
        "authors": ["A"],
        "findings": [
            {
                "id": "f",
                "recommendation": "r",
                "relation": "supports",
                "strength": "S1",
                "direction": "positive",
                "horizon": "long-term",
                "summary": "S",
                "claim": "C",
                "basis": "source",
                "quote": "Q",
                "source": "s",
                "location": {"section": "S"},
                "above_ceiling": "A",
                "recorded_by": "R",
                "recorded_on": "2026-01-01",
            }
        ],
    },
    "example": {
        "id": "e",
        "name": "N",
        "description": "D",
        "evaluation_status": "evaluated",
        "quote": "Q",
        "source": "s",
        "location": {"section": "S"},
    },
    "figure": {
        "id": "g",
        "title": "T",
        "value": "V",
        "quote": "Q",
        "source": "s",
        "location": {"section": "S"},
    },
}
# Every free-text field of every kind of record, as a path into the record's data.
TEXT_FIELDS = [
    ("source", ("title",)),
    ("source", ("authors", 0)),
    ("source", ("publisher",)),
    ("source", ("date",)),
    ("source", ("licence",)),
    ("source", ("reference",)),
    ("source", ("note",)),
    ("theme", ("title",)),
    ("theme", ("location", "section")),
    ("theme", ("note",)),
    ("recommendation", ("title",)),
    ("recommendation", ("statement",)),
    ("recommendation", ("addressed_to", 0)),
    ("recommendation", ("involves", 0)),
    ("recommendation", ("area_of_focus", 0)),
    ("recommendation", ("evidence_judgement", "quote")),
    ("recommendation", ("evidence_judgement", "note")),
    ("recommendation", ("note",)),
    ("study", ("authors", 0)),
    ("study", ("title",)),
    ("study", ("container",)),
    ("study", ("volume",)),
    ("study", ("issue",)),
    ("study", ("pages",)),
    ("study", ("publisher",)),
    ("study", ("setting", 0)),
    ("study", ("reference",)),
    ("study", ("cited_as", 0)),
    ("study", ("note",)),
    ("study", ("findings", 0, "summary")),
    ("study", ("findings", 0, "quote")),
    ("study", ("findings", 0, "location", "section")),
    ("study", ("findings", 0, "note")),
    ("study", ("findings", 0, "claim")),
    ("study", ("findings", 0, "above_ceiling")),
    ("study", ("findings", 0, "recorded_by")),
    ("example", ("name",)),
    ("example", ("description",)),
    ("example", ("place",)),
    ("example", ("sector",)),
    ("example", ("quote",)),
    ("example", ("note",)),
    ("figure", ("title",)),
    ("figure", ("value",)),
    ("figure", ("quote",)),
    ("figure", ("note",)),
]


def put(data: Any, path: tuple[str | int, ...], value: str) -> None:
    for part in path[:-1]:
        if isinstance(part, int):
            while len(data) <= part:
                data.append("x")
        elif part not in data:
            data[part] = [] if isinstance(path[path.index(part) + 1], int) else {}
        data = data[part]
    if isinstance(path[-1], int):
        data[:] = [value]
    else:
        data[path[-1]] = value


def get(data: Any, path: tuple[str | int, ...]) -> Any:
    for part in path:
        data = data[part]
    return data


# Text that YAML writers and readers disagree about, tried on every field first.
AWKWARD = [
    "no",
    "~",
    "null",
    "1e3",
    "2020-01-01",
    "0x1F",
    "- item",
    "key: value",
    "#comment",
    "'quoted'",
    '"double"',
    "!!python/object:os.system",
    "&anchor",
    "*alias",
    "%TAG",
    "---",
    "...",
    "a\tb",
    "line one\nline two",
    "trailing\n\n",
    "word " * 30 + "end",
    "é" * 100,
    "\u2028 separated \u2029",
    "\ufeff BOM first",
    "\u00a0 no-break",
    "\u202e right-to-left override",
    "{{ jinja }} {% raw %}",
    "<script>alert(1)</script>",
]


@settings(FAST, max_examples=200)
@given(field=st.sampled_from(TEXT_FIELDS), text=st.sampled_from(AWKWARD) | texts)
def test_any_text_in_any_field_reads_back_identically(
    field: tuple[str, tuple[str | int, ...]], text: str
) -> None:
    kind, path = field
    data = copy.deepcopy(MINIMAL[kind])
    put(data, path, text)
    try:
        record = RECORD_MODELS[kind].model_validate(data)
    except ValidationError:
        assume(False)
        return
    read, _lines = parse_yaml(dump_record(record))
    assert get(read, path) == get(record.model_dump(mode="json"), path)
    assert RECORD_MODELS[kind].model_validate(read) == record


# --- normalise_text ----------------------------------------------------------------------------

# Characters that normalising removes or rewrites, mixed so that removing one reveals another.
noisy = st.lists(
    st.sampled_from(
        [
            *["<", ">", "/", "l", "i", "u", "o", "-", "*", "\n", " ", "\t", "\u00ad", "\u0301"],
            *["e", "…", ".", "¹", "ﬁ", "“", "—", "<li>", "</ul>", "a-\n", "\u00a0", "\u00a8"],
        ]
    ),
    max_size=30,
).map("".join)


@settings(FAST, max_examples=300)
@given(text=noisy | st.text())
@example(text="<l*i>x")  # removing "*" revealed a list tag
@example(text="e*\u0301")  # removing "*" let an accent join its letter
@example(text="<l-\ni>")  # joining a hyphenated line break revealed a list tag
@example(text="a-<li>\nb")  # removing a list tag revealed a hyphenated line break
def test_normalise_text_is_idempotent(text: str) -> None:
    once = normalise_text(text)
    assert normalise_text(once) == once
