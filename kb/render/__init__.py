"""Records → Markdown pages for the public site, independent of the site generator.

``render_site`` assembles the folder MkDocs builds from: the hand-written pages of ``docs/``,
the downloads, and one generated page per record plus the listing pages. Templates live in
``kb/templates``; every record field reaches them as untrusted text and is made inert by one
function, ``kb.render.escape.inert``. A record's page whose reads did not change since the
previous build is that build's file, not rendered again (``kb.render.dependencies``).

Takes: the export document (``kb.store.export``), the graph (``kb.graph.evidence``), the history
(``kb.history``) and the hand-written pages of ``docs/``.
Gives: the folder of Markdown pages MkDocs builds from (``build/docs``, and ``build/docs-cy``
in Welsh), with the downloads (``downloads``).
May import: every step before it and ``kb.brief``; never the site, the edits or the CLI.
"""

import datetime
import filecmp
import os
import shutil
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import networkx as nx

from kb.brief import Edition, Records
from kb.errors import DownloadsFailed, PageClash
from kb.files import replace_folder
from kb.localization import ENGLISH, LANGUAGES, in_language
from kb.processes import Background, Outcome, quickest_start_method
from kb.records.document import Document
from kb.render.brief_page import WordBriefs, theme_brief_downloads, write_theme_briefs
from kb.render.dependencies import inputs_digest
from kb.render.downloads import Written, listed_downloads, write_download_files
from kb.render.model import GraphAnswers, SiteModel
from kb.render.pages import Rendered, hand_written_pages, render_pages
from kb.render.script_words import write_script_words
from kb.render.site_search import write_search_vocabulary
from kb.site_config import SiteInfo

if TYPE_CHECKING:
    from kb.history.published import PublishedHistory
    from kb.history.version import ContentVersion

__all__ = [
    "PageClash",
    "Rendered",
    "SiteInfo",
    "SiteSources",
    "keep_unchanged_times",
    "render_site",
    "stage_docs",
]

# Hand-written pages the generated pages link to or the navigation lists by name.
LINKED_HAND_WRITTEN = {"about.md"}


def stage_docs(docs: Path, staging: Path, link: bool = False) -> None:
    """Empty ``staging`` and fill it with the hand-written pages and assets of ``docs``.

    With ``link``, files are symbolic links to the originals, so a preview server that reads
    them sees every edit at once.
    """
    if staging.exists():
        shutil.rmtree(staging)
    staging.mkdir(parents=True)
    if not docs.is_dir():
        return
    for path in sorted(docs.rglob("*")):
        target = staging / path.relative_to(docs)
        if path.is_dir():
            target.mkdir(exist_ok=True)
        elif link:
            os.symlink(path.resolve(), target)
        else:
            shutil.copy2(path, target)


@dataclass(frozen=True)
class SiteSources:
    """Where the pages come from and go to."""

    docs: Path  # hand-written pages and assets
    staging: Path  # the folder MkDocs builds from, rewritten by every build (see render_site)
    database: Path  # the store, offered as a download
    # For a language other than English: its hand-written pages, in place of docs' namesakes.
    translated_docs: Path | None = None


@dataclass(frozen=True)
class Shared:
    """What every language's pages offer from the English site: its downloads (the records'
    files are in English) and theme briefs."""

    downloads: list[Any]
    theme_briefs: list[Any]
    # The theme briefs framed in each other language (kb.render.brief_page), by language.
    translated_briefs: dict[str, list[Any]] = field(default_factory=dict)
    answers: GraphAnswers | None = None  # the graph's, worked out for the English pages


def overlay_docs(translated: Path, staging: Path) -> None:
    """Put the translated hand-written pages of ``translated`` in place of their namesakes."""
    for path in sorted(translated.rglob("*")):
        target = staging / path.relative_to(translated)
        if path.is_dir():
            target.mkdir(exist_ok=True)
        else:
            shutil.copy2(path, target)


def render_site(
    document: Document,
    graph: "nx.MultiDiGraph[str]",
    where: SiteSources,
    site: SiteInfo,
    link_docs: bool = False,
    history: "PublishedHistory | None" = None,
    language: str = ENGLISH,
    shared: Shared | None = None,
) -> tuple[Rendered, Shared]:
    """Stage the hand-written docs, write the downloads and every generated page.

    ``document`` is the store's export document (``kb.store.export``) and ``graph`` the evidence
    graph made from it (``kb.graph.evidence.graph_of``). Everything is written into a fresh folder
    that then replaces ``where.staging``; a file whose bytes are those of the previous build keeps
    the previous build's modification time (a generated page is then that build's file,
    hard-linked), so the site generator can tell which pages changed (``kb.site.plugins``).

    In a ``language`` other than English, the pages speak it (``kb.localization``) and offer
    the English site's downloads, ``shared``, rather than writing them again.
    """
    staged: Shared | None = shared

    def build(fresh: Path) -> Rendered:
        nonlocal staged
        stage_docs(where.docs, fresh, link=link_docs)
        if where.translated_docs is not None and where.translated_docs.is_dir():
            overlay_docs(where.translated_docs, fresh)
        hand_written = list(hand_written_pages(fresh))
        version = history.version if history else None
        if staged is None:
            downloads_folder = fresh / "downloads"
            writing = DownloadsAlongside(
                document, graph, where.database, downloads_folder, version, site.name
            )
            try:
                edition = Edition(site, site.release, datetime.date.today())
                word = WordBriefs(where.staging.with_name("word-briefs"))  # kept between builds
                theme_briefs = write_theme_briefs(Records(document), edition, fresh, ENGLISH, word)
                translated_briefs = {
                    other: write_theme_briefs(
                        Records(in_language(document, other)), edition, fresh, other, word
                    )
                    for other in LANGUAGES
                    if other != ENGLISH
                }
                word.forget_unused()
            except BaseException:
                writing.stop()
                raise
            written = writing.written()
            downloads = listed_downloads(
                downloads_folder,
                [
                    *written,
                    *theme_brief_downloads(theme_briefs),
                    *(
                        listed
                        for other, briefs in translated_briefs.items()
                        for listed in theme_brief_downloads(briefs, other)
                    ),
                ],
            )
            staged = Shared(downloads, theme_briefs, translated_briefs, GraphAnswers(graph))
        write_search_vocabulary(fresh, language)
        write_script_words(fresh, language)
        others = [page for page in hand_written if page.path not in LINKED_HAND_WRITTEN]
        previous = where.staging if where.staging.is_dir() else None
        inputs = inputs_digest(
            site, language, history_fingerprint(history), [page.path for page in hand_written]
        )
        rendered = render_pages(
            SiteModel(in_language(document, language), graph, staged.answers),
            fresh,
            site,
            staged.downloads,
            others,
            previous,
            history,
            staged.translated_briefs.get(language, staged.theme_briefs),
            language,
            inputs,
        )
        keep_unchanged_times(where.staging, fresh)
        return rendered

    # The previous pages are deleted by a process of their own: at 10,000 studies that
    # took 1.5 s in each language.
    rendered = replace_folder(where.staging, build, discard_in_background=True)
    assert staged is not None
    return rendered, staged


class DownloadsAlongside:
    """``write_download_files``, in a fork of this process while it goes on (it has the
    document and graph already), where it can fork (``quickest_start_method``); else here, now.

    In a rebuild at 10,000 studies the downloads took 6 s and the theme briefs, which the build
    writes meanwhile, 5 s, one after the other on one of two cores. A process with other
    threads (the preview server) cannot fork safely, and spawning one took longer than the
    downloads of the real knowledge base, so it writes them itself.
    """

    def __init__(
        self,
        document: Document,
        graph: "nx.MultiDiGraph[str]",
        database: Path,
        folder: Path,
        version: "ContentVersion | None",
        site_name: str,
    ) -> None:
        arguments = (document, graph, database, folder, version, site_name)
        self._worker: Background | None = None
        self._written: list[Written] = []
        if quickest_start_method() == "fork":
            self._worker = Background(_write_download_files, arguments, "fork")
        else:
            self._written = write_download_files(*arguments)

    def written(self) -> list[Written]:
        """Each download's path, title and description, once written; ``DownloadsFailed``
        when the fork did not write them."""
        if self._worker is None:
            return self._written
        outcome, written = self._worker.outcome()
        if outcome != "done":
            raise DownloadsFailed(
                f"the downloads were not written: {written or 'their process stopped'} "
                f"(exit code {self._worker.exit_code})"
            )
        return written  # type: ignore[no-any-return]

    def stop(self) -> None:
        if self._worker is not None:
            self._worker.stop()


def _write_download_files(*arguments: Any) -> Outcome:
    """``write_download_files``, in the fork ``DownloadsAlongside`` starts."""
    try:
        return ("done", write_download_files(*arguments))
    except Exception as error:  # reported by the build, which stops
        return ("failed", f"{type(error).__name__}: {error}")


def history_fingerprint(history: "PublishedHistory | None") -> Any:
    """What the pages show of the history, in brief: which commits and releases there are."""
    if history is None:
        return None
    return [
        history.history.unavailable,
        history.history.uncommitted,
        [commit.sha for commit in history.history.commits],
        history.version,
        [
            [release.release, [commit.sha for commit in release.commits], release.unavailable]
            for release in history.releases
        ],
    ]


def keep_unchanged_times(previous: Path, fresh: Path) -> int:
    """Give each file of ``fresh`` whose bytes equal its namesake's in ``previous`` that file's
    access and modification times; return how many kept them."""
    if not previous.is_dir():
        return 0
    kept = 0
    for directory, _, names in os.walk(fresh):
        for name in names:
            path = Path(directory, name)
            before = previous / path.relative_to(fresh)
            try:
                now, then = path.lstat(), before.lstat()
            except OSError:  # no such file before (or none that can be read): nothing kept
                continue
            if not stat.S_ISREG(now.st_mode) or not stat.S_ISREG(then.st_mode):
                continue
            if os.path.samestat(now, then):  # linked by ``write_or_link``: the same file
                kept += 1
            elif filecmp.cmp(before, path, shallow=False):
                os.utime(path, ns=(then.st_atime_ns, then.st_mtime_ns))
                kept += 1
    return kept
