"""The downloads: the page lists every file with its size and SHA-256, which match the files;
`SHA256SUMS` checks them; each file states the content version where its format has room."""

import hashlib
import html
import json
import re
import shutil
import sqlite3
import subprocess
from pathlib import Path

import bibtexparser
import networkx as nx
import pytest

import build_site
from kb import pipeline
from tests.repositories import base_repository, git

pytestmark = pytest.mark.site


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """The site of the tiny knowledge base in a git repository, and its commit."""
    work = tmp_path_factory.mktemp("downloads")
    root = base_repository(work)
    paths = pipeline.Paths(root, work / "kb.sqlite", work / "index")
    build_site.build_site(paths, work / "site", staging=work / "docs")
    return work / "site", git(root, "rev-parse", "HEAD")


def _rows(page: str) -> list[tuple[str, int, str]]:
    """(file, bytes, SHA-256) of each row of the downloads table."""
    return [
        (path, int(size), sha)
        for path, size, sha in re.findall(
            r'<a href="([^"]+)" download>.*?data-bytes="(\d+)".*?<code class="kb-sha256">'
            r"([0-9a-f]{64})</code>",
            page,
        )
    ]


def test_every_file_is_listed_with_its_size_and_sha256(built: tuple[Path, str]) -> None:
    site, _ = built
    folder = site / "downloads"
    rows = _rows((folder / "index.html").read_text(encoding="utf-8"))
    files = sorted(
        path.relative_to(folder).as_posix()
        for path in folder.rglob("*")
        if path.is_file() and path.name != "index.html"
    )
    assert sorted(path for path, _, _ in rows) == files
    for path, size, sha in rows:
        content = (folder / path).read_bytes()
        assert (len(content), hashlib.sha256(content).hexdigest()) == (size, sha), path
    assert rows[-1][0] == "SHA256SUMS"
    sums = (folder / "SHA256SUMS").read_text(encoding="utf-8").splitlines()
    assert sums == [f"{sha}  {path}" for path, _, sha in rows[:-1]]
    if shutil.which("sha256sum"):
        checked = subprocess.run(
            ["sha256sum", "--strict", "-c", "SHA256SUMS"], cwd=folder, capture_output=True
        )
        assert checked.returncode == 0, checked.stdout


def test_a_changed_file_no_longer_matches_its_sha256(
    built: tuple[Path, str], tmp_path: Path
) -> None:
    site, _ = built
    copy = tmp_path / "downloads"
    shutil.copytree(site / "downloads", copy)
    (copy / "kb.json").write_text("{}", encoding="utf-8")
    rows = dict((path, sha) for path, _, sha in _rows((copy / "index.html").read_text()))
    assert hashlib.sha256((copy / "kb.json").read_bytes()).hexdigest() != rows["kb.json"]


def test_each_file_states_the_content_version_where_its_format_allows(
    built: tuple[Path, str],
) -> None:
    site, head = built
    folder = site / "downloads"
    stated = json.loads((folder / "kb.json").read_text(encoding="utf-8"))["version"]
    assert stated == {
        "knowledge_base": "Race Equality Evidence Knowledge Base",
        "version": "unreleased",
        "label": "not yet released, last changed 1 December 2026",
        "release": None,
        "released_on": None,
        "changed_since_release": None,
        "updated": "2026-12-01",
        "commit": head,
        "uncommitted_changes": False,
    }
    with sqlite3.connect(folder / "kb.sqlite") as database:
        table = dict(database.execute("SELECT name, value FROM content_version"))
    assert (table["version"], table["updated"], table["commit"]) == (
        "unreleased",
        "2026-12-01",
        head,
    )
    comment = (
        "Race Equality Evidence Knowledge Base: content version unreleased (not yet released, "
        f"last changed 1 December 2026), commit {head}"
    )
    for name, read in (("graph.graphml", nx.read_graphml), ("graph.gexf", nx.read_gexf)):
        text = (folder / name).read_text(encoding="utf-8")
        assert text.splitlines()[1] == f"<!-- {comment} -->", name
        assert read(folder / name).number_of_nodes() > 0, name
    graph = json.loads((folder / "graph.json").read_text(encoding="utf-8"))
    assert graph["graph"]["content_version"] == stated
    bibtex = (folder / "references.bib").read_text(encoding="utf-8")
    assert bibtex.startswith(f"@comment{{{comment}}}\n")
    library = bibtexparser.parse_string(bibtex)
    assert len(library.entries) == 3 and not library.failed_blocks  # 1 source, 2 studies
    page = html.unescape((folder / "index.html").read_text(encoding="utf-8"))
    assert "Content version: not yet released, last changed 1 December 2026" in re.sub(
        r"<[^>]+>", "", page
    )


def test_a_version_comment_cannot_end_its_comment() -> None:
    from kb.render.downloads import _comment_line

    line = _comment_line({"knowledge_base": "A -- B {x} @y", "version": "1.0.0", "label": "x"})
    assert "--" not in line and "{" not in line and "@" not in line


@pytest.mark.parametrize("start_method", ["fork", "spawn"])
def test_downloads_that_fail_stop_the_build_and_leave_the_staged_pages(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, start_method: str
) -> None:
    """The downloads are written by a fork of the build while it writes the theme briefs, or,
    where it cannot fork (``spawn``: a process with other threads), by the build itself: a
    failure either way stops the build, with its reason, and the pages staged before stay as
    they were."""
    import sqlite3

    import kb.render
    from kb.errors import DownloadsFailed
    from kb.graph.evidence import graph_of
    from kb.render import SiteSources, render_site
    from kb.site_config import SiteInfo
    from kb.store.current import build_db
    from kb.store.database import open_store
    from kb.store.export import export_document

    monkeypatch.setattr(kb.render, "quickest_start_method", lambda: start_method)
    root = base_repository(tmp_path)
    paths = pipeline.Paths(root, tmp_path / "kb.sqlite", tmp_path / "index")
    build_db(paths)
    engine = open_store(paths.database)
    document = export_document(engine)
    engine.dispose()
    staging = tmp_path / "docs"
    render_site(
        document,
        graph_of(document),
        SiteSources(build_site.DOCS, staging, paths.database),
        SiteInfo("Test"),
    )
    staged = {path: path.stat().st_mtime_ns for path in staging.rglob("*")}
    assert (staging / "downloads" / "kb.sqlite").is_file()

    not_a_store = tmp_path / "not-a-store"
    not_a_store.mkdir()  # the store's copy cannot be made from a folder
    sources = SiteSources(build_site.DOCS, staging, not_a_store)
    failure: tuple[type[Exception], str] = (
        (DownloadsFailed, "the downloads were not written: OperationalError")
        if start_method == "fork"
        else (sqlite3.OperationalError, "unable to open database")
    )
    with pytest.raises(failure[0], match=failure[1]):
        render_site(document, graph_of(document), sources, SiteInfo("Test"))
    assert {path: path.stat().st_mtime_ns for path in staging.rglob("*")} == staged
