"""Stable addresses in the records and the command line: a renamed record's former IDs and a
removed record's tombstone are checked by `kb check`, written by `kb mv` and `kb rm`, and an
old ID still finds its record (or says it was removed) in `kb show`, the search filters and
the graph commands, while commands that change records name the ID to use.

The site's side (redirect pages, removed pages) is in tests/test_redirects.py."""

import json
from pathlib import Path

import pytest
import yaml

from tests.conftest import run_kb

pytestmark = pytest.mark.cli

STUDY = "evidence/studies/krause-2012.yaml"
REASON = ("--reason", "Retracted by its authors.", "--by", "A. Reviewer", "--on", "2026-12-02")


def _edit(root: Path, path: str, **fields: object) -> None:
    file = root / path
    data = yaml.safe_load(file.read_text(encoding="utf-8"))
    data = {"id": data.pop("id"), **fields, **data}  # former_ids on line 2, as kb fmt writes
    file.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")


def _errors(root: Path) -> list[str]:
    result = run_kb("check", "--root", root)
    assert result.exit_code == 1, result.output
    return result.stdout.splitlines()[:-1]


# --- kb check ---------------------------------------------------------------------------------


def test_a_former_id_in_use_is_an_error_naming_file_record_and_field(tiny_kb: Path) -> None:
    _edit(tiny_kb, STUDY, former_ids=["anonymise"])
    assert _errors(tiny_kb) == [
        "evidence/studies/krause-2012.yaml:3: krause-2012: former_ids[0]: 'anonymise' is in use "
        "(recommendations/anonymise.yaml), so it cannot be a former ID: it would no longer "
        "lead here. Remove it from former_ids, or rename that record"
    ]


def test_a_former_id_of_two_records_is_an_error(tiny_kb: Path) -> None:
    _edit(tiny_kb, STUDY, former_ids=["krause-2011"])
    _edit(tiny_kb, "recommendations/targets.yaml", former_ids=["krause-2011"])
    assert _errors(tiny_kb) == [
        "recommendations/targets.yaml:3: targets: former_ids[0]: 'krause-2011' is already a "
        "former ID of krause-2012 (evidence/studies/krause-2012.yaml); an old ID leads to one "
        "record"
    ]


def test_a_former_id_that_is_its_own_id_or_a_link_or_malformed_is_an_error(
    tiny_kb: Path,
) -> None:
    _edit(tiny_kb, STUDY, former_ids=["krause-2012", "krause-2012--anonymise"])
    _edit(tiny_kb, "recommendations/targets.yaml", former_ids=["Not An ID"])
    assert _errors(tiny_kb) == [
        "evidence/studies/krause-2012.yaml:3: krause-2012: former_ids[0]: a record's former IDs "
        "cannot include its own ID",
        "evidence/studies/krause-2012.yaml:4: krause-2012: former_ids[1]: "
        "'krause-2012--anonymise' is in use (evidence/studies/krause-2012.yaml), so it cannot "
        "be a former ID: it would no longer lead here. Remove it from former_ids, or rename "
        "that record",
        "recommendations/targets.yaml:3: targets: former_ids[0]: must be lower-case letters, "
        "digits and hyphens (at most 64, not starting with -)",
    ]


def _tombstone(root: Path, record_id: str, **fields: object) -> Path:
    path = root / "removed" / f"{record_id}.yaml"
    path.parent.mkdir(exist_ok=True)
    data = {
        "id": record_id,
        "type": "study",
        "title": "Doe (2019): Quotas in one trust",
        "removed_on": "2026-12-02",
        "reason": "A duplicate of krause-2012.",
        **fields,
    }
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def test_a_tombstone_is_a_checked_record(tiny_kb: Path) -> None:
    _tombstone(tiny_kb, "doe-2019")
    ok = run_kb("check", "--root", tiny_kb)
    assert ok.exit_code == 0, ok.output
    _tombstone(tiny_kb, "doe-2019", type="paper", reason="", removed_on="2099-01-01")
    assert _errors(tiny_kb) == [
        "removed/doe-2019.yaml:2: doe-2019: type: must be one of: source, theme, "
        "recommendation, study, example or figure",
        "removed/doe-2019.yaml:4: doe-2019: removed_on: must not be in the future",
        "removed/doe-2019.yaml:5: doe-2019: reason: must not be empty",
    ]


def test_a_removed_id_in_use_again_or_also_a_former_id_is_an_error(tiny_kb: Path) -> None:
    _tombstone(tiny_kb, "krause-2012")
    _tombstone(tiny_kb, "doe-2019")
    _edit(tiny_kb, "recommendations/targets.yaml", former_ids=["doe-2019"])
    assert _errors(tiny_kb) == [
        "recommendations/targets.yaml:3: targets: former_ids[0]: 'doe-2019' is the ID of a "
        "removed record (removed/doe-2019.yaml); an old ID either leads to the record it became "
        "or says it was removed, not both",
        "removed/krause-2012.yaml:1: krause-2012: id: 'krause-2012' is marked removed, but "
        "evidence/studies/krause-2012.yaml has that ID; delete this file if the ID was given to "
        "a new record on purpose",
    ]


def test_a_new_study_cannot_take_a_removed_or_former_id(tiny_kb: Path) -> None:
    _tombstone(tiny_kb, "okafor-2020")
    _edit(tiny_kb, "recommendations/targets.yaml", former_ids=["okafor-2020b"])
    for suggested in ("okafor-2020", "okafor-2020b"):
        taken = run_kb(
            "add", "study", "--root", tiny_kb, "--no-input", "--id", suggested,
            "--title", "Hiring audits", "--author", "Okafor, C.", "--year", "2020",
            "--type", "review",
        )  # fmt: skip
        assert taken.exit_code == 1, taken.output
        assert suggested in taken.stderr
    added = run_kb(
        "add", "study", "--root", tiny_kb, "--no-input", "--title", "Hiring audits",
        "--author", "Okafor, C.", "--year", "2020", "--type", "review",
    )  # fmt: skip
    assert added.exit_code == 0, added.output
    assert "okafor-2020c" in added.stdout  # neither the removed ID nor the former one


# --- kb mv and kb rm write them ---------------------------------------------------------------


def test_mv_records_the_old_id_and_renaming_back_takes_it_out(tiny_kb: Path) -> None:
    assert run_kb("mv", "krause-2012", "krause-rinne-2012", "--root", tiny_kb).exit_code == 0
    renamed = yaml.safe_load((tiny_kb / "evidence/studies/krause-rinne-2012.yaml").read_text())
    assert renamed["former_ids"] == ["krause-2012"]
    again = run_kb("mv", "krause-rinne-2012", "krause-rinne-2012a", "--root", tiny_kb)
    assert again.exit_code == 0, again.output
    twice = yaml.safe_load((tiny_kb / "evidence/studies/krause-rinne-2012a.yaml").read_text())
    assert twice["former_ids"] == ["krause-2012", "krause-rinne-2012"]
    back = run_kb("mv", "krause-rinne-2012a", "krause-2012", "--root", tiny_kb)
    assert back.exit_code == 0, back.output
    assert yaml.safe_load((tiny_kb / STUDY).read_text())["former_ids"] == [
        "krause-rinne-2012",
        "krause-rinne-2012a",
    ]
    assert run_kb("check", "--root", tiny_kb).exit_code == 0


def test_mv_refuses_an_old_id(tiny_kb: Path) -> None:
    run_kb("mv", "krause-2012", "krause-rinne-2012", "--root", tiny_kb)
    before = run_kb("mv", "recruitment", "krause-2012", "--root", tiny_kb)
    assert (before.exit_code, before.stderr) == (
        1,
        "error: the ID krause-2012 is already used (evidence/studies/krause-rinne-2012.yaml); "
        "choose another\n",
    )
    old = run_kb("mv", "krause-2012", "krause-2013", "--root", tiny_kb)
    assert (old.exit_code, old.stderr) == (
        1,
        "error: study krause-2012 was renamed to krause-rinne-2012 (former_ids in "
        "evidence/studies/krause-rinne-2012.yaml); rename krause-rinne-2012 instead\n",
    )


def test_rm_study_leaves_a_tombstone_that_keeps_its_former_ids(tiny_kb: Path) -> None:
    run_kb("mv", "krause-2012", "krause-rinne-2012", "--root", tiny_kb)
    done = run_kb("rm", "study", "krause-rinne-2012", "--force", "--root", tiny_kb, *REASON)
    assert done.exit_code == 0, done.output
    assert yaml.safe_load((tiny_kb / "removed/krause-rinne-2012.yaml").read_text()) == {
        "id": "krause-rinne-2012",
        "former_ids": ["krause-2012"],
        "type": "study",
        "title": "Krause and Rinne (2012): Pilot Project: Anonymized Application procedure",
        "removed_on": "2026-12-02",
        "removed_by": "A. Reviewer",
        "reason": "Retracted by its authors.",
    }
    assert run_kb("check", "--root", tiny_kb).exit_code == 0


def test_rm_study_needs_a_reason(tiny_kb: Path) -> None:
    result = run_kb("rm", "study", "krause-2012", "--force", "--root", tiny_kb)
    assert result.exit_code == 2
    assert "Missing option '--reason'" in result.stderr
    assert (tiny_kb / STUDY).exists()


# --- Old IDs in the command line --------------------------------------------------------------


@pytest.fixture
def renamed(tiny_kb: Path) -> Path:
    """The tiny knowledge base with its study and its theme renamed, and a study removed."""
    for old, new in (("krause-2012", "krause-rinne-2012"), ("recruitment", "hiring")):
        assert run_kb("mv", old, new, "--root", tiny_kb).exit_code == 0
    _tombstone(tiny_kb, "doe-2019")
    return tiny_kb


def test_show_finds_a_record_by_its_old_id_and_says_so(renamed: Path) -> None:
    result = run_kb("show", "krause-2012", "--root", renamed)
    assert result.exit_code == 0, result.output
    assert result.stderr == (
        "note: study krause-2012 was renamed to krause-rinne-2012; showing krause-rinne-2012\n"
    )
    assert result.stdout.startswith("Study krause-rinne-2012: ")
    as_json = run_kb("show", "krause-2012", "--json", "--root", renamed)
    described = json.loads(as_json.stdout)
    assert described["record"]["id"] == "krause-rinne-2012"
    assert described["renamed"]["from"] == "krause-2012"


def test_show_says_a_record_was_removed_when_and_why(renamed: Path) -> None:
    result = run_kb("show", "doe-2019", "--root", renamed)
    assert (result.exit_code, result.stderr) == (
        1,
        "error: study doe-2019 was removed on 2026-12-02: A duplicate of krause-2012.\n",
    )


def test_search_and_graph_filters_follow_old_ids(renamed: Path) -> None:
    searched = run_kb("search", "anonymised", "--theme", "recruitment", "--root", renamed)
    assert searched.exit_code == 0, searched.output
    assert "theme recruitment was renamed to hiring" in searched.stderr
    assert "Anonymise applications" in searched.stdout
    uses = run_kb("graph", "uses", "krause-2012", "--root", renamed)
    assert uses.exit_code == 0, uses.output
    assert "krause-rinne-2012" in uses.stdout
    gone = run_kb("graph", "uses", "doe-2019", "--root", renamed)
    assert gone.exit_code == 1
    assert "was removed on 2026-12-02" in gone.stderr


def test_changes_by_an_old_id_are_refused_naming_the_id_to_use(renamed: Path) -> None:
    link = run_kb(
        "add", "evidence", "krause-2012", "targets", "--root", renamed, "--no-input",
        "--basis", "source", "--relation", "supports", "--strength", "S2",
        "--direction", "positive", "--horizon", "short-term", "--summary", "x",
        "--quote", "Anonymised applications reduced callback gaps in a pilot",
        "--by", "A. Reviewer",
    )  # fmt: skip
    assert (link.exit_code, link.stderr) == (
        1,
        "error: study krause-2012 was renamed to krause-rinne-2012 (former_ids in "
        "evidence/studies/krause-rinne-2012.yaml); use krause-rinne-2012\n",
    )
    edit = run_kb("edit", "study", "doe-2019", "--note", "x", "--root", renamed)
    assert (edit.exit_code, edit.stderr) == (
        1,
        "error: study doe-2019 was removed on 2026-12-02 (removed/doe-2019.yaml): A duplicate "
        "of krause-2012.\n",
    )
