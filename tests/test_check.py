"""`kb check`: every kind of bad record gets one exact, located message and exit code 1."""

import shutil
from datetime import date
from pathlib import Path

import pytest
import yaml
from sqlalchemy.engine import Engine

from kb import pipeline
from kb.records.load import RecordFile, load_order, load_records, parse_record, record_paths
from kb.records.read import check
from kb.records.validate import check_record, validate_records
from kb.store import database as store
from kb.store.current import build_db
from tests.conftest import DATA, REPOSITORY, run_kb

pytestmark = pytest.mark.cli

INVALID = DATA / "invalid"

# One fixture per kind of error, named for it; the exact lines `kb check` must print.
EXPECTED = {
    "evidence/misplaced.yaml": [
        "evidence/misplaced.yaml:1: misplaced: -: not in a record folder (evidence/examples/, "
        "evidence/figures/, evidence/sources/, evidence/studies/, recommendations/, "
        "recommendations/themes/, removed/)"
    ],
    "evidence/studies/bad-doi.yaml": [
        "evidence/studies/bad-doi.yaml:5: bad-doi: doi: must look like 10.NNNN/suffix "
        "(a resolver prefix is allowed)"
    ],
    "evidence/studies/bad-strength.yaml": [
        "evidence/studies/bad-strength.yaml:9: bad-strength: findings[0].strength: must be one "
        "of: S0, S1, S2, S3, S4 or S5"
    ],
    "evidence/studies/duplicate-doi.yaml": [
        "evidence/studies/krause-2012.yaml:9: krause-2012: doi: DOI 10.1234/IZA.44 is also the "
        "DOI of study 'duplicate-doi'"
    ],
    "evidence/studies/duplicate-id.yaml": [
        "evidence/studies/duplicate-id.yaml:6: duplicate-id: findings[0].id: ID 'anonymise' is "
        "already used in recommendations/anonymise.yaml"
    ],
    "evidence/studies/unsafe-url.yaml": [
        "evidence/studies/unsafe-url.yaml:5: unsafe-url: url: must be an http:// or https:// "
        "address with no spaces"
    ],
    "evidence/studies/yaml-1-1-year.yaml": [
        "evidence/studies/yaml-1-1-year.yaml:3: yaml-1-1-year: year: input should be a valid "
        "integer, unable to parse string as an integer"
    ],
    "evidence/studies/year-out-of-range.yaml": [
        "evidence/studies/year-out-of-range.yaml:3: year-out-of-range: year: must be between "
        "1800 and {next_year}"
    ],
    "recommendations/bad-id-pattern.yaml": [
        "recommendations/bad-id-pattern.yaml:1: Bad_ID: id: must be lower-case letters, digits "
        "and hyphens (at most 64, not starting with -)"
    ],
    "recommendations/bad-vocabulary.yaml": [
        "recommendations/bad-vocabulary.yaml:2: bad-vocabulary: kind: must be one of: "
        "recommendation, key-message, recurring or government-action"
    ],
    "recommendations/broken-reference.yaml": [
        "recommendations/broken-reference.yaml:1: broken-reference: evidence_judgement: "
        "warning: no overall evidence judgement yet; record the source's view (S0 if it found "
        "no evidence)",
        "recommendations/broken-reference.yaml:7: broken-reference: themes[1]: no theme has ID "
        "'nowhere'",
    ],
    "recommendations/custom-tag.yaml": [
        "recommendations/custom-tag.yaml:2: custom-tag: title: tags "
        "(tag:yaml.org,2002:python/object:os.system) are not allowed in records"
    ],
    "recommendations/duplicate-key.yaml": [
        "recommendations/duplicate-key.yaml:3: duplicate-key: title: duplicate key 'title'"
    ],
    "recommendations/empty-file.yaml": [
        "recommendations/empty-file.yaml:1: empty-file: -: file is empty"
    ],
    "recommendations/file-name-mismatch.yaml": [
        "recommendations/file-name-mismatch.yaml:1: some-other-id: id: file name must be the "
        "ID: rename to some-other-id.yaml"
    ],
    "recommendations/malformed-yaml.yaml": [
        "recommendations/malformed-yaml.yaml:4: malformed-yaml: -: not valid YAML: while "
        "scanning a quoted scalar (line 2) found unexpected end of stream"
    ],
    "recommendations/missing-statement.yaml": [
        "recommendations/missing-statement.yaml:1: missing-statement: statement: required "
        "field is missing"
    ],
    "recommendations/not-a-mapping.yaml": [
        "recommendations/not-a-mapping.yaml:1: not-a-mapping: -: a record file holds one "
        "mapping of field: value"
    ],
    "recommendations/not-utf8.yaml": [
        "recommendations/not-utf8.yaml:2: not-utf8: -: not UTF-8: byte 0xe9 cannot be decoded"
    ],
    "recommendations/quote-not-in-source.yaml": [
        "recommendations/quote-not-in-source.yaml:10: quote-not-in-source: "
        "evidence_judgement.quote: not found verbatim in source 'tiny-report': "
        "'Anonymised applications eliminated all callback gaps.'"
    ],
    "recommendations/self-reference.yaml": [
        "recommendations/self-reference.yaml:9: self-reference: responds_to[0]: a record "
        "cannot refer to itself"
    ],
    "recommendations/unknown-field.yaml": [
        "recommendations/unknown-field.yaml:8: unknown-field: strenght: unknown field"
    ],
    "recommendations/yaml-alias.yaml": [
        "recommendations/yaml-alias.yaml:2: yaml-alias: title: anchors (&title) are not "
        "allowed in records"
    ],
}


def test_every_invalid_fixture_has_an_expectation() -> None:
    fixtures = {path.relative_to(INVALID).as_posix() for path in INVALID.rglob("*.yaml")}
    assert fixtures == set(EXPECTED)


def test_tiny_knowledge_base_is_valid(tiny_kb: Path) -> None:
    result = run_kb("check", "--root", tiny_kb)
    assert result.exit_code == 0
    assert result.output == (
        "ok: 1 sources, 1 themes, 2 recommendations, 1 studies, 1 examples, 1 figures, "
        "1 evidence links; 0 errors, 0 warnings\n"
    )


@pytest.mark.parametrize("fixture", sorted(EXPECTED))
def test_invalid_record_is_reported_exactly(tiny_kb: Path, fixture: str) -> None:
    target = tiny_kb / fixture
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(INVALID / fixture, target)
    result = run_kb("check", "--root", tiny_kb)
    expected = [line.format(next_year=date.today().year + 1) for line in EXPECTED[fixture]]
    *lines, summary = result.output.splitlines()
    assert lines == expected
    assert summary.startswith("invalid: ")
    assert result.exit_code == 1


def test_nul_byte_and_oversized_files_are_refused(tiny_kb: Path, monkeypatch) -> None:
    (tiny_kb / "recommendations" / "nul.yaml").write_bytes(b"id: nul\x00\n")
    (tiny_kb / "recommendations" / "big.yaml").write_text("id: big\ntitle: " + "x" * 2000)
    monkeypatch.setenv("KB_MAX_FILE_BYTES", "1000")
    result = run_kb("check", "--root", tiny_kb)
    assert result.output.splitlines()[:2] == [
        "recommendations/big.yaml:1: big: -: file is 2,015 bytes; the limit is 1,000",
        "recommendations/nul.yaml:1: nul: -: file contains a NUL byte; records are UTF-8 text",
    ]
    assert result.exit_code == 1


def test_long_field_is_refused(tiny_kb: Path, monkeypatch) -> None:
    monkeypatch.setenv("KB_MAX_FIELD_CHARS", "52")
    result = run_kb("check", "--root", tiny_kb)
    assert result.output.splitlines()[0] == (
        "evidence/examples/blind-cv-pilot.yaml:3: blind-cv-pilot: description: text is 53 "
        "characters; the limit is 52"
    )
    assert result.exit_code == 1


def test_bom_and_crlf_are_accepted(tiny_kb: Path) -> None:
    path = tiny_kb / "recommendations" / "targets.yaml"
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes().replace(b"\n", b"\r\n"))
    assert run_kb("check", "--root", tiny_kb).exit_code == 0


def test_not_a_knowledge_base(tmp_path: Path) -> None:
    result = run_kb("check", "--root", tmp_path)
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr == (
        f"error: {tmp_path} has no recommendations/ or evidence/ folder; run kb in a "
        "knowledge base (or a folder inside one), or name one with --root\n"
    )


@pytest.mark.content
def test_repository_records_are_clean() -> None:
    """No errors and no warnings: every rule kb check can apply holds on the real records."""
    result = run_kb("check", "--root", REPOSITORY)
    *problems, summary = result.output.splitlines()
    assert result.exit_code == 0, "\n".join(problems)
    assert problems == [] and summary.endswith("; 0 errors, 0 warnings"), "\n".join(problems)


# --- One record checked alone against the store (`kb add`) -------------------------------------

_STUDY_FIXTURES = sorted(name for name in EXPECTED if name.startswith("evidence/studies/"))
_LINK = {
    "id": "krause-2012--targets",
    "recommendation": "targets",
    "relation": "context",
    "strength": "S0",
    "direction": "not-assessed",
    "horizon": "not-stated",
    "summary": "The report found little evidence on whether targets alone work.",
    "quote": "There is little evidence about whether targets alone work.",
    "source": "tiny-report",
    "location": {"section": "Recruitment"},
}
# Changes to krause-2012, each named for what `kb check` finds wrong with it.
_CHANGED_LINKS = {
    "unknown-recommendation": {"recommendation": "nowhere"},
    "unknown-source": {"source": "no-such-report"},
    "quote-not-verbatim": {"quote": "Targets always work."},
    "section-not-verbatim": {"location": {"section": "Pay"}},
    "refers-to-itself": {"recommendation": "krause-2012"},
    "id-of-a-recommendation": {"id": "targets"},
    "id-of-the-study": {"id": "krause-2012"},
    "id-of-its-other-link": {"id": "krause-2012--anonymise"},
    "id-of-an-earlier-study-link": {"id": "abbott-2010--anonymise"},
    "bad-strength": {"strength": "S9"},
    "strong-from-commentary": {"strength": "S5"},
}


def _store(root: Path) -> Engine:
    paths = pipeline.Paths.for_root(root)
    build_db(paths)
    return store.open_store(paths.database)


def _records(root: Path) -> list[RecordFile]:
    records, problems = load_records(root, max_file_bytes=10**6, max_field_chars=10**5)
    assert problems == []
    return records


def _alone_and_in_full(
    root: Path, engine: Engine, records: list[RecordFile], changed: RecordFile
) -> tuple[list[str], list[str]]:
    """What `check_record` reports for ``changed`` against the store, and what
    `validate_records` reports for its file when it is read after every other record."""
    with engine.connect() as connection:
        others = store.StoredRecords(connection, leave_out=[changed.path])
        _, alone = check_record(root, changed, others)
    engine.dispose()
    others_then_changed = [r for r in records if r.path != changed.path] + [changed]
    _, problems = validate_records(root, others_then_changed)
    return [str(p) for p in alone], [str(p) for p in problems if p.path == changed.path]


@pytest.mark.parametrize("fixture", _STUDY_FIXTURES)
def test_a_study_checked_alone_gets_the_messages_of_kb_check(tiny_kb: Path, fixture: str) -> None:
    engine = _store(tiny_kb)
    raw = (INVALID / fixture).read_bytes()
    changed, problems = parse_record(fixture, "study", raw, 10**6, 10**5)
    assert changed is not None and problems == []
    alone, in_full = _alone_and_in_full(tiny_kb, engine, _records(tiny_kb), changed)
    assert alone == in_full
    if fixture != "evidence/studies/duplicate-doi.yaml":  # kb check blames the study read later
        assert alone == [line.format(next_year=date.today().year + 1) for line in EXPECTED[fixture]]


@pytest.mark.parametrize("change", sorted(_CHANGED_LINKS))
def test_a_changed_study_checked_alone_gets_the_messages_of_kb_check(
    tiny_kb: Path, change: str
) -> None:
    path = tiny_kb / "evidence/studies/krause-2012.yaml"
    data = yaml.safe_load(path.read_text())
    earlier = {**data, "id": "abbott-2010", "doi": "10.5555/abbott", "findings": []}
    earlier["findings"] = [{**data["findings"][0], "id": "abbott-2010--anonymise"}]
    (path.parent / "abbott-2010.yaml").write_text(yaml.safe_dump(earlier, sort_keys=False))
    engine = _store(tiny_kb)
    if change == "strong-from-commentary":
        data["type"] = "commentary"
    data["findings"].append({**_LINK, **_CHANGED_LINKS[change]})
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    records = _records(tiny_kb)
    (changed,) = [
        record for record in records if record.path == "evidence/studies/krause-2012.yaml"
    ]
    alone, in_full = _alone_and_in_full(tiny_kb, engine, records, changed)
    assert alone == in_full
    assert alone, "each change has something to report"
    _, by_kb_check = check(pipeline.Paths.for_root(tiny_kb))
    assert alone == [str(problem) for problem in by_kb_check if problem.path == changed.path]


def test_load_order_is_the_order_records_are_read(tmp_path: Path) -> None:
    studies = tmp_path / "evidence" / "studies"
    (studies / "x").mkdir(parents=True)
    for name in ("x-y.yaml", "x/a.yaml", "x.yaml", "w.yaml"):
        (studies / name).write_text("id: x\n")
    (tmp_path / "recommendations").mkdir()
    (tmp_path / "recommendations" / "a.yaml").write_text("id: a\n")
    names = [path.relative_to(tmp_path).as_posix() for path in record_paths(tmp_path)]
    assert sorted(names) != names  # folder by folder is not character by character
    assert sorted(names, key=load_order) == names
    assert sorted(reversed(names), key=load_order) == names
