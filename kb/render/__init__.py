"""Records → Markdown pages for the public site, independent of the site generator.

``render_site`` assembles the folder MkDocs builds from: the hand-written pages of ``docs/``,
the downloads, and one generated page per record plus the listing pages. Templates live in
``kb/templates``; every record field reaches them as untrusted text and is made inert by one
function, ``kb.render.escape.inert``.
"""

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import networkx as nx
from sqlalchemy.engine import Engine

from kb.downloads import write_downloads
from kb.export import export_document
from kb.render.model import SiteModel
from kb.render.pages import PageClash, Rendered, SiteInfo, hand_written_pages, render_pages

__all__ = ["PageClash", "Rendered", "SiteInfo", "SiteSources", "render_site", "stage_docs"]

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
    staging: Path  # the folder MkDocs builds from, rewritten by every build
    database: Path  # the store, offered as a download


def render_site(
    engine: Engine,
    graph: nx.MultiDiGraph,
    where: SiteSources,
    site: SiteInfo,
    link_docs: bool = False,
) -> Rendered:
    """Stage the hand-written docs, write the downloads and every generated page."""
    document = export_document(engine)
    stage_docs(where.docs, where.staging, link=link_docs)
    hand_written = list(hand_written_pages(where.docs)) if where.docs.is_dir() else []
    downloads = write_downloads(document, graph, where.database, where.staging / "downloads")
    others = [page for page in hand_written if page.path not in LINKED_HAND_WRITTEN]
    return render_pages(SiteModel(document, graph), where.staging, site, downloads, others)
