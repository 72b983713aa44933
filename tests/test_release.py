"""Content releases: kb-release.yaml, the version bump rule, `kb release [--bump]`, and the
changelog and citation file that must agree with them."""

import datetime
import re
from pathlib import Path

import pytest
import yaml

from kb.errors import ReleaseFileInvalid
from kb.history.diff import compare
from kb.history.release import (
    FORMAT_REFERENCE,
    RELEASE_FILE,
    Release,
    bump_for,
    current_release,
    next_version,
    record_format,
    releases,
)
from kb.records.reference import record_format_markdown
from tests.conftest import REPOSITORY, run_kb
from tests.repositories import (
    base_repository,
    change_everything,
    commit,
    git,
    read_yaml,
    write_yaml,
)

pytestmark = pytest.mark.cli

# --- The rule -------------------------------------------------------------------------------


def document(*studies: dict, links: tuple[dict, ...] = ()) -> dict:
    return {"recommendations": [], "studies": list(studies), "evidence": list(links)}


STUDY = {"id": "a-2020", "title": "A study", "year": 2020}
LINK = {
    "id": "a-2020--r",
    "study": "a-2020",
    "recommendation": "r",
    "relation": "supports",
    "strength": "S2",
}


@pytest.mark.parametrize(
    ("old", "new", "part", "reasons"),
    [
        (document(STUDY), document(STUDY), None, ["no record changed"]),
        (
            document(STUDY),
            document(STUDY, links=(LINK,)),
            "minor",
            ["1 evidence link added"],
        ),
        (
            document(STUDY, {**STUDY, "id": "b-2021", "title": "Another"}),
            document(STUDY),
            "minor",
            ["1 study removed"],
        ),
        (
            document(STUDY, links=(LINK,)),
            document(STUDY, links=({**LINK, "strength": "S3"},)),
            "patch",
            ["1 evidence link changed"],
        ),
        (
            document(STUDY, links=(LINK,)),
            document({**STUDY, "title": "A Study"}, {**STUDY, "id": "c-2022", "title": "C"}),
            "minor",
            ["1 study added", "1 study changed", "1 evidence link removed"],
        ),
    ],
)
def test_the_bump_rule(old: dict, new: dict, part: str | None, reasons: list[str]) -> None:
    bump = bump_for(compare(old, new), format_changed=False)
    assert (bump.part, bump.reasons) == (part, reasons)


def test_a_changed_format_or_records_that_no_longer_validate_are_major() -> None:
    unchanged = compare(document(STUDY), document(STUDY))
    assert bump_for(unchanged, format_changed=True).part == "major"
    assert bump_for(None, format_changed=False).part == "major"


@pytest.mark.parametrize(
    ("part", "expected"),
    [("major", "2.0.0"), ("minor", "1.3.0"), ("patch", "1.2.4"), (None, None)],
)
def test_the_next_version(part: str | None, expected: str | None) -> None:
    assert next_version(Release("1.2.3", datetime.date(2026, 12, 4)), part) == expected


def test_the_first_version() -> None:
    assert next_version(None, None) == "1.0.0"


def test_the_record_format_is_its_fields_types_and_vocabularies() -> None:
    reference = record_format_markdown()
    assert ("Study", "`year`", "", "year") in record_format(reference)
    assert ("Strength", "`S5`") in record_format(reference)
    reworded = reference.replace("People as 'Family, I.'.", "People, as 'Family, I.'.")
    assert reworded != reference
    assert record_format(reworded) == record_format(reference)
    without_a_value = reference.replace("| `harm` | Harm |\n", "")
    assert without_a_value != reference
    assert record_format(without_a_value) != record_format(reference)
    optional = reference.replace("| `title` | yes | text |", "| `title` |  | text |", 1)
    assert record_format(optional) != record_format(reference)


# --- kb-release.yaml ------------------------------------------------------------------------


def test_releases_newest_first(tmp_path: Path) -> None:
    (tmp_path / RELEASE_FILE).write_text(
        "releases:\n"
        "  - version: 1.1.0\n    date: 2027-01-15\n"
        "  - version: '1.0.0'\n    date: '2026-12-04'\n",
        encoding="utf-8",
    )
    listed = releases(tmp_path)
    assert [(release.version, release.date.isoformat()) for release in listed] == [
        ("1.1.0", "2027-01-15"),
        ("1.0.0", "2026-12-04"),
    ]
    latest = current_release(tmp_path)
    assert latest is not None
    assert (latest.tag, latest.label()) == ("v1.1.0", "1.1.0 of 15 January 2027")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "kb-release.yaml: give `releases:`, a list (empty before the first)"),
        ("releases: 1.0.0", "kb-release.yaml: give `releases:`, a list (empty before the first)"),
        (
            "releases:\n  - version: 1.0\n    date: 2026-12-04",
            "kb-release.yaml: release 1: version 1.0 is not MAJOR.MINOR.PATCH (quote it: '1.0.0')",
        ),
        (
            "releases:\n  - version: 01.0.0\n    date: 2026-12-04",
            "kb-release.yaml: release 1: version '01.0.0' is not MAJOR.MINOR.PATCH",
        ),
        (
            "releases:\n  - version: 1.0.0\n    date: 4 December 2026",
            "kb-release.yaml: release 1: date '4 December 2026' is not a day (YYYY-MM-DD)",
        ),
        (
            "releases:\n  - version: 1.0.0\n    date: 2026-12-04T10:00:00",
            "kb-release.yaml: release 1: date datetime.datetime(2026, 12, 4, 10, 0) is not a day",
        ),
        (
            "releases:\n  - version: 1.0.0",
            "kb-release.yaml: release 1: give exactly `version` and `date`",
        ),
        (
            "releases:\n  - {version: 1.0.0, date: 2026-12-04}\n"
            "  - {version: 1.1.0, date: 2026-12-05}",
            "kb-release.yaml: list the newest release first: 1.0.0 (2026-12-04) comes before "
            "1.1.0 (2026-12-05)",
        ),
        ("releases: [", "kb-release.yaml cannot be read:"),
    ],
)
def test_a_release_file_listed_wrongly(tmp_path: Path, content: str, message: str) -> None:
    (tmp_path / RELEASE_FILE).write_text(content, encoding="utf-8")
    with pytest.raises(ReleaseFileInvalid) as raised:
        releases(tmp_path)
    assert str(raised.value).startswith(message)
    result = run_kb("release", "--root", tmp_path)
    assert result.exit_code == 1
    assert result.stderr.startswith(f"error: {message}")


def test_no_release_file(tiny_kb: Path) -> None:
    result = run_kb("release", "--root", tiny_kb)
    assert result.exit_code == 1
    assert result.stderr == (
        f"error: no kb-release.yaml in {tiny_kb}: write one listing the releases "
        "(`releases: []` before the first)\n"
    )


# --- kb release -----------------------------------------------------------------------------


@pytest.fixture
def released(tmp_path: Path) -> Path:
    """The base repository released as 1.0.0 and tagged v1.0.0."""
    root = base_repository(tmp_path)
    write_yaml(root / RELEASE_FILE, {"releases": [{"version": "1.0.0", "date": "2026-12-01"}]})
    commit(root, "Release 1.0.0")
    git(root, "tag", "v1.0.0")
    return root


def test_kb_release_reports_the_latest(released: Path) -> None:
    assert run_kb("release", "--root", released).stdout == (
        "1.0.0 released 2026-12-01, tag v1.0.0\n"
    )
    assert run_kb("release", "--json", "--root", released).stdout == (
        '{\n  "version": "1.0.0",\n  "date": "2026-12-01",\n  "tag": "v1.0.0"\n}\n'
    )


def test_before_the_first_release(tiny_kb: Path) -> None:
    (tiny_kb / RELEASE_FILE).write_text("releases: []\n", encoding="utf-8")
    assert run_kb("release", "--root", tiny_kb).stdout == (
        "no release yet (kb-release.yaml lists none)\n"
    )
    assert run_kb("release", "--bump", "--root", tiny_kb).stdout == (
        "no release yet; the first will be 1.0.0\n"
    )


def test_new_records_call_for_a_minor_release(released: Path) -> None:
    change_everything(released)
    result = run_kb("release", "--bump", "--root", released)
    assert result.exit_code == 0, result.output
    assert result.stdout == (
        "last release: 1.0.0 of 2026-12-01, tag v1.0.0\n"
        "since then: 1 recommendation changed; 1 study added; 1 study removed; 1 study renamed; "
        "1 evidence link added; 1 evidence link removed; 1 evidence link renamed\n"
        "next release: 1.1.0 (minor: a record was added, removed or renamed: a new study or "
        "evidence link, say)\n"
    )


def test_a_corrected_rating_calls_for_a_patch(released: Path) -> None:
    study = released / "evidence" / "studies" / "krause-2012.yaml"
    data = read_yaml(study)
    data["findings"][0]["strength"] = "S3"
    write_yaml(study, data)
    result = run_kb("release", "--bump", "--json", "--root", released)
    suggestion = yaml.safe_load(result.stdout)
    assert (suggestion["part"], suggestion["next"], suggestion["reasons"]) == (
        "patch",
        "1.0.1",
        ["1 evidence link changed"],
    )
    assert suggestion["last"] == {"version": "1.0.0", "date": "2026-12-01", "tag": "v1.0.0"}
    assert suggestion["changes"]["headlines"][0]["recommendation"] == "anonymise"


def test_nothing_to_release(released: Path) -> None:
    assert run_kb("release", "--bump", "--root", released).stdout == (
        "last release: 1.0.0 of 2026-12-01, tag v1.0.0\n"
        "since then: no record changed\n"
        "nothing to release\n"
    )


def test_a_changed_record_format_calls_for_a_major_release(tmp_path: Path) -> None:
    root = base_repository(tmp_path)
    reference = root / FORMAT_REFERENCE
    reference.parent.mkdir()
    # The tagged release's format had no `claim` on evidence links.
    reference.write_text(
        re.sub(r"\| `claim` \|.*\n", "", record_format_markdown()), encoding="utf-8"
    )
    write_yaml(root / RELEASE_FILE, {"releases": [{"version": "1.4.2", "date": "2026-12-01"}]})
    commit(root, "Release 1.4.2")
    git(root, "tag", "v1.4.2")
    result = run_kb("release", "--bump", "--root", root)
    assert result.stdout.splitlines()[1:] == [
        "since then: the record format changed (docs/reference-records.md)",
        "next release: 2.0.0 (major: the record format changed (fields, types, required fields "
        "or vocabularies))",
    ]
    reference.write_text(record_format_markdown(), encoding="utf-8")
    commit(root, "The reference as the code writes it now")
    git(root, "tag", "-f", "v1.4.2")
    assert run_kb("release", "--bump", "--root", root).stdout.endswith("nothing to release\n")


def test_a_release_whose_records_no_longer_validate_is_a_major_change(tmp_path: Path) -> None:
    root = base_repository(tmp_path)
    study = root / "evidence" / "studies" / "doe-2019.yaml"
    write_yaml(study, {**read_yaml(study), "design": "cohort"})  # a field kb no longer has
    write_yaml(root / RELEASE_FILE, {"releases": [{"version": "1.0.0", "date": "2026-12-01"}]})
    commit(root, "Release 1.0.0")
    git(root, "tag", "v1.0.0")
    study.write_text(study.read_text(encoding="utf-8").replace("design: cohort\n", ""))
    result = run_kb("release", "--bump", "--root", root)
    assert result.stdout.splitlines()[1:] == [
        "since then: the records of the last release do not validate any more",
        "next release: 2.0.0 (major: the record format changed (fields, types, required fields "
        "or vocabularies))",
    ]


def test_a_release_without_its_tag(released: Path) -> None:
    git(released, "tag", "-d", "v1.0.0")
    result = run_kb("release", "--bump", "--root", released)
    assert result.exit_code == 1
    assert result.stderr == (
        "error: kb-release.yaml lists release 1.0.0, but git has no tag v1.0.0 to compare "
        "with: tag the commit it was made from (`git tag v1.0.0 COMMIT`), or fetch the tags "
        "(`git fetch --tags`)\n"
    )


def test_release_is_documented() -> None:
    guide = (REPOSITORY / "docs" / "reviewers-guide.md").read_text(encoding="utf-8")
    assert "`kb release --bump`" in guide and RELEASE_FILE in guide
    assert "Example: kb release" in run_kb("release", "--help").stdout


# --- The repository's own release, changelog and citation -----------------------------------


def test_the_repository_lists_its_releases_and_the_changelog_agrees() -> None:
    listed = releases(REPOSITORY)
    changelog = (REPOSITORY / "CHANGELOG.md").read_text(encoding="utf-8")
    headings = re.findall(r"^## (.*)$", changelog, flags=re.MULTILINE)
    assert headings[0] == "[Unreleased]"
    assert headings[1:] == [f"[{release.version}] - {release.date}" for release in listed]
    sections = re.findall(r"^### (.*)$", changelog, flags=re.MULTILINE)
    assert set(sections) <= {"Added", "Changed", "Deprecated", "Removed", "Fixed", "Security"}
    for block in re.split(r"^## ", changelog, flags=re.MULTILINE)[1:]:
        assert re.search(r"^### ", block, flags=re.MULTILINE), block.splitlines()[0]
