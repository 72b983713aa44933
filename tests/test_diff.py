"""`kb diff`: records added, removed, renamed and changed, and headline levels that moved,
between git revisions built in tmp_path, the working tree and `kb export` files."""

import json
import os
from pathlib import Path

import pytest

from kb.history.diff import FieldChange, compare
from kb.history.diff_report import escaped, markdown_report
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

BODY = """\
  recommendations: 1 changed
  studies: 1 added, 1 removed, 1 renamed
  evidence links: 1 added, 1 removed, 1 renamed

Headline strength levels that moved: 2
  anonymise: S1 → S2, up (Anonymise applications)
    now: 2 studies support it at S2 or above
    added link okafor-2020--anonymise: supports at S3
    renamed link krause-2012--anonymise → krause-rinne-2012--anonymise: supports at S2
  targets: S1 → S0, down (Publish targets for senior staff)
    now: no supporting evidence
    removed link doe-2019--targets: supports at S2

Recommendations
  changed targets: Publish targets for senior staff
    title: “Publish representation targets” → “Publish targets for senior staff”

Studies
  added okafor-2020: Why anonymised CVs are not enough
  removed doe-2019: Quotas in one trust
  renamed krause-2012 → krause-rinne-2012: Pilot Project: Anonymized Application procedure
    container: IZA → “IZA Discussion Papers”

Evidence links
  added okafor-2020--anonymise: supports at S3
  removed doe-2019--targets: supports at S2
  renamed krause-2012--anonymise → krause-rinne-2012--anonymise: supports at S2
"""


@pytest.fixture
def repository(tmp_path: Path) -> Path:
    return base_repository(tmp_path)


def short(root: Path, revision: str = "HEAD") -> str:
    return git(root, "rev-parse", "--short=7", revision)


def test_working_tree_against_a_revision(repository: Path) -> None:
    base = short(repository)
    change_everything(repository)
    result = run_kb("diff", "HEAD", "--root", repository)
    assert result.exit_code == 0, result.output
    assert result.stdout == f"Changes from HEAD ({base}) to the working tree\n" + BODY


def test_two_revisions_leave_the_working_tree_alone(repository: Path) -> None:
    change_everything(repository)
    commit(repository, "Change everything")
    before = sorted(str(path.relative_to(repository)) for path in repository.rglob("*"))
    result = run_kb("diff", "HEAD~1", "HEAD", "--root", repository)
    assert result.stdout == (
        f"Changes from HEAD~1 ({short(repository, 'HEAD~1')}) to HEAD ({short(repository)})\n"
        + BODY
    )
    after = sorted(str(path.relative_to(repository)) for path in repository.rglob("*"))
    assert after == before  # no store, index or folder written in the repository
    assert git(repository, "status", "--porcelain") == ""


def test_a_commit_named_by_its_hash_is_named_once(repository: Path) -> None:
    sha = git(repository, "rev-parse", "HEAD")
    result = run_kb("diff", sha, "HEAD", "--root", repository)
    assert result.stdout == f"Changes from {sha[:7]} to HEAD ({sha[:7]})\nNo record changed.\n"


def test_a_strength_moving_up_and_down_through_changed_links(repository: Path) -> None:
    krause = repository / "evidence" / "studies" / "krause-2012.yaml"
    study = read_yaml(krause)
    study["findings"][0]["strength"] = "S3"
    write_yaml(krause, study)
    doe = repository / "evidence" / "studies" / "doe-2019.yaml"
    study = read_yaml(doe)
    study["findings"][0]["relation"] = "context"
    study["findings"][0]["note"] = "Background, not support."
    write_yaml(doe, study)
    result = run_kb("diff", "HEAD", "--root", repository)
    assert result.stdout == (
        f"Changes from HEAD ({short(repository)}) to the working tree\n"
        "  evidence links: 2 changed\n"
        "\n"
        "Headline strength levels that moved: 2\n"
        "  anonymise: S1 → S2, up (Anonymise applications)\n"
        "    now: one level below its strongest supporting study (S3), which no other study "
        "matches\n"
        "    changed link krause-2012--anonymise: strength: S2 → S3, up\n"
        "  targets: S1 → S0, down (Publish representation targets)\n"
        "    now: no supporting evidence\n"
        "    changed link doe-2019--targets: relation: supports → context; also changed: note\n"
        "\n"
        "Evidence links\n"
        "  changed doe-2019--targets: context at S2\n"
        "    relation: supports → context\n"
        "    note added: “Background, not support.”\n"
        "  changed krause-2012--anonymise: supports at S3\n"
        "    strength: S2 → S3, up\n"
    )


def test_markdown_for_a_pull_request(repository: Path) -> None:
    change_everything(repository)
    commit(repository, "Change everything")
    result = run_kb("diff", "HEAD~1", "HEAD", "--format", "markdown", "--root", repository)
    old, new = short(repository, "HEAD~1"), short(repository)
    assert (
        result.stdout
        == f"""\
### Knowledge base changes from HEAD\\~1 ({old}) to HEAD ({new})

| Records | Added | Removed | Renamed | Changed |
| --- | ---: | ---: | ---: | ---: |
| Recommendations | 0 | 0 | 0 | 1 |
| Studies | 1 | 1 | 1 | 0 |
| Evidence links | 1 | 1 | 1 | 0 |

#### Headline strength levels that moved: 2

- `anonymise` (Anonymise applications): S1 → **S2**, up. Now: 2 studies support it at S2 or above.
  - added link `okafor-2020--anonymise`: supports at S3
  - renamed link `krause-2012--anonymise` → `krause-rinne-2012--anonymise`: supports at S2
- `targets` (Publish targets for senior staff): S1 → **S0**, down. Now: no supporting evidence.
  - removed link `doe-2019--targets`: supports at S2

#### Recommendations

- changed `targets`: Publish targets for senior staff
  - title: “Publish representation targets” → “Publish targets for senior staff”

#### Studies

- added `okafor-2020`: Why anonymised CVs are not enough
- removed `doe-2019`: Quotas in one trust
- renamed `krause-2012` → `krause-rinne-2012`: Pilot Project: Anonymized Application procedure
  - container: IZA → “IZA Discussion Papers”

#### Evidence links

- added `okafor-2020--anonymise`: supports at S3
- removed `doe-2019--targets`: supports at S2
- renamed `krause-2012--anonymise` → `krause-rinne-2012--anonymise`: supports at S2
"""
    )


def test_json_for_scripts(repository: Path) -> None:
    change_everything(repository)
    result = run_kb("diff", "HEAD", "--json", "--root", repository)
    document = json.loads(result.stdout)
    assert document["old"] == {
        "given": "HEAD",
        "kind": "revision",
        "description": f"HEAD ({short(repository)})",
        "commit": git(repository, "rev-parse", "HEAD"),
        "date": "2026-12-01",
    }
    assert document["new"]["kind"] == "working tree"
    assert document["counts"]["studies"] == {"added": 1, "removed": 1, "renamed": 1, "changed": 0}
    assert document["records"]["studies"][2] == {
        "change": "renamed",
        "id": "krause-rinne-2012",
        "old_id": "krause-2012",
        "label": "Pilot Project: Anonymized Application procedure",
        "fields": [
            {
                "field": "container",
                "old": "IZA",
                "new": "IZA Discussion Papers",
                "words": "container: IZA → “IZA Discussion Papers”",
            }
        ],
    }
    moves = {move["recommendation"]: move for move in document["headlines"]}
    levels = {name: (move["old"], move["new"], move["direction"]) for name, move in moves.items()}
    assert levels == {
        "anonymise": ("S1", "S2", "up"),
        "targets": ("S1", "S0", "down"),
    }
    assert [link["id"] for link in moves["anonymise"]["links"]] == [
        "okafor-2020--anonymise",
        "krause-rinne-2012--anonymise",
    ]
    assert run_kb("diff", "HEAD", "--format", "json", "--root", repository).stdout == result.stdout


def export(root: Path, path: Path) -> Path:
    result = run_kb("export", "--root", root)
    path.write_text(result.stdout, encoding="utf-8")
    return path


def test_two_exports_give_the_same_changes_as_two_revisions(
    repository: Path, tmp_path: Path
) -> None:
    old = export(repository, tmp_path / "old.json")
    change_everything(repository)
    new = export(repository, tmp_path / "new.json")
    result = run_kb("diff", old, new, "--root", repository)
    assert result.stdout == f"Changes from export {old} to export {new}\n" + BODY
    # An export against a revision, and against the working tree, read the same way.
    assert run_kb("diff", old, "--root", repository).stdout.endswith(BODY)
    commit(repository, "Change everything")
    assert run_kb("diff", old, "HEAD", "--root", repository).stdout.endswith(BODY)


def test_an_export_written_before_headlines_has_them_computed(
    repository: Path, tmp_path: Path
) -> None:
    old = export(repository, tmp_path / "old.json")
    document = json.loads(old.read_text(encoding="utf-8"))
    for recommendation in document["recommendations"]:
        del recommendation["headline"], recommendation["strength"]
    old.write_text(json.dumps(document), encoding="utf-8")
    change_everything(repository)
    result = run_kb("diff", old, "--root", repository)
    assert result.stdout.endswith(BODY)


def test_a_revision_whose_records_do_not_validate(repository: Path) -> None:
    study = repository / "evidence" / "studies" / "doe-2019.yaml"
    data = read_yaml(study)
    data["findings"][0]["actors"] = ["Welsh Government"]
    write_yaml(study, data)
    commit(repository, "An old record format")
    result = run_kb("diff", "HEAD", "HEAD~1", "--root", repository)
    assert result.exit_code == 1
    assert result.stdout == (
        "evidence/studies/doe-2019.yaml:23: doe-2019: findings[0].actors: unknown field\n"
    )
    assert result.stderr == (
        f"HEAD ({short(repository)}) does not validate:\n"
        f"error: the records at HEAD ({short(repository)}) do not validate with this version of "
        "kb (1 problem); a revision from before a change of record format can be compared "
        "through a `kb export` file made at the time\n"
    )


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ("no-such-branch", "'no-such-branch' is neither a file nor a git revision"),
        ("--output=/tmp/x", "'--output=/tmp/x' is neither a file nor a git revision"),
        ("-h", "'-h' is neither a file nor a git revision"),
        ("HEAD:evidence", "'HEAD:evidence' is neither a file nor a git revision"),
    ],
)
def test_a_name_that_is_no_revision(repository: Path, given: str, message: str) -> None:
    result = run_kb("diff", "--root", repository, "--", given)
    assert result.exit_code == 1
    assert result.stderr == f"error: {message} of the repository at {repository}\n"


def test_a_folder_that_is_no_repository(tiny_kb: Path) -> None:
    result = run_kb("diff", "HEAD", "--root", tiny_kb)
    assert result.exit_code == 1
    assert result.stderr.startswith("error: 'HEAD' is neither a file nor a git revision")


def test_a_revision_without_the_knowledge_base(repository: Path) -> None:
    git(repository, "checkout", "-q", "--orphan", "empty")
    git(repository, "rm", "-rq", "--cached", ".")
    (repository / "README").write_text("nothing here\n", encoding="utf-8")
    git(repository, "add", "README")
    git(repository, "commit", "-q", "-m", "An unrelated history")
    result = run_kb("diff", "empty", "main", "--root", repository)
    assert result.exit_code == 1
    assert result.stderr == (
        f"error: empty ({short(repository, 'empty')}) has no recommendations/ or evidence/ "
        "folder: the knowledge base is not there at that revision\n"
    )


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("[]", "is not a `kb export` document: it is not a JSON object"),
        ('{"studies": []}', "is not a `kb export` document: 'recommendations' is not a list"),
        ("{", "cannot be read as JSON"),
        ("\udcff", "cannot be read as JSON"),
    ],
)
def test_a_file_that_is_no_export(
    repository: Path, tmp_path: Path, content: str, message: str
) -> None:
    path = tmp_path / "not-an-export.json"
    path.write_bytes(content.encode("utf-8", "surrogateescape"))
    result = run_kb("diff", path, "--root", repository)
    assert result.exit_code == 1
    assert result.stderr.startswith(f"error: {path} {message}")
    assert "Traceback" not in result.output


def test_json_and_markdown_together_is_a_usage_error(repository: Path) -> None:
    result = run_kb("diff", "HEAD", "--json", "--format", "markdown", "--root", repository)
    assert result.exit_code == 2
    assert "--json and --format markdown cannot be given together" in result.stderr


def test_a_knowledge_base_in_a_folder_of_the_repository(tmp_path: Path) -> None:
    root = base_repository(tmp_path)
    folder = root / "data"
    folder.mkdir()
    for name in ("recommendations", "evidence"):
        (root / name).rename(folder / name)
    commit(root, "Move the knowledge base into data/")
    change_everything(folder)
    result = run_kb("diff", "HEAD", "--root", folder)
    assert result.stdout == f"Changes from HEAD ({short(root)}) to the working tree\n" + BODY


# --- The comparison itself ------------------------------------------------------------------


def document(**records: list[dict]) -> dict[str, list[dict]]:
    return {key: records.get(key, []) for key in ("recommendations", "studies", "evidence")}


def study(study_id: str, title: str, **fields: object) -> dict:
    return {"id": study_id, "title": title, "year": 2020, "type": "qualitative", **fields}


def test_a_record_too_unlike_the_removed_one_is_not_a_rename() -> None:
    old = document(studies=[study("a-2020", "Anonymised recruitment", authors=["A, B."])])
    new = document(studies=[study("b-2020", "Targets at board level", authors=["C, D."])])
    changes = compare(old, new).records["studies"]
    assert [(change.change, change.id) for change in changes] == [
        ("added", "b-2020"),
        ("removed", "a-2020"),
    ]


def test_a_link_moved_to_another_recommendation_is_removed_and_added() -> None:
    def link(recommendation: str) -> dict:
        return {
            "id": f"a-2020--{recommendation}",
            "study": "a-2020",
            "recommendation": recommendation,
            "relation": "supports",
            "strength": "S3",
        }

    old = document(studies=[study("a-2020", "A")], evidence=[link("anonymise")])
    new = document(studies=[study("a-2020", "A")], evidence=[link("targets")])
    changes = compare(old, new).records["evidence"]
    assert [(change.change, change.id) for change in changes] == [
        ("added", "a-2020--targets"),
        ("removed", "a-2020--anonymise"),
    ]


@pytest.mark.parametrize(
    ("old", "new", "words"),
    [
        ("S2", "S4", "strength: S2 → S4, up"),
        (None, "A note.", "strength added: “A note.”"),
        ("S1", None, "strength removed (was S1)"),
        (["A, B.", "C, D."], ["A, B.", "E, F."], "strength: added “E, F.”; removed “C, D.”"),
        (["A, B.", "C, D."], ["C, D.", "A, B."], "strength: reordered"),
        (2019, 2020, "strength: 2019 → 2020"),
        (False, True, "strength: no → yes"),
        (
            "The passage names a lack of evaluation and says nothing of what works in training.",
            "The passage names a lack of evaluation and says little of what works in training.",
            "strength reworded: “…evaluation and says nothing of what works…” → "
            "“…evaluation and says little of what works…”",
        ),
        ('a "quoted"\nline', "b", 'strength: “a "quoted"\\nline” → b'),
    ],
)
def test_a_field_change_in_words(old: object, new: object, words: str) -> None:
    assert FieldChange("strength", old, new).words() == words


def test_markdown_shows_record_text_as_written() -> None:
    hostile = "[click](https://example.org) <img src=x onerror=alert(1)> **bold** | cell `code`"
    old = document(studies=[study("a-2020", "Plain")])
    new = document(studies=[study("a-2020", hostile)])
    report = markdown_report(compare(old, new), "old", "new")
    assert escaped(hostile) in report
    assert escaped(hostile) == (
        "\\[click\\](https://example.org) &lt;img src=x onerror=alert(1)&gt; \\*\\*bold\\*\\* "
        "\\| cell \\`code\\`"
    )
    assert "<img" not in report and "[click]" not in report


def test_nothing_changed(repository: Path) -> None:
    result = run_kb("diff", "HEAD", "--format", "markdown", "--root", repository)
    assert result.stdout == (
        f"### Knowledge base changes from HEAD ({short(repository)}) to the working tree\n"
        "\n"
        "No record changed.\n"
    )


def test_diff_is_documented() -> None:
    guide = (REPOSITORY / "docs" / "reviewers-guide.md").read_text(encoding="utf-8")
    assert "`kb diff" in guide and "--format markdown" in guide
    assert "Example: kb diff" in run_kb("diff", "--help").stdout


@pytest.mark.skipif(
    not (REPOSITORY / ".git").exists() or os.environ.get("KB_SKIP_REPOSITORY_DIFF") == "1",
    reason="not a git checkout",
)
def test_the_repository_against_its_own_head() -> None:
    result = run_kb("diff", "HEAD", "--root", REPOSITORY)
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("Changes from HEAD (")


def test_an_odd_export_is_compared_without_a_traceback(tmp_path: Path) -> None:
    """An export file may hold anything: control characters, levels that are not levels."""
    old = {
        "recommendations": [{"id": "r", "title": "R", "headline": {"level": ["S2"]}}],
        "studies": [{"id": "a", "title": "Plain"}],
        "evidence": [{"id": "a--r", "study": "a", "recommendation": "r", "strength": {}}],
    }
    new = {
        "recommendations": [{"id": "r", "title": 7}],
        "studies": [{"id": "a", "title": "Bell\x07 and \x1b[31mred"}],
        "evidence": [],
    }
    paths = [tmp_path / "old.json", tmp_path / "new.json"]
    for path, content in zip(paths, (old, new), strict=True):
        path.write_text(json.dumps(content), encoding="utf-8")
    result = run_kb("diff", *paths)
    assert result.exit_code == 0
    assert "\x1b" not in result.stdout and "\x07" not in result.stdout
    assert "  changed a: Bell\\u0007 and \\u001b[31mred\n" in result.stdout
    assert "r: not judged → S0, now rated\n" in result.stdout
    markdown = run_kb("diff", *paths, "--format", "markdown").stdout
    assert "Bell\\\\u0007 and \\\\u001b\\[31mred" in markdown


def test_an_export_whose_other_lists_are_not_records(tmp_path: Path) -> None:
    path = tmp_path / "export.json"
    path.write_text(
        json.dumps({"recommendations": [], "studies": [], "evidence": [], "themes": [1]}),
        encoding="utf-8",
    )
    result = run_kb("diff", path, path)
    assert result.exit_code == 1
    assert result.stderr == (
        f"error: {path} is not a `kb export` document: 'themes' is not a list of records with IDs\n"
    )


def test_a_long_rewording_is_cut_with_one_ellipsis() -> None:
    before = "Start. " + " ".join(f"word{number}" for number in range(60)) + " End of the note."
    after = "Start. " + " ".join(f"other{number}" for number in range(60)) + " End of the note."
    words = FieldChange("note", before, after).words()
    assert words.startswith("note reworded: “")
    assert "……" not in words
    assert words.count("…") == 2  # each excerpt is cut once, at its end
