"""Build the public site from the records in one command.

Usage: python build_site.py [--root PATH] [--site PATH] [--full] [--serve]

Runs ``kb.pipeline.build`` (check → store → graph → search index → generated pages, written
with the hand-written docs/ into ROOT/build/docs), then ``mkdocs build --strict``. MkDocs builds
into a temporary folder beside the site folder, which replaces it only when the build succeeds,
so a failed build leaves the previous site as it was. Pages whose Markdown did not change are
kept from the previous site rather than rendered again (``kb.site_plugins``; ``--full`` renders
them all). ``--serve`` previews the site instead,
rebuilding and reloading the browser when a hand-written page in docs/ changes.
"""

import json
import logging
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from kb import pipeline
from kb.cli import fails_cleanly, print_problems
from kb.errors import SiteBuildFailed
from kb.folder_swap import recover_folder, replace_folder
from kb.localization import ENGLISH, LANGUAGES, ConfigLoader
from kb.settings import check_environment
from kb.site_config import SiteInfo, read_site_info
from kb.site_facts import SiteFacts, site_facts

if TYPE_CHECKING:
    from mkdocs.config.defaults import MkDocsConfig

    from kb.site_plugins import InterfaceLanguage, ReusePreviousPages

REPOSITORY = Path(__file__).resolve().parent
CONFIG = REPOSITORY / "mkdocs.yml"
DOCS = REPOSITORY / "docs"
# Besides the generated pages, what goes into every page of the site: a change to any of it
# (or to mkdocs.yml, or the MkDocs and Material versions) makes the next build render them all.
SITE_INPUTS = (
    REPOSITORY / "overrides",
    DOCS,
    REPOSITORY / "kb" / "site_markdown.py",
    REPOSITORY / "kb" / "site_plugins.py",
    REPOSITORY / "kb" / "site_facts.py",
    REPOSITORY / "kb" / "locale",
    REPOSITORY / "docs-cy",
)
# What the site was built from, kept in the site (a small file, not a page; kb.site_plugins).
SITE_STAMP = ".kb-site-inputs.json"


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


def staging_folder(paths: pipeline.Paths) -> Path:
    return paths.root / "build" / "docs"


def recover_site(site: Path) -> None:
    """Tidy up after a build that was killed: put back a site it had moved aside (if the site
    is missing), and remove its half-built folders."""
    recover_folder(site)


def mkdocs_build(
    docs: Path,
    site: Path,
    *,
    facts: SiteFacts,
    config: Path = CONFIG,
    reuse: bool = True,
    languages: tuple[str, ...] = LANGUAGES,
) -> tuple[int, int]:
    """``mkdocs build --strict`` from ``docs`` into ``site``, swapped in only on success.

    With ``reuse``, and a previous ``site`` built from the same configuration, theme,
    hand-written pages and footer ``facts`` (``kb.site_plugins``), only pages whose Markdown
    changed since are rendered again. Returns the number of pages, and how many of them were
    rendered. Each other of ``languages`` whose pages are staged beside ``docs`` (``docs-cy``)
    is then built, every page rendered, into its folder of the site (``cy/``), with its own
    search index.
    """
    from mkdocs.commands.build import build
    from mkdocs.config import load_config
    from mkdocs.exceptions import MkDocsException

    from kb.site_plugins import (
        SEARCH_INDEX,
        InterfaceLanguage,
        ReusePreviousPages,
        seed_site,
        site_inputs_digest,
    )

    counter = _Counter()
    logging.getLogger("mkdocs").addHandler(counter)
    inputs = site_inputs_digest(config, *SITE_INPUTS, extra=facts.fingerprint())
    stamp = site / SITE_STAMP
    previous = json.loads(stamp.read_text()) if reuse and stamp.is_file() else None
    index = site / SEARCH_INDEX
    dirty = previous is not None and previous.get("inputs") == inputs and index.is_file()
    plugin = ReusePreviousPages(json.loads(index.read_text()) if dirty else None)

    def build_into(folder: Path) -> None:
        settings = load_config(str(config), docs_dir=str(docs), site_dir=str(folder), strict=True)
        if dirty:
            seed_site(site, folder)
            (folder / SITE_STAMP).unlink()
        add_site_plugins(settings, facts, plugin, InterfaceLanguage(ENGLISH, 0))
        # Not dirty to the plugins: Material would merge in a search index it kept from an
        # earlier build in this process; ReusePreviousPages merges the right one.
        settings.plugins.on_startup(command="build", dirty=False)
        try:
            build(settings, dirty=dirty)
        finally:
            settings.plugins.on_shutdown()
        pagefind_index(folder)  # before the other languages' sites join it: English only
        for language in languages[1:]:  # those whose pages are staged beside the English
            staged = docs.with_name(f"{docs.name}-{language}")
            if staged.is_dir():
                translated_build(staged, folder / language, language, facts)
                pagefind_index(folder / language)  # its own index, with no English stemming
        (folder / SITE_STAMP).write_text(json.dumps({"inputs": inputs}) + "\n")

    try:
        replace_folder(site, build_into, discard_in_background=True)
    except MkDocsException as error:
        raise SiteBuildFailed(
            f"mkdocs build failed ({error}); {counter.count} warnings above. "
            f"The previous site in {site} is unchanged."
        ) from None
    finally:
        logging.getLogger("mkdocs").removeHandler(counter)
    return len(plugin.page_order), len(plugin.rendered)


def add_site_plugins(
    settings: "MkDocsConfig",
    facts: SiteFacts,
    reuse: "ReusePreviousPages",
    language: "InterfaceLanguage",
) -> None:
    """Add the project's MkDocs plugins (``kb.site_plugins``) to a loaded configuration, in
    the order they must run: the downloads first, since the rest look at the pages."""
    from kb.site_plugins import (
        FooterFacts,
        IndexWithPagefind,
        JsonFrontMatter,
        MarkdownDownloads,
        SharedTemplateParts,
        TrimmedTemplates,
    )

    settings.plugins["kb-markdown-downloads"] = MarkdownDownloads()
    settings.plugins["kb-reuse-previous-pages"] = reuse
    settings.plugins["kb-shared-template-parts"] = SharedTemplateParts()
    settings.plugins["kb-trimmed-templates"] = TrimmedTemplates()
    settings.plugins["kb-footer-facts"] = FooterFacts(facts)
    settings.plugins["kb-index-with-pagefind"] = IndexWithPagefind()
    settings.plugins["kb-json-front-matter"] = JsonFrontMatter()
    settings.plugins["kb-interface-language"] = language


def translated_config(language: str, folder: Path, config: Path = CONFIG) -> Path:
    """A configuration for the site in ``language``, written beside the staged pages: the
    English one (MkDocs' ``INHERIT``) with Material's interface in ``language`` and the
    navigation's titles translated from the catalogue (``kb.localization``), written into
    ``folder``."""
    import yaml

    from kb.localization import translated_navigation, translations

    say = translations(language).gettext
    english = yaml.load(config.read_text(encoding="utf-8"), Loader=ConfigLoader)
    settings: dict[str, Any] = {
        "INHERIT": str(config),
        "site_name": say(english["site_name"]),
        "theme": {"language": language, "custom_dir": str(config.parent / "overrides")},
        "nav": translated_navigation(english.get("nav") or [], say),
    }
    if english.get("site_url"):
        settings["site_url"] = f"{english['site_url'].rstrip('/')}/{language}/"
    target = folder / f"mkdocs-{language}.yml"
    target.write_text(yaml.safe_dump(settings, allow_unicode=True), encoding="utf-8")
    return target


def untranslated_pages(docs: Path, translated: Path) -> frozenset[str]:
    """The hand-written pages of ``docs`` that ``translated`` has no version of: the site in
    that language shows them in English, marked as such."""
    return frozenset(
        path.relative_to(docs).as_posix()
        for path in docs.rglob("*.md")
        if not (translated / path.relative_to(docs)).is_file()
    )


def translated_build(docs: Path, site: Path, language: str, facts: SiteFacts) -> None:
    """``mkdocs build --strict`` of the site in ``language`` from its staged pages ``docs``
    into ``site`` (a folder of the English site), every page rendered."""
    from mkdocs.commands.build import build
    from mkdocs.config import load_config

    from kb.localization import catalogue_state
    from kb.site_plugins import InterfaceLanguage, ReusePreviousPages

    config = translated_config(language, docs.parent)
    settings = load_config(str(config), docs_dir=str(docs), site_dir=str(site), strict=True)
    drafts = catalogue_state(language).drafts
    untranslated = untranslated_pages(DOCS, DOCS.with_name(f"{DOCS.name}-{language}"))
    interface = InterfaceLanguage(language, drafts, untranslated)
    add_site_plugins(settings, facts, ReusePreviousPages(None), interface)
    settings.plugins.on_startup(command="build", dirty=False)
    try:
        build(settings, dirty=False)
    finally:
        settings.plugins.on_shutdown()


def pagefind_index(folder: Path) -> None:
    """Index the built site in ``folder`` for its search box (Pagefind, run from its PyPI
    package), with the kind of each indexed page beside it (``kb.render.site_search``). The
    previous index goes first: its files may be hard links into the site in use
    (``kb.site_plugins.seed_site``), which Pagefind must not write through."""
    import shutil
    import subprocess

    from kb.render.site_search import write_page_kinds

    shutil.rmtree(folder / "pagefind", ignore_errors=True)
    done = subprocess.run(
        [
            *(sys.executable, "-m", "pagefind", "--site", str(folder), "--silent"),
            *("--exclude-selectors", ".headerlink"),  # the ¶ after every heading
            *("--exclude-selectors", "dt"),  # a list's labels ("Authors", "Year"), not its values
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise SiteBuildFailed(f"the search index could not be built: {done.stderr.strip()}")
    write_page_kinds(folder / "pagefind")  # for the search worker, beside the index


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
    staging = staging or staging_folder(paths)
    pages = 0

    def generate() -> pipeline.Step:
        nonlocal pages
        started = time.perf_counter()
        info = site_info()
        facts = site_facts(paths.root, info.repository, info.contact)
        pages, rendered = mkdocs_build(
            staging, site, reuse=not full, facts=facts, languages=languages
        )
        kept = "" if rendered == pages else f" ({rendered} rendered, the rest kept from before)"
        detail = f"{pages} pages in {site}{kept}"
        return pipeline.Step("mkdocs", detail, time.perf_counter() - started)

    built = pipeline.build(
        paths,
        DOCS,
        staging,
        site_info(),
        progress=progress,
        alongside=generate,
        languages=languages,
    )
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
