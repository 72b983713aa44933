"""Build the public site from the records in one command.

Usage: python build_site.py [--root PATH] [--site PATH] [--full] [--english-only] [--serve]

``mkdocs build`` with mkdocs.yml, whose ``kb/records`` plugin (``kb.site.record_pages``) runs the
pipeline first (check → store → graph → search index → generated pages, staged with the
hand-written docs/ into ROOT/build/docs), and then builds the Welsh site and the search box's
index. What this script adds to plain ``mkdocs build``: MkDocs builds into a copy of the
previous site beside it, which replaces it only when the build succeeds, so a failed build
leaves the previous site as it was; only the pages whose Markdown changed are rendered again
(``kb.site.plugins.ReusePreviousPages``), and only the Markdown of record pages whose records
changed is generated again (``kb.render.dependencies``), ``--full`` redoing both for every
page; and a summary of each step. ``--serve`` is ``mkdocs serve --dirty``: a preview that
builds again, rendering only the pages that changed, when a record, a hand-written page or
the theme changes.
"""

import logging
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import click

from kb import pipeline
from kb.cli import fails_cleanly, print_problems
from kb.errors import SiteBuildFailed
from kb.files import recover_folder, replace_folder
from kb.localization import ENGLISH, LANGUAGES, language_folder
from kb.paths import staging_folder
from kb.render.dependencies import READS_FILE
from kb.settings import check_environment
from kb.site.facts import SiteFacts
from kb.site_config import SiteInfo, read_site_info

if TYPE_CHECKING:
    from kb.site.record_pages import RecordPages

REPOSITORY = Path(__file__).resolve().parent
CONFIG = REPOSITORY / "mkdocs.yml"
DOCS = REPOSITORY / "docs"


class _Counter(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        self.count += 1


def site_info(config: Path = CONFIG) -> SiteInfo:
    """The site's name, published address, repository and contact, as mkdocs.yml gives them
    (kb.site_config)."""
    return read_site_info(config)


def recover_site(site: Path) -> None:
    """Tidy up after a build that was killed: put back a site it had moved aside (if the site
    is missing), and remove its half-built folders."""
    recover_folder(site)


def _build(
    site: Path,
    prepare: Callable[["RecordPages"], None],
    *,
    config: Path = CONFIG,
    reuse: bool = True,
    docs: Path | None = None,
) -> "RecordPages":
    """``mkdocs build --strict`` with ``config`` into ``site``, swapped in only on success;
    ``prepare`` sets up its ``kb/records`` plugin. With ``reuse``, MkDocs builds into a copy of
    the previous site (hard links, ``kb.site.plugins.seed_site``) as a dirty build, which
    renders only the pages whose Markdown changed if nothing else did. Returns the plugin,
    which knows what was built."""
    from mkdocs.commands.build import build
    from mkdocs.config import load_config
    from mkdocs.exceptions import MkDocsException

    from kb.site.plugins import seed_site
    from kb.site.record_pages import SITE_STAMP, records_plugin

    counter = _Counter()
    logging.getLogger("mkdocs").addHandler(counter)
    dirty = reuse and (site / SITE_STAMP).is_file()
    records: RecordPages | None = None

    def build_into(folder: Path) -> None:
        nonlocal records
        overrides = {"docs_dir": str(docs)} if docs else {}
        settings = load_config(str(config), site_dir=str(folder), strict=True, **overrides)
        records = records_plugin(settings)
        prepare(records)
        if dirty:
            seed_site(site, folder)
        settings.plugins.on_startup(command="build", dirty=dirty)
        try:
            build(settings, dirty=dirty)
        finally:
            settings.plugins.on_shutdown()

    try:
        replace_folder(site, build_into, discard_in_background=True)
    except MkDocsException as error:
        raise SiteBuildFailed(
            f"mkdocs build failed ({error}); {counter.count} warnings above. "
            f"The previous site in {site} is unchanged."
        ) from None
    finally:
        logging.getLogger("mkdocs").removeHandler(counter)
    assert records is not None
    return records


def mkdocs_build(
    docs: Path,
    site: Path,
    *,
    facts: SiteFacts,
    config: Path = CONFIG,
    reuse: bool = True,
    languages: tuple[str, ...] = LANGUAGES,
) -> tuple[int, int]:
    """MkDocs alone, from pages already staged in ``docs`` (and ``docs-cy`` beside it), with
    the footer's ``facts``: no pipeline. Returns the number of pages, and how many of them
    were rendered."""

    def prepare(records: "RecordPages") -> None:
        records.given = (facts, DOCS)
        records.languages = languages

    records = _build(site, prepare, config=config, reuse=reuse, docs=docs)
    return records.pages, records.rendered


def build_site(
    paths: pipeline.Paths,
    site: Path,
    staging: Path | None = None,
    progress: Callable[[pipeline.Step], None] = lambda step: None,
    full: bool = False,
    languages: tuple[str, ...] = LANGUAGES,
) -> tuple[pipeline.Built, int]:
    """The whole build: the pipeline's steps, then MkDocs (rendering only the pages that
    changed since the previous site, unless ``full``).

    Returns the pipeline's result and the number of pages.
    """

    def prepare(records: "RecordPages") -> None:
        records.paths = paths
        records.staging = staging  # None: kb.paths.staging_folder
        records.languages = languages
        records.progress = progress

    if full:  # render every generated page too, whatever it read last time
        staged = staging or staging_folder(paths)
        for language in languages:
            (language_folder(staged, language) / READS_FILE).unlink(missing_ok=True)
    records = _build(site, prepare, reuse=not full)
    assert records.built is not None
    return records.built, records.pages


def _report(step: pipeline.Step) -> None:
    click.echo(f"  {step.name:<8}{step.seconds:>6.1f} s  {step.detail}")


def serve(paths: pipeline.Paths) -> None:
    """``mkdocs serve`` of the knowledge base at ``paths``: a preview that builds again when a
    record, a hand-written page or the theme changes."""
    from mkdocs.commands.serve import serve as mkdocs_serve

    os.environ["KB_ROOT"] = str(paths.root)  # the kb/records plugin's knowledge base
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("  %(levelname)-8s%(message)s"))
    logging.getLogger("mkdocs").addHandler(handler)
    logging.getLogger("mkdocs").setLevel(logging.INFO)
    click.echo("Previewing: saving a record, a page of docs/ or the theme builds it again.")
    # Dirty: each build renders only the pages whose Markdown changed (kb.site.plugins).
    mkdocs_serve(str(CONFIG), livereload=True, build_type="dirty")


@click.command()
@click.option("--root", metavar="PATH", help="Knowledge base folder (default: here).")
@click.option("--site", "site_dir", metavar="PATH", help="Where to write the site [ROOT/site].")
@click.option("--serve", "preview", is_flag=True, help="Preview with live reload instead.")
@click.option("--full", is_flag=True, help="Render every page, not only those that changed.")
@click.option("--english-only", is_flag=True, help="Leave out the Welsh site (cy/).")
@fails_cleanly
def main(
    root: str | None, site_dir: str | None, preview: bool, full: bool, english_only: bool
) -> None:
    """Build the public site from the records: check → store → graph → index → pages → MkDocs.

    Example: python build_site.py --root tests/data/tiny --site /tmp/site
    """
    check_environment()
    paths = pipeline.Paths.for_root(root)
    if preview:
        serve(paths)
        return
    started = time.perf_counter()
    click.echo(f"Building the site for {paths.root}")
    site = Path(site_dir).resolve() if site_dir else paths.root / "site"
    languages = (ENGLISH,) if english_only else LANGUAGES
    built, pages = build_site(paths, site, progress=_report, full=full, languages=languages)
    print_problems(built.warnings)
    click.echo(
        f"Built {site}: {pages} pages from {built.records} records, "
        f"{len(built.warnings)} warnings, in {time.perf_counter() - started:.1f} s"
    )


if __name__ == "__main__":
    sys.exit(main())
