"""`kb edit`, `kb rm` and `kb mv`: dry runs, refusals that write nothing, levels that follow
the appraisal rule, renames that reach every reference, and two writers at once."""

import json
import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
import yaml

from kb import pipeline
from kb.search import search
from tests.conftest import REPOSITORY, run_kb
from tests.test_reviewer_workflow import (
    NO_INPUT_LINK,
    REFRESHED,
    TARGETS_QUOTE,
    _refuse_reading_every_record,
)
from tests.test_store import built_from_scratch, stored_tables

pytestmark = pytest.mark.cli

KB = Path(sys.executable).parent / "kb"
STUDY = "evidence/studies/krause-2012.yaml"
ABSTRACT = "Pilot results. Callbacks for applicants with foreign names rose by a third."
TODAY = date.today().isoformat()


def snapshot(root: Path) -> dict[str, bytes]:
    """Every file of the knowledge base's records and texts, by path: what a refusal or a dry
    run must leave as it was."""
    return {
        path.relative_to(root).as_posix(): path.read_bytes()
        for folder in ("evidence", "recommendations")
        for path in sorted((root / folder).rglob("*"))
        if path.is_file()
    }


def data(root: Path, relative: str) -> dict:
    return yaml.safe_load((root / relative).read_text(encoding="utf-8"))


def canonical(root: Path) -> Path:
    """The knowledge base in the canonical style, so that changes show only what they change."""
    assert run_kb("fmt", "--root", root).exit_code == 0
    return root


def store_matches_a_fresh_build(root: Path, folder: Path) -> bool:
    paths = pipeline.Paths.for_root(root)
    return pipeline.store_is_current(paths) and stored_tables(paths.database) == built_from_scratch(
        root, folder
    )


@pytest.fixture
def appraised(tiny_kb: Path, tmp_path: Path) -> Path:
    """The tiny knowledge base, canonical, with krause-2012's abstract held and an appraised
    link to `targets` at S2 (an evaluation report starts at S3; down one for risk of bias),
    in a git repository whose user is Ada Reviewer."""
    subprocess.run(["git", "init", "-q"], cwd=tiny_kb, check=True)
    subprocess.run(["git", "config", "user.name", "Ada Reviewer"], cwd=tiny_kb, check=True)
    held = tmp_path / "abstract.txt"
    held.write_text(ABSTRACT, encoding="utf-8")
    assert run_kb("add", "text", "krause-2012", held, "--root", tiny_kb).exit_code == 0
    added = run_kb(
        "add", "evidence", "krause-2012", "targets", "--root", tiny_kb, "--no-input",
        "--basis", "appraisal", "--by", "Bea Appraiser", "--on", "2026-01-15",
        "--relation", "context", "--direction", "positive", "--horizon", "short-term",
        "--summary", "A pilot of anonymised applications raised callbacks.",
        "--quote", "Callbacks for applicants with foreign names rose by a third.",
        "--design", "An uncontrolled pilot.", "--population", "Job applicants.",
        "--setting", "Germany.", "--downgrade", "risk-of-bias", "1", "No comparison group.",
        "--rationale", "Background to targets.",
    )  # fmt: skip
    assert added.exit_code == 0, added.stderr
    return canonical(tiny_kb)


# --- kb edit evidence ------------------------------------------------------------------------


def test_edit_evidence_dry_run_shows_each_field_and_writes_nothing(tiny_kb: Path) -> None:
    before = snapshot(tiny_kb)
    result = run_kb(
        "edit", "evidence", "krause-2012--anonymise", "--root", tiny_kb, "--dry-run",
        "--strength", "S3", "--by", "Cy Editor", "--on", "2026-02-01",
        "--note", "Raised: the pilot had a comparison group.", "--page", "4",
    )  # fmt: skip
    assert (result.exit_code, result.stderr) == (0, "")
    assert result.stdout == (
        "change evidence/studies/krause-2012.yaml\n"
        "  findings[0].strength: S2 → S3\n"
        "  findings[0].location.page: (none) → 4\n"
        '  findings[0].recorded_by: "Fixture author" → "Cy Editor"\n'
        "  findings[0].recorded_on: 2026-11-26 → 2026-02-01\n"
        '  findings[0].note: (none) → "Raised: the pilot had a comparison group."\n'
        "  and the rest of the file in the canonical style (as `kb fmt` would)\n"
        "dry run: would change 1 file; nothing written\n"
    )
    assert snapshot(tiny_kb) == before
    assert not (tiny_kb / "build").exists()


def test_edit_evidence_writes_checks_and_refreshes(tiny_kb: Path, tmp_path: Path) -> None:
    canonical(tiny_kb)
    result = run_kb(
        "edit", "evidence", "krause-2012--anonymise", "--root", tiny_kb,
        "--summary", "A pilot narrowed callback gaps.", "--claim", "anonymised applications",
    )  # fmt: skip
    assert result.stdout == (
        "change evidence/studies/krause-2012.yaml\n"
        '  findings[0].claim: (none) → "anonymised applications"\n'
        '  findings[0].summary: "A pilot found anonymised applications narrowed gaps in '
        'callbacks." → "A pilot narrowed callback gaps."\n'
        "changed 1 file\n" + REFRESHED
    )
    link = data(tiny_kb, STUDY)["findings"][0]
    assert (link["summary"], link["claim"]) == (
        "A pilot narrowed callback gaps.",
        "anonymised applications",
    )
    # Not a new judgement: who recorded the link, and when, are kept.
    assert (link["recorded_by"], link["recorded_on"]) == ("Fixture author", "2026-11-26")
    assert run_kb("check", "--root", tiny_kb).exit_code == 0
    assert store_matches_a_fresh_build(tiny_kb, tmp_path)
    cleared = run_kb(
        "edit", "evidence", "krause-2012--anonymise", "--root", tiny_kb, "--clear", "claim"
    )
    assert (
        cleared.stdout.splitlines()[1] == '  findings[0].claim: "anonymised applications" → (none)'
    )
    assert "claim" not in data(tiny_kb, STUDY)["findings"][0]
    again = run_kb(
        "edit", "evidence", "krause-2012--anonymise", "--root", tiny_kb, "--clear", "claim"
    )
    assert again.stdout == "nothing to change: krause-2012--anonymise already says so\n"


def test_a_changed_appraisal_recomputes_the_level(appraised: Path) -> None:
    link_id = "krause-2012--targets"
    removed = run_kb(
        "edit", "evidence", link_id, "--root", appraised, "--downgrade", "risk-of-bias", "0", "-"
    )
    assert removed.stdout == (
        "change evidence/studies/krause-2012.yaml\n"
        "  findings[1].strength: S2 → S3\n"
        '  findings[1].appraisal.downgrades[0]: {"domain": "risk-of-bias", "levels": 1, '
        '"reason": "No comparison group."} → (none)\n'
        '  findings[1].recorded_by: "Bea Appraiser" → "Ada Reviewer"\n'
        f"  findings[1].recorded_on: 2026-01-15 → {TODAY}\n"
        "changed 1 file\n" + REFRESHED
    )
    link = data(appraised, STUDY)["findings"][1]
    assert (link["strength"], link["recorded_by"]) == ("S3", "Ada Reviewer")
    # A domain that does not move the level (research is never below S2) keeps the recorder.
    kept = run_kb(
        "edit", "evidence", link_id, "--root", appraised, "--population", "Job applicants.",
        "--downgrade", "imprecision", "1", "Eight organisations.",
        "--downgrade", "indirectness", "1", "Germany, not Wales.",
    )  # fmt: skip
    assert kept.exit_code == 0, kept.stderr
    assert "strength" in kept.stdout  # S3, down two: S1, held at S2
    link = data(appraised, STUDY)["findings"][1]
    assert link["strength"] == "S2"
    assert [rating["domain"] for rating in link["appraisal"]["downgrades"]] == [
        "imprecision",
        "indirectness",
    ]
    assert run_kb("check", "--root", appraised).exit_code == 0


def test_a_strength_the_appraisal_does_not_give_is_refused(appraised: Path) -> None:
    before = snapshot(appraised)
    stale = run_kb(
        "edit", "evidence", "krause-2012--targets", "--root", appraised, "--strength", "S3"
    )
    assert (stale.exit_code, stale.stderr) == (
        1,
        "error: nothing was written: evidence/studies/krause-2012.yaml: findings[1].strength: "
        "the appraisal gives S2 (starts at S3 (an evaluation, often uncontrolled); down 1 for "
        "risk of bias), not S3\n",
    )
    source = run_kb(
        "edit", "evidence", "krause-2012--anonymise", "--root", appraised, "--design", "x"
    )
    assert source.stderr == (
        "error: nothing was written: krause-2012--anonymise rests on a source report's words "
        "(basis source); --design, --population, --setting, --sample-size, --rationale, "
        "--downgrade and --upgrade are for an appraisal (add --basis appraisal)\n"
    )
    assert snapshot(appraised) == before


def test_a_new_level_needs_to_know_who_judged_it(appraised: Path, monkeypatch) -> None:
    subprocess.run(["git", "config", "--unset", "user.name"], cwd=appraised, check=True)
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", "/dev/null")
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    before = snapshot(appraised)
    result = run_kb(
        "edit", "evidence", "krause-2012--anonymise", "--root", appraised, "--strength", "S1"
    )
    assert (result.exit_code, result.stderr) == (
        1,
        "error: krause-2012--anonymise's level changes, so say who is making the judgement: "
        "give --by NAME, or set your name with `git config user.name NAME`\n",
    )
    assert snapshot(appraised) == before


# --- kb edit study ---------------------------------------------------------------------------


def test_edit_study_type_recomputes_appraisals_and_warns_of_ceilings(appraised: Path) -> None:
    before = snapshot(appraised)
    args = ("edit", "study", "krause-2012", "--root", appraised, "--type", "commentary")
    dry = run_kb(*args, "--container", "IZA Bonn", "--dry-run")
    assert (dry.exit_code, dry.stderr) == (0, "")
    assert dry.stdout == (
        "change evidence/studies/krause-2012.yaml\n"
        '  container: IZA → "IZA Bonn"\n'
        "  type: evaluation-report → commentary\n"
        "  findings[1].strength: S2 → S1\n"
        '  findings[1].recorded_by: "Bea Appraiser" → "Ada Reviewer"\n'
        f"  findings[1].recorded_on: 2026-01-15 → {TODAY}\n"
        "evidence/studies/krause-2012.yaml:16: krause-2012: findings[0].strength: warning: S2 "
        "is above the usual ceiling for a study of type commentary (S1); lower it, or say in "
        "`above_ceiling` what in the source justifies it\n"
        "dry run: would change 1 file; nothing written\n"
    )
    assert snapshot(appraised) == before
    done = run_kb(*args, "--by", "Cy Editor")
    assert done.exit_code == 0, done.stderr
    study = data(appraised, STUDY)
    assert study["type"] == "commentary"
    assert [link["strength"] for link in study["findings"]] == ["S2", "S1"]
    assert study["findings"][1]["recorded_by"] == "Cy Editor"
    assert study["findings"][0]["recorded_by"] == "Fixture author"


def test_edit_study_refusals_write_nothing(appraised: Path) -> None:
    before = snapshot(appraised)
    unclassified = run_kb(
        "edit", "study", "krause-2012", "--root", appraised, "--type", "unclassified"
    )
    assert unclassified.stderr == (
        "error: nothing was written: evidence/studies/krause-2012.yaml: findings[1].basis: "
        "classify the study's type before appraising it: the appraisal starts from it\n"
    )
    year = run_kb("edit", "study", "krause-2012", "--root", appraised, "--year", "1700")
    assert year.stderr == (
        "error: nothing was written: evidence/studies/krause-2012.yaml: year: must be between "
        f"1800 and {date.today().year + 1}\n"
    )
    nothing = run_kb("edit", "study", "krause-2012", "--root", appraised)
    assert nothing.exit_code == 2
    assert "Error: give a field to change, e.g. --type review (see --help)" in nothing.stderr
    assert snapshot(appraised) == before


# --- kb rm -----------------------------------------------------------------------------------


def test_rm_evidence(tiny_kb: Path, tmp_path: Path) -> None:
    canonical(tiny_kb)
    added = run_kb(
        "add", "evidence", "krause-2012", "targets", "--root", tiny_kb, *NO_INPUT_LINK,
        "--quote", TARGETS_QUOTE,
    )  # fmt: skip
    assert added.exit_code == 0
    before = snapshot(tiny_kb)
    dry = run_kb("rm", "evidence", "krause-2012--anonymise", "--root", tiny_kb, "--dry-run")
    assert dry.stdout == (
        "change evidence/studies/krause-2012.yaml\n"
        "  findings[0]: evidence link krause-2012--anonymise → (none)\n"
        "dry run: would change 1 file; nothing written\n"
    )
    assert snapshot(tiny_kb) == before
    done = run_kb("rm", "evidence", "krause-2012--anonymise", "--root", tiny_kb)
    assert done.stdout == dry.stdout.replace(
        "dry run: would change 1 file; nothing written\n", "changed 1 file\n" + REFRESHED
    )
    assert [link["id"] for link in data(tiny_kb, STUDY)["findings"]] == ["krause-2012--targets"]
    assert run_kb("check", "--root", tiny_kb).exit_code == 0
    assert store_matches_a_fresh_build(tiny_kb, tmp_path)


def test_rm_study_refuses_while_anything_rests_on_it(appraised: Path, tmp_path: Path) -> None:
    before = snapshot(appraised)
    reason = ("--reason", "Retracted by its authors.", "--by", "A. Reviewer", "--on", "2026-12-02")
    refused = run_kb("rm", "study", "krause-2012", "--root", appraised, *reason)
    assert (refused.exit_code, refused.stderr) == (
        1,
        "error: nothing was removed: study krause-2012 is cited by "
        "evidence/examples/blind-cv-pilot.yaml (studies[0]) and has 2 evidence links "
        "(krause-2012--anonymise, krause-2012--targets); remove those first, or add --force "
        "to remove the study with its links and take it out of those lists\n",
    )
    dry = run_kb("rm", "study", "krause-2012", "--root", appraised, *reason, "--force", "--dry-run")
    assert dry.stdout == (
        "delete evidence/studies/krause-2012.yaml\n"
        "  findings[0]: evidence link krause-2012--anonymise → (none)\n"
        "  findings[1]: evidence link krause-2012--targets → (none)\n"
        "delete evidence/texts/krause-2012.txt\n"
        "create removed/krause-2012.yaml\n"
        "  id: (none) → krause-2012\n"
        "  type: (none) → study\n"
        '  title: (none) → "Krause and Rinne (2012): Pilot Project: Anonymized Application '
        'procedure"\n'
        "  removed_on: (none) → 2026-12-02\n"
        '  removed_by: (none) → "A. Reviewer"\n'
        '  reason: (none) → "Retracted by its authors."\n'
        "change evidence/examples/blind-cv-pilot.yaml\n"
        '  studies: ["krause-2012"] → []\n'
        "dry run: would create 1 file, change 1 file and delete 2 files; nothing written\n"
    )
    assert snapshot(appraised) == before
    done = run_kb("rm", "study", "krause-2012", "--root", appraised, *reason, "--force")
    assert done.exit_code == 0, done.stderr
    assert done.stdout.endswith("created 1 file, changed 1 file and deleted 2 files\n" + REFRESHED)
    assert not (appraised / STUDY).exists()
    assert data(appraised, "removed/krause-2012.yaml") == {
        "id": "krause-2012",
        "type": "study",
        "title": "Krause and Rinne (2012): Pilot Project: Anonymized Application procedure",
        "removed_on": "2026-12-02",
        "removed_by": "A. Reviewer",
        "reason": "Retracted by its authors.",
    }
    assert not (appraised / "evidence/texts/krause-2012.txt").exists()
    assert "studies" not in data(appraised, "evidence/examples/blind-cv-pilot.yaml")
    assert run_kb("check", "--root", appraised).exit_code == 0
    assert store_matches_a_fresh_build(appraised, tmp_path)


def test_rm_study_no_one_cites(tiny_kb: Path) -> None:
    added = run_kb(
        "add", "study", "--root", tiny_kb, "--no-input", "--title", "Hiring audits",
        "--author", "Okafor, C.", "--year", "2020", "--type", "review",
    )  # fmt: skip
    assert added.exit_code == 0
    result = run_kb(
        "rm", "study", "okafor-2020", "--root", tiny_kb, "--reason", "Added by mistake.",
        "--by", "A. Reviewer", "--on", "2026-12-02",
    )  # fmt: skip
    assert result.stdout == (
        "delete evidence/studies/okafor-2020.yaml\n"
        "create removed/okafor-2020.yaml\n"
        "  id: (none) → okafor-2020\n"
        "  type: (none) → study\n"
        '  title: (none) → "Okafor (2020): Hiring audits"\n'
        "  removed_on: (none) → 2026-12-02\n"
        '  removed_by: (none) → "A. Reviewer"\n'
        '  reason: (none) → "Added by mistake."\n'
        "created 1 file and deleted 1 file\n" + REFRESHED
    )
    assert not (tiny_kb / "evidence/studies/okafor-2020.yaml").exists()


# --- kb mv -----------------------------------------------------------------------------------


@pytest.fixture
def every_reference(appraised: Path) -> Path:
    """The appraised tiny knowledge base with every kind of reference a rename must follow:
    a theme's parent, responds_to, a key figure's studies (and the rest it has already)."""
    targets = appraised / "recommendations/targets.yaml"
    targets.write_text(
        targets.read_text().replace("id: targets\n", "id: targets\nkind: recurring\n")
    )
    anonymise = appraised / "recommendations/anonymise.yaml"
    anonymise.write_text(anonymise.read_text() + "responds_to:\n  - targets\n")
    (appraised / "recommendations/themes/blind-recruitment.yaml").write_text(
        "id: blind-recruitment\ntitle: Blind recruitment\nparent: recruitment\n"
        "source: tiny-report\nlocation:\n  section: Recruitment\n"
    )
    figure = appraised / "evidence/figures/wales-staff-share.yaml"
    figure.write_text(figure.read_text() + "studies:\n  - krause-2012\n")
    canonical(appraised)
    assert run_kb("check", "--root", appraised).stdout.endswith("0 errors, 0 warnings\n")
    return appraised


def test_mv_dry_run_shows_every_file_it_would_change(every_reference: Path) -> None:
    before = snapshot(every_reference)
    result = run_kb("mv", "krause-2012", "krause-2012a", "--root", every_reference, "--dry-run")
    assert (result.exit_code, result.stderr) == (0, "")
    assert result.stdout == (
        "rename evidence/studies/krause-2012.yaml → evidence/studies/krause-2012a.yaml\n"
        "  id: krause-2012 → krause-2012a\n"
        '  former_ids: [] → ["krause-2012"]\n'
        "  text: evidence/texts/krause-2012.txt → evidence/texts/krause-2012a.txt\n"
        "  findings[0].id: krause-2012--anonymise → krause-2012a--anonymise\n"
        "  findings[1].id: krause-2012--targets → krause-2012a--targets\n"
        "rename evidence/texts/krause-2012.txt → evidence/texts/krause-2012a.txt\n"
        "change evidence/examples/blind-cv-pilot.yaml\n"
        "  studies[0]: krause-2012 → krause-2012a\n"
        "change evidence/figures/wales-staff-share.yaml\n"
        "  studies[0]: krause-2012 → krause-2012a\n"
        "dry run: would rename 2 files and change 2 files; nothing written\n"
    )
    assert snapshot(every_reference) == before
    as_json = run_kb(
        "mv", "krause-2012", "krause-2012a", "--root", every_reference, "--dry-run", "--json"
    )
    document = json.loads(as_json.stdout)
    assert [(c["action"], c["file"], c.get("to")) for c in document["changes"]] == [
        ("rename", "evidence/studies/krause-2012.yaml", "evidence/studies/krause-2012a.yaml"),
        ("rename", "evidence/texts/krause-2012.txt", "evidence/texts/krause-2012a.txt"),
        ("change", "evidence/examples/blind-cv-pilot.yaml", None),
        ("change", "evidence/figures/wales-staff-share.yaml", None),
    ]
    assert (document["dry_run"], document["written"], document["refreshed"]) == (True, [], None)
    assert snapshot(every_reference) == before


# Each rename, one kind of record after another.
_RENAMES = [
    ("tiny-report", "small-report", "source"),
    ("recruitment", "hiring", "theme"),
    ("targets", "senior-targets", "recommendation"),
    ("anonymise", "anonymise-cvs", "recommendation"),
    ("krause-2012", "krause-2012a", "study"),
    ("blind-cv-pilot", "blind-cv-trial", "example"),
    ("wales-staff-share", "wales-staff-2021", "figure"),
    ("krause-2012a--senior-targets", "krause-callbacks", "evidence link"),
]


def _values(value: object) -> list[str]:
    if isinstance(value, dict):
        return [item for child in value.values() for item in _values(child)]
    if isinstance(value, list):
        return [item for child in value for item in _values(child)]
    return [value] if isinstance(value, str) else []


def test_mv_reaches_every_reference(every_reference: Path, tmp_path: Path) -> None:
    root = every_reference
    for old, new, _ in _RENAMES:
        result = run_kb("mv", old, new, "--root", root)
        assert result.exit_code == 0, (old, result.output)
        assert result.stdout.endswith(REFRESHED)
    records = {
        path.relative_to(root).as_posix(): yaml.safe_load(path.read_text())
        for path in sorted(root.rglob("*.yaml"))
        if "build" not in path.parts
    }
    old_ids = {old for old, _, _ in _RENAMES} | {
        "krause-2012--anonymise",  # derived IDs, renamed with the recommendation
        "krause-2012--targets",
        "krause-2012--anonymise-cvs",  # and with the study
        "krause-2012--senior-targets",
    }
    mentions = {
        (path, value)
        for path, record in records.items()
        for value in _values({key: value for key, value in record.items() if key != "former_ids"})
        if value in old_ids or any(value == f"evidence/texts/{old}.txt" for old in old_ids)
    }
    assert mentions == set()
    # Each renamed record keeps its old ID as a former ID, which still leads to it.
    former = {
        old: record["id"] for record in records.values() for old in record.get("former_ids", [])
    }
    assert former == {old: new for old, new, kind in _RENAMES if kind != "evidence link"}
    assert sorted(records) == [
        "evidence/examples/blind-cv-trial.yaml",
        "evidence/figures/wales-staff-2021.yaml",
        "evidence/sources/small-report.yaml",
        "evidence/studies/krause-2012a.yaml",
        "recommendations/anonymise-cvs.yaml",
        "recommendations/senior-targets.yaml",
        "recommendations/themes/blind-recruitment.yaml",
        "recommendations/themes/hiring.yaml",
    ]
    study = records["evidence/studies/krause-2012a.yaml"]
    assert [link["id"] for link in study["findings"]] == [
        "krause-2012a--anonymise-cvs",
        "krause-callbacks",
    ]
    assert [link["recommendation"] for link in study["findings"]] == [
        "anonymise-cvs",
        "senior-targets",
    ]
    assert study["findings"][0]["source"] == "small-report"
    assert study["text"] == "evidence/texts/krause-2012a.txt"
    assert (root / "evidence/texts/krause-2012a.txt").read_text() == ABSTRACT
    assert (root / "evidence/sources/small-report.txt").is_file()
    assert not (root / "evidence/sources/tiny-report.txt").exists()
    assert records["recommendations/anonymise-cvs.yaml"]["responds_to"] == ["senior-targets"]
    assert records["recommendations/anonymise-cvs.yaml"]["themes"] == ["hiring"]
    assert records["recommendations/themes/blind-recruitment.yaml"]["parent"] == "hiring"
    assert records["evidence/figures/wales-staff-2021.yaml"]["themes"] == ["hiring"]
    assert records["evidence/figures/wales-staff-2021.yaml"]["studies"] == ["krause-2012a"]
    assert records["evidence/examples/blind-cv-trial.yaml"]["recommendations"] == ["anonymise-cvs"]
    check = run_kb("check", "--root", root)
    assert check.stdout.endswith("0 errors, 0 warnings\n"), check.stdout
    assert store_matches_a_fresh_build(root, tmp_path)
    paths = pipeline.Paths.for_root(root)
    assert {hit.id for hit in search(paths.index, "pilot").results} >= {
        "krause-2012a",
        "krause-2012a--anonymise-cvs",
        "blind-cv-trial",
    }
    assert run_kb("search", "id:krause-2012", "--root", root).exit_code == 1


def test_mv_a_source_of_the_real_knowledge_base(tmp_path: Path) -> None:
    root = tmp_path / "kb"
    for folder in ("evidence", "recommendations"):
        shutil.copytree(REPOSITORY / folder, root / folder)
    old, new = "wcpp-race-equality-health", "wcpp-health-2021"
    result = run_kb("mv", old, new, "--root", root)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert len([line for line in lines if line.startswith("change ")]) > 200
    # The other reports' notes name it in words: listed, and left for the reviewer.
    notes = [line for line in lines if line.startswith("note: ")]
    assert notes == [
        f"note: evidence/sources/wcpp-race-equality-{report}.yaml: note mentions {old} in "
        "words; not changed"
        for report in ("crime-justice", "education", "employment", "housing", "leadership")
    ]
    mentioning = sorted(
        path.relative_to(root).as_posix()
        for path in root.rglob("*.yaml")
        if old in path.read_text()
    )
    renamed = f"evidence/sources/{new}.yaml"  # which lists it in former_ids
    assert mentioning == sorted([renamed, *(line.split(": ")[1] for line in notes)])
    assert yaml.safe_load((root / renamed).read_text())["former_ids"] == [old]
    assert run_kb("check", "--root", root).stdout.endswith("0 errors, 0 warnings\n")
    assert store_matches_a_fresh_build(root, tmp_path)


# --- Refusals write nothing ------------------------------------------------------------------


_REFUSALS = {
    "edit an unknown link": (
        ["edit", "evidence", "krause-2012--nowhere", "--note", "x"],
        "error: no valid evidence link has ID 'krause-2012--nowhere'; run `kb check`",
    ),
    "edit an unknown study": (
        ["edit", "study", "krause-2021", "--note", "x"],
        "error: no valid study has ID 'krause-2021'; run `kb check`",
    ),
    "rm an unknown link": (
        ["rm", "evidence", "nowhere"],
        "error: no valid evidence link has ID 'nowhere'; run `kb check`",
    ),
    "rm an unknown study": (
        ["rm", "study", "nowhere", "--reason", "x"],
        "error: no valid study has ID 'nowhere'; run `kb check`",
    ),
    "mv an unknown ID": (
        ["mv", "krause-2013", "krause-2014"],
        "error: no record or evidence link has ID 'krause-2013'; did you mean 'krause-2012'?",
    ),
    "a quote not in the source": (
        ["edit", "evidence", "krause-2012--anonymise", "--quote", "Pilots always work."],
        "error: nothing was written: evidence/studies/krause-2012.yaml: findings[0].quote: not "
        "found verbatim in source 'tiny-report': 'Pilots always work.'",
    ),
    "a recommendation with no source": (
        ["edit", "evidence", "krause-2012--anonymise", "--source", "nowhere"],
        "error: nothing was written: evidence/studies/krause-2012.yaml: findings[0].source: no "
        "source has ID 'nowhere'",
    ),
    "a DOI another study has": (
        ["edit", "study", "okafor-2020", "--doi", "https://doi.org/10.1234/iza.44"],
        "error: nothing was written: evidence/studies/okafor-2020.yaml: doi: DOI 10.1234/iza.44 "
        "is also the DOI of study 'krause-2012'",
    ),
    "mv to an ID in use": (
        ["mv", "okafor-2020", "targets"],
        "error: the ID targets is already used (recommendations/targets.yaml); choose another",
    ),
    "mv to a link's ID": (
        ["mv", "okafor-2020", "krause-2012--anonymise"],
        "error: the ID krause-2012--anonymise is already used (evidence/studies/krause-2012.yaml); "
        "choose another",
    ),
    "mv to an ID that is not one": (
        ["mv", "okafor-2020", "Okafor 2020"],
        "error: nothing was written: the new ID 'Okafor 2020' must be lower-case letters, "
        "digits and hyphens (at most 64, not starting with -)",
    ),
    "mv making a derived ID too long": (
        ["mv", "anonymise", "a" * 64],
        f"error: nothing was written: the evidence link krause-2012--anonymise would become "
        f"krause-2012--{'a' * 64}, longer than 64 characters; give it a shorter ID first "
        "(`kb mv krause-2012--anonymise SHORTER-ID`)",
    ),
    "rm a study an example cites": (
        ["rm", "study", "krause-2012", "--reason", "x"],
        "error: nothing was removed: study krause-2012 is cited by "
        "evidence/examples/blind-cv-pilot.yaml (studies[0]) and has 1 evidence link "
        "(krause-2012--anonymise); remove those first, or add --force to remove the study with "
        "its links and take it out of those lists",
    ),
}


@pytest.mark.parametrize("store_first", [False, True], ids=["no store", "current store"])
@pytest.mark.parametrize("name", list(_REFUSALS))
def test_refusals_write_nothing(tiny_kb: Path, store_first: bool, name: str, monkeypatch) -> None:
    added = run_kb(
        "add", "study", "--root", tiny_kb, "--no-input", "--title", "Hiring audits",
        "--author", "Okafor, C.", "--year", "2020", "--type", "review",
    )  # fmt: skip
    assert added.exit_code == 0
    if not store_first:
        shutil.rmtree(tiny_kb / "build")
    before = snapshot(tiny_kb)
    args, message = _REFUSALS[name]
    for dry_run in ([], ["--dry-run"]):
        result = run_kb(*args, *dry_run, "--root", tiny_kb)
        assert (result.exit_code, result.stdout, result.stderr) == (1, "", message + "\n")
    assert snapshot(tiny_kb) == before


def test_a_file_with_comments_is_not_rewritten(tiny_kb: Path) -> None:
    example = tiny_kb / "evidence/examples/blind-cv-pilot.yaml"
    example.write_text(example.read_text() + "# ask the council for the evaluation\n")
    before = snapshot(tiny_kb)
    result = run_kb("mv", "krause-2012", "krause-2012a", "--root", tiny_kb)
    assert (result.exit_code, result.stderr) == (
        1,
        "error: nothing was written: evidence/examples/blind-cv-pilot.yaml has YAML comments, "
        "which rewriting it would drop; move them into `note:` and run again\n",
    )
    assert snapshot(tiny_kb) == before


def test_a_failed_write_puts_every_file_back(tiny_kb: Path, monkeypatch) -> None:
    from kb.edits import changes

    before = snapshot(tiny_kb)
    real_put = changes._put
    calls = []

    def fail_on_the_second(path: Path, content: object) -> None:
        calls.append(path)
        if len(calls) == 2:
            raise OSError(28, "No space left on device")
        real_put(path, content)

    monkeypatch.setattr(changes, "_put", fail_on_the_second)
    with pytest.raises(OSError):
        run_kb("mv", "krause-2012", "krause-2012a", "--root", tiny_kb)
    assert snapshot(tiny_kb) == before


# --- With a current store, an edit reads only the study it changes ---------------------------


def test_edits_to_a_current_store_are_made_in_place(
    tiny_kb: Path, tmp_path: Path, monkeypatch
) -> None:
    assert run_kb("build-db", "--root", tiny_kb).exit_code == 0
    _refuse_reading_every_record(monkeypatch)
    for args in (
        ["edit", "evidence", "krause-2012--anonymise", "--note", "Checked again."],
        ["edit", "study", "krause-2012", "--container", "IZA Bonn"],
        ["rm", "evidence", "krause-2012--anonymise"],
    ):
        result = run_kb(*args, "--root", tiny_kb)
        assert result.exit_code == 0, (args, result.output)
        assert result.stdout.endswith(REFRESHED)
        monkeypatch.undo()
        assert store_matches_a_fresh_build(tiny_kb, tmp_path), args
        _refuse_reading_every_record(monkeypatch)


# --- Two writers at once ---------------------------------------------------------------------


@pytest.mark.parametrize("store_first", [False, True], ids=["no store", "current store"])
def test_concurrent_changes_lose_nothing(tiny_kb: Path, tmp_path: Path, store_first: bool) -> None:
    canonical(tiny_kb)
    if store_first:
        assert run_kb("build-db", "--root", tiny_kb).exit_code == 0
    root = ["--root", str(tiny_kb)]
    commands = [
        [str(KB), "edit", "evidence", "krause-2012--anonymise", "--note", "Checked.", *root],
        [str(KB), "edit", "study", "krause-2012", "--container", "IZA Bonn", *root],
        [str(KB), "add", "evidence", "krause-2012", "targets", *root, *NO_INPUT_LINK,
         "--quote", TARGETS_QUOTE],
        [str(KB), "mv", "recruitment", "hiring", *root],
        [str(KB), "mv", "wales-staff-share", "wales-staff-2021", *root],
        [str(KB), "mv", "blind-cv-pilot", "blind-cv-trial", *root],
    ]  # fmt: skip
    processes = [
        subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for command in commands
    ]
    outcomes = [process.communicate(timeout=120) for process in processes]
    assert [process.returncode for process in processes] == [0] * len(commands), outcomes

    study = data(tiny_kb, STUDY)
    assert study["container"] == "IZA Bonn"
    assert [link["id"] for link in study["findings"]] == [
        "krause-2012--anonymise",
        "krause-2012--targets",
    ]
    assert study["findings"][0]["note"] == "Checked."
    figure = data(tiny_kb, "evidence/figures/wales-staff-2021.yaml")
    assert figure["themes"] == ["hiring"]
    assert data(tiny_kb, "evidence/examples/blind-cv-trial.yaml")["studies"] == ["krause-2012"]
    for name in ("anonymise", "targets"):
        assert data(tiny_kb, f"recommendations/{name}.yaml")["themes"] == ["hiring"]
    assert run_kb("check", "--root", tiny_kb).stdout.endswith("0 errors, 0 warnings\n")
    assert store_matches_a_fresh_build(tiny_kb, tmp_path)


def test_a_link_changes_basis(appraised: Path) -> None:
    args = ("edit", "evidence", "krause-2012--anonymise", "--root", appraised, "--by", "Cy")
    quote = "Callbacks for applicants with foreign names rose by a third."
    bare = run_kb(*args, "--basis", "appraisal", "--quote", quote)
    assert bare.stderr == (
        "error: nothing was written: "
        + "; ".join(
            f"evidence/studies/krause-2012.yaml: findings[0].appraisal.{name}: required field "
            "is missing"
            for name in ("design", "population", "setting", "rationale")
        )
        + "\n"
    )
    appraisal = ("--design", "A pilot.", "--population", "Applicants.", "--setting", "Germany.")
    done = run_kb(*args, "--basis", "appraisal", "--quote", quote, *appraisal, "--rationale", "R.")
    assert done.exit_code == 0, done.stderr
    link = data(appraised, STUDY)["findings"][0]
    assert (link["basis"], link["strength"], link["recorded_by"]) == ("appraisal", "S3", "Cy")
    assert "source" not in link and "location" not in link
    back = run_kb(*args, "--basis", "source", "--quote", TARGETS_QUOTE.replace("targets", "x"))
    assert back.exit_code == 1  # the report's words are needed again
    restored = run_kb(
        *args, "--basis", "source", "--quote",
        "Anonymised applications reduced callback gaps in a pilot (Krause et al., 2012).",
    )  # fmt: skip
    assert restored.exit_code == 0, restored.stderr
    link = data(appraised, STUDY)["findings"][0]
    assert (link["source"], link["location"]) == ("tiny-report", {"section": "Recruitment"})
    assert "appraisal" not in link
    assert run_kb("check", "--root", appraised).stdout.endswith("0 errors, 0 warnings\n")
