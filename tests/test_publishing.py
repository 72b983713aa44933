"""What the README's "Publishing the site" promises: the site works under a sub-path, with the
content security policy it gives, and its list of hashed (long-cached) assets is right."""

import fnmatch
import functools
import re
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest

import build_site
from kb import pipeline
from tests.conftest import DATA, REPOSITORY

pytestmark = pytest.mark.site

README = (REPOSITORY / "README.md").read_text(encoding="utf-8")
SUB_PATH = "/any/folder/"
# The README's list of files whose names carry a content hash.
HASHED = (
    "assets/javascripts/bundle.*.min.js",
    "assets/javascripts/workers/search.*.min.js",
    "assets/stylesheets/*.*.min.css",
)
_HASH = re.compile(r"\.[0-9a-f]{8}\.min\.(js|css)(\.map)?$")


def readme_headers() -> dict[str, str]:
    """The security headers the README tells a host to send."""
    names = ("Content-Security-Policy", "X-Content-Type-Options", "Referrer-Policy")
    return {
        name: value
        for name, value in re.findall(r"^([\w-]+): (.+)$", README, flags=re.MULTILINE)
        if name in names
    }


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("published")
    paths = pipeline.Paths(DATA / "tiny", work / "kb.sqlite", work / "index")
    build_site.build_site(paths, work / "site", staging=work / "docs")
    return work / "site"


def test_every_page_links_relatively_but_the_404_page(site: Path) -> None:
    for page in site.rglob("*.html"):
        if page.name == "404.html":
            continue
        absolute = re.findall(r'(?:href|src)="(/[^"]*)"', page.read_text(encoding="utf-8"))
        assert absolute == [], page.relative_to(site)


def test_the_hashed_assets_are_the_ones_the_readme_lists(site: Path) -> None:
    for pattern in HASHED:
        assert f"`{pattern}`" in README, pattern
    files = [path.relative_to(site).as_posix() for path in site.rglob("*") if path.is_file()]
    hashed = {name for name in files if _HASH.search(name)}
    assert hashed, "no hashed asset found: has the theme changed how it names them?"
    listed = {
        name
        for name in files
        if any(
            fnmatch.fnmatch(name.removeprefix("cy/").removesuffix(".map"), pattern)
            for pattern in HASHED
        )
    }
    assert listed == hashed


class _SubPathHandler(SimpleHTTPRequestHandler):
    """The site served under ``SUB_PATH`` with the README's headers; nothing outside it."""

    headers_to_send: ClassVar[dict[str, str]] = {}

    def translate_path(self, path: str) -> str:
        if not path.startswith(SUB_PATH):
            return str(Path(self.directory) / "does-not-exist")
        return super().translate_path("/" + path[len(SUB_PATH) :])

    def end_headers(self) -> None:
        for name, value in self.headers_to_send.items():
            self.send_header(name, value)
        super().end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def served(site: Path) -> Iterator[str]:
    headers = readme_headers()
    assert set(headers) == {"Content-Security-Policy", "X-Content-Type-Options", "Referrer-Policy"}
    handler = type("Handler", (_SubPathHandler,), {"headers_to_send": headers})
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(handler, directory=str(site)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}{SUB_PATH}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.browser
def test_the_site_under_a_sub_path_with_the_readme_policy(served: str, browser: Any) -> None:
    problems: list[str] = []
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    page.on(
        "console",
        lambda message: (
            problems.append(f"{message.type}: {message.text}")
            if message.type in ("error", "warning")
            else None
        ),
    )
    page.on(
        "response",
        lambda response: (
            problems.append(f"{response.status} {response.url}") if response.status >= 400 else None
        ),
    )
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    for path in (
        "",
        "recommendations/",
        "recommendations/anonymise/",
        "studies/krause-2012/",
        "gaps/",
        "network/",
        "downloads/",
    ):
        page.goto(served + path, wait_until="networkidle")
        assert page.url.startswith(served)
    page.locator("input[name=query]").first.click()
    page.keyboard.type("anonymised")
    page.wait_for_selector(".md-search-result__item", timeout=10_000)
    context.close()
    # Material asks for a sitemap.xml beside each <link rel=alternate> (it takes them for the
    # roots of other sites); the Welsh and English namesakes of a page are not, and it ignores
    # the 404 (overrides/main.html).
    # The console's line for a 404 names no address; the response's line does, so a 404 of
    # anything else is still caught.
    probes = re.compile(r"404 .*/sitemap\.xml$|error: Failed to load resource: .* 404 ")
    assert [problem for problem in problems if not probes.match(problem)] == []
