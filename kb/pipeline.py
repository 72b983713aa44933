"""The data flow, one step after another: records → validation → SQLite → graph → index → pages.

Each function here runs the steps up to the one it names, so any command can start from the
records on disk and rebuild whatever it needs. Where the records and what is built from them
live, and whether the store is current, is ``kb.paths``.
"""

import resource
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from kb.errors import IndexBuildFailed, KnowledgeBaseError, Problem
from kb.localization import language_folder

# Re-exported: the pipeline's callers name its paths through it (kb.paths stays light for the CLI).
from kb.paths import (
    Paths as Paths,
)
from kb.paths import (
    find_root as find_root,
)
from kb.paths import (
    history_cache as history_cache,
)
from kb.paths import (
    store_is_current as store_is_current,
)
from kb.processes import Background, Outcome
from kb.store import database as store
from kb.store.current import bring_up_to_date

if TYPE_CHECKING:
    from kb.history.published import PublishedHistory
    from kb.render import Rendered, SiteInfo


@dataclass(frozen=True)
class Step:
    """One finished step of ``build``: its name, what it did, and how long it took."""

    name: str
    detail: str
    seconds: float


@dataclass(frozen=True)
class Built:
    """What ``build`` produced, for the summary."""

    records: int
    pages: int
    warnings: list[Problem]
    steps: list[Step]


def _index_worker(database: Path, index_dir: Path) -> Outcome:
    """The search index step, in a process of its own (``IndexInBackground``)."""
    from kb import search

    started = time.perf_counter()
    engine = store.open_store(database)
    try:
        counts = search.update_index(engine, index_dir)
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KB
        return ("done", (counts, time.perf_counter() - started, peak_mb))
    except KnowledgeBaseError as error:
        return ("failed", str(error))
    finally:
        engine.dispose()


class IndexInBackground:
    """The search index brought up to date by another process, while the build goes on.

    The index serves the command line, not the site, so nothing after the store waits for it;
    on a machine with two cores it overlaps the rest of the build, which waits only for what
    is left of it at the end. ``wait`` gives its counts, or
    raises ``IndexBuildFailed``; ``stop`` ends it early, leaving the previous index (the
    index is swapped in whole, ``kb.files``). ``seconds`` and ``peak_mb`` are how long
    the worker took and its peak memory, once ``wait`` has returned.
    """

    def __init__(self, paths: Paths) -> None:
        self.seconds = self.peak_mb = 0.0
        self._worker = Background(_index_worker, (paths.database, paths.index))

    def wait(self) -> dict[str, int]:
        outcome, value = self._worker.outcome()
        if outcome != "done":
            raise IndexBuildFailed(
                f"the search index was not updated: {value or 'its worker process stopped'}"
                f" (exit code {self._worker.exit_code}); the previous index is unchanged"
            )
        counts, self.seconds, self.peak_mb = value
        return counts  # type: ignore[no-any-return]

    def stop(self) -> None:
        self._worker.stop()


def _history_detail(history: "PublishedHistory") -> str:
    if history.unavailable:
        return f"not available: {history.unavailable}"
    log = history.history
    cached = len(log.commits) - log.worked_out
    return (
        f"{len(log.commits)} commit{'s' if len(log.commits) != 1 else ''} "
        f"({log.worked_out} read from git, {cached} from the "
        f"cache); content version {history.version.version}"
    )


@dataclass
class Staged:
    """The site's pages staged from the records (``stage_pages``), with the search index for
    the command line still being updated by another process: ``finish`` waits for it, and
    ``stop`` ends it early, leaving the previous index."""

    records: int
    pages: int
    warnings: list[Problem]
    steps: list[Step]
    indexing: IndexInBackground
    progress: Callable[[Step], None]

    def report(self, step: Step) -> None:
        self.steps.append(step)
        self.progress(step)

    def finish(self) -> Built:
        """Wait for the search index, report it as the last step, and say what was built."""
        indexed = self.indexing.wait()
        detail = ", ".join(f"{count} {name}" for name, count in indexed.items())
        detail += f" (alongside the steps after store; peak memory {self.indexing.peak_mb:.0f} MB)"
        self.report(Step("index", detail, self.indexing.seconds))
        return Built(self.records, self.pages, self.warnings, self.steps)

    def stop(self) -> None:
        self.indexing.stop()


def stage_pages(
    paths: Paths,
    docs: Path,
    staging: Path,
    site: "SiteInfo",
    progress: Callable[[Step], None] = lambda step: None,
    link_docs: bool = False,
    languages: tuple[str, ...] = ("en",),
) -> Staged:
    """Every step from the records to the site's Markdown, each reported as it ends.

    check → store → graph → history (``kb.history``, from git) → pages (hand-written ``docs``
    staged, downloads and generated pages written into ``staging``), with the search index
    updated from the store in another process meanwhile, which the result's ``finish`` waits
    for. The site generator (``kb.site.record_pages``) builds from ``staging`` in between.

    Each language after the first (English) gets its own pages in ``staging``'s namesake
    ``staging-LANG`` (``build/docs-cy``), from the hand-written pages of ``docs`` with those of
    ``docs-LANG`` in their place (``kb.localization``).
    """
    # Imported here so that commands which never build the site stay quick to start.
    from kb.graph.evidence import graph_of
    from kb.history.published import published_history
    from kb.render import SiteSources, render_site
    from kb.store.export import export_document

    steps: list[Step] = []

    def report(step: Step) -> None:
        steps.append(step)
        progress(step)

    def finished(name: str, detail: str, started: float) -> None:
        report(Step(name, detail, time.perf_counter() - started))

    if site.release is None and (paths.root / "kb-release.yaml").is_file():
        from kb.history.release import current_release  # it imports this module

        site = replace(site, release=current_release(paths.root))  # what the pages print
    update = bring_up_to_date(paths)
    warnings, records = update.warnings, update.records
    detail = f"{records} records, {update.links} links, {len(warnings)} warnings"
    if update.against_store:
        detail += f" ({_files(update.replaced or 0)} checked against the store)"
    report(Step("check", detail, update.check_seconds))
    how = (
        "written afresh"
        if update.replaced is None
        else f"the rows of {_files(update.replaced)} replaced"
    )
    report(Step("store", f"{update.rows} rows in {paths.database} ({how})", update.store_seconds))
    engine = store.open_store(paths.database)

    indexing = IndexInBackground(paths)
    try:
        started = time.perf_counter()
        document = export_document(engine)  # read once, for the graph and for the pages
        graph = graph_of(document)
        nodes, edges = graph.number_of_nodes(), graph.number_of_edges()
        finished("graph", f"{nodes} nodes, {edges} edges", started)

        started = time.perf_counter()
        history = published_history(paths.root, history_cache(paths))
        finished("history", _history_detail(history), started)

        started = time.perf_counter()
        rendered, shared = render_site(
            document,
            graph,
            SiteSources(docs, staging, paths.database),
            site,
            link_docs=link_docs,
            history=history,
        )
        engine.dispose()
        finished(
            "pages", f"{len(rendered.pages)} generated pages in {staging}{_kept(rendered)}", started
        )
        for language in languages[1:]:
            started = time.perf_counter()
            where = SiteSources(
                docs,
                language_folder(staging, language),
                paths.database,
                language_folder(docs, language),
            )
            translated, _ = render_site(
                document, graph, where, site, link_docs, history, language, shared
            )
            detail = f"{len(translated.pages)} in {where.staging}{_kept(translated)}"
            finished(f"pages-{language}", detail, started)
    except BaseException:
        indexing.stop()
        raise
    return Staged(records, len(rendered.pages), warnings, steps, indexing, progress)


def _files(count: int) -> str:
    return f"{count} changed file{'' if count == 1 else 's'}"


def _kept(rendered: "Rendered") -> str:
    return f" ({rendered.kept} kept from before, unrendered)" if rendered.kept else ""


def build(
    paths: Paths,
    docs: Path,
    staging: Path,
    site: "SiteInfo",
    progress: Callable[[Step], None] = lambda step: None,
    languages: tuple[str, ...] = ("en",),
) -> Built:
    """``stage_pages``, then wait for the search index: the site's Markdown without the site."""
    return stage_pages(paths, docs, staging, site, progress, languages=languages).finish()
