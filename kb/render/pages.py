"""Write the site's generated Markdown pages from the Jinja templates in ``kb/templates``.

Every page is a Markdown file with JSON front matter: headings in Markdown (for the table of
contents and the search index), everything else in raw HTML blocks. Links are written as final,
page-relative addresses (``../../studies/x/``), so the pages need nothing from the site
generator but a Markdown renderer that keeps raw HTML; the link checker in the tests follows
them.

Every value a template prints goes through ``inert`` (the environment's ``finalize``), so
record text cannot become markup even where a template forgets a filter; only ``Markup`` made
here (addresses from record IDs, drawings, badges) is written as it is.
"""

import functools
import hashlib
import html
import inspect
import os
import posixpath
import re
import shutil
import stat
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jinja2
import jinja2.ext
import jinja2.lexer
from markupsafe import Markup

from kb.brief.html import said_filter
from kb.errors import PageClash
from kb.localization import ENGLISH, WELSH, catalogue_path, translations
from kb.records.document import DOCUMENT_KEYS, AppraisalEntry, RecommendationEntry, entries
from kb.records.levels import (
    USUAL_CEILING,
    appraised_level,
    disagrees,
    headline,
    link_ceiling,
    overall_level,
)
from kb.records.urls import record_url
from kb.records.vocabularies import (
    LABELS,
    STRENGTH_DEFINITIONS,
    Basis,
    Direction,
    Downgrade,
    EvaluationStatus,
    Horizon,
    JudgementBasis,
    RecommendationKind,
    Relation,
    Strength,
    StudyType,
    TextPart,
    Upgrade,
    Wording,
)
from kb.references.citations import recommendation_citation, source_citation, study_citation
from kb.render import jsonld
from kb.render.dependencies import PageReads, PreviousReads, Read, write_reads
from kb.render.downloads import Download
from kb.render.escape import front_matter, inert, inert_lines, safe_url
from kb.render.model import (
    LEVELS,
    NOT_JUDGED,
    MapRow,
    SiteModel,
    level_definition,
    level_label,
)
from kb.render.network import Link, by_recommendation, legend_svg, network_svg
from kb.site_config import SiteInfo

if TYPE_CHECKING:
    from kb.history.published import PublishedHistory
    from kb.render.brief_page import ThemeBrief

# Search weights: recommendations first, then examples and themes, then studies.
# What the site's search (Pagefind, docs/javascripts/kb-search.js) calls each kind of record.
SEARCH_KINDS = {
    "example": "Practice example",
    "theme": "Theme",
    "figure": "Key figure",
    "source": "Source report",
    "study": "Study",
}


@dataclass
class Rendered:
    """What ``render_pages`` wrote."""

    pages: list[str] = field(default_factory=list)  # Markdown paths, relative to the folder
    records: int = 0
    kept: int = 0  # record pages kept from the previous build, not rendered again


def site_path(markdown_path: str) -> str:
    """The address of a Markdown page relative to the site root: ``a/b.md`` → ``a/b/``."""
    if markdown_path == "index.md":
        return ""
    if markdown_path.endswith("/index.md"):
        return markdown_path[: -len("index.md")]
    return markdown_path[: -len(".md")] + "/"


@functools.lru_cache(maxsize=1 << 16)  # a build asks about each page's path many times
def _plain_parts(path: str) -> tuple[str, ...] | None:
    """A relative path's segments, or None when it has ``.`` or ``..`` segments or is absolute."""
    parts = tuple(part for part in path.split("/") if part)
    if path.startswith("/") or "." in parts or ".." in parts:
        return None
    return parts


def relative_path(path: str, start: str) -> str:
    """``posixpath.relpath(path, start)`` for the site's relative paths, without its cost.

    ``relpath`` asks the operating system for the working folder twice per call, which made
    it a tenth of the page build; plain relative paths do not need it.
    """
    path_parts, start_parts = _plain_parts(path), _plain_parts(start)
    if path_parts is None or start_parts is None:
        return posixpath.relpath(path, start)
    shared = 0
    for path_part, start_part in zip(path_parts, start_parts, strict=False):
        if path_part != start_part:
            break
        shared += 1
    parts = ("..",) * (len(start_parts) - shared) + path_parts[shared:]
    return "/".join(parts) if parts else "."


def relative_url(page: str, target: str) -> str:
    """``target`` (a site path, maybe with ``?query`` and ``#anchor``) as seen from ``page``."""
    path, hash_mark, fragment = target.partition("#")
    path, question_mark, query = path.partition("?")
    if path == page and not query:
        return f"#{fragment}" if hash_mark else "./"
    relative = relative_path(path or ".", page.rstrip("/") or ".")
    if relative == ".":
        relative = "./"
    elif path.endswith("/") or not path:
        relative += "/"
    return relative + (f"?{query}" if question_mark else "") + (f"#{fragment}" if hash_mark else "")


_TOKEN = re.compile(r"[A-Za-z0-9][A-Za-z0-9 -]*|")


def token(value: Any) -> Markup:
    """An ID, slug or vocabulary value (or several, space-separated) for an attribute.

    Such values were validated on the way in; anything else is a bug, so it fails the build.
    """
    text = str(value)
    if not _TOKEN.fullmatch(text):
        raise ValueError(f"not an ID or vocabulary value: {text!r}")
    return Markup(text)


# Strings up to this long are remembered by ``_remembered_inert``: labels, levels, IDs and
# titles, printed on many pages; longer text (statements, summaries) is mostly printed once.
REMEMBERED_CHARACTERS = 200


def _remembered_inert() -> Callable[[Any], Markup]:
    """``inert``, remembering its result for each short string, for one environment.

    A build prints the same labels, levels and titles on thousands of pages.
    """
    known: dict[str, Markup] = {}

    def remembered(value: Any) -> Markup:
        if type(value) is not str or len(value) > REMEMBERED_CHARACTERS:
            return inert(value)
        markup = known.get(value)
        if markup is None:
            markup = known[value] = inert(value)
        return markup

    return remembered


NO_LANG = Markup("")  # record text on a page in English: no need to say it is English

# The one folder every language's site shares: the English site's (kb.render.Shared).
SHARED_FOLDER = "downloads/"


@dataclass
class CurrentPage:
    """The site path of the page being rendered, which links are written relative to."""

    path: str = ""


def _address_helpers(
    current: CurrentPage, site_folder: str = ""
) -> dict[str, Callable[..., Markup]]:
    """The templates' ``url`` and ``record``: addresses as seen from the current page.

    They read the page from ``current`` rather than from the template context, so that the
    macros, imported without the context, are made once per build instead of once per page.
    On a site in a folder of the English one (``site_folder``, ``cy/``), the downloads are the
    English site's.
    """

    def url(target: str) -> Markup:
        if site_folder and target.startswith(SHARED_FOLDER):
            address = relative_url(site_folder + current.path, target)
        else:
            address = relative_url(current.path, target)
        return Markup(html.escape(address))

    def record(record_type: str, record_id: str, recommendation_id: str | None = None) -> Markup:
        token(record_id)
        return url(record_url(record_type, record_id, recommendation_id))

    return {"url": url, "record": record}


def own_title(rec: RecommendationEntry, language: str) -> str | None:
    """A recommendation's title in ``language`` where a reviewer wrote one (``title_cy``); None
    in English, or where there is none (the English title is shown, marked as English)."""
    return rec["title_cy"] or None if language == WELSH else None


def _paragraphs(value: Any) -> list[str]:
    """Text split at its blank lines, for statements written in several paragraphs."""
    return [part for part in re.split(r"\n[ \t]*\n", str(value)) if part.strip()]


def _level_name(level: str | None) -> str:
    return f"{level} {level_label(level)}" if level and level != NOT_JUDGED else "not judged"


def _counted(number: int, singular: str, plural: str | None = None) -> str:
    """ "1 recommendation", "3 recommendations": a count with its noun agreeing."""
    return f"{number:,} {singular if number == 1 else plural or singular + 's'}"


def _level_columns(grid: list[MapRow], _: Callable[[str], str] = str) -> list[dict[str, str]]:
    """The gap map's columns: every level, and "Not judged" only where a row has one; ``_``
    translates our words."""
    keys = [*LEVELS]
    gap = inert(_(" (gap)"))
    if any(count for row in grid for key, count, _ in row["cells"] if key == NOT_JUDGED):
        keys.append(NOT_JUDGED)
    return [
        {
            "key": key,
            "heading": Markup(
                f'{key} <span class="kb-th-label">{inert(_(level_label(key)))}'
                f"{gap if key == 'S0' else ''}</span>"
            )
            if key != NOT_JUDGED
            else _("Not judged"),
            "name": f"{key} {_(level_label(key))}" if key != NOT_JUDGED else _("not judged"),
        }
        for key in keys
    ]


def _size(size: int) -> str:
    for unit in ("bytes", "KB", "MB"):
        if size < 1024 or unit == "MB":
            return f"{size} {unit}" if unit == "bytes" else f"{size:.1f} {unit}"
        size /= 1024  # type: ignore[assignment]
    return str(size)


def _one_line(text: str) -> str:
    return " ".join(text.split()).replace("``", "")


def doc_blocks(docstring: str | None) -> list[tuple[str, Any]]:
    """A docstring as paragraphs and numbered lists, for pages that quote the code's rules.

    Each paragraph is one line of text; lines starting ``1.``, ``2.``… make a list.
    """
    blocks: list[tuple[str, Any]] = []
    for chunk in inspect.cleandoc(docstring or "").split("\n\n"):
        items = re.split(r"(?m)^\d+\.\s+", chunk)
        text = " ".join(chunk.split()).replace("``", "")
        if len(items) > 1 and not items[0].strip():
            blocks.append(
                ("list", [" ".join(item.split()).replace("``", "") for item in items[1:]])
            )
        else:
            blocks.append(("paragraph", text))
    return blocks


def _label(value: str | None) -> str:
    return LABELS.get(value, value) if value else ""


@functools.cache
def _badge(level: str | None) -> Markup:
    key = (level or NOT_JUDGED).lower()
    text = f"{level} {level_label(level)}" if level else "Not judged"
    return Markup(f'<span class="kb-badge kb-badge--{inert(key)}">{inert(text)}</span>')


def _appraised_steps(appraisal: AppraisalEntry, study_type: str) -> str:
    """How an appraised link's level follows from its appraisal, domain reasons included."""
    result = appraised_level(study_type, appraisal["downgrades"], appraisal["upgrades"])
    reasons = [
        f"{rating['domain'].replace('-', ' ')}: {rating['reason']}"
        for rating in [*appraisal["downgrades"], *appraisal["upgrades"]]
    ]
    because = f" ({'; '.join(reasons)})" if reasons else ""
    return f"{result.explained()} → {result.level}{because}"


_DICT_ATTRIBUTES = frozenset(dir(dict))


class _Environment(jinja2.Environment):
    """Jinja's environment, quicker at ``record.field`` on the records (plain dicts).

    Jinja tries ``getattr`` first and the item only when that raises; here a plain dict's item
    is looked up first, unless the name is one of dict's own attributes (``items``), which
    ``getattr`` would have found. The result is the same, without the exception.
    """

    def getattr(self, obj: Any, attribute: str) -> Any:
        if type(obj) is dict and attribute not in _DICT_ATTRIBUTES:
            try:
                return obj[attribute]
            except KeyError:
                pass
        return super().getattr(obj, attribute)


# The filter ConstantMessages writes after a translated message: a name the lexer never makes.
TRUSTED = "our words"


class ConstantMessages(jinja2.ext.Extension):
    """Our words with no values in them, ``_("Authors")``, translated as a template compiles
    rather than each time a page is rendered (at 10,000 studies, about a million calls for
    each language's pages): each becomes its translation, trusted as Jinja's i18n trusts it,
    through the ``TRUSTED`` filter, which Jinja applies to a constant as it compiles.

    A message with values, or with a ``%`` in its translation, is left to ``_``, which
    formats it. The compiled templates are kept per language and catalogue
    (``compiled_templates``).
    """

    def __init__(self, environment: jinja2.Environment) -> None:
        super().__init__(environment)
        environment.extend(constant_messages=None)  # the catalogue's gettext, when installed
        environment.filters[TRUSTED] = Markup

    def filter_stream(self, stream: "jinja2.lexer.TokenStream") -> Iterator["jinja2.lexer.Token"]:
        translate = getattr(self.environment, "constant_messages", None)
        tokens = list(stream)
        at = 0
        while at < len(tokens):
            found = tokens[at : at + 4]
            message = _constant_message(tokens[at - 1] if at else None, found)
            translated = translate(message) if translate and message is not None else None
            if translated is None or "%" in translated:
                yield tokens[at]
                at += 1
                continue
            lineno = found[0].lineno
            yield jinja2.lexer.Token(lineno, "string", translated)
            yield jinja2.lexer.Token(lineno, "pipe", "|")
            yield jinja2.lexer.Token(lineno, "name", TRUSTED)
            at += 4


def _constant_message(
    before: "jinja2.lexer.Token | None", tokens: list["jinja2.lexer.Token"]
) -> str | None:
    """The message of ``_("…")`` at the start of ``tokens``, if that is what they are (and
    not an attribute, ``x._("…")``)."""
    if len(tokens) < 4 or (before is not None and before.type == "dot"):
        return None
    name, opening, message, closing = tokens
    if (name.type, name.value, opening.type, message.type, closing.type) != (
        "name",
        "_",
        "lparen",
        "string",
        "rparen",
    ):
        return None
    return str(message.value)


def _record_links(
    model: SiteModel,
    record: Callable[..., Markup],
    finalize: Callable[[Any], Markup],
    record_lang: Markup = NO_LANG,
    _: Callable[[str], str] = str,
    language: str = ENGLISH,
) -> dict[str, Callable[[Any], Markup]]:
    """The templates' links to records, each with its title (a study's short citation, an
    example's name) as the text, and ``location``, where in its source a record is.

    Nearly every table row prints some, hundreds of thousands per build: as functions they
    cost a fraction of what they did as macros. Both print through ``finalize``; on a page in
    another language than the records', each link says it is English (``record_lang``), but a
    recommendation's link is its title in that language where a reviewer gave one
    (``title_cy``).
    """

    def link(record_type: str, record_id: str, text: Any) -> Markup:
        address = record(record_type, record_id)
        return Markup(f'<a href="{address}"{record_lang}>{finalize(text)}</a>')

    def rec_link(rec_id: str) -> Markup:
        rec = model.recommendations[rec_id]
        own = own_title(rec, language)
        if own:
            address = record("recommendation", rec_id)
            return Markup(f'<a href="{address}">{finalize(own)}</a>')
        return link("recommendation", rec_id, rec["title"])

    def study_link(study_id: str) -> Markup:
        return link("study", study_id, model.study_label(study_id))

    def theme_link(theme_id: str) -> Markup:
        return link("theme", theme_id, model.themes[theme_id]["title"])

    def example_link(example_id: str) -> Markup:
        return link("example", example_id, model.examples[example_id]["name"])

    def figure_link(figure_id: str) -> Markup:
        return link("figure", figure_id, model.figures[figure_id]["title"])

    def source_link(source_id: str) -> Markup:
        return link("source", source_id, model.sources[source_id]["title"])

    def location(where: dict[str, Any]) -> Markup:
        page = ""
        if where.get("page"):  # our words trusted as Jinja's i18n trusts them, the page inert
            page = Markup(_(", p. %(page)s")) % {"page": finalize(where["page"])}
        section = finalize(where["section"])
        if record_lang:
            section = Markup(f"<span{record_lang}>{section}</span>")
        word = finalize(_("section"))
        return Markup(f"{word} “{section}”{page}")

    return {
        "rec_link": rec_link,
        "study_link": study_link,
        "theme_link": theme_link,
        "example_link": example_link,
        "figure_link": figure_link,
        "source_link": source_link,
        "location": location,
    }


def _interface_helpers(language: str) -> dict[str, Callable[..., Any]]:
    """The filters and functions that print our own words (vocabulary labels, strength levels,
    counts) in ``language``, from its catalogue (``kb.localization``)."""
    words = translations(language)
    say = words.gettext

    def label(value: str | None) -> str:
        return say(_label(value)) if value else ""

    def level_name(level: str | None) -> str:
        if level and level != NOT_JUDGED:
            return f"{level} {say(level_label(level))}"
        return say("not judged")

    @functools.cache
    def badge(level: str | None) -> Markup:
        key = (level or NOT_JUDGED).lower()
        text = f"{level} {say(level_label(level))}" if level else say("Not judged")
        return Markup(f'<span class="kb-badge kb-badge--{inert(key)}">{inert(text)}</span>')

    return {
        "label": label,
        "level_name": level_name,
        "badge": badge,
        "level_label": lambda level: say(level_label(level)),
        "level_definition": lambda level: say(level_definition(level)) if level else "",
    }


def environment(
    model: SiteModel, current: CurrentPage, language: str = ENGLISH, compiled: Path | None = None
) -> jinja2.Environment:
    """The template environment: everything printed is inert unless it is ``Markup``.

    ``m`` (the model), the record links and the address helpers, which read the page being
    written from ``current``, are globals, so the macros need nothing from a page's context.
    Our own words come from ``language``'s catalogue (``_``, ``ngettext``, ``{% trans %}``).
    ``compiled`` is a folder that keeps the compiled templates between builds (Jinja's
    bytecode cache, which compiles a template again when its source changes).
    """
    made_inert = _remembered_inert()
    interface = _interface_helpers(language)
    # Record text is English: on a page in another language, it says so (for screen readers).
    record_lang = Markup(' lang="en"') if language != ENGLISH else Markup("")

    def english(value: Any) -> Markup:
        """Record text, marked as English on a page in another language."""
        text = made_inert(value)
        return Markup(f"<span{record_lang}>{text}</span>") if record_lang and text else text

    def finalize(value: Any) -> Any:
        return value if isinstance(value, Markup) else made_inert(value)

    def join(values: Any, separator: str = "") -> Markup:
        """Jinja's ``join``, but every item (and the separator) made inert."""
        return made_inert(separator).join(map(made_inert, values))

    env = _Environment(
        loader=jinja2.PackageLoader("kb", "templates"),
        autoescape=True,
        finalize=finalize,
        auto_reload=False,  # each template is read once per build; don't look at it again
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        extensions=["jinja2.ext.i18n", ConstantMessages],
        bytecode_cache=jinja2.FileSystemBytecodeCache(str(compiled)) if compiled else None,
    )
    words = translations(language)
    env.install_gettext_translations(words, newstyle=True)  # type: ignore[attr-defined]
    env.constant_messages = words.gettext  # type: ignore[attr-defined]
    env.policies["ext.i18n.trimmed"] = True  # as kb/locale/babel.cfg extracts them
    env.filters.update(
        text=made_inert,
        en=english,
        e=made_inert,
        escape=made_inert,
        forceescape=made_inert,
        join=join,
        paragraphs=_paragraphs,
        token=token,
        lines=inert_lines,
        safe_url=safe_url,
        label=interface["label"],
        badge=interface["badge"],
        appraised_steps=_appraised_steps,
        level_label=interface["level_label"],
        level_definition=interface["level_definition"],
        said=said_filter(made_inert, record_lang),
    )
    for unsafe in ("safe", "urlize", "xmlattr", "indent", "wordwrap", "center", "tojson"):
        env.filters.pop(unsafe, None)
    addresses = _address_helpers(current, "" if language == ENGLISH else f"{language}/")
    env.globals.update(
        **addresses,
        **_record_links(
            model,
            addresses["record"],
            finalize,
            record_lang,
            translations(language).gettext,
            language,
        ),
        own_title=lambda rec: own_title(rec, language),
        said_download=lambda item: item.said(translations(language)),
        record_lang=record_lang,
        # A Markdown heading of record text, marked as English (attr_list) likewise.
        heading_lang=Markup(' {: lang="en" }') if record_lang else Markup(""),
        m=model,
        level_name=interface["level_name"],
        language=language,
        size=_size,
        counted=_counted,
        doc_path=site_path,
        LEVELS=LEVELS,
        NOT_JUDGED=NOT_JUDGED,
    )
    return env


# --- Pages ----------------------------------------------------------------------------------


def write_or_link(target: Path, text: str, before: Path | None) -> None:
    """Write ``text`` to the new file ``target``; but when ``before``, the previous build's
    file, holds exactly the bytes it would get, hard-link that file there instead.

    The link keeps the previous build's modification time, which tells the site generator
    the page did not change (``keep_unchanged_times`` does the same for other files), and is
    far cheaper than a new file: creating files is most of what a build asks of the
    operating system.
    """
    if before is not None:
        try:
            if stat.S_ISREG(before.lstat().st_mode) and before.read_bytes() == text.encode():
                os.link(before, target)
                return
        except OSError:  # gone, unreadable, or no hard links here: write the file
            pass
    target.write_text(text, encoding="utf-8")


def compiled_templates(build: Path, language: str) -> Path:
    """Where the compiled templates are kept between builds: a folder of ``build`` named for
    this module's source, which sets the environment's options, and for the language and its
    catalogue (Jinja's bytecode cache tells a template's changes, not the environment's, and
    Jinja works out a filter of constants, ``None|badge``, and our words, as it compiles).
    Folders for other sources are removed."""
    source = hashlib.blake2b(Path(__file__).read_bytes(), digest_size=6).hexdigest()
    catalogue = catalogue_path(language)  # its words are in the templates (ConstantMessages)
    words = catalogue.read_bytes() if catalogue.is_file() else b""
    key = f"{source}-{language}-{hashlib.blake2b(words, digest_size=6).hexdigest()}"
    kept = build / ".compiled-templates"
    if kept.is_dir():
        for other in kept.iterdir():
            if not other.name.startswith(f"{source}-"):
                shutil.rmtree(other, ignore_errors=True)
    (kept / key).mkdir(parents=True, exist_ok=True)
    return kept / key


class PageWriter:
    """Renders templates into Markdown files under one folder.

    With ``previous``, the folder of the previous build, a page that comes out as it was is
    that build's file, linked (``write_or_link``).
    """

    def __init__(
        self,
        folder: Path,
        site: SiteInfo,
        model: SiteModel,
        previous: Path | None = None,
        language: str = ENGLISH,
        previous_reads: PreviousReads | None = None,
    ):
        self.folder = folder
        self.site = site
        self.model = model
        self.previous = previous
        self.language = language
        # What each record page reads (kb.render.dependencies), and what it read last time.
        self.reads = PageReads(model.read_value)
        model.notes(self.reads)
        self.previous_reads = previous_reads if previous is not None else None
        self.kept = 0  # record pages kept from the previous build, unrendered
        self.say = translations(language).gettext  # our own words, in the page's language
        self.current = CurrentPage()
        compiled = compiled_templates(folder.parent, language)
        self.env = environment(model, self.current, language, compiled)
        self.written: list[str] = []
        self._made: set[Path] = set()  # folders known to exist
        # A recommendation's history section (kb.render.history_pages), set by render_pages.
        self.history_of: Callable[[str], Any] = lambda rec_id: None
        self.history_version: dict[str, Any] | None = None  # the content version

    def reuse(self, markdown_path: str, own: Read) -> bool:
        """Keep a record's page from the previous build, unrendered, when nothing it read
        then (``own``, its record, among it) reads differently now; else start noting what it
        reads while it is made and written (``write``)."""
        previous_reads = self.previous_reads
        if previous_reads is not None and previous_reads.unchanged(markdown_path, self.reads):
            assert self.previous is not None  # previous_reads come with a previous folder
            target = self._target(markdown_path)
            try:
                os.link(self.previous / markdown_path, target)
            except OSError:  # no hard links here: a copy keeps the bytes and the times
                shutil.copy2(self.previous / markdown_path, target)
            self.reads.pages[markdown_path] = previous_reads.reads_of(markdown_path)
            self.written.append(markdown_path)
            self.kept += 1
            return True
        self.reads.start(markdown_path)
        self.reads.note(*own)
        return False

    def _target(self, markdown_path: str) -> Path:
        target = self.folder / markdown_path
        if target.exists():
            raise PageClash(
                f"docs/{markdown_path} has the path of a generated page; rename or move it"
            )
        if target.parent not in self._made:
            target.parent.mkdir(parents=True, exist_ok=True)
            self._made.add(target.parent)
        return target

    def write(
        self, markdown_path: str, template: str, meta: dict[str, Any], **context: Any
    ) -> None:
        page = self.current.path = site_path(markdown_path)
        if "jsonld" in meta:
            meta = {**meta, "jsonld": jsonld.page_data(meta["jsonld"])}
        text = self.env.get_template(template).render(
            page=page, m=self.model, site=self.site, front=Markup(front_matter(meta)), **context
        )
        target = self._target(markdown_path)
        write_or_link(target, text, self.previous and self.previous / markdown_path)
        self.written.append(markdown_path)
        self.reads.stop(markdown_path)

    def absolute(self, path: str) -> str | None:
        return self.site.absolute(path)

    def page_of(self, record_type: str, record_id: str) -> str | None:
        """The permanent address of a record's page; None while the site's is unset."""
        return self.site.absolute(record_url(record_type, record_id))


def _search(kind: str, level: str | None = None) -> dict[str, Any]:
    """A record page: searched by the site's search as its kind (with a level for a
    statement); out of the navigation, so its sidebar is hidden."""
    search: dict[str, str] = {"kind": kind}
    if level:
        search["level"] = level
    return {"kb_search": search, "hide": ["navigation"]}


EXCLUDED = {"search": {"exclude": True}}
WIDE = {**EXCLUDED, "hide": ["navigation", "toc"]}  # listings with wide tables


def _recommendation_pages(writer: PageWriter) -> None:
    m = writer.model
    for rec_id, rec in m.recommendations.items():
        if writer.reuse(f"recommendations/{rec_id}.md", ("recommendations", rec_id)):
            continue
        links = sorted(
            m.evidence_of_rec[rec_id],
            key=lambda link: (-Strength(link["strength"]).rank, link["study"], link["id"]),
        )
        studies = [m.studies[study] for study in dict.fromkeys(link["study"] for link in links)]
        source = m.sources[rec["source"]]
        path = record_url("recommendation", rec_id)
        writer.write(
            f"recommendations/{rec_id}.md",
            "recommendation.md.j2",
            {
                **_search(
                    RecommendationKind(rec["kind"]).label,
                    " ".join(filter(None, (rec["headline"]["level"], rec["headline"]["label"]))),
                ),
                "jsonld": jsonld.recommendation_data(
                    rec, source, studies, writer.absolute(path), writer.page_of
                ),
                # Titled in the page's language (title_cy): the header need not mark it English.
                **({"kb_own_title": True} if own_title(rec, writer.language) else {}),
            },
            rec=rec,
            source=source,
            profile=m.profiles[rec_id],
            links=links,
            passage_of={
                link_id: len(group)
                for group in m.profiles[rec_id]["shared_passages"]
                for link_id in group
            },
            related=m.related(rec_id),
            cite=recommendation_citation(rec, source, writer.site),
            history=writer.history_of(rec_id),
        )


def _study_pages(writer: PageWriter) -> None:
    m = writer.model
    for study_id, study in m.studies.items():
        if writer.reuse(f"studies/{study_id}.md", ("studies", study_id)):
            continue
        path = record_url("study", study_id)
        writer.write(
            f"studies/{study_id}.md",
            "study.md.j2",
            {
                **_search(SEARCH_KINDS["study"]),
                "jsonld": jsonld.study_data(study, writer.absolute(path)),
            },
            study=study,
            uses=m.uses(study_id),
            link_of={link["recommendation"]: link for link in m.evidence_of_study[study_id]},
            cite=study_citation(study),
        )


def _theme_links(m: SiteModel, theme_id: str) -> list[Link]:
    links = []
    for rec_id in m.recs_under(theme_id):
        rec = m.recommendations[rec_id]
        for link in sorted(m.evidence_of_rec[rec_id], key=lambda link: link["id"]):
            links.append(
                Link(
                    link["id"],
                    rec_id,
                    rec["title"],
                    link["study"],
                    m.study_label(link["study"]),
                    link["relation"],
                    link["strength"],
                )
            )
    return links


def _theme_pages(writer: PageWriter) -> None:
    m = writer.model
    for theme_id, theme in m.themes.items():
        if not writer.reuse(f"themes/{theme_id}.md", ("themes", theme_id)):
            writer.write(
                f"themes/{theme_id}.md",
                "theme.md.j2",
                _search(SEARCH_KINDS["theme"]),
                theme=theme,
                recs=m.recs_under(theme_id),
            )
        if writer.reuse(f"network/{theme_id}.md", ("themes", theme_id)):
            continue
        links = _theme_links(m, theme_id)
        page = site_path(f"network/{theme_id}.md")  # the drawing's links are relative to it

        def href(kind: str, record_id: str, page: str = page) -> str:
            return relative_url(page, record_url(kind, token(record_id)))

        writer.write(
            f"network/{theme_id}.md",
            "network.md.j2",
            WIDE,
            theme=theme,
            links=links,
            groups=by_recommendation(links),
            drawing=network_svg(
                theme["title"],
                links,
                f"network-{theme_id}",
                href,
                translations(writer.language),
                ' lang="en"' if writer.language != ENGLISH else "",
            ),
            legend=legend_svg(translations(writer.language)),
        )


def _other_record_pages(writer: PageWriter) -> None:
    m = writer.model
    for example_id, example in m.examples.items():
        if writer.reuse(f"examples/{example_id}.md", ("examples", example_id)):
            continue
        writer.write(
            f"examples/{example_id}.md",
            "example.md.j2",
            _search(SEARCH_KINDS["example"]),
            example=example,
        )
    for figure_id, figure in m.figures.items():
        if writer.reuse(f"figures/{figure_id}.md", ("figures", figure_id)):
            continue
        writer.write(
            f"figures/{figure_id}.md",
            "figure.md.j2",
            _search(SEARCH_KINDS["figure"]),
            figure=figure,
        )
    for source_id, source in m.sources.items():
        if writer.reuse(f"sources/{source_id}.md", ("sources", source_id)):
            continue
        path = record_url("source", source_id)
        writer.write(
            f"sources/{source_id}.md",
            "source.md.j2",
            {
                **_search(SEARCH_KINDS["source"]),
                "jsonld": jsonld.source_data(source, writer.absolute(path)),
            },
            source=source,
            licence_url=jsonld.licence_url(source.get("licence")),
            cite=source_citation(source),
        )


# Every record but an evidence link, which has no page of its own; removed records keep theirs.
_RECORDS_COUNTED = tuple(key for key in DOCUMENT_KEYS if key != "evidence")


def _explorer_rows(m: SiteModel) -> list[dict[str, Any]]:
    """The explorer's rows in its default order: by theme, as the themes page lists them,
    then by place in the theme's list."""
    theme_rank = {theme_id: rank for rank, (theme_id, _) in enumerate(m.theme_order())}
    rows = []
    for rec_id, rec in m.recommendations.items():
        facets = m.facets(rec_id)
        level = m.shown_level(rec_id)
        rows.append(
            {
                "rec": rec,
                "facets": {name: " ".join(values) for name, values in facets.items()},
                "level": level,
                "rank": Strength(level).rank if level else -1,
                "headline": m.headline_of(rec_id),
                "links": len(m.evidence_of_rec[rec_id]),
                "order": (theme_rank.get(rec["themes"][0], 0), rec["position"] or 0, rec_id),
                "theme_rank": theme_rank.get(rec["themes"][0], 0),
            }
        )
    return sorted(rows, key=lambda row: row["order"])


FacetOptions = list[tuple[str | None, list[tuple[str, str]]]]  # (group label, [(value, text)])


def _explorer_facets(
    m: SiteModel, _: Callable[[str], str] = str
) -> list[tuple[str, str, FacetOptions]]:
    """(parameter, label, option groups) for each filter of the explorer; ``_`` translates
    our words."""
    themes = [
        (theme_id, "\u2003" * depth + m.themes[theme_id]["title"])
        for theme_id, depth in m.theme_order()
    ]
    used_directions = {link["direction"] for link in m.evidence}
    used_types = {m.studies[link["study"]]["type"] for link in m.evidence}
    strongest_first = [level for level in reversed(LEVELS)]
    at_least = [
        (
            f"atleast-{level}",
            f"{level} {_(level_label(level))}" + (_(" or stronger") if level != "S5" else ""),
        )
        for level in strongest_first
        if level != "S0"
    ]
    exactly = [(level, f"{level} {_(level_label(level))}") for level in strongest_first]
    return [
        ("theme", _("Theme"), [(None, themes)]),
        (
            "level",
            _("Strength of evidence"),
            [(_("At least"), at_least), (_("Exactly"), [*exactly, (NOT_JUDGED, _("Not judged"))])],
        ),
        (
            "kind",
            _("Kind of statement"),
            [(None, [(kind.value, _(kind.label)) for kind in RecommendationKind])],
        ),
        (
            "direction",
            _("Direction of evidence"),
            [(None, [(d.value, _(d.label)) for d in Direction if d.value in used_directions])],
        ),
        ("actor", _("Who it names"), [(None, list(m.actor_names().items()))]),
        (
            "type",
            _("Evidence type"),
            [(None, [(t.value, _(t.label)) for t in StudyType if t.value in used_types])],
        ),
    ]


def _listing_pages(writer: PageWriter, downloads: list[Download], other_docs: list[Any]) -> None:
    m = writer.model
    _ = writer.say
    writer.write(
        "index.md",
        "home.md.j2",
        {
            **EXCLUDED,
            "jsonld": {
                "@type": "Dataset",
                "name": writer.site.name,
                "url": writer.site.url,
                "isBasedOn": [jsonld.source_data(source) for source in m.sources.values()],
            },
        },
        headline=m.headline(),
    )
    writer.write(
        "recommendations/index.md",
        "explorer.md.j2",
        WIDE,
        rows=_explorer_rows(m),
        facets=_explorer_facets(m, writer.say),
    )
    writer.write("studies/index.md", "studies.md.j2", WIDE)
    writer.write("examples/index.md", "examples.md.j2", EXCLUDED)
    writer.write("themes/index.md", "themes.md.j2", EXCLUDED)
    writer.write("figures/index.md", "figures.md.j2", EXCLUDED)
    writer.write("sources/index.md", "sources.md.j2", EXCLUDED)
    writer.write("network/index.md", "networks.md.j2", EXCLUDED)
    grid = m.gap_grid()
    writer.write(
        "gaps.md",
        "gaps.md.j2",
        WIDE,
        grid=grid,
        levels=_level_columns(grid, writer.say),
        directions=m.direction_grid(),
        direction_columns=[
            {
                "key": direction.value,
                "heading": writer.say(direction.label),
                "name": writer.say(direction.label),
            }
            for direction in Direction
        ],
        gaps=m.gaps(),
    )
    writer.write(
        "methodology.md",
        "methodology.md.j2",
        {},
        scale=[
            (level.value, _(level.label), *map(_, STRENGTH_DEFINITIONS[level]))
            for level in reversed(Strength)
        ],
        vocabularies=[
            ("relation", _("Relation of a study to a recommendation"), Relation),
            ("direction", _("Direction of the effect"), Direction),
            ("horizon", _("Time horizon"), Horizon),
            ("study-type", _("Study type"), StudyType),
            ("kind", _("Kind of statement"), RecommendationKind),
            ("wording", _("How a recommendation is worded (our reading, not a grade)"), Wording),
            ("judgement-basis", _("Basis of the source's judgement"), JudgementBasis),
            ("basis", _("Basis of an evidence link"), Basis),
            ("text-part", _("What a study's held text is"), TextPart),
            ("downgrade", _("Reasons to rate an appraisal down (GRADE)"), Downgrade),
            ("upgrade", _("Reasons to rate an appraisal up (GRADE)"), Upgrade),
            ("evaluation-status", _("Evaluation status of a practice example"), EvaluationStatus),
        ],
        ceilings=[(study_type, level, why) for study_type, (level, why) in USUAL_CEILING.items()],
        ceiling_rule=doc_blocks(link_ceiling.__doc__)[1:],
        appraisal_rule=doc_blocks(appraised_level.__doc__)[1:],
        headline_rule=doc_blocks(headline.__doc__)[1:],
        overall_rule=doc_blocks(overall_level.__doc__)[1:],  # the rule, without its summary
        disagreement_rule=[
            (kind, re.sub(r"^True when (.)", lambda match: match.group(1).upper(), text))
            for kind, text in doc_blocks(disagrees.__doc__)
        ],
    )
    writer.write(
        "downloads.md",
        "downloads.md.j2",
        {},
        downloads=downloads,
        version=writer.history_version,
    )
    writer.write("reference.md", "reference.md.j2", {}, docs=other_docs)


@dataclass(frozen=True)
class HandWritten:
    """A hand-written page of ``docs/``, as the reference page lists it."""

    path: str
    title: str


def hand_written_pages(docs: Path) -> Iterator[HandWritten]:
    """Every Markdown page under ``docs``, with the title of its first ``#`` heading."""
    for path in sorted(docs.rglob("*.md")):
        title = path.stem.replace("-", " ").capitalize()
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.startswith("# "):
                title = line[2:].strip()
                break
        yield HandWritten(path.relative_to(docs).as_posix(), title)


def render_pages(
    model: SiteModel,
    folder: Path,
    site: SiteInfo,
    downloads: list[Download],
    other_docs: list[HandWritten],
    previous: Path | None = None,
    history: "PublishedHistory | None" = None,
    theme_briefs: "list[ThemeBrief] | None" = None,
    language: str = ENGLISH,
    inputs: str = "",
) -> Rendered:
    """Write every generated page into ``folder``; return what was written.

    ``previous`` is the folder of the previous build, if any: pages that come out the same
    are its files, linked (``write_or_link``), and a record's page whose reads did not change
    since then (``kb.render.dependencies``; ``inputs``, what every page rests on besides the
    records) is not rendered at all. ``history`` (``kb.history``) gives the
    recommendations' history sections and the "what changed" pages; without it they say
    that the history is not available.
    """
    from kb.render.addresses import write_address_pages
    from kb.render.history_pages import install_history, write_history_pages

    previous_reads = PreviousReads.read(previous, inputs) if previous and inputs else None
    writer = PageWriter(folder, site, model, previous, language, previous_reads)
    install_history(writer, history)
    for step in (_recommendation_pages, _study_pages, _theme_pages, _other_record_pages):
        step(writer)
    _listing_pages(writer, downloads, other_docs)
    from kb.render.brief_page import write_brief_page  # it builds on this module

    write_brief_page(writer, theme_briefs or [])
    write_history_pages(writer, history)
    write_address_pages(writer)
    if inputs:
        write_reads(folder, inputs, writer.reads)
    records = sum(len(entries(model.document, key)) for key in _RECORDS_COUNTED)
    return Rendered(writer.written, records, writer.kept)
