"""The history on the site, from git repositories built in tmp_path: each commit's changes are
what `kb diff` says of them; each recommendation's page shows its dated headline and evidence
links; the "what changed" pages list the commits since the last release and each release's
changes; the history is cached commit by commit; a shallow clone or no git says the history
is unavailable rather than making one up."""

import html
import json
import re
import shutil
from pathlib import Path

import pytest

import build_site
from kb import pipeline
from kb.graph.evidence import graph_of
from kb.history.log import read_history
from kb.history.published import published_history
from kb.history.timelines import recommendation_timelines
from kb.render import SiteInfo, SiteSources, render_site
from kb.store.current import build_db
from kb.store.database import open_store
from kb.store.export import export_document
from tests.conftest import REPOSITORY, run_kb
from tests.repositories import (
    base_repository,
    change_everything,
    commit,
    git,
    link,
    read_yaml,
    write_study,
    write_yaml,
)

pytestmark = pytest.mark.site

DOCS = REPOSITORY / "docs"
OKAFOR_QUOTE = "A second trial of anonymised CVs narrowed shortlisting gaps (Okafor, 2020)."
OKAFOR = "evidence/studies/okafor-2020.yaml"


def add_okafor(root: Path, with_link: bool, strength: str = "S3") -> None:
    """The study okafor-2020, with or without its link to `anonymise`."""
    findings = [link("okafor-2020", "anonymise", strength, OKAFOR_QUOTE)] if with_link else []
    write_study(
        root,
        "okafor-2020",
        authors=["Okafor, C."],
        year=2020,
        title="Why anonymised CVs are not enough",
        type="quasi-experimental",
        **({"findings": findings} if findings else {}),
    )


def set_strength(root: Path, strength: str) -> None:
    study = read_yaml(root / OKAFOR)
    study["findings"][0]["strength"] = strength
    write_yaml(root / OKAFOR, study)


def rendered(root: Path, work: Path) -> Path:
    """The generated pages of the knowledge base at ``root`` (Markdown, before MkDocs), built
    with its history as the site build does."""
    paths = pipeline.Paths(root, work / "kb.sqlite", work / "index")
    build_db(paths)
    document = export_document(open_store(paths.database))
    history = published_history(root, pipeline.history_cache(paths))
    sources = SiteSources(DOCS, work / "docs", paths.database)
    render_site(document, graph_of(document), sources, SiteInfo("Test"), history=history)
    return work / "docs"


def text_of(markdown: str) -> str:
    """A generated page's text, tags dropped (a space for a block's), entities read, spaces
    collapsed."""
    inline = re.sub(r"</?(a|span|code|strong|em|time)\b[^>]*>", "", markdown)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", inline)).split())


def section(page: str, anchor: str) -> str:
    """The part of a generated page under the heading with ``anchor``."""
    start = page.index(f"{{: #{anchor}")
    end = page.find("\n## ", start)
    return page[start : end if end >= 0 else None]


def html_section(page: str, anchor: str, next_anchor: str) -> str:
    """The text of a built page from the heading with ``anchor`` to the one with
    ``next_anchor``."""
    start = page.rindex("<h2", 0, page.index(f'id="{anchor}"'))
    return text_of(page[start : page.rindex("<h2", 0, page.index(f'id="{next_anchor}"'))])


@pytest.fixture
def repository(tmp_path: Path) -> Path:
    return base_repository(tmp_path)


# --- Done when: two commits that add a study and a link --------------------------------------


def test_done_when_a_fresh_clone_shows_two_commits_in_kb_diff_and_on_the_site(
    repository: Path, tmp_path: Path
) -> None:
    add_okafor(repository, with_link=False)
    commit(repository, "Add okafor-2020", "2026-12-02T10:00:00")
    add_okafor(repository, with_link=True)
    commit(repository, "Link okafor-2020 to anonymise", "2026-12-03T10:00:00")
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(repository), str(clone))
    first, second = (
        git(clone, "rev-parse", "--short=7", "HEAD~1"),
        git(clone, "rev-parse", "--short=7", "HEAD"),
    )

    diff = run_kb("diff", "HEAD~2", "HEAD", "--root", clone)
    assert diff.exit_code == 0, diff.output
    print(f"\n$ kb diff HEAD~2 HEAD\n{diff.stdout}")
    base = git(clone, "rev-parse", "--short=7", "HEAD~2")
    assert diff.stdout == (
        f"Changes from HEAD~2 ({base}) to HEAD ({second})\n"
        "  studies: 1 added\n"
        "  evidence links: 1 added\n"
        "\n"
        "Headline strength levels that moved: 1\n"
        "  anonymise: S1 → S2, up (Anonymise applications)\n"
        "    now: 2 studies support it at S2 or above\n"
        "    added link okafor-2020--anonymise: supports at S3\n"
        "\n"
        "Studies\n"
        "  added okafor-2020: Why anonymised CVs are not enough\n"
        "\n"
        "Evidence links\n"
        "  added okafor-2020--anonymise: supports at S3\n"
    )

    work = tmp_path / "work"
    paths = pipeline.Paths(clone, work / "kb.sqlite", work / "index")
    build_site.build_site(paths, work / "site", staging=work / "docs")
    changes = (work / "site/changes/index.html").read_text(encoding="utf-8")
    unreleased = html_section(changes, "unreleased", "releases")
    print(f"\nWhat changed: {unreleased}")
    assert unreleased.index(f"3 December 2026 commit {second}") < unreleased.index(
        f"2 December 2026 commit {first}"
    )
    assert (
        f"3 December 2026 commit {second} evidence links: 1 added. Headline strength levels "
        "that moved: Anonymise applications: S1 → S2, up. Now: 2 studies support it at S2 or "
        "above. Links that moved it: added okafor-2020--anonymise. Evidence links Added: "
        "okafor-2020--anonymise (supports at S3)"
    ) in unreleased
    assert (
        f"2 December 2026 commit {first} studies: 1 added. Studies Added: Why anonymised CVs "
        "are not enough (okafor-2020)"
    ) in unreleased

    page = (work / "site/recommendations/anonymise/index.html").read_text("utf-8")
    history = html_section(page, "history", "examples")
    print(f"\nanonymise, History: {history}")
    assert history.startswith(
        "History¶ Headline strength over time: S1 Expert opinion from 1 December 2026 → "
        "S2 Very limited from 3 December 2026 "
        "3 December 2026 · headline S2 Very limited up from S1 "
        "Headline now S2: 2 studies support it at S2 or above. "
        "Evidence added: Okafor (2020), supports at S3. "
        "1 December 2026 · headline S1 Expert opinion "
        "Added to the knowledge base, with 1 evidence link."
    )
    html = (work / "site/recommendations/anonymise/index.html").read_text("utf-8")
    assert '<time datetime="2026&#45;12&#45;03">3 December 2026</time>' in html
    assert 'href="../../studies/okafor-2020/"' in html


# --- Each commit is what kb diff says ----------------------------------------------------------


def test_each_commit_is_what_kb_diff_says_of_it(repository: Path, tmp_path: Path) -> None:
    """Added, removed, renamed and changed records, and levels moving up and down."""
    change_everything(repository)
    commit(repository, "Change everything", "2026-12-02T10:00:00")
    set_strength(repository, "S1")  # anonymise back down
    commit(repository, "Lower okafor-2020", "2026-12-03T10:00:00")
    history = read_history(repository, tmp_path / "cache")
    assert history.unavailable is None
    assert [commit.date for commit in history.commits] == ["2026-12-01", "2026-12-02", "2026-12-03"]
    for older, newer in zip(history.commits, history.commits[1:], strict=False):
        said = run_kb("diff", older.sha, newer.sha, "--json", "--root", repository)
        assert said.exit_code == 0, said.output
        expected = json.loads(said.stdout)
        assert {key: newer.diff[key] for key in ("counts", "records", "headlines")} == {
            key: expected[key] for key in ("counts", "records", "headlines")
        }
    moved = [
        (m["recommendation"], m["old"], m["new"]) for m in history.commits[1].diff["headlines"]
    ]
    assert moved == [("anonymise", "S1", "S2"), ("targets", "S1", "S0")]
    counts = history.commits[1].diff["counts"]["studies"]
    assert counts == {"added": 1, "removed": 1, "renamed": 1, "changed": 0}
    assert [(m["old"], m["new"]) for m in history.commits[2].diff["headlines"]] == [("S2", "S1")]


def test_a_recommendation_page_shows_its_strength_moving_up_and_down(
    repository: Path, tmp_path: Path
) -> None:
    add_okafor(repository, with_link=True, strength="S3")
    commit(repository, "Link okafor-2020 at S3", "2026-12-02T10:00:00")
    set_strength(repository, "S1")
    commit(repository, "Okafor-2020 is weaker than read", "2026-12-05T10:00:00")
    (repository / "recommendations/targets.yaml").write_text(
        (repository / "recommendations/targets.yaml")
        .read_text()
        .replace("title: Publish representation targets", "title: Publish targets for senior staff")
    )
    commit(repository, "Retitle targets", "2026-12-06T10:00:00")

    timelines = recommendation_timelines(read_history(repository, tmp_path / "cache"))
    events = timelines.current["anonymise"]
    assert [(e.date, e.previous, e.level, e.moved) for e in events] == [
        ("2026-12-01", None, "S1", None),
        ("2026-12-02", "S1", "S2", "up"),
        ("2026-12-05", "S2", "S1", "down"),
    ]
    assert [e.date for e in timelines.current["targets"]] == ["2026-12-01", "2026-12-06"]

    page = (rendered(repository, tmp_path / "work") / "recommendations/anonymise.md").read_text()
    history = text_of(section(page, "history"))
    assert history.startswith(
        "{: #history data-search-exclude } Headline strength over time: "
        "S1 Expert opinion from 1 December 2026 → S2 Very limited from 2 December 2026 → "
        "S1 Expert opinion from 5 December 2026 "
        "5 December 2026 · headline S1 Expert opinion down from S2 "
        "Headline now S1: 2 studies support it at S1 or above. "
        "Evidence changed: Okafor (2020), supports at S1 (strength: S3 → S1, down). "
        "2 December 2026 · headline S2 Very limited up from S1 "
    )
    assert "kb-history__event kb-history__event--down" in page
    assert "kb-history__event kb-history__event--up" in page
    targets = (tmp_path / "work/docs/recommendations/targets.md").read_text()
    assert "Its own record was edited: title." in text_of(section(targets, "history"))


def test_a_renamed_recommendation_keeps_its_history(repository: Path, tmp_path: Path) -> None:
    add_okafor(repository, with_link=True)
    commit(repository, "Link okafor-2020", "2026-12-02T10:00:00")
    assert run_kb("mv", "anonymise", "anonymise-cvs", "--root", repository).exit_code == 0
    shutil.rmtree(repository / "build")
    commit(repository, "Rename anonymise", "2026-12-03T10:00:00")
    timelines = recommendation_timelines(read_history(repository, tmp_path / "cache"))
    assert "anonymise" not in timelines.current
    events = timelines.current["anonymise-cvs"]
    assert [(e.date, e.level, e.renamed_from) for e in events] == [
        ("2026-12-01", "S1", None),
        ("2026-12-02", "S2", None),
        ("2026-12-03", "S2", "anonymise"),
    ]
    page = rendered(repository, tmp_path / "work") / "recommendations/anonymise-cvs.md"
    assert "Renamed from anonymise." in text_of(section(page.read_text(), "history"))


# --- Releases and the content version ----------------------------------------------------------


def test_what_changed_lists_commits_since_the_release_and_each_release(
    repository: Path, tmp_path: Path
) -> None:
    add_okafor(repository, with_link=False)
    (repository / "kb-release.yaml").write_text(
        "releases:\n  - version: 1.0.0\n    date: 2026-12-02\n", encoding="utf-8"
    )
    commit(repository, "Add okafor-2020; release 1.0.0", "2026-12-02T10:00:00")
    git(repository, "tag", "v1.0.0")
    add_okafor(repository, with_link=True)
    commit(repository, "Link okafor-2020", "2026-12-03T10:00:00")
    head = git(repository, "rev-parse", "--short=7", "HEAD")

    docs = rendered(repository, tmp_path / "work")
    changes = (docs / "changes/index.md").read_text()
    assert (
        "Content version: 1.0.0 of 2 December 2026 with changes since, last changed 3 December 2026"
        in text_of(changes)
    )
    unreleased = text_of(section(changes, "unreleased"))
    assert unreleased.startswith(
        "{: #unreleased } Changes since release 1.0.0, newest first. "
        f"3 December 2026 commit {head} evidence links: 1 added."
    )
    assert "2 December 2026" not in unreleased  # released already
    assert "1.0.0, released 2 December 2026: sources: 1 added; themes: 1 added; " in text_of(
        section(changes, "releases")
    )
    release = text_of((docs / "changes/1.0.0.md").read_text())
    assert "Released 2 December 2026. What changed since the knowledge base began" in release
    assert "studies: 3 added" in release  # krause-2012, doe-2019 and okafor-2020
    downloads = json.loads((docs / "downloads/kb.json").read_text())
    assert downloads["version"]["version"] == "1.0.0+unreleased"
    assert downloads["version"]["updated"] == "2026-12-03"


def test_a_release_whose_tag_is_missing_says_so(repository: Path, tmp_path: Path) -> None:
    (repository / "kb-release.yaml").write_text(
        "releases:\n  - version: 1.0.0\n    date: 2026-12-01\n", encoding="utf-8"
    )
    commit(repository, "Release 1.0.0, not tagged", "2026-12-01T12:00:00")
    changes = text_of((rendered(repository, tmp_path / "work") / "changes/index.md").read_text())
    assert (
        "this copy of the repository has no tag v1.0.0 (fetch the tags with `git fetch --tags`)"
        in changes
    )


# --- Incremental -------------------------------------------------------------------------------


def test_each_commit_is_read_from_git_once(repository: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    for day in range(2, 12):
        add_okafor(repository, with_link=True, strength="S3" if day % 2 else "S2")
        commit(repository, f"Day {day}", f"2026-12-{day:02d}T10:00:00")
    first = read_history(repository, cache)
    assert (len(first.commits), first.worked_out) == (11, 11)
    assert len(list((cache / "commits").glob("*.json"))) == 11
    again = read_history(repository, cache)
    assert again.worked_out == 0
    assert [c.as_dict() for c in again.commits] == [c.as_dict() for c in first.commits]
    add_okafor(repository, with_link=True, strength="S4")
    commit(repository, "One more", "2026-12-12T10:00:00")
    more = read_history(repository, cache)
    assert (len(more.commits), more.worked_out) == (12, 1)
    # Without the kept state, the records before the new commit are read from git again.
    (cache / "state.json").unlink()
    (cache / "commits" / f"{more.commits[-1].sha}.json").unlink()
    rebuilt = read_history(repository, cache)
    assert rebuilt.worked_out == 1
    assert rebuilt.commits[-1].as_dict() == more.commits[-1].as_dict()


# --- Degrading honestly -------------------------------------------------------------------------


def test_a_shallow_clone_says_the_history_is_unavailable(repository: Path, tmp_path: Path) -> None:
    add_okafor(repository, with_link=True)
    commit(repository, "Link okafor-2020", "2026-12-02T10:00:00")
    clone = tmp_path / "shallow"
    git(tmp_path, "clone", "-q", "--depth", "1", f"file://{repository}", str(clone))
    history = read_history(clone, tmp_path / "cache")
    assert history.commits == []
    assert history.unavailable is not None and "shallow clone" in history.unavailable
    docs = rendered(clone, tmp_path / "work")
    page = text_of(section((docs / "recommendations/anonymise.md").read_text(), "history"))
    assert (
        "The dated history of this recommendation is not available in this build: the site was "
        "built from a shallow clone" in page
    )
    assert "headline" not in page
    changes = text_of((docs / "changes/index.md").read_text())
    assert (
        "The history is not available in this build: the site was built from a shallow clone"
        in changes
    )
    assert "commit " not in changes


def test_no_repository_or_no_git_says_the_history_is_unavailable(
    tiny_kb: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    history = read_history(tiny_kb, tmp_path / "cache")
    assert history.unavailable == "the knowledge base was not built from a git repository"
    repository = base_repository(tmp_path / "with-git")
    monkeypatch.setenv("PATH", str(tmp_path / "no-git-here"))
    missing = read_history(repository, tmp_path / "cache")
    assert missing.unavailable == "git is not installed where the site was built"
    assert missing.commits == []


def test_uncommitted_changes_are_said_not_hidden(repository: Path, tmp_path: Path) -> None:
    add_okafor(repository, with_link=True)
    docs = rendered(repository, tmp_path / "work")
    changes = text_of((docs / "changes/index.md").read_text())
    assert "built from records with changes not yet committed" in changes
    assert "Content version: not yet released, with uncommitted changes to the records" in changes
    page = text_of(section((docs / "recommendations/anonymise.md").read_text(), "history"))
    assert "The records have changes not yet committed, which are not in this history." in page


# --- Record text stays text ---------------------------------------------------------------------


def test_record_text_in_the_history_is_escaped(repository: Path, tmp_path: Path) -> None:
    hostile = '<img src=x onerror="alert(1)"> *[link](javascript:alert(1))*'
    targets = repository / "recommendations/targets.yaml"
    write_yaml(targets, {**read_yaml(targets), "title": hostile})
    commit(repository, "A hostile title", "2026-12-02T10:00:00")
    docs = rendered(repository, tmp_path / "work")
    for page in ("changes/index.md", "recommendations/targets.md"):
        markdown = (docs / page).read_text().split("\n", 3)[3]  # after the JSON front matter
        assert "<img" not in markdown, page
        assert "](javascript:" not in markdown and "*[" not in markdown, page
        assert hostile in text_of(markdown), page  # shown as written


def test_the_history_step_is_reported_by_the_build(repository: Path, tmp_path: Path) -> None:
    paths = pipeline.Paths(repository, tmp_path / "kb.sqlite", tmp_path / "index")
    steps: list[pipeline.Step] = []
    pipeline.build(paths, DOCS, tmp_path / "docs", SiteInfo("Test"), progress=steps.append)
    (step,) = [step for step in steps if step.name == "history"]
    assert step.detail == "1 commit (1 read from git, 0 from the cache); content version unreleased"
    assert (tmp_path / "history" / "state.json").is_file()


# --- In Welsh -----------------------------------------------------------------------------------

# English words no Welsh sentence holds (as tests/test_welsh.py checks the built pages).
ENGLISH_WORDS = {"the", "and", "of", "with", "this", "from", "which", "are", "has", "have", "not"}


def outside_english(markdown: str) -> str:
    """A generated page's text without what is marked lang="en" (record text, and the history's
    words kept in English), nor the front matter."""
    markdown = markdown.split("\n---\n", 1)[-1] if markdown.startswith("---") else markdown
    markdown = "\n".join(line for line in markdown.splitlines() if '{: lang="en" }' not in line)
    markdown = re.sub(r'<(\w+)[^>]*\blang="en"[^>]*>.*?</\1>', " ", markdown, flags=re.S)
    return text_of(re.sub(r"<code>.*?</code>", " ", markdown))


def test_the_history_pages_read_in_welsh(repository: Path, tmp_path: Path) -> None:
    """The what-changed page, a release's page, a removed record's page and a recommendation's
    history in Welsh: our words from the catalogue, the history's English marked as such."""
    change_everything(repository)
    (repository / "removed").mkdir(exist_ok=True)
    write_yaml(
        repository / "removed/doe-2019.yaml",
        {
            "id": "doe-2019",
            "type": "study",
            "title": "Doe (2019): Targets in practice",
            "removed_on": "2026-12-02",
            "removed_by": "A. Reviewer",
            "reason": "Retracted by its authors.",
        },
    )
    (repository / "kb-release.yaml").write_text(
        "releases:\n  - version: 1.0.0\n    date: 2026-12-02\n", encoding="utf-8"
    )
    commit(repository, "Change everything; release 1.0.0", "2026-12-02T10:00:00")
    git(repository, "tag", "v1.0.0")
    set_strength(repository, "S1")
    commit(repository, "Lower okafor-2020", "2026-12-03T10:00:00")

    work = tmp_path / "work"
    paths = pipeline.Paths(repository, work / "kb.sqlite", work / "index")
    build_db(paths)
    document = export_document(open_store(paths.database))
    history = published_history(repository, pipeline.history_cache(paths))
    sources = SiteSources(DOCS, work / "docs", paths.database)
    render_site(
        document, graph_of(document), sources, SiteInfo("Test"), history=history, language="cy"
    )
    docs = work / "docs"
    changes = (docs / "changes/index.md").read_text()
    assert "Fersiwn y cynnwys: 1.0.0, 2 Rhagfyr 2026, gyda newidiadau ers hynny" in text_of(changes)
    assert "rhyddhawyd 2 Rhagfyr 2026: ffynonellau: 1 wedi'u hychwanegu" in text_of(changes)
    release = (docs / "changes/1.0.0.md").read_text()
    assert "Rhyddhawyd 2 Rhagfyr 2026." in text_of(release)
    removed = (docs / "studies/doe-2019.md").read_text()
    assert "Tynnwyd o'r gronfa wybodaeth ar 2 Rhagfyr 2026 gan A. Reviewer." in text_of(removed)
    page = (docs / "recommendations/anonymise.md").read_text()
    timeline = section(page, "history")
    assert "i lawr o S2" in text_of(timeline)
    assert '<span lang="en">' in timeline  # the reason, as the history recorded it
    for name, markdown in {
        "changes": changes,
        "release": release,
        "removed": removed,
        "history": timeline,
    }.items():
        words = set(re.findall(r"[a-z]+", outside_english(markdown).lower()))
        assert not words & ENGLISH_WORDS, (name, sorted(words & ENGLISH_WORDS), markdown)
