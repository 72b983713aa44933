"""The footer's facts: the release, the day the records last changed (from git, or not known),
and the new-issue form a page's "Report a problem" link opens, prefilled with its record."""

import html
import re
import shutil
import subprocess
from datetime import date
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

import build_site
from kb.site.facts import ProblemReports, SiteFacts, problem_reports, site_facts
from tests.conftest import Site
from tests.repositories import base_repository, commit, git

pytestmark = pytest.mark.site


def test_the_last_change_to_a_record_dates_the_records(tmp_path: Path) -> None:
    root = base_repository(tmp_path)  # committed on 2026-12-01
    assert site_facts(root, None).updated == date(2026, 12, 1)
    (root / "README.md").write_text("Not a record.\n")
    commit(root, "Change no record", date="2026-12-03T09:00:00")
    assert site_facts(root, None).updated == date(2026, 12, 1)
    study = next((root / "evidence" / "studies").glob("*.yaml"))
    study.write_text(study.read_text() + "\n")
    commit(root, "Change a record", date="2026-12-02T09:00:00")
    assert site_facts(root, None).updated_text == "2 December 2026"


def test_outside_git_or_in_a_shallow_clone_the_day_is_not_known(tmp_path: Path) -> None:
    root = base_repository(tmp_path)
    copy = tmp_path / "copy"
    shutil.copytree(root, copy, ignore=shutil.ignore_patterns(".git"))
    assert site_facts(copy, None).updated is None
    shallow = tmp_path / "shallow"
    subprocess.run(
        ["git", "clone", "-q", "--depth", "1", f"file://{root}", str(shallow)], check=True
    )
    assert git(shallow, "rev-parse", "--is-shallow-repository") == "true"
    assert site_facts(shallow, None).updated is None


def test_a_release_file_gives_the_release(tmp_path: Path) -> None:
    root = base_repository(tmp_path)
    assert site_facts(root, None).release is None
    (root / "kb-release.yaml").write_text("releases:\n  - version: 1.2.0\n    date: 2026-12-04\n")
    assert site_facts(root, None).release == "1.2.0 of 4 December 2026"


def test_problems_are_reported_on_github_or_gitlab_only() -> None:
    assert problem_reports("https://github.com/wcpp/kb") == ProblemReports(
        "https://github.com/wcpp/kb/issues/new", "title", "body"
    )
    assert problem_reports("https://gitlab.com/group/sub/kb/") == ProblemReports(
        "https://gitlab.com/group/sub/kb/-/issues/new", "issue[title]", "issue[description]"
    )
    for elsewhere in (
        None,
        "",
        "https://example.org/kb",
        "http://github.com/a/b",
        "https://github.com/a",
    ):
        assert problem_reports(elsewhere) is None, elsewhere


def _footer(page: Path) -> str:
    text = page.read_text(encoding="utf-8")
    return text[text.index('<div class="md-copyright kb-footer">') :]


def test_every_page_says_the_release_and_reports_a_problem_with_its_record(
    tiny_site: Site, tmp_path: Path
) -> None:
    facts = SiteFacts(
        "1.0.0 of 1 December 2026",
        date(2026, 12, 1),
        "https://github.com/example/kb",
        problem_reports("https://github.com/example/kb"),
        "The knowledge base team, kb@example.org",
    )
    site = tmp_path / "site"
    build_site.mkdocs_build(tiny_site.root.parent / "docs", site, reuse=False, facts=facts)
    footer = _footer(site / "recommendations" / "anonymise" / "index.html")
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", html.unescape(footer)))
    assert "Knowledge base release 1.0.0 of 1 December 2026." in text
    assert "Records last changed on 1 December 2026." in text
    assert "Contact: The knowledge base team, kb@example.org" in text
    assert "Open Government Licence v3.0" in text and "MIT licence" in text
    (address,) = re.findall(r'<a href="([^"]+)">Report a problem with this page</a>', footer)
    parts = urlsplit(html.unescape(address))
    query = parse_qs(parts.query)
    assert (parts.netloc, parts.path) == ("github.com", "/example/kb/issues/new")
    assert query["title"] == ["Problem with anonymise"]
    assert query["body"][0].startswith("Page: recommendations/anonymise/\nRecord: anonymise\n")
    hand_written = _footer(site / "about" / "index.html")
    (address,) = re.findall(r'<a href="([^"]+)">Report a problem with this page</a>', hand_written)
    assert parse_qs(urlsplit(html.unescape(address)).query)["title"] == [
        "Problem with About and licence"
    ]
    assert 'href="../accessibility/"' in hand_written


def test_without_a_repository_there_is_no_report_link_and_no_false_date(
    tiny_site: Site,
) -> None:
    footer = _footer(tiny_site.html("recommendations/anonymise/"))
    assert "Report a problem" not in footer
    assert "The knowledge base has had no release yet." in footer
    assert "When its records last changed is not known to this build." in footer
