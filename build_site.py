"""Build the public site from the records in one command.

Usage: python build_site.py [--root PATH] [--site PATH] [--serve]

Runs ``kb.pipeline.build`` (check → store → graph → search index → generated pages, written
with the hand-written docs/ into ROOT/build/docs), then ``mkdocs build --strict``. MkDocs builds
into a temporary folder beside the site folder, which replaces it only when the build succeeds,
so a failed build leaves the previous site as it was. ``--serve`` previews the site instead,
rebuilding and reloading the browser when a hand-written page in docs/ changes.
"""

import logging
import sys
import time
from collections.abc import Callable
from pathlib import Path

import click
import yaml

from kb import pipeline
from kb.cli import fails_cleanly, print_problems
from kb.errors import SiteBuildFailed
from kb.folder_swap import recover_folder, replace_folder
from kb.render import SiteInfo

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
    """The site's name and published address, as mkdocs.yml gives them."""
    settings = yaml.safe_load(config.read_text(encoding="utf-8"))
    return SiteInfo(settings["site_name"], settings.get("site_url"))


def staging_folder(paths: pipeline.Paths) -> Path:
    return paths.root / "build" / "docs"


def recover_site(site: Path) -> None:
    """Tidy up after a build that was killed: put back a site it had moved aside (if the site
    is missing), and remove its half-built folders."""
    recover_folder(site)


def mkdocs_build(docs: Path, site: Path, config: Path = CONFIG) -> int:
    """``mkdocs build --strict`` from ``docs`` into ``site``, swapped in only on success.

    Returns the number of pages built.
    """
    from mkdocs.commands.build import build
    from mkdocs.config import load_config
    from mkdocs.exceptions import MkDocsException

    counter = _Counter()
    logging.getLogger("mkdocs").addHandler(counter)

    def build_into(folder: Path) -> None:
        settings = load_config(str(config), docs_dir=str(docs), site_dir=str(folder), strict=True)
        settings.plugins.on_startup(command="build", dirty=False)
        try:
            build(settings)
        finally:
            settings.plugins.on_shutdown()

    try:
        replace_folder(site, build_into)
    except MkDocsException as error:
        raise SiteBuildFailed(
            f"mkdocs build failed ({error}); {counter.count} warnings above. "
            f"The previous site in {site} is unchanged."
        ) from None
    finally:
        logging.getLogger("mkdocs").removeHandler(counter)
    return sum(1 for _ in site.rglob("*.html"))


def build_site(
    paths: pipeline.Paths,
    site: Path,
    staging: Path | None = None,
    progress: Callable[[pipeline.Step], None] = lambda step: None,
) -> tuple[pipeline.Built, int]:
    """The whole build: the pipeline's steps, then MkDocs.

    Returns the pipeline's result and the number of HTML pages.
    """
    staging = staging or staging_folder(paths)
    built = pipeline.build(paths, DOCS, staging, site_info(), progress=progress)
    started = time.perf_counter()
    pages = mkdocs_build(staging, site)
    seconds = time.perf_counter() - started
    progress(pipeline.Step("mkdocs", f"{pages} HTML pages in {site}", seconds))
    return built, pages


def _report(step: pipeline.Step) -> None:
    click.echo(f"  {step.name:<8}{step.seconds:>6.1f} s  {step.detail}")


def serve(paths: pipeline.Paths) -> None:
    """Build the pages once, then preview them, reloading when docs/ changes."""
    from mkdocs.commands.serve import serve as mkdocs_serve

    staging = staging_folder(paths)
    pipeline.build(paths, DOCS, staging, site_info(), progress=_report, link_docs=True)
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("  %(levelname)-8s%(message)s"))
    # Record pages are left out of the navigation on purpose; don't list them all.
    handler.addFilter(lambda record: 'not included in the "nav"' not in record.getMessage())
    logging.getLogger("mkdocs").addHandler(handler)
    logging.getLogger("mkdocs").setLevel(logging.INFO)
    click.echo("Previewing: edits to docs/ rebuild and reload; rerun to see record changes.")
    mkdocs_serve(str(CONFIG), livereload=True, watch=[str(DOCS)], docs_dir=str(staging))


@click.command()
@click.option("--root", metavar="PATH", help="Knowledge base folder (default: here).")
@click.option("--site", "site_dir", metavar="PATH", help="Where to write the site [ROOT/site].")
@click.option("--serve", "preview", is_flag=True, help="Preview with live reload instead.")
@fails_cleanly
def main(root: str | None, site_dir: str | None, preview: bool) -> None:
    """Build the public site from the records: check → store → graph → index → pages → MkDocs.

    Example: python build_site.py --root tests/data/tiny --site /tmp/site
    """
    paths = pipeline.Paths.for_root(root)
    if preview:
        serve(paths)
        return
    started = time.perf_counter()
    click.echo(f"Building the site for {paths.root}")
    site = Path(site_dir).resolve() if site_dir else paths.root / "site"
    built, pages = build_site(paths, site, progress=_report)
    print_problems(built.warnings)
    click.echo(
        f"Built {site}: {pages} pages from {built.records} records, "
        f"{len(built.warnings)} warnings, in {time.perf_counter() - started:.1f} s"
    )


if __name__ == "__main__":
    sys.exit(main())
