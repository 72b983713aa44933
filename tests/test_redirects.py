"""Stable addresses on the site: a renamed record's old address redirects to its new one (in
Chromium, with and without JavaScript, under a sub-path with the README's security headers),
and a removed record's address says it was removed, when, by whom and why."""

import functools
import html
import re
import threading
from collections.abc import Iterator
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

import build_site
from kb import pipeline
from tests.conftest import run_kb
from tests.repositories import base_repository, commit
from tests.test_publishing import SUB_PATH, _SubPathHandler, readme_headers

pytestmark = pytest.mark.site

REASON = "A duplicate of krause-2012, recorded twice."


def heading(page: Any) -> str:
    """A page's title, without the ¶ of its permanent link."""
    return str(page.locator("h1").inner_text()).rstrip("¶")


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny knowledge base after a study and a recommendation were renamed with `kb mv`,
    and a study renamed and then removed with `kb rm`."""
    work = tmp_path_factory.mktemp("redirects")
    root = base_repository(work)
    for old, new in (
        ("krause-2012", "krause-rinne-2012"),
        ("anonymise", "anonymise-cvs"),
        ("doe-2019", "doe-2019a"),
    ):
        assert run_kb("mv", old, new, "--root", root).exit_code == 0
    removed = run_kb(
        "rm", "study", "doe-2019a", "--force", "--root", root, "--reason", REASON,
        "--by", "A. Reviewer", "--on", "2026-12-02",
    )  # fmt: skip
    assert removed.exit_code == 0, removed.output
    commit(root, "Rename and remove", "2026-12-02T10:00:00")
    paths = pipeline.Paths(root, work / "kb.sqlite", work / "index")
    build_site.build_site(paths, work / "site", staging=work / "docs")
    return work / "site"


@pytest.fixture(scope="module")
def served(site: Path) -> Iterator[str]:
    """The site under a sub-path, with the headers the README tells a host to send."""
    handler = type("Handler", (_SubPathHandler,), {"headers_to_send": readme_headers()})
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(handler, directory=str(site)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}{SUB_PATH}"
    finally:
        server.shutdown()
        server.server_close()


def test_an_old_address_holds_a_redirect_that_works_without_a_server(site: Path) -> None:
    page = (site / "studies/krause-2012/index.html").read_text(encoding="utf-8")
    assert '<meta http-equiv="refresh" content="0; url=../krause-rinne-2012/">' in page
    assert '<link rel="canonical" href="../krause-rinne-2012/">' in page  # no site_url set
    assert '<meta name="robots" content="noindex">' in page
    assert (
        '<p>This page has moved to <a href="../krause-rinne-2012/">Pilot Project: Anonymized '
        "Application procedure</a>.</p>"
    ) in page
    assert 'location.replace("../krause-rinne-2012/" + location.search + location.hash)' in page
    assert not re.search(r"(href|url)=/", page)  # relative only: any sub-path works
    assert (site / "recommendations/anonymise/index.html").is_file()
    # Not a page for the site's search: Pagefind indexes only what data-pagefind-body marks.
    assert "data-pagefind-body" not in page
    assert "data-pagefind-body" in (site / "studies/krause-rinne-2012/index.html").read_text()


def test_a_redirect_whose_record_title_is_hostile_stays_inert() -> None:
    from kb.render.addresses import redirect_html

    page = redirect_html("studies/old/", "studies/new/", '</title><script>alert(1)</script>"', None)
    assert "<script>alert" not in page
    assert "&lt;/title&gt;&lt;script&gt;alert(1)&lt;/script&gt;&quot;" in page


@pytest.mark.browser
def test_chromium_follows_an_old_address_to_the_new_one_under_a_sub_path(
    served: str, page: Any
) -> None:
    page.goto(f"{served}studies/krause-2012/", wait_until="networkidle")
    assert page.url == f"{served}studies/krause-rinne-2012/"
    assert heading(page) == "Pilot Project: Anonymized Application procedure"
    # A link into a recommendation's evidence keeps its fragment.
    page.goto(
        f"{served}recommendations/anonymise/#evidence-krause-rinne-2012--anonymise-cvs",
        wait_until="networkidle",
    )
    assert page.url == (
        f"{served}recommendations/anonymise-cvs/#evidence-krause-rinne-2012--anonymise-cvs"
    )
    assert heading(page) == "Anonymise applications"


@pytest.mark.browser
def test_the_redirect_works_without_javascript(served: str, browser: Any) -> None:
    context = browser.new_context(java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto(f"{served}studies/krause-2012/")
        page.wait_for_url(f"{served}studies/krause-rinne-2012/", timeout=10_000)
        assert heading(page) == ("Pilot Project: Anonymized Application procedure")
    finally:
        context.close()


@pytest.mark.browser
def test_a_removed_record_says_when_by_whom_and_why(served: str, page: Any) -> None:
    page.goto(f"{served}studies/doe-2019a/", wait_until="networkidle")
    assert heading(page) == "Doe (2019): Quotas in one trust"
    notice = page.locator(".kb-removed__notice").inner_text()
    assert notice == "Removed from the knowledge base on 2 December 2026 by A. Reviewer."
    assert page.locator(".kb-removed dd").inner_text() == REASON
    # Its own former ID leads to the page that says it was removed.
    page.goto(f"{served}studies/doe-2019/", wait_until="networkidle")
    assert page.url == f"{served}studies/doe-2019a/"


def test_the_removed_page_is_not_searched_as_a_study(site: Path) -> None:
    page = (site / "studies/doe-2019a/index.html").read_text(encoding="utf-8")
    assert REASON in html.unescape(page)
    assert "data-pagefind-body" not in page  # the site's search finds records, not tombstones
