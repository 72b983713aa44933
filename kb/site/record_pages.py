"""The site, built by MkDocs from the records: the ``kb/records`` plugin.

mkdocs.yml declares this plugin with the others the site needs (``kb.site.plugins``), so
``mkdocs build``, ``mkdocs serve`` and ``python build_site.py`` build the same site.

- Before MkDocs reads a page, the pipeline runs (``kb.pipeline.stage_pages``): the records
  checked, the store, the graph, the history, and the generated pages staged with the
  hand-written ones of the configured ``docs_dir`` into ROOT/build/docs, which MkDocs then
  builds from. The command line's search index is updated by another process meanwhile.
- While MkDocs builds the English site, the site in each other language is built by another
  process beside it (``TranslationInBackground``). After MkDocs has written the English
  site, the plugin indexes it for the search box (Pagefind), moves each other language's
  site into its folder (``cy/``), and waits for the command line's index.
- Under ``mkdocs serve`` it watches the records, the hand-written pages and the theme, so a
  saved record is on the preview after the next build.
- A ``dirty`` build (``mkdocs build --dirty``, or ``build_site.py`` into a copy of the
  previous site) re-renders only the pages whose Markdown changed (``ReusePreviousPages``),
  unless anything else that goes into every page changed since the previous build
  (``SITE_CODE``, the theme, the hand-written pages, the footer's facts), when it renders all.

The knowledge base is ROOT: the plugin's ``root`` option, else ``KB_ROOT``, else the folder
mkdocs.yml is in. ``build_site.py`` sets ``paths`` and ``progress`` on the plugin instead.
"""

import json
import logging
import os
import subprocess
import sys
import time
from collections.abc import Callable
from contextlib import suppress
from pathlib import Path
from typing import Any

from jinja2 import Environment
from mkdocs.config import config_options
from mkdocs.config.base import Config
from mkdocs.config.defaults import MkDocsConfig
from mkdocs.livereload import LiveReloadServer
from mkdocs.plugins import BasePlugin, event_priority
from mkdocs.structure.files import Files
from mkdocs.utils import clean_directory

from kb import pipeline
from kb.errors import SiteBuildFailed
from kb.localization import ENGLISH, LANGUAGES, config_loader, language_folder
from kb.paths import staging_folder
from kb.processes import Background, Outcome, quickest_start_method
from kb.site.facts import SiteFacts, site_facts
from kb.site.plugins import ReusePreviousPages, site_inputs_digest
from kb.site_config import read_site_info

log = logging.getLogger(f"mkdocs.plugins.{__name__}")

PLUGIN = "kb/records"
# The code and data that shape every page besides the generated Markdown, so that a change to
# them renders all: kb/site, kb/locale, and the synonyms each page is indexed with
# (kb/data/synonyms.yaml, matched by kb/render/site_search.py with kb/search/analysis.py's
# spellings).
_PACKAGE = Path(__file__).parent.parent
SITE_CODE = (
    _PACKAGE / "site",
    _PACKAGE / "locale",
    _PACKAGE / "data" / "synonyms.yaml",
    _PACKAGE / "render" / "site_search.py",
    _PACKAGE / "search" / "analysis.py",
)
# What the site was built from, kept in the site (a small file, not a page).
SITE_STAMP = ".kb-site-inputs.json"
# The record folders a preview watches (besides the hand-written pages and the theme).
WATCHED = ("recommendations", "evidence", "kb-release.yaml")


class RecordPagesConfig(Config):  # type: ignore[no-untyped-call]
    root = config_options.Optional(config_options.Type(str))


class RecordPages(BasePlugin[RecordPagesConfig]):
    """Builds the knowledge base's site from its records (see the module's docstring)."""

    def __init__(self) -> None:
        super().__init__()
        self.paths: pipeline.Paths | None = None  # else from the ``root`` option
        self.staging: Path | None = None  # else ROOT/build/docs
        self.languages: tuple[str, ...] = LANGUAGES
        self.progress: Callable[[pipeline.Step], None] = _log_step
        # Given when the pages are staged already (the other languages, tests): the footer's
        # facts and the hand-written pages, and no pipeline runs.
        self.given: tuple[SiteFacts, Path] | None = None
        self.facts: SiteFacts | None = None
        self.hand_written: Path | None = None
        self._language = _InterfaceLanguage(ENGLISH, 0, frozenset())
        self._staged: pipeline.Staged | None = None
        self._translations: list[TranslationInBackground] = []
        self._inputs = ""
        self._started = 0.0
        self.built: pipeline.Built | None = None
        self.pages = self.rendered = 0
        self.search_seconds = 0.0  # Pagefind's, for this language's site

    def on_config(self, config: MkDocsConfig) -> MkDocsConfig:
        configured = Path(config.config_file_path or ".").resolve().parent
        if self.given is not None:
            self.facts, self.hand_written = self.given
        else:
            root = self.config.root or os.environ.get("KB_ROOT") or configured
            paths = self.paths or pipeline.Paths.for_root(configured / root)
            self.hand_written = Path(config.docs_dir)
            staging = self.staging or staging_folder(paths)
            info = read_site_info(Path(config.config_file_path))
            self._staged = pipeline.stage_pages(
                paths,
                self.hand_written,
                staging,
                info,
                progress=self.progress,
                languages=self.languages,
            )
            self.facts = site_facts(paths.root, info.repository, info.contact)
            config.docs_dir = str(staging)
            config.watch.extend(
                str(paths.root / name) for name in WATCHED if (paths.root / name).exists()
            )
            config.watch.extend(str(folder) for folder in self._translated_docs())
        self._language = _interface_language(config.theme["language"], self.hand_written)
        if self._language.language == ENGLISH:  # the other languages' sites are folders of it
            _reuse_plugin(config).other_sites = frozenset(self.languages[1:])
        assert self.facts is not None
        self._inputs = site_inputs_digest(
            Path(config.config_file_path),
            *(Path(folder) for folder in config.theme.dirs[:1]),  # the custom_dir, overrides/
            self.hand_written,
            *self._translated_docs(),
            *SITE_CODE,
            extra=self.facts.fingerprint(),
        )
        self._started = time.perf_counter()
        return config

    def _translated_docs(self) -> list[Path]:
        assert self.hand_written is not None
        folders = (language_folder(self.hand_written, language) for language in LANGUAGES[1:])
        return [folder for folder in folders if folder.is_dir()]

    @event_priority(50)  # before ReusePreviousPages reads the previous site
    def on_pre_build(self, *, config: MkDocsConfig) -> None:
        """A dirty build reuses the previous site only if it was built from the same inputs;
        otherwise it starts from an empty folder, and every page is rendered. (A build that is
        not dirty empties the folder next in any case.)"""
        stamp = Path(config.site_dir) / SITE_STAMP
        if not _built_from(stamp, self._inputs):
            clean_directory(config.site_dir)
        stamp.unlink(missing_ok=True)
        if self._language.language == ENGLISH:
            self._translations = self._start_translations(config)

    def _start_translations(self, config: MkDocsConfig) -> list["TranslationInBackground"]:
        """Start building the site in each other language whose pages are staged, each in a
        process of its own, while this one builds the English site."""
        assert self.hand_written is not None and self.facts is not None
        staging, site = Path(config.docs_dir), Path(config.site_dir)
        started: list[TranslationInBackground] = []
        try:
            for language in self.languages[1:]:
                staged = language_folder(staging, language)
                if staged.is_dir():
                    translated = translated_config(
                        language, staging.parent, Path(config.config_file_path)
                    )
                    started.append(
                        TranslationInBackground(
                            language, translated, staged, site, self.facts, self.hand_written
                        )
                    )
        except BaseException:
            for running in started:
                running.stop()
            raise
        return started

    def on_env(self, env: Environment, *, config: MkDocsConfig, files: Files) -> Environment:
        env.globals["kb_facts"] = self.facts
        self._language.install(env)
        return env

    def on_serve(
        self, server: LiveReloadServer, *, config: MkDocsConfig, builder: Callable[..., Any]
    ) -> LiveReloadServer:
        # The staged pages are written by each build: watching them would build again.
        with suppress(KeyError):
            server.unwatch(config.docs_dir)
        assert self.hand_written is not None
        server.watch(str(self.hand_written))
        return server

    # After every other plugin has finished with this site (ReusePreviousPages removes what
    # this build did not write, the other languages' folders included).
    @event_priority(-100)
    def on_post_build(self, *, config: MkDocsConfig) -> None:
        site = Path(config.site_dir)
        reuse = _reuse_plugin(config)
        self.pages, self.rendered = len(reuse.page_order), len(reuse.rendered)
        indexing = time.perf_counter()
        pagefind_index(site)  # before the other languages' sites join it: its own only
        self.search_seconds = time.perf_counter() - indexing
        translations: list[str] = []
        building, self._translations = self._translations, []
        try:
            for translation in building:
                pages, rendered, searched = translation.finish()
                translations.append(
                    f"{translation.language}: {rendered} of {pages} rendered, "
                    f"its search index {searched:.1f} s"
                )
        finally:
            for translation in building:
                translation.stop()
        (site / SITE_STAMP).write_text(json.dumps({"inputs": self._inputs}) + "\n")
        if self._staged is not None:
            kept = ""
            if self.rendered != self.pages:
                kept = f" ({self.rendered} rendered, the rest kept from before)"
            if translations:
                kept += f"; {'; '.join(translations)}"
            # Pagefind is our step, not MkDocs': reported on its own, so that neither the
            # summary nor the benchmark counts it as MkDocs' time.
            seconds = time.perf_counter() - self._started - self.search_seconds
            self._staged.report(
                pipeline.Step("mkdocs", f"{self.pages} pages in {site}{kept}", seconds)
            )
            self._staged.report(
                pipeline.Step(
                    "pagefind",
                    f"the search box's index of the site in {site}",
                    self.search_seconds,
                )
            )
            running, self._staged = self._staged, None
            self.built = running.finish()

    def on_build_error(self, *, error: Exception) -> None:
        building, self._translations = self._translations, []
        for translation in building:
            translation.stop()
        if self._staged is not None:
            self._staged.stop()
            self._staged = None


def _log_step(step: pipeline.Step) -> None:
    log.info(f"{step.name}: {step.detail} ({step.seconds:.1f} s)")


def _built_from(stamp: Path, inputs: str) -> bool:
    try:
        return bool(json.loads(stamp.read_text())["inputs"] == inputs)
    except (OSError, ValueError, KeyError, TypeError):
        return False


def _reuse_plugin(config: MkDocsConfig) -> ReusePreviousPages:
    for plugin in config.plugins.values():
        if isinstance(plugin, ReusePreviousPages):
            return plugin
    raise SiteBuildFailed("mkdocs.yml must declare the kb/reuse-previous-pages plugin")


class _InterfaceLanguage:
    """Our own words in the site's language for the theme's templates (``_``, ``ngettext``
    from ``kb.localization``'s catalogue) and ``kb_language``: the page's language, the
    other's, how many of its interface translations are drafts awaiting review, and which
    hand-written pages it shows in English."""

    def __init__(self, language: str, drafts: int, english_pages: frozenset[str]) -> None:
        self.language = language
        self.drafts = drafts
        self.english_pages = english_pages

    def install(self, env: Environment) -> None:
        from kb.localization import LANGUAGE_NAMES, translations

        env.add_extension("jinja2.ext.i18n")
        env.install_gettext_translations(translations(self.language), newstyle=True)  # type: ignore[attr-defined]
        env.policies["ext.i18n.trimmed"] = True  # as kb/locale/babel.cfg extracts them
        other = ENGLISH if self.language != ENGLISH else "cy"
        env.globals["kb_language"] = {
            "code": self.language,
            "other": other,
            "other_name": LANGUAGE_NAMES[other],
            # From a page to its namesake in the other language: the Welsh site is a folder
            # of the English one.
            "other_root": "/.." if self.language != ENGLISH else f"/{other}",
            "drafts": self.drafts,
            "english_pages": self.english_pages,
        }


def _interface_language(language: str, hand_written: Path) -> _InterfaceLanguage:
    if language == ENGLISH:
        return _InterfaceLanguage(ENGLISH, 0, frozenset())
    from kb.localization import catalogue_state

    translated = language_folder(hand_written, language)
    return _InterfaceLanguage(
        language, catalogue_state(language).drafts, untranslated_pages(hand_written, translated)
    )


def untranslated_pages(docs: Path, translated: Path) -> frozenset[str]:
    """The hand-written pages of ``docs`` that ``translated`` has no version of: the site in
    that language shows them in English, marked as such."""
    return frozenset(
        path.relative_to(docs).as_posix()
        for path in docs.rglob("*.md")
        if not (translated / path.relative_to(docs)).is_file()
    )


def translated_config(language: str, folder: Path, config: Path) -> Path:
    """A configuration for the site in ``language``, written into ``folder``: the English one
    (MkDocs' ``INHERIT``) with Material's interface in ``language`` and the navigation's titles
    translated from the catalogue (``kb.localization``)."""
    import yaml

    from kb.localization import translated_navigation, translations

    say = translations(language).gettext
    english = yaml.load(config.read_text(encoding="utf-8"), Loader=config_loader())
    custom_dir = (config.parent / english["theme"]["custom_dir"]).resolve()
    settings: dict[str, Any] = {
        "INHERIT": str(config),
        "site_name": say(english["site_name"]),
        "theme": {"language": language, "custom_dir": str(custom_dir)},
        "nav": translated_navigation(english.get("nav") or [], say),
    }
    if english.get("site_url"):
        settings["site_url"] = f"{english['site_url'].rstrip('/')}/{language}/"
    target = folder / f"mkdocs-{language}.yml"
    target.write_text(yaml.safe_dump(settings, allow_unicode=True), encoding="utf-8")
    return target


def build_translation(
    config: Path, docs: Path, site: Path, facts: SiteFacts, hand_written: Path
) -> tuple[int, int, float]:
    """``mkdocs build --strict`` of a translated site (``translated_config``) from its staged
    pages ``docs`` into ``site`` (a folder of the English site), then its own search index,
    with no English stemming. Where the English build kept the previous site, this one keeps
    what it can of the previous translated site (a dirty build, as the English one). Returns
    the number of pages, how many were rendered, and the seconds its search index took."""
    from mkdocs.commands.build import build
    from mkdocs.config import load_config

    settings = load_config(str(config), docs_dir=str(docs), site_dir=str(site), strict=True)
    records = records_plugin(settings)
    records.given = (facts, hand_written)
    dirty = (site / SITE_STAMP).is_file()
    settings.plugins.on_startup(command="build", dirty=dirty)
    try:
        build(settings, dirty=dirty)
    finally:
        settings.plugins.on_shutdown()
    return records.pages, records.rendered, records.search_seconds


def _translation_worker(
    config: Path, docs: Path, site: Path, facts: SiteFacts, hand_written: Path
) -> Outcome:
    """``build_translation``, in a process of its own (``TranslationInBackground``)."""
    try:
        return ("done", build_translation(config, docs, site, facts, hand_written))
    except (Exception, SystemExit) as error:  # MkDocs' Abort is a SystemExit
        return ("failed", str(error) or type(error).__name__)


class TranslationInBackground:
    """The site in another ``language``, built by another process while the English one
    builds (the two take about as long, and a machine has cores to spare for it), into a
    folder beside the English site, then moved into it (``cy/``) by ``finish``: the English
    site's search index is made first, of its own pages only.

    The previous translated site, where the English build keeps the previous site, moves
    into that folder first, so the translated build keeps what it can of it too. ``finish``
    gives the number of pages, how many were rendered and the seconds its search index took,
    or raises ``SiteBuildFailed``; ``stop`` ends the process, if it runs, and deletes what it
    left.
    """

    def __init__(
        self,
        language: str,
        config: Path,
        docs: Path,
        site: Path,
        facts: SiteFacts,
        hand_written: Path,
    ) -> None:
        import shutil

        self.language = language
        self.target = site / language
        hidden = site.name if site.name.startswith(".") else f".{site.name}"
        self.building = site.with_name(f"{hidden}.{language}")  # kb.files.recover_folder
        shutil.rmtree(self.building, ignore_errors=True)
        if self.target.is_dir():
            os.replace(self.target, self.building)
        arguments = (config, docs, self.building, facts, hand_written)
        self._worker = Background(_translation_worker, arguments, quickest_start_method())

    def finish(self) -> tuple[int, int, float]:
        outcome, value = self._worker.outcome()
        if outcome != "done":
            raise SiteBuildFailed(
                f"the site in {self.language}/ was not built: {value or 'its process stopped'}"
                f" (exit code {self._worker.exit_code})"
            )
        os.replace(self.building, self.target)
        pages, rendered, searched = value
        return pages, rendered, searched

    def stop(self) -> None:
        import shutil

        self._worker.stop()
        shutil.rmtree(self.building, ignore_errors=True)


def records_plugin(settings: MkDocsConfig) -> RecordPages:
    """The ``kb/records`` plugin of a loaded configuration."""
    plugin = settings.plugins.get(PLUGIN)
    if not isinstance(plugin, RecordPages):
        raise SiteBuildFailed(f"mkdocs.yml must declare the {PLUGIN} plugin")
    return plugin


def pagefind_index(folder: Path) -> None:
    """Index the built site in ``folder`` for its search box (Pagefind, run through its PyPI
    package, with the newer release's binary where ``kb.site.pagefind_release`` installed
    it), with the kind of each indexed page beside it (``kb.render.site_search``). The
    previous index goes first: its files may be hard links into the site in use
    (``kb.site.plugins.seed_site``), which Pagefind must not write through."""
    import shutil

    from kb.render.site_search import write_page_kinds
    from kb.site.pagefind_release import run_environment

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
        env=run_environment(),  # Pagefind's newer release, where it is installed
    )
    if done.returncode != 0:
        raise SiteBuildFailed(f"the search index could not be built: {done.stderr.strip()}")
    write_page_kinds(folder / "pagefind")  # for the search worker, beside the index
