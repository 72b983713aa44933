"""The rules an evidence link is held to: its basis, the text its quote is checked against,
an appraisal's level, one link per study and recommendation, and the field meanings that
replaced old keys. Each case is named for the problem it makes, with the exact lines `kb
check` prints; a study's problems are the same when it is checked alone against the store.
"""

import copy
import csv
import html
import io
import json
import subprocess
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from kb import pipeline
from kb.cli import main
from kb.graph.evidence import build_graph
from kb.records.load import load_records
from kb.records.validate import check_record, validate_records
from kb.records.vocabularies import StudyType
from kb.render import SiteInfo
from kb.render.downloads import csv_text
from kb.store import database as store
from tests.conftest import run_kb

pytestmark = pytest.mark.cli

STUDY = "evidence/studies/krause-2012.yaml"
REC = "recommendations/anonymise.yaml"
EXAMPLE = "evidence/examples/blind-cv-pilot.yaml"
ABSTRACT = "Pilot results. Callbacks for applicants with foreign names rose by a third."

Edit = Callable[[Path], None]


def _edit(path: str, change: Callable[[dict[str, Any]], None]) -> Edit:
    """An edit of one record file: load it, change its data, write it back."""

    def edit(root: Path) -> None:
        data = yaml.safe_load((root / path).read_text(encoding="utf-8"))
        change(data)
        (root / path).write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")

    return edit


def _link(**changes: Any) -> Edit:
    """Change krause-2012's evidence link; a value of None removes the field."""

    def change(data: dict[str, Any]) -> None:
        link = data["findings"][0]
        link.update(changes)
        for key in [key for key, value in link.items() if value is None]:
            del link[key]

    return _edit(STUDY, change)


def _study(**changes: Any) -> Edit:
    return _edit(STUDY, lambda data: data.update(changes))


def _held_text(root: Path) -> None:
    """krause-2012 keeps its abstract (invented for the test) beside the records."""
    (root / "evidence" / "texts").mkdir(parents=True, exist_ok=True)
    (root / "evidence" / "texts" / "krause-2012.txt").write_text(ABSTRACT, encoding="utf-8")
    _study(text="evidence/texts/krause-2012.txt", text_part="abstract")(root)


def _second_source(root: Path) -> None:
    """A source whose text the knowledge base does not hold (metadata only)."""
    (root / "evidence" / "sources" / "other-report.yaml").write_text(
        "id: other-report\ntitle: Another report\nyear: 2020\n", encoding="utf-8"
    )


APPRAISAL = {
    "design": "A pilot of anonymised applications in eight organisations.",
    "population": "Job applicants.",
    "setting": "Germany.",
    "downgrades": [{"domain": "risk-of-bias", "levels": 1, "reason": "No control group."}],
    "rationale": "A direct test of anonymised applications.",
}
APPRAISED = {
    "basis": "appraisal",
    "source": None,
    "location": None,
    "quote": "Callbacks for applicants with foreign names rose by a third.",
    "appraisal": APPRAISAL,
    "strength": "S2",  # an evaluation report starts at S3; down one for risk of bias
}

CASES: dict[str, tuple[list[Edit], list[str]]] = {
    "appraised-link-is-valid": ([_held_text, _link(**APPRAISED)], []),
    "quote-of-a-source-whose-text-is-not-held": (
        [_second_source, _link(source="other-report")],
        [
            f"{STUDY}:18: krause-2012: findings[0].quote: source 'other-report' holds no text to "
            "check this against; add its full text (`text:` in its record), or for an evidence "
            "link set `quote_unchecked: true`",
        ],
    ),
    "unchecked-quote-of-a-source-whose-text-is-not-held": (
        [_second_source, _link(source="other-report", quote_unchecked=True)],
        [
            f"{STUDY}:18: krause-2012: findings[0].quote: warning: not checked: source "
            "'other-report' holds no text to check it against",
        ],
    ),
    "unchecked-quote-whose-text-is-held": (
        [_link(quote_unchecked=True)],
        [
            f"{STUDY}:26: krause-2012: findings[0].quote_unchecked: warning: source 'tiny-report' "
            "holds its text, so the quote can be checked: remove quote_unchecked",
        ],
    ),
    "appraisal-of-a-study-without-a-held-text": (
        [_link(**APPRAISED)],
        [
            f"{STUDY}:18: krause-2012: findings[0].quote: study 'krause-2012' holds no text to "
            "check this quote against; store its abstract with `kb add text krause-2012 FILE`, or"
            " set `quote_unchecked: true`",
        ],
    ),
    "appraisal-quote-not-in-the-held-text": (
        [_held_text, _link(**{**APPRAISED, "quote": "Callbacks doubled."})],
        [
            f"{STUDY}:18: krause-2012: findings[0].quote: not found verbatim in study "
            "'krause-2012': 'Callbacks doubled.'",
        ],
    ),
    "appraisal-at-a-level-its-domains-do-not-give": (
        [_held_text, _link(**{**APPRAISED, "strength": "S3"})],
        [
            f"{STUDY}:14: krause-2012: findings[0].strength: the appraisal gives S2 (starts at S3 "
            "(an evaluation, often uncontrolled); down 1 for risk of bias), not S3",
        ],
    ),
    "appraisal-of-an-unclassified-study": (
        [_held_text, _study(type="unclassified"), _link(**APPRAISED)],
        [
            f"{STUDY}:8: krause-2012: type: warning: type is not yet classified; read the study "
            "and choose its design",
            f"{STUDY}:19: krause-2012: findings[0].basis: classify the study's type before "
            "appraising it: the appraisal starts from it",
        ],
    ),
    "appraisal-that-names-a-source": (
        [_held_text, _link(**{**APPRAISED, "source": "tiny-report"})],
        [
            f"{STUDY}:19: krause-2012: findings[0].source: an appraised link quotes the study "
            "itself, not a source report: remove source (or use `basis: source` for a source "
            "report's words)",
        ],
    ),
    "appraisal-basis-without-an-appraisal": (
        [_held_text, _link(**{**APPRAISED, "appraisal": None})],
        [
            f"{STUDY}:11: krause-2012: findings[0].appraisal: required when basis is appraisal: "
            "design, population, setting, rationale, and each domain that moved the level",
        ],
    ),
    "source-basis-with-an-appraisal": (
        [_link(appraisal=APPRAISAL)],
        [
            f"{STUDY}:27: krause-2012: findings[0].appraisal: an appraisal needs `basis: "
            "appraisal` (and then quotes the study, not a source)",
        ],
    ),
    "source-link-without-a-location": (
        [_link(location=None)],
        [
            f"{STUDY}:11: krause-2012: findings[0].location: required when basis is source: the "
            "section of the source the quote is in",
        ],
    ),
    "upgrade-of-randomised-evidence": (
        [
            _held_text,
            _study(type="randomised-trial"),
            _link(
                **{
                    **APPRAISED,
                    "strength": "S4",
                    "appraisal": {
                        **APPRAISAL,
                        "downgrades": [],
                        "upgrades": [{"domain": "large-effect", "levels": 1, "reason": "A third."}],
                    },
                }
            ),
        ],
        [
            f"{STUDY}:29: krause-2012: findings[0].appraisal.upgrades[0].domain: GRADE rates up "
            "only non-randomised evidence, not a randomised-trial",
        ],
    ),
    "dose-response-by-two-levels": (
        [
            _held_text,
            _study(type="observational"),
            _link(
                **{
                    **APPRAISED,
                    "strength": "S4",
                    "appraisal": {
                        **APPRAISAL,
                        "downgrades": [],
                        "upgrades": [
                            {"domain": "dose-response", "levels": 2, "reason": "A gradient."}
                        ],
                    },
                }
            ),
        ],
        [
            f"{STUDY}:30: krause-2012: findings[0].appraisal.upgrades[0].levels: dose-response "
            "moves one level",
        ],
    ),
    "domain-rated-twice": (
        [
            _held_text,
            _link(
                **{
                    **APPRAISED,
                    "strength": "S2",
                    "appraisal": {
                        **APPRAISAL,
                        "downgrades": [
                            {"domain": "imprecision", "levels": 1, "reason": "Small."},
                            {"domain": "imprecision", "levels": 1, "reason": "Very small."},
                        ],
                    },
                }
            ),
        ],
        [
            f"{STUDY}:30: krause-2012: findings[0].appraisal.downgrades[1].domain: imprecision is "
            "rated twice; rate it once",
        ],
    ),
    "held-text-without-its-part": (
        [_held_text, _study(text_part=None)],
        [
            f"{STUDY}:27: krause-2012: text_part: say what the held text is: abstract, excerpt, "
            "full-text",
        ],
    ),
    "recorded-on-in-the-future": (
        [_link(recorded_on="2999-01-01")],
        [
            f"{EXAMPLE}:9: blind-cv-pilot: studies[0]: no study has ID 'krause-2012'",
            f"{STUDY}:25: krause-2012: findings[0].recorded_on: must not be in the future",
        ],
    ),
    "recorded-on-not-a-date": (
        [_link(recorded_on="last week")],
        [
            f"{EXAMPLE}:9: blind-cv-pilot: studies[0]: no study has ID 'krause-2012'",
            f"{STUDY}:25: krause-2012: findings[0].recorded_on: must be a date written YYYY-MM-DD",
        ],
    ),
    "link-without-a-basis": (
        [_link(basis=None)],
        [
            f"{EXAMPLE}:9: blind-cv-pilot: studies[0]: no study has ID 'krause-2012'",
            f"{STUDY}:11: krause-2012: findings[0].basis: required field is missing",
        ],
    ),
    "link-above-its-study-type-ceiling": (
        [_link(strength="S4")],
        [
            f"{STUDY}:14: krause-2012: findings[0].strength: warning: S4 is above the usual "
            "ceiling for a study of type evaluation-report (S3); lower it, or say in "
            "`above_ceiling` what in the source justifies it",
        ],
    ),
    "above-ceiling-reason-that-is-not-needed": (
        [_link(above_ceiling="The report calls it robust.")],
        [
            f"{STUDY}:26: krause-2012: findings[0].above_ceiling: warning: S2 is not above the "
            "usual ceiling for a study of type evaluation-report (S3); remove above_ceiling",
        ],
    ),
    "above-ceiling-with-its-reason": ([_link(strength="S4", above_ceiling="Robust.")], []),
    "two-links-to-one-recommendation": (
        [
            _edit(
                STUDY,
                lambda data: data["findings"].append(
                    {**copy.deepcopy(data["findings"][0]), "id": "k2"}
                ),
            )
        ],
        [
            f"{STUDY}:26: krause-2012: findings[1]: warning: 2 links to anonymise from this study;"
            " merge them into one, or give each a different `claim` saying which part it bears on",
        ],
    ),
    "two-links-each-with-its-claim": ([], []),  # written by _two_claims below
    "note-that-names-another-design": (
        [_link(note="A blog post, hence S2.")],
        [
            f"{STUDY}:26: krause-2012: findings[0].note: warning: the note gives the reason as "
            "commentary / blog / news, but the study's type is evaluation-report; correct the "
            "type or the note",
        ],
    ),
    "old-key-actors": (
        [_edit(REC, lambda data: data.update(actors=["Employers"]))],
        [
            f"{EXAMPLE}:10: blind-cv-pilot: recommendations[0]: no recommendation has ID "
            "'anonymise'",
            f"{STUDY}:12: krause-2012: findings[0].recommendation: no recommendation has ID "
            "'anonymise'",
            f"{REC}:16: anonymise: actors: no longer used: write who the source asks to act as "
            "`addressed_to` (empty when it does not say) and who is to be involved as `involves`",
        ],
    ),
    "old-key-recommendation-strength": (
        [_edit(REC, lambda data: data.update(recommendation_strength="strong"))],
        [
            f"{EXAMPLE}:10: blind-cv-pilot: recommendations[0]: no recommendation has ID "
            "'anonymise'",
            f"{STUDY}:12: krause-2012: findings[0].recommendation: no recommendation has ID "
            "'anonymise'",
            f"{REC}:15: anonymise: recommendation_strength: renamed to `wording` (imperative, "
            "conditional or research): our reading of the wording, never a grade",
        ],
    ),
    "judgement-without-a-basis": (
        [_edit(REC, lambda data: data["evidence_judgement"].pop("basis"))],
        [
            f"{EXAMPLE}:10: blind-cv-pilot: recommendations[0]: no recommendation has ID "
            "'anonymise'",
            f"{STUDY}:12: krause-2012: findings[0].recommendation: no recommendation has ID "
            "'anonymise'",
            f"{REC}:12: anonymise: evidence_judgement.basis: required field is missing",
        ],
    ),
}


def _two_claims(root: Path) -> None:
    """Two links from krause-2012 to anonymise, each saying which claim it bears on."""
    data = yaml.safe_load((root / STUDY).read_text(encoding="utf-8"))
    first = {**data["findings"][0], "claim": "callbacks"}
    data["findings"] = [first, {**copy.deepcopy(first), "id": "k2", "claim": "hiring"}]
    (root / STUDY).write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")


CASES["two-links-each-with-its-claim"] = ([_two_claims], [])


@pytest.mark.parametrize("case", sorted(CASES))
def test_rule(tiny_kb: Path, case: str) -> None:
    edits, expected = CASES[case]
    for edit in edits:
        edit(tiny_kb)
    result = run_kb("check", "--root", tiny_kb)
    *lines, summary = result.output.splitlines()
    assert lines == expected
    errors = [line for line in expected if ": warning: " not in line]
    assert result.exit_code == (1 if errors else 0), summary


@pytest.mark.parametrize(
    "case", sorted(name for name, (_, lines) in CASES.items() if all(STUDY in x for x in lines))
)
def test_rule_is_the_same_for_a_study_checked_alone(tiny_kb: Path, case: str) -> None:
    """`kb add` checks a changed study against the store: the same problems, in the same words."""
    edits, _ = CASES[case]
    for edit in edits:
        if edit in (_held_text, _second_source):
            edit(tiny_kb)
    assert run_kb("build-db", "--root", tiny_kb).exit_code == 0
    for edit in edits:
        if edit not in (_held_text, _second_source):
            edit(tiny_kb)
    records, _ = load_records(tiny_kb, max_file_bytes=1 << 20, max_field_chars=20_000)
    _, every = validate_records(tiny_kb, records)
    [study_file] = [record for record in records if record.path == STUDY]
    engine = store.open_store(pipeline.Paths.for_root(tiny_kb).database)
    with engine.connect() as connection:
        _, alone = check_record(
            tiny_kb, study_file, store.StoredRecords(connection, leave_out=[STUDY])
        )
    assert alone == [problem for problem in every if problem.path == STUDY]


# --- An appraised link, end to end -------------------------------------------------------------


def test_appraised_link_round_trip(tiny_kb: Path, tmp_path: Path) -> None:
    """kb add text and kb add evidence --basis appraisal, then kb check, the store, the JSON
    and CSV exports, the graph and the site all carry the appraisal and its provenance."""
    subprocess.run(["git", "init", "-q"], cwd=tiny_kb, check=True)
    subprocess.run(["git", "config", "user.name", "Ada Reviewer"], cwd=tiny_kb, check=True)
    held = tmp_path / "abstract.txt"
    held.write_text(ABSTRACT, encoding="utf-8")
    assert run_kb("add", "text", "krause-2012", held, "--root", tiny_kb).exit_code == 0
    added = run_kb(
        "add", "evidence", "krause-2012", "targets", "--root", tiny_kb, "--no-input",
        "--basis", "appraisal", "--claim", "callbacks", "--relation", "context",
        "--direction", "positive", "--horizon", "short-term",
        "--summary", "A pilot of anonymised applications raised callbacks.",
        "--quote", "Callbacks for applicants with foreign names rose by a third.",
        "--design", "An uncontrolled pilot.", "--population", "Job applicants.",
        "--setting", "Germany.", "--sample-size", "Eight organisations.",
        "--downgrade", "risk-of-bias", "1", "No comparison group.",
        "--rationale", "Background to targets.",
    )  # fmt: skip
    assert added.exit_code == 0, added.stderr
    link = yaml.safe_load((tiny_kb / STUDY).read_text())["findings"][1]
    assert link["strength"] == "S2"  # an evaluation report starts at S3; down one
    assert link["recorded_by"] == "Ada Reviewer"  # from git, as no --by was given
    assert link["recorded_on"] == date.today().isoformat()
    assert run_kb("check", "--root", tiny_kb).output.endswith("0 errors, 0 warnings\n")

    document = json.loads(run_kb("export", "--root", tiny_kb).output)
    [exported] = [row for row in document["evidence"] if row["recommendation"] == "targets"]
    assert exported["basis"] == "appraisal" and exported["source"] is None
    assert exported["appraisal"] == {
        "design": "An uncontrolled pilot.",
        "population": "Job applicants.",
        "setting": "Germany.",
        "sample_size": "Eight organisations.",
        "downgrades": [{"domain": "risk-of-bias", "levels": 1, "reason": "No comparison group."}],
        "upgrades": [],
        "rationale": "Background to targets.",
    }
    [study] = document["studies"]
    assert (study["text"], study["text_part"]) == ("evidence/texts/krause-2012.txt", "abstract")
    table = run_kb("export", "--format", "csv", "--root", tiny_kb).output
    assert "text,text_part" in table.splitlines()[0]
    rows = list(csv.DictReader(io.StringIO(csv_text(document["evidence"]))))
    assert rows[1]["appraisal_design"] == "An uncontrolled pilot."
    assert rows[1]["appraisal_downgrades"] == (
        "domain: risk-of-bias, levels: 1, reason: No comparison group."
    )

    paths = pipeline.Paths.for_root(tiny_kb)
    graph = build_graph(store.open_store(paths.database))
    edge = graph.edges["krause-2012", "targets", "krause-2012--targets"]
    assert (edge["basis"], edge["recorded_by"], edge["source_report"]) == (
        "appraisal",
        "Ada Reviewer",
        None,
    )
    staging = tmp_path / "staging"
    pipeline.build(paths, docs=tmp_path / "docs", staging=staging, site=SiteInfo("Test", None))
    page = html.unescape((staging / "recommendations" / "targets.md").read_text())
    assert f"appraised by Ada Reviewer on {date.today().isoformat()}" in page
    assert "From the study's abstract" in page
    assert "starts at S3 (an evaluation, often uncontrolled); down 1 for risk of bias → S2" in page
    assert "<dt>Sample</dt><dd>Eight organisations.</dd>" in page


def test_unchecked_quote_is_refused_without_the_flag_and_labelled_with_it(
    tiny_kb: Path, tmp_path: Path
) -> None:
    _second_source(tiny_kb)
    link = (
        "add", "evidence", "krause-2012", "targets", "--root", tiny_kb, "--no-input",
        "--basis", "source", "--source", "other-report", "--by", "Ada", "--on", "2026-12-01",
        "--relation", "context", "--strength", "S1", "--direction", "not-assessed",
        "--horizon", "not-stated", "--summary", "Another report mentions the pilot.",
        "--quote", "Words we cannot check.",
    )  # fmt: skip
    refused = run_kb(*link)
    assert refused.exit_code == 1
    assert "source 'other-report' holds no text to check this against" in refused.stderr
    accepted = run_kb(*link, "--quote-unchecked")
    assert accepted.exit_code == 0, accepted.stderr
    assert "1 warnings" in run_kb("check", "--root", tiny_kb).output
    assert "  quotes not checked           1\n" in run_kb("stats", "--root", tiny_kb).output
    staging = tmp_path / "staging"
    paths = pipeline.Paths.for_root(tiny_kb)
    pipeline.build(paths, docs=tmp_path / "docs", staging=staging, site=SiteInfo("Test", None))
    page = html.unescape((staging / "recommendations" / "targets.md").read_text())
    assert "Not checked against a held text." in page


def test_an_appraisal_can_be_entered_at_the_prompts(tiny_kb: Path, tmp_path: Path) -> None:
    """kb add evidence asks for each value, then for each domain that moved the level."""
    _held_text(tiny_kb)
    answers = [
        "appraisal",  # basis
        "supports",  # relation
        "positive",  # direction
        "short-term",  # horizon
        "A pilot raised callbacks.",  # summary
        "Callbacks for applicants with foreign names rose by a third.",  # quote
        "An uncontrolled pilot.",  # design
        "Job applicants.",  # population
        "Germany.",  # setting
        "A direct test.",  # rationale
        "risk-of-bias",  # rate down for a domain
        "1",  # by how many levels
        "No comparison group.",  # why
        "",  # no more domains down
        "",  # none up
    ]
    result = CliRunner().invoke(
        main,
        ["add", "evidence", "krause-2012", "targets", "--root", str(tiny_kb), "--by", "Ada"],
        input="\n".join(answers) + "\n",
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    assert "Rate down for a domain (risk-of-bias, inconsistency" in result.output
    link = yaml.safe_load((tiny_kb / STUDY).read_text())["findings"][1]
    assert link["basis"] == "appraisal" and link["strength"] == "S2"
    assert link["appraisal"]["downgrades"] == [
        {"domain": "risk-of-bias", "levels": 1, "reason": "No comparison group."}
    ]


@pytest.mark.parametrize(
    ("note", "named"),
    [
        ("A blog post, hence S2.", StudyType.COMMENTARY),
        ("Evaluation of a pilot; guidance → S1", StudyType.POLICY_GUIDANCE),
        ("Guidance was cited. It is an evaluation, hence S2.", None),  # the reason's own clause
        ("An evaluation, hence S2; the blog post → S1", StudyType.COMMENTARY),  # each clause
        ("A blog post about it, though not the reason: S2.", None),  # no reason given
        ("An evaluation, so S2. " + "Long, unrelated text without a reason " * 400, None),
    ],
)
def test_the_design_a_note_gives_as_its_reason(note: str, named: StudyType | None) -> None:
    from kb.records.validate import design_given_as_reason

    assert design_given_as_reason(note, StudyType.EVALUATION_REPORT) == named
