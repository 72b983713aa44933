"""The reviewer's commands: `kb add study`, `kb add evidence`, `kb fmt`, `kb export` formats,
concurrent writers, the generated record format reference, and the whole reviewer story."""

import html
import json
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner, Result

from kb import pipeline
from kb.cli import main
from kb.edits import changing
from kb.edits.add import new_finding_id
from kb.errors import ChangeRefused
from kb.records import read
from kb.records.reference import DOCUMENT, record_format_markdown
from kb.render import SiteInfo
from kb.search import search
from tests.conftest import DATA, REPOSITORY, run_kb
from tests.test_store import built_from_scratch, stored_tables

pytestmark = pytest.mark.cli

KB = Path(sys.executable).parent / "kb"
ZOTERO = DATA / "imports" / "zotero.ris"
REFRESHED = "updated the store (build/kb.sqlite) and the search index (build/index)\n"
TARGETS_QUOTE = "There is little evidence about whether targets alone work."
NO_INPUT_LINK = (
    "--no-input",
    "--basis",
    "source",
    "--by",
    "Test Reviewer",
    "--on",
    "2026-11-30",
    "--relation",
    "context",
    "--strength",
    "S0",
    "--direction",
    "not-assessed",
    "--horizon",
    "not-stated",
    "--summary",
    "The report found little evidence on whether targets alone work.",
)


def _study(root: Path, study_id: str) -> dict:
    return yaml.safe_load((root / "evidence" / "studies" / f"{study_id}.yaml").read_text())


# --- kb add study ----------------------------------------------------------------------------


def test_add_study_with_options(tiny_kb: Path) -> None:
    result = run_kb(
        "add", "study", "--root", tiny_kb, "--no-input",
        "--title", "Racism as a determinant of health: a systematic review and meta-analysis",
        "--author", "Paradies, Y.", "--author", "Ben, J.", "--year", "2015",
        "--type", "systematic-review", "--container", "PLOS ONE",
        "--doi", "https://doi.org/10.1371/journal.pone.0138511",
    )  # fmt: skip
    assert result.exit_code == 0
    assert result.stdout == "created evidence/studies/paradies-2015.yaml\n" + REFRESHED
    assert (tiny_kb / "evidence/studies/paradies-2015.yaml").read_text() == (
        "id: paradies-2015\n"
        "authors:\n"
        "  - Paradies, Y.\n"
        "  - Ben, J.\n"
        "year: 2015\n"
        "title: 'Racism as a determinant of health: a systematic review and meta-analysis'\n"
        "container: PLOS ONE\n"
        "doi: 10.1371/journal.pone.0138511\n"
        "type: systematic-review\n"
    )
    assert (tiny_kb / "build" / "kb.sqlite").is_file()


def test_add_study_asks_for_what_is_missing(tiny_kb: Path) -> None:
    answers = (
        "Ethnic pay gaps in the NHS\nSmith, J.; Jones, K.\n2019\nqualitative\ndoi:10.5555/ABC\n\n"
    )
    result = CliRunnerWithInput(answers).run("add", "study", "--root", str(tiny_kb))
    assert result.exit_code == 0, result.output
    assert "Type (systematic-review, review, randomised-trial" in result.output
    assert "ID [smith-2019]: \n" in result.output
    assert _study(tiny_kb, "smith-2019") == {
        "id": "smith-2019",
        "authors": ["Smith, J.", "Jones, K."],
        "year": 2019,
        "title": "Ethnic pay gaps in the NHS",
        "doi": "10.5555/ABC",
        "type": "qualitative",
    }


class CliRunnerWithInput:
    """`kb` run in-process with text typed at its prompts."""

    def __init__(self, text: str):
        self.text = text

    def run(self, *args: str) -> Result:
        return CliRunner().invoke(main, list(args), input=self.text, catch_exceptions=False)


def test_suggested_ids_get_a_letter_when_taken(tiny_kb: Path) -> None:
    def add(title: str) -> str:
        result = run_kb(
            "add", "study", "--root", tiny_kb, "--no-input", "--title", title,
            "--author", "Krause, Annabelle", "--year", "2012", "--type", "review",
        )  # fmt: skip
        return result.stdout.splitlines()[0]

    assert (
        add("Anonymous job applications in Europe") == "created evidence/studies/krause-2012b.yaml"
    )
    assert add("Field experiments on hiring") == "created evidence/studies/krause-2012c.yaml"


def test_add_study_refusals(tiny_kb: Path) -> None:
    before = sorted((tiny_kb / "evidence" / "studies").iterdir())
    missing = run_kb("add", "study", "--root", tiny_kb, "--no-input", "--year", "2020")
    assert missing.exit_code == 2
    assert "Error: missing --title, --type: give them, or leave out --no-input to be asked" in (
        missing.stderr
    )
    exists = run_kb(
        "add", "study", "--root", tiny_kb, "--no-input", "--id", "krause-2012", "--title", "X",
        "--type", "review",
    )  # fmt: skip
    assert (exists.exit_code, exists.stderr) == (
        1,
        "error: study krause-2012 already exists; use --force to replace its details\n",
    )
    duplicate = run_kb(
        "add", "study", "--root", tiny_kb, "--no-input", "--type", "evaluation-report",
        "--title", "Pilot project - anonymized application procedure", "--author", "Krause, A.",
        "--year", "2012",
    )  # fmt: skip
    assert (duplicate.exit_code, duplicate.stderr) == (
        1,
        "error: nothing was written: likely duplicate of krause-2012 (100% alike); "
        "--allow-duplicate adds it anyway\n",
    )
    same_doi = run_kb(
        "add", "study", "--root", tiny_kb, "--no-input", "--type", "review", "--title", "Other",
        "--doi", "DOI:10.1234/iza.44", "--allow-duplicate",
    )  # fmt: skip
    assert same_doi.stderr == "error: nothing was written: same DOI as krause-2012\n"
    bad = run_kb(
        "add", "study", "--root", tiny_kb, "--no-input", "--type", "review", "--title", "X",
        "--doi", "not a doi", "--year", "1700",
    )  # fmt: skip
    assert bad.stderr == (
        "error: nothing was written: the new study: doi: must look like 10.NNNN/suffix (a "
        f"resolver prefix is allowed); year: must be between 1800 and {date.today().year + 1}\n"
    )
    unknown = run_kb(
        "add", "study", "--root", tiny_kb, "--no-input", "--title", "X", "--type", "rct"
    )
    assert unknown.exit_code == 2
    assert sorted((tiny_kb / "evidence" / "studies").iterdir()) == before


def test_force_replaces_details_and_keeps_evidence_links(tiny_kb: Path) -> None:
    result = run_kb(
        "add", "study", "--root", tiny_kb, "--no-input", "--force", "--id", "krause-2012",
        "--title", "Pilot Project: Anonymized Application Procedure", "--author", "Krause, A.",
        "--year", "2012", "--type", "quasi-experimental", "--doi", "10.1234/IZA.44",
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert result.stdout == "replaced evidence/studies/krause-2012.yaml\n" + REFRESHED
    study = _study(tiny_kb, "krause-2012")
    assert (study["type"], study["authors"]) == ("quasi-experimental", ["Krause, A."])
    assert [finding["id"] for finding in study["findings"]] == ["krause-2012--anonymise"]


def test_add_json_says_what_was_created_or_replaced(tiny_kb: Path, tmp_path: Path) -> None:
    refreshed = REFRESHED.strip()
    study = (
        "add", "study", "--root", tiny_kb, "--no-input", "--json", "--title", "Hiring audits",
        "--author", "Okafor, C.", "--year", "2020", "--type", "qualitative",
    )  # fmt: skip
    fields = {
        "id": "okafor-2020",
        "authors": ["Okafor, C."],
        "year": 2020,
        "title": "Hiring audits",
        "type": "qualitative",
    }
    entry = {"id": "okafor-2020", "file": "evidence/studies/okafor-2020.yaml", "study": fields}
    assert json.loads(run_kb(*study).stdout) == {
        "created": [entry],
        "replaced": [],
        "written": ["evidence/studies/okafor-2020.yaml"],
        "refreshed": refreshed,
    }
    assert json.loads(run_kb(*study, "--force", "--id", "okafor-2020").stdout) == {
        "created": [],
        "replaced": [entry],
        "written": ["evidence/studies/okafor-2020.yaml"],
        "refreshed": refreshed,
    }
    held = tmp_path / "abstract.txt"
    held.write_text("Audits of hiring found fewer callbacks for minority applicants.\n")
    text = ("add", "text", "okafor-2020", held, "--root", tiny_kb, "--json")
    written = ["evidence/texts/okafor-2020.txt", "evidence/studies/okafor-2020.yaml"]
    kept = {
        "id": "okafor-2020",
        "file": "evidence/texts/okafor-2020.txt",
        "study_file": "evidence/studies/okafor-2020.yaml",
        "part": "abstract",
    }
    assert json.loads(run_kb(*text).stdout) == {
        "created": [kept],
        "replaced": [],
        "written": written,
        "refreshed": refreshed,
    }
    assert json.loads(run_kb(*text, "--force").stdout)["replaced"] == [kept]
    link = run_kb(
        "add", "evidence", "krause-2012", "targets", "--root", tiny_kb, *NO_INPUT_LINK,
        "--quote", TARGETS_QUOTE, "--json",
    )  # fmt: skip
    assert json.loads(link.stdout) == {
        "created": [
            {
                "id": "krause-2012--targets",
                "file": "evidence/studies/krause-2012.yaml",
                "study_id": "krause-2012",
                "evidence": _study(tiny_kb, "krause-2012")["findings"][1],
            }
        ],
        "replaced": [],
        "written": ["evidence/studies/krause-2012.yaml"],
        "refreshed": refreshed,
    }


# --- kb add evidence -------------------------------------------------------------------------


def test_add_evidence(tiny_kb: Path) -> None:
    args = ("add", "evidence", "krause-2012", "targets", "--root", tiny_kb, *NO_INPUT_LINK)
    result = run_kb(*args, "--quote", TARGETS_QUOTE)
    assert result.exit_code == 0, result.stderr
    assert result.stdout == (
        "added krause-2012--targets to evidence/studies/krause-2012.yaml\n" + REFRESHED
    )
    assert _study(tiny_kb, "krause-2012")["findings"][1] == {
        "id": "krause-2012--targets",
        "recommendation": "targets",
        "relation": "context",
        "strength": "S0",
        "direction": "not-assessed",
        "horizon": "not-stated",
        "summary": "The report found little evidence on whether targets alone work.",
        "basis": "source",
        "quote": TARGETS_QUOTE,
        "source": "tiny-report",
        "location": {"section": "Recruitment"},
        "recorded_by": "Test Reviewer",
        "recorded_on": "2026-11-30",
    }
    again = run_kb(*args, "--quote", "There is little evidence … targets alone work.")
    assert again.stdout.splitlines()[0] == (
        "added krause-2012--targets--2 to evidence/studies/krause-2012.yaml"
    )
    assert run_kb("check", "--root", tiny_kb).exit_code == 0


@pytest.mark.parametrize("store_first", [False, True], ids=["no store", "current store"])
def test_add_evidence_refusals_write_nothing(tiny_kb: Path, store_first: bool, monkeypatch) -> None:
    if store_first:  # then only the changed record is read and checked, against the store
        assert run_kb("build-db", "--root", tiny_kb).exit_code == 0
        _refuse_reading_every_record(monkeypatch)
    path = tiny_kb / "evidence/studies/krause-2012.yaml"
    before = path.read_bytes()
    link = ("add", "evidence", "--root", tiny_kb, *NO_INPUT_LINK)
    not_verbatim = run_kb(*link, "krause-2012", "targets", "--quote", "Targets always work.")
    assert (not_verbatim.exit_code, not_verbatim.stderr) == (
        1,
        "error: nothing was written to evidence/studies/krause-2012.yaml: findings[1].quote: "
        "not found verbatim in source 'tiny-report': 'Targets always work.'\n",
    )
    wrong_section = run_kb(
        *link, "krause-2012", "targets", "--quote", TARGETS_QUOTE, "--section", "Pay"
    )
    assert wrong_section.stderr == (
        "error: nothing was written to evidence/studies/krause-2012.yaml: "
        "findings[1].location.section: not found verbatim in source 'tiny-report': 'Pay'\n"
    )
    no_study = run_kb(*link, "nobody-2000", "targets", "--quote", TARGETS_QUOTE)
    assert no_study.stderr == "error: no valid study has ID 'nobody-2000'; run `kb check`\n"
    no_rec = run_kb(*link, "krause-2012", "nowhere", "--quote", TARGETS_QUOTE)
    assert no_rec.stderr == "error: no valid recommendation has ID 'nowhere'\n"
    missing = run_kb("add", "evidence", "krause-2012", "targets", "--root", tiny_kb, "--no-input")
    assert missing.exit_code == 2
    assert (
        "Error: missing --basis, --relation, --strength, --direction, --horizon, --summary, "
        "--quote: "
        "give them, or leave out --no-input to be asked" in missing.stderr
    )
    bad_level = run_kb(*link, "krause-2012", "targets", "--quote", "x", "--strength", "S9")
    assert bad_level.exit_code == 2
    assert "'S9' is not one of 'S0', 'S1', 'S2', 'S3', 'S4', 'S5'" in bad_level.stderr
    assert path.read_bytes() == before


def test_no_command_writes_a_record_that_check_would_refuse(tiny_kb: Path, monkeypatch) -> None:
    path = tiny_kb / "evidence/studies/krause-2012.yaml"
    before = path.read_bytes()
    monkeypatch.setenv("KB_MAX_FILE_BYTES", str(len(before) + 50))
    grown = run_kb(
        "add", "evidence", "--root", tiny_kb, *NO_INPUT_LINK, "krause-2012", "targets",
        "--quote", TARGETS_QUOTE,
    )  # fmt: skip
    assert grown.exit_code == 1
    assert grown.stderr.startswith("error: nothing was written to krause-2012.yaml: file is ")
    assert grown.stderr.endswith(f" bytes; the limit is {len(before) + 50:,}\n")
    assert path.read_bytes() == before


def test_evidence_link_ids_are_checked_whole() -> None:
    # The ID pattern ends in $, which also matches before a final line feed.
    with pytest.raises(ChangeRefused, match="longer than 64 characters"):
        new_finding_id("s" * 30, "r" * 32 + "\n", set())
    assert new_finding_id("s" * 30, "r" * 32, set()) == f"{'s' * 30}--{'r' * 32}"


# --- With a current store: only the changed record is read and checked ------------------------


def _refuse_reading_every_record(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make reading every record fail, to show that a command reads only what changes."""

    def read_every_record(*args: object, **kwargs: object) -> None:
        raise AssertionError("read every record")

    monkeypatch.setattr(changing, "load_records", read_every_record)
    monkeypatch.setattr(read, "load_records", read_every_record)


def _count_full_reads(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """Record each time a command reads every record to check a change."""
    reads: list[Path] = []
    load_records = changing.load_records

    def counted(root: Path, **limits: int) -> object:
        reads.append(root)
        return load_records(root, **limits)

    monkeypatch.setattr(changing, "load_records", counted)
    return reads


_CHANGES = {
    "add evidence": (
        "add", "evidence", "krause-2012", "targets", *NO_INPUT_LINK, "--quote", TARGETS_QUOTE,
    ),
    "add evidence again": (
        "add", "evidence", "krause-2012", "targets", *NO_INPUT_LINK, "--page", "3",
        "--quote", "There is little evidence … targets alone work.",
    ),
    "add study": (
        "add", "study", "--no-input", "--title", "A different piece", "--author", "Okafor, C.",
        "--year", "2020", "--type", "review", "--doi", "10.5555/Okafor",
    ),
    "add study --force": (
        "add", "study", "--no-input", "--force", "--id", "krause-2012", "--title",
        "Pilot Project: Anonymized Application Procedure", "--author", "Krause, A.",
        "--year", "2012", "--type", "quasi-experimental", "--doi", "10.1234/IZA.44",
    ),
    "import": ("import", ZOTERO),
}  # fmt: skip


def test_changes_to_a_current_store_are_made_in_place_as_a_full_build_would(
    tiny_kb: Path, tmp_path: Path, monkeypatch
) -> None:
    assert run_kb("build-db", "--root", tiny_kb).exit_code == 0
    paths = pipeline.Paths.for_root(tiny_kb)
    for name, (*command, last) in _CHANGES.items():
        with monkeypatch.context() as patched:
            _refuse_reading_every_record(patched)
            result = run_kb(*command, last, "--root", tiny_kb)
        assert result.exit_code == 0, (name, result.output)
        assert result.stdout.endswith(REFRESHED), name
        assert pipeline.store_is_current(paths), name
        assert stored_tables(paths.database) == built_from_scratch(tiny_kb, tmp_path), name
    assert run_kb("check", "--root", tiny_kb).exit_code == 0
    hits = search(paths.index, "Okafor different piece")
    assert "okafor-2020" in [hit.id for hit in hits.results]


def test_a_store_that_is_not_current_is_rebuilt_in_full(
    tiny_kb: Path, tmp_path: Path, monkeypatch
) -> None:
    assert run_kb("build-db", "--root", tiny_kb).exit_code == 0
    reads = _count_full_reads(monkeypatch)
    paths = pipeline.Paths.for_root(tiny_kb)
    targets = tiny_kb / "recommendations/targets.yaml"
    targets.write_text(targets.read_text().replace("Publish representation", "Set"))
    assert not pipeline.store_is_current(paths)
    added = run_kb(*_CHANGES["add evidence"], "--root", tiny_kb)
    assert added.stdout.endswith(REFRESHED)
    assert reads == [tiny_kb]
    assert pipeline.store_is_current(paths)
    assert stored_tables(paths.database) == built_from_scratch(tiny_kb, tmp_path)


def test_a_record_that_differs_from_the_store_is_read_in_full(
    tiny_kb: Path, tmp_path: Path, monkeypatch
) -> None:
    assert run_kb("build-db", "--root", tiny_kb).exit_code == 0
    reads = _count_full_reads(monkeypatch)
    paths = pipeline.Paths.for_root(tiny_kb)
    # Changed behind the store's back: its time is set back to before the store was built.
    path = tiny_kb / "evidence/studies/krause-2012.yaml"
    built = paths.database.stat().st_mtime
    path.write_text(path.read_text().replace("container: IZA", "container: IZA Bonn"))
    os.utime(path, (built - 60, built - 60))
    assert pipeline.store_is_current(paths)
    added = run_kb(*_CHANGES["add evidence"], "--root", tiny_kb)
    assert added.stdout.endswith(REFRESHED)
    assert reads == [tiny_kb]  # the store may have missed other changes too
    assert _study(tiny_kb, "krause-2012")["container"] == "IZA Bonn"
    assert stored_tables(paths.database) == built_from_scratch(tiny_kb, tmp_path)


# --- Two writers at once ---------------------------------------------------------------------


@pytest.mark.parametrize("store_first", [False, True], ids=["no store", "current store"])
def test_concurrent_writers_lose_nothing(tiny_kb: Path, tmp_path: Path, store_first: bool) -> None:
    if store_first:
        assert run_kb("build-db", "--root", tiny_kb).exit_code == 0
    link = [str(KB), "add", "evidence", "krause-2012", "targets", "--root", str(tiny_kb)]
    link += [*NO_INPUT_LINK, "--quote", TARGETS_QUOTE]
    study = [str(KB), "add", "study", "--root", str(tiny_kb), "--no-input", "--type", "review"]
    commands = [
        link,
        link,
        [*study, "--title", "A different piece", "--author", "Okafor, C.", "--year", "2020"],
        [str(KB), "import", str(ZOTERO), "--root", str(tiny_kb)],
    ]
    processes = [
        subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for command in commands
    ]
    outcomes = [process.communicate(timeout=120) for process in processes]
    assert [process.returncode for process in processes] == [0] * 4, outcomes

    findings = [finding["id"] for finding in _study(tiny_kb, "krause-2012")["findings"]]
    assert sorted(findings) == [
        "krause-2012--anonymise",
        "krause-2012--targets",
        "krause-2012--targets--2",
    ]
    studies = sorted(path.name for path in (tiny_kb / "evidence" / "studies").iterdir())
    assert studies == [
        "krause-2012.yaml",
        "okafor-2020.yaml",
        "okafor-2020b.yaml",
        "paradies-2015.yaml",
        "public-health-wales-nd.yaml",
    ]
    assert run_kb("check", "--root", tiny_kb).exit_code == 0
    assert pipeline.store_is_current(pipeline.Paths.for_root(tiny_kb))
    assert stored_tables(tiny_kb / "build" / "kb.sqlite") == built_from_scratch(tiny_kb, tmp_path)


# --- kb fmt ----------------------------------------------------------------------------------


def test_fmt(tiny_kb: Path) -> None:
    check = run_kb("fmt", "--check", "--root", tiny_kb)
    assert (check.exit_code, check.stdout) == (
        1,
        "would reformat evidence/examples/blind-cv-pilot.yaml\n"
        "would reformat evidence/figures/wales-staff-share.yaml\n"
        "would reformat evidence/studies/krause-2012.yaml\n"
        "would reformat recommendations/anonymise.yaml\n"
        "would reformat recommendations/targets.yaml\n"
        "5 files would be reformatted, 2 already canonical\n",
    )
    one = run_kb("fmt", "--root", tiny_kb, tiny_kb / "evidence" / "studies")
    assert one.stdout == (
        "reformatted evidence/studies/krause-2012.yaml\n1 file reformatted, 0 already canonical\n"
    )
    assert (tiny_kb / "evidence/studies/krause-2012.yaml").read_text().splitlines()[6:9] == [
        "container: IZA",
        "doi: 10.1234/IZA.44",
        "type: evaluation-report",
    ]
    with (tiny_kb / "recommendations" / "targets.yaml").open("a") as targets:
        targets.write("# check the year\n")
    (tiny_kb / "evidence" / "studies" / "broken.yaml").write_text("id: broken\n")
    rest = run_kb("fmt", "--root", tiny_kb)
    assert (rest.exit_code, rest.stdout) == (
        1,
        "reformatted evidence/examples/blind-cv-pilot.yaml\n"
        "reformatted evidence/figures/wales-staff-share.yaml\n"
        "cannot format evidence/studies/broken.yaml: not a valid record; run `kb check`\n"
        "reformatted recommendations/anonymise.yaml\n"
        "cannot format recommendations/targets.yaml: has YAML comments, which formatting "
        "would drop\n"
        "3 files reformatted, 3 already canonical, 2 cannot be formatted\n",
    )
    (tiny_kb / "evidence" / "studies" / "broken.yaml").unlink()
    assert run_kb("check", "--root", tiny_kb).exit_code == 0


# --- kb export -------------------------------------------------------------------------------


def test_export_reference_formats(tiny_kb: Path) -> None:
    ris = run_kb("export", "--format", "ris", "--root", tiny_kb)
    assert ris.stdout == (
        "TY  - RPRT\nID  - tiny-report\nAU  - Example, A.\nTI  - Tiny Report on Fair Hiring\n"
        "PY  - 2021\nPB  - Example Centre\nER  - \n\n"
        "TY  - RPRT\nID  - krause-2012\nAU  - Krause, A.\nAU  - Rinne, U.\n"
        "TI  - Pilot Project: Anonymized Application procedure\nPY  - 2012\n"
        "DO  - 10.1234/IZA.44\nER  - \n"
    )
    bibtex = run_kb("export", "--format", "bibtex", "--root", tiny_kb)
    assert bibtex.stdout.endswith(
        "@techreport{krause-2012,\n"
        "  author = {Krause, A. and Rinne, U.},\n"
        "  title = {{Pilot Project: Anonymized Application procedure}},\n"
        "  year = {2012},\n"
        "  institution = {IZA},\n"
        "  doi = {10.1234/IZA.44}\n"
        "}\n"
    )
    csl = run_kb("export", "--format", "csl-json", "--root", tiny_kb)
    assert '"DOI": "10.1234/IZA.44"' in csl.stdout
    csv = run_kb("export", "--format", "csv", "--root", tiny_kb)
    assert csv.stdout.splitlines()[0] == (
        "id,former_ids,authors,year,title,container,volume,issue,pages,publisher,url,doi,type,"
        "setting,reference,cited_as,in_reference_list,text,text_part,note,doi_url"
    )
    assert run_kb("export", "--root", tiny_kb).stdout.startswith('{\n  "sources": [')


# --- Docs ------------------------------------------------------------------------------------


def test_record_format_reference_is_generated_from_the_models() -> None:
    assert DOCUMENT.read_text(encoding="utf-8") == record_format_markdown(), (
        "docs/reference-records.md is out of date: run `.venv/bin/python -m kb.records.reference`"
    )


REVIEWER_COMMANDS = (
    ["add", "study"],
    ["add", "evidence"],
    ["add", "text"],
    ["import"],
    ["fmt"],
    ["edit", "evidence"],
    ["edit", "study"],
    ["rm", "evidence"],
    ["rm", "study"],
    ["mv"],
)


def test_reviewer_commands_are_documented() -> None:
    guide = (REPOSITORY / "docs" / "reviewers-guide.md").read_text(encoding="utf-8")
    headings = [line for line in guide.splitlines() if line.startswith("#")]
    for args in REVIEWER_COMMANDS:
        command = f"kb {' '.join(args)}"
        assert f"`{command}" in guide, command
        assert "Example:" in run_kb(*args, "--help").stdout, command
    for command in ("kb edit evidence", "kb edit study", "kb rm evidence", "kb rm study", "kb mv"):
        assert any(f"`{command}`" in heading for heading in headings), command
    for option in ("--basis appraisal", "--downgrade", "--quote-unchecked", "--claim", "--dry-run"):
        assert option in guide, option
    assert "`kb check`" in guide and "`kb fmt --check`" in guide


def test_unclassified_studies_are_flagged_by_check(tiny_kb: Path) -> None:
    run_kb("import", ZOTERO, "--root", tiny_kb)
    result = run_kb("check", "--root", tiny_kb)
    assert result.exit_code == 0
    assert result.stdout.splitlines()[:2] == [
        "evidence/studies/paradies-2015.yaml:20: paradies-2015: type: warning: type is not yet "
        "classified; read the study and choose its design",
        "evidence/studies/public-health-wales-nd.yaml:7: public-health-wales-nd: type: warning: "
        "type is not yet classified; read the study and choose its design",
    ]


# --- The whole story -------------------------------------------------------------------------


def test_reviewer_story(tiny_kb: Path, tmp_path: Path) -> None:
    """Import a Zotero export, look at the dry run, import, classify, link two studies to
    recommendations, check, format-check, rebuild, and find the evidence in search and pages."""
    dry_run = run_kb("import", ZOTERO, "--root", tiny_kb, "--dry-run")
    assert dry_run.stdout.splitlines()[-1] == (
        "dry run: would create 3, skip 1, flag 0; nothing written"
    )
    imported = run_kb("import", ZOTERO, "--root", tiny_kb)
    assert imported.stdout.splitlines()[-2:] == ["created 3, skipped 1, flagged 0", REFRESHED[:-1]]

    for study_id, design in (
        ("paradies-2015", "systematic-review"),
        ("public-health-wales-nd", "review"),
    ):
        path = tiny_kb / "evidence" / "studies" / f"{study_id}.yaml"
        path.write_text(path.read_text().replace("type: unclassified", f"type: {design}"))

    # Neither study is cited by the report: each gets a held text and an appraised link.
    # (Test texts, written for this test; not the studies' own words.)
    abstracts = {
        "paradies-2015": "Test abstract. Racism was associated with poorer mental and "
        "physical health across the studies reviewed.",
        "okafor-2020": "Test excerpt. Targets on their own rarely change who is promoted.",
    }
    for study_id, text in abstracts.items():
        held = tmp_path / f"{study_id}.txt"
        held.write_text(text, encoding="utf-8")
        kept = run_kb("add", "text", study_id, held, "--root", tiny_kb)
        assert kept.stdout.splitlines()[0] == (
            f"kept evidence/texts/{study_id}.txt for study {study_id}"
        )
    first = run_kb(
        "add", "evidence", "paradies-2015", "anonymise", "--root", tiny_kb, "--no-input",
        "--basis", "appraisal", "--by", "Test Reviewer", "--on", "2026-11-30",
        "--relation", "context", "--direction", "harm", "--horizon", "long-term",
        "--summary",
        "A meta-analysis links racism to poorer health, a harm fair hiring aims to reduce.",
        "--quote", "Racism was associated with poorer mental and physical health",
        "--design", "Systematic review and meta-analysis of observational studies.",
        "--population", "Adults and children in the studies reviewed.",
        "--setting", "Mostly the United States.",
        "--downgrade", "indirectness", "2", "Health outcomes, not hiring.",
        "--rationale", "Background on the harm that fair hiring addresses.",
    )  # fmt: skip
    assert first.exit_code == 0, first.stderr
    second = run_kb(
        "add", "evidence", "okafor-2020", "targets", "--root", tiny_kb, "--no-input",
        "--basis", "appraisal", "--by", "Test Reviewer", "--on", "2026-11-30",
        "--relation", "qualifies", "--direction", "not-assessed", "--horizon", "not-stated",
        "--summary", "A blogger doubts that representation targets work on their own.",
        "--quote", "Targets on their own rarely change who is promoted.",
        "--design", "Opinion piece.", "--population", "None studied.",
        "--setting", "UK workplaces.", "--rationale", "An argument, not evidence of effect.",
    )  # fmt: skip
    assert second.exit_code == 0, second.stderr
    paradies = _study(tiny_kb, "paradies-2015")
    assert paradies["text"] == "evidence/texts/paradies-2015.txt"
    # A systematic review starts at S5; two levels down for indirectness gives S3.
    assert paradies["findings"][0]["strength"] == "S3"
    assert _study(tiny_kb, "okafor-2020")["findings"][0]["strength"] == "S1"

    check = run_kb("check", "--root", tiny_kb)
    assert check.stdout == (
        "ok: 1 sources, 1 themes, 2 recommendations, 4 studies, 1 examples, 1 figures, "
        "3 evidence links; 0 errors, 0 warnings\n"
    )
    new_files = [
        tiny_kb / "evidence" / "studies" / f"{name}.yaml"
        for name in ("paradies-2015", "public-health-wales-nd", "okafor-2020")
    ]
    assert run_kb("fmt", "--check", "--root", tiny_kb, *new_files).exit_code == 0
    assert run_kb("build-db", "--root", tiny_kb).exit_code == 0

    hits = search(tiny_kb / "build" / "index", "blogger targets")
    assert "okafor-2020--targets" in [hit.id for hit in hits.results]
    paths = pipeline.Paths.for_root(tiny_kb)
    staging = tmp_path / "staging"
    pipeline.build(paths, docs=tmp_path / "docs", staging=staging, site=SiteInfo("Test", None))
    study_page = (staging / "studies" / "paradies-2015.md").read_text(encoding="utf-8")
    assert "#evidence-paradies-2015--anonymise" in study_page
    pages = staging / "recommendations"
    # Pages write punctuation as character references, so look for words between it.
    anonymise = html.unescape((pages / "anonymise.md").read_text())
    assert "links racism to poorer health" in anonymise
    # The page says the link is a reviewer's appraisal, by whom and when, and how its level
    # follows; a context link does not move the headline (one study at S2 gives S1).
    assert "appraised by Test Reviewer on 2026-11-30" in anonymise
    assert "starts at S5 (a good systematic review); down 2 for indirectness" in anonymise
    assert 'kb-badge kb-badge--s1">S1 Expert opinion' in anonymise
    assert "doubts that representation targets work" in (pages / "targets.md").read_text()
