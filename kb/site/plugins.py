"""The MkDocs plugins of the site's pages, declared in mkdocs.yml with ``kb/records``
(``kb.site.record_pages``), which builds the pages from the records.

``ReusePreviousPages`` rebuilds the site from the previous one, re-rendering only the pages
whose Markdown changed. ``SharedTemplateParts`` lets the theme override render the parts that
many pages share once (see overrides/main.html); ``TrimmedTemplates`` trims their whitespace.
``IndexWithPagefind`` marks what the site's search indexes.
``JsonFrontMatter`` reads generated pages' front matter, one line of JSON, as JSON.
``MarkdownDownloads`` keeps Markdown files under ``downloads/`` as files to download.

MkDocs renders every page on every build; at 10,000 studies that is most of the build, though
changing one record changes a handful of pages. ``mkdocs build --dirty`` renders only pages
whose source is newer than their HTML, but it builds in place, its search index holds only the
pages it rendered, and it leaves pages whose source was deleted. This module makes a dirty
build safe:

- ``seed_site`` fills the new folder with hard links to the previous site's files, so the
  previous site stays whole and in use until the new one is swapped in (``kb.files``);
- ``ReusePreviousPages``, in a dirty build, unlinks every file MkDocs is
  about to write before it writes it, so a write never reaches the previous site through a
  shared link; merges the previous search index with the entries of the re-rendered pages, in
  the order a full build writes them; and deletes files no source produces any more.

A dirty build is only right when every page not re-rendered would come out the same, which
holds when nothing but the generated pages changed: ``site_inputs_digest`` covers the rest
(the MkDocs configuration, the theme overrides, the hand-written pages, this module and the
Markdown extension, and the MkDocs and Material versions), and a full build runs whenever it
differs from the previous build's (``kb.site.record_pages``).
"""

import hashlib
import html
import json
import logging
import os
import re
from importlib.metadata import version
from pathlib import Path
from typing import Any

from jinja2 import Environment
from mkdocs.config.defaults import MkDocsConfig
from mkdocs.plugins import BasePlugin, event_priority
from mkdocs.structure.files import File, Files
from mkdocs.structure.pages import Page

from kb.render.site_search import SYNONYMS_MARK, synonyms_to_add

SEARCH_INDEX = Path("search") / "search_index.json"
# Files MkDocs and Material write on every build, dirty or not, whatever changed.
ALWAYS_WRITTEN = (SEARCH_INDEX, Path("sitemap.xml"), Path("sitemap.xml.gz"), Path("404.html"))
_DIRTY_WARNING = "A 'dirty' build is being performed"


def site_inputs_digest(*inputs: Path, extra: str = "") -> str:
    """A hash of every file under ``inputs`` (files or folders), of the MkDocs and Material
    versions and of ``extra``: what, besides the generated pages, goes into every page."""
    digest = hashlib.sha256(extra.encode())
    for package in ("mkdocs", "mkdocs-material"):
        digest.update(f"{package}=={version(package)}\n".encode())
    for start in inputs:
        paths = sorted(start.rglob("*")) if start.is_dir() else [start]
        for path in paths:
            if path.is_file():
                digest.update(f"{path.relative_to(start.parent).as_posix()}\n".encode())
                digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def seed_site(previous: Path, folder: Path) -> int:
    """Hard-link every file of ``previous`` into the empty ``folder``; return how many."""
    linked = 0
    for directory, _, names in os.walk(previous):
        target = folder / Path(directory).relative_to(previous)
        target.mkdir(exist_ok=True)
        for name in names:
            os.link(Path(directory) / name, target / name)
            linked += 1
    return linked


class _DropDirtyWarning(logging.Filter):
    """MkDocs warns that a dirty build may be inaccurate; this one is made accurate, and the
    warning would fail the build in strict mode."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith(_DIRTY_WARNING)


class SharedTemplateParts(BasePlugin):  # type: ignore[type-arg]
    """Gives the theme's templates ``kb_shared_parts``, a dict that lives for one build, in
    which overrides/main.html keeps the parts of a page that many pages share."""

    def on_env(self, env: Environment, *, config: MkDocsConfig, files: Files) -> Environment:
        env.globals["kb_shared_parts"] = {}
        return env


class TrimmedTemplates(BasePlugin):  # type: ignore[type-arg]
    """Renders the theme's templates with Jinja's ``trim_blocks`` and ``lstrip_blocks``, so a
    line that holds only a template tag leaves neither a blank line nor its indentation in the
    page: about a sixth of a record page's HTML (issue 18, item 4). The words of every page are
    the same (tests/test_site.py); a template that relied on such a line for the space between
    two words says so with an explicit space (overrides/partials/copyright.html)."""

    def on_env(self, env: Environment, *, config: MkDocsConfig, files: Files) -> Environment:
        env.trim_blocks = env.lstrip_blocks = True
        return env


class _Download(File):
    """A file of ``downloads/`` that MkDocs would take for a page by its ending."""

    def is_documentation_page(self) -> bool:
        return False


class MarkdownDownloads(BasePlugin):  # type: ignore[type-arg]
    """Copies the Markdown files under ``downloads/`` (the theme briefs, kb.render.brief_page)
    into the site as they are, to be downloaded, instead of rendering them as pages. Must run
    before the plugins that look at the pages."""

    def on_files(self, files: Files, *, config: MkDocsConfig) -> Files:
        for file in list(files):
            if file.src_uri.startswith("downloads/") and file.is_documentation_page():
                files.remove(file)
                files.append(
                    _Download(file.src_uri, file.src_dir, file.dest_dir, file.use_directory_urls)
                )
        return files


class JsonFrontMatter(BasePlugin):  # type: ignore[type-arg]
    """Reads the front matter of generated pages (``kb.render.escape.front_matter``: one line
    of JSON) with ``json.loads`` instead of a YAML parser, a tenth of MkDocs' time per record
    page. JSON is YAML, so the metadata is the same; any other page is left to MkDocs."""

    def __init__(self) -> None:
        super().__init__()
        self.meta: dict[str, dict[str, Any]] = {}  # source path → its front matter

    def on_page_read_source(self, *, page: Page, config: MkDocsConfig) -> str | None:
        source = page.file.content_string
        if not source.startswith("---\n{"):
            return None
        line, _, after = source[4:].partition("\n")
        markdown = after[4:].lstrip("\n") if after.startswith("---\n") else ""
        if not markdown.startswith("# "):  # else MkDocs might read text as metadata
            return None
        try:
            meta = json.loads(line)
        except ValueError:
            return None
        if not isinstance(meta, dict):
            return None
        self.meta[page.file.src_uri] = meta
        return markdown

    @event_priority(100)  # before any other plugin looks at the page's metadata
    def on_page_markdown(
        self, markdown: str, *, page: Page, config: MkDocsConfig, files: Files
    ) -> str:
        meta = self.meta.pop(page.file.src_uri, None)
        if meta is not None:
            page.meta = meta
        return markdown


# A top-level heading whose section, to the next heading, Material's search leaves out.
_EXCLUDED_SECTION = "\n<h2 data-search-exclude"
# A heading's start tag; Material's search starts a section at each one that has an id.
_HEADING = re.compile(r"<h[1-6](?:\s[^>]*)?>")


def indexed_end(content: str) -> int | None:
    """Where the searchable part of a page's HTML ends: at the first top-level heading marked
    ``data-search-exclude`` when every heading after it is marked too (the sections of record
    pages that hold evidence tables and citations). Headings without an id start no section,
    so they do not count. None when the whole page is searchable."""
    cut = content.find(_EXCLUDED_SECTION)
    if cut < 0:
        return None
    for heading in _HEADING.finditer(content, cut):
        tag = heading.group()
        if " id=" in tag and " data-search-exclude" not in tag:
            return None
    return cut


class IndexWithPagefind(BasePlugin):  # type: ignore[type-arg]
    """Marks what the site's search (Pagefind, run over the built site) indexes, and keeps
    Material's own search index empty.

    A page's searchable part is wrapped in ``data-pagefind-body``, which carries its kind
    (``data-pagefind-filter``) and, for a statement, its level (``data-pagefind-meta``), from
    its front matter (``kb_search``; a hand-written page is a "Page"). On record pages the
    searchable part ends at the first heading marked ``data-search-exclude`` (``indexed_end``);
    elements marked so inside it become ``data-pagefind-ignore``. Listing pages (front matter
    ``search: exclude``) are not indexed. Every page is excluded from Material's index, whose
    search box asks Pagefind through our worker (docs/javascripts/kb-search.js).
    """

    def __init__(self) -> None:
        super().__init__()
        self.indexed: dict[str, dict[str, str] | None] = {}  # page URL → kind and level

    @event_priority(90)  # after JsonFrontMatter, before Material's search plugin
    def on_page_markdown(
        self, markdown: str, *, page: Page, config: MkDocsConfig, files: Files
    ) -> str:
        excluded = bool((page.meta.get("search") or {}).get("exclude"))
        self.indexed[page.url] = None if excluded else page.meta.get("kb_search", _PAGE)
        page.meta["search"] = {"exclude": True}
        return markdown

    @event_priority(100)
    def on_page_context(self, context: Any, *, page: Page, config: MkDocsConfig, nav: Any) -> Any:
        search = self.indexed.pop(page.url, None)
        content = page.content or ""
        if search is None:
            return context
        end = indexed_end(content)
        searchable, rest = (content, "") if end is None else (content[:end], content[end:])
        attributes = f'data-pagefind-filter="kind:{html.escape(search["kind"])}"'
        if search.get("level"):
            attributes += f' data-pagefind-meta="level:{html.escape(search["level"])}"'
        searchable = searchable.replace(" data-search-exclude", " data-pagefind-ignore")
        searchable = searchable.replace("<h1", f'<h1 data-pagefind-weight="{TITLE_WEIGHT}"', 1)
        page.content = (
            f"<div data-pagefind-body {attributes}>\n{searchable}"
            f"{_synonyms_element(searchable)}</div>\n{rest}"
        )
        return context


def _synonyms_element(searchable: str) -> str:
    """A hidden element holding the synonyms to index with a page (``synonyms_to_add``), after
    the mark the search worker cuts them off at; empty when there are none."""
    title = _TITLE.search(searchable)
    added = synonyms_to_add(_text(title.group(1)) if title else "", _text(searchable))
    if not added:
        return ""
    terms = html.escape(", ".join(added))
    return f'<div hidden data-pagefind-weight="{SYNONYM_WEIGHT}">{SYNONYMS_MARK} {terms}</div>\n'


def _text(fragment: str) -> str:
    return html.unescape(_TAG.sub(" ", fragment))


_TAG = re.compile(r"<[^>]*>")
_TITLE = re.compile(r"<h1[^>]*>(.*?)</h1>", re.DOTALL)
# How much a synonym added to a page weighs in the site's search against the page's own words:
# a little less, wherever the word it stands for is. (Weighing a title's synonyms as the title
# weighs put studies titled with a synonym above the recommendations the query names.)
SYNONYM_WEIGHT = 0.8


_PAGE = {"kind": "Page"}
# How much more a page's title weighs than its text in the site's search (Pagefind's most is
# 10; a heading is 7 by default): a record is named by its title.
TITLE_WEIGHT = 10


class ReusePreviousPages(BasePlugin):  # type: ignore[type-arg]
    """Makes a ``dirty`` MkDocs build into a seeded copy of the previous site produce what a
    full build would (see the module's docstring)."""

    # No ``on_startup``: MkDocs would keep one instance for every build in the process.

    def __init__(self) -> None:
        super().__init__()
        # The previous site's, read before the build; None for a build into an empty folder,
        # where the plugin only counts what is rendered. A build that is not dirty empties
        # the folder after reading it, renders every page and so keeps none of it.
        self.previous_search_index: dict[str, Any] | None = None
        self.rendered: set[str] = set()  # URLs of the pages this build renders
        self.page_order: dict[str, int] = {}  # URL of every page → its place in the build
        self.produced: set[Path] = set()  # every file this build's sources produce
        self.other_sites: frozenset[str] = frozenset()  # folders other builds write (cy/)
        self.warning_filter = _DropDirtyWarning()

    def on_pre_build(self, *, config: MkDocsConfig) -> None:
        index = Path(config.site_dir) / SEARCH_INDEX
        if index.is_file():
            self.previous_search_index = json.loads(index.read_text(encoding="utf-8"))
        logging.getLogger("mkdocs.commands.build").addFilter(self.warning_filter)
        for written in ALWAYS_WRITTEN:
            (Path(config.site_dir) / written).unlink(missing_ok=True)

    def on_files(self, files: Files, *, config: MkDocsConfig) -> Files:
        for file in files:
            destination = Path(file.abs_dest_path)
            self.produced.add(destination)
            if file.is_documentation_page():
                self.page_order[file.url] = len(self.page_order)
            if file.is_modified():
                destination.unlink(missing_ok=True)
                if file.is_documentation_page():
                    self.rendered.add(file.url)
        return files

    def on_post_build(self, *, config: MkDocsConfig) -> None:
        logging.getLogger("mkdocs.commands.build").removeFilter(self.warning_filter)
        if self.previous_search_index is None:  # a full build, into an empty folder
            return
        site = Path(config.site_dir)
        self._merge_search_index(site / SEARCH_INDEX)
        produced = self.produced | {site / written for written in ALWAYS_WRITTEN}
        walked = []
        for directory, folders, names in os.walk(site):
            if directory == str(site):  # the other languages' sites are theirs to tidy
                folders[:] = [name for name in folders if name not in self.other_sites]
            else:
                walked.append(directory)
            for name in names:
                if Path(directory, name) not in produced:
                    Path(directory, name).unlink()
        for directory in reversed(walked):  # each folder after those inside it
            if not os.listdir(directory):
                os.rmdir(directory)

    def _page_of(self, location: str) -> str:
        return location.partition("#")[0]

    def _merge_search_index(self, path: Path) -> None:
        """The previous index's entries for pages not re-rendered, with this build's entries,
        in the order of a full build: by page, and within a page as written."""
        if not path.is_file():
            return
        assert self.previous_search_index is not None
        current = json.loads(path.read_text(encoding="utf-8"))
        kept = [
            entry
            for entry in self.previous_search_index["docs"]
            if self._page_of(entry["location"]) in self.page_order
            and self._page_of(entry["location"]) not in self.rendered
        ]
        entries = sorted(
            kept + current["docs"],
            key=lambda entry: self.page_order[self._page_of(entry["location"])],
        )
        current["docs"] = entries
        path.unlink()  # a new file, never one shared with the previous site
        path.write_text(json.dumps(current, separators=(",", ":")), encoding="utf-8")
