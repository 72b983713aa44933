"""Shared fixtures: small knowledge bases copied into tmp_path, the CLI's real entry point, and
the sites the site and network tests share: each built once per session, served over HTTP,
and one headless Chromium to look at them."""

import functools
import shutil
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

import build_site
from kb import pipeline
from kb.cli import main
from kb.records.document import Document
from kb.store.database import open_store
from kb.store.export import export_document
from tests.chromium import ARGS as CHROMIUM_ARGS
from tests.chromium import CHROMIUM

# The kind of every test, one of these markers (pyproject.toml says what each means).
KINDS = ("unit", "cli", "content", "site", "hostile")
DATA = Path(__file__).parent / "data"
REPOSITORY = Path(__file__).parent.parent


@pytest.fixture
def tiny_kb(tmp_path: Path) -> Path:
    """A copy of the tiny fixture knowledge base: one source, two recommendations, one study."""
    root = tmp_path / "kb"
    shutil.copytree(DATA / "tiny", root)
    return root


def run_kb(*args: str | Path) -> Result:
    """Run the `kb` command in-process, as a user would from the shell."""
    return CliRunner().invoke(main, [str(arg) for arg in args], catch_exceptions=False)


def site_files(site: Path) -> dict[str, bytes]:
    """Every file of a built site but Pagefind's indexes (the English one and the Welsh one in
    cy/), whose files are named by hashes that differ from one run to the next (the search tests
    check what they find)."""
    return {
        path.relative_to(site).as_posix(): path.read_bytes()
        for path in site.rglob("*")
        if path.is_file() and "pagefind" not in path.relative_to(site).parts[:2]
    }


# --- Building the sites once --------------------------------------------------------------


@dataclass
class Site:
    """A built site and the knowledge base it came from."""

    root: Path
    folder: Path
    document: Document
    built: pipeline.Built
    pages: int
    index: Path

    def html(self, path: str) -> Path:
        """The HTML file of a site path (``recommendations/x/`` → …/index.html)."""
        return (
            self.folder / path / "index.html"
            if path.endswith("/") or not path
            else (self.folder / path)
        )


def _build(source: Path, work: Path, copy: bool = True) -> Site:
    root = work / "kb"
    if copy:
        shutil.copytree(source, root)
    else:
        root = source
    paths = pipeline.Paths(root, work / "kb.sqlite", work / "index")
    built, pages = build_site.build_site(paths, work / "site", staging=work / "docs")
    document = export_document(open_store(paths.database))
    return Site(root, work / "site", document, built, pages, paths.index)


@pytest.fixture(scope="session")
def tiny_site(tmp_path_factory: pytest.TempPathFactory) -> Site:
    return _build(DATA / "tiny", tmp_path_factory.mktemp("tiny"))


@pytest.fixture(scope="session")
def hostile_site(tmp_path_factory: pytest.TempPathFactory) -> Site:
    return _build(DATA / "hostile", tmp_path_factory.mktemp("hostile"))


@pytest.fixture(scope="session")
def real_site(tmp_path_factory: pytest.TempPathFactory) -> Site:
    return _build(REPOSITORY, tmp_path_factory.mktemp("real"), copy=False)


# --- In the browser -------------------------------------------------------------------------


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *args: Any) -> None:
        pass


def _serve(folder: Path) -> Iterator[str]:
    handler = functools.partial(_QuietHandler, directory=str(folder))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="session")
def real_url(real_site: Site) -> Iterator[str]:
    yield from _serve(real_site.folder)


@pytest.fixture(scope="session")
def hostile_url(hostile_site: Site) -> Iterator[str]:
    yield from _serve(hostile_site.folder)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not CHROMIUM.is_file():
        pytest.skip(
            f"Chromium not found at {CHROMIUM}: install Debian's chromium package "
            "(apt-get install chromium) to run the browser tests"
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context()
    opened = context.new_page()
    dialogs: list[str] = []
    opened.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    errors: list[str] = []
    opened.on("pageerror", lambda error: errors.append(str(error)))
    yield opened
    context.close()
    assert dialogs == [], "a page opened a dialog"
    assert errors == [], f"JavaScript errors: {errors}"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Refuse a test that does not say its kind, so `pytest -m KIND` misses none."""
    unmarked = [item.nodeid for item in items if not any(map(item.get_closest_marker, KINDS))]
    if unmarked:
        raise pytest.UsageError(
            f"tests without a kind ({', '.join(KINDS)}); mark each module with "
            f"`pytestmark = pytest.mark.KIND`: {', '.join(unmarked[:5])}"
        )
