"""The site's evidence brief: its page, and a Markdown and a Word brief for each theme.

``brief/index.md`` holds every statement's part of a brief (``_brief.html.j2``, as
``kb brief --format html`` writes them), hidden; ``docs/javascripts/brief.js`` shows the ones
the address names (``brief/?ids=a,b``), in that order, with their key messages and
references, so a brief can be shared and reloaded. The per-theme briefs are written into
``downloads/briefs/`` (``THEME.md`` and ``THEME.docx``) when the site is built, and the page
lists them. The brief page of a site in another language is framed in it, and offers the
theme briefs framed in it too, written beside the English ones (``downloads/briefs/cy/``)
since every language's site shares the English site's downloads.
"""

import datetime
import hashlib
import html
import os
from collections.abc import Callable
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path

from markupsafe import Markup

from kb.brief import Brief, Edition, Records, make_brief
from kb.brief.content import theme_title
from kb.brief.text import brief_markdown
from kb.brief.word import brief_docx
from kb.localization import ENGLISH, LANGUAGE_NAMES, RecordText
from kb.records.urls import record_url
from kb.render.downloads import N_, Words, count_forms
from kb.render.pages import EXCLUDED, PageWriter, relative_url

PAGE = "brief/index.md"
DOWNLOADS = Path("downloads") / "briefs"


@dataclass(frozen=True)
class ThemeBrief:
    """The downloads of one theme's brief."""

    theme: str
    title: str
    depth: int
    statements: int
    markdown: str  # site paths
    word: str


class WordBriefs:
    """Word briefs, kept from one build to the next in ``folder`` by what they hold.

    Writing a Word brief is most of what the theme briefs cost; most builds change none of
    them. A brief's Markdown says everything it says, in the same words, so a Word brief is
    kept under a hash of its Markdown, of its language and of the code that lays it out, and
    a later build with the same hash takes the kept file. ``forget_unused`` deletes what this
    build did not ask for."""

    CODE = tuple(
        Path(__file__).parent.parent / module
        for module in ("brief/word.py", "brief/content.py", "localization.py")
    )

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.used: set[str] = set()
        self.kept = self.made = 0
        code = hashlib.sha256(f"python-docx=={version('python-docx')}\n".encode())
        for path in self.CODE:
            code.update(path.read_bytes())
        self._code = code.digest()

    def write(self, brief: Brief, markdown: str, target: Path) -> None:
        """Write ``brief`` as Word to ``target``, or link the kept file that holds it."""
        key = hashlib.sha256(self._code + brief.language.encode() + markdown.encode())
        kept = self.folder / f"{key.hexdigest()}.docx"
        self.used.add(kept.name)
        try:
            os.link(kept, target)
            self.kept += 1
            return
        except FileNotFoundError:
            pass
        target.write_bytes(brief_docx(brief))
        self.made += 1
        self.folder.mkdir(parents=True, exist_ok=True)
        temporary = kept.with_name(f".{kept.name}.{os.getpid()}.tmp")
        os.link(target, temporary)
        os.replace(temporary, kept)

    def forget_unused(self) -> None:
        if self.folder.is_dir():
            for path in self.folder.iterdir():
                if path.name not in self.used:
                    path.unlink()


def write_theme_briefs(
    records: Records,
    edition: Edition,
    folder: Path,
    language: str = ENGLISH,
    word: WordBriefs | None = None,
) -> list[ThemeBrief]:
    """A Markdown and a Word brief for each theme that holds statements, in ``folder``,
    framed in ``language`` (in a folder of its own, but in English); ``records``' document
    says its headlines in that language (``kb.localization.in_language``)."""
    written = []
    where = DOWNLOADS if language == ENGLISH else DOWNLOADS / language
    target = folder / where
    target.mkdir(parents=True, exist_ok=True)
    depth_of: dict[str, int] = {}
    for theme_id in records.theme_order():
        parent = records.themes[theme_id]["parent"]
        depth_of[theme_id] = depth_of[parent] + 1 if parent in depth_of else 0
        statements = records.statements_under(theme_id)
        if not statements:
            continue
        title = records.themes[theme_id]["title"]
        brief = make_brief(records, statements, edition, theme_title(title, language), language)
        markdown = brief_markdown(brief)
        (target / f"{theme_id}.md").write_text(markdown, encoding="utf-8")
        if word is None:
            (target / f"{theme_id}.docx").write_bytes(brief_docx(brief))
        else:
            word.write(brief, markdown, target / f"{theme_id}.docx")
        written.append(
            ThemeBrief(
                theme_id,
                title,
                depth_of[theme_id],
                len(statements),
                f"{where.as_posix()}/{theme_id}.md",
                f"{where.as_posix()}/{theme_id}.docx",
            )
        )
    return written


def _relative_addresses(page: str) -> Callable[[str, str], Markup]:
    """``href(type, id)`` for the brief page: a record page's address relative to it."""

    def href(record_type: str, record_id: str) -> Markup:
        return Markup(html.escape(relative_url(page, record_url(record_type, record_id))))

    return href


def theme_brief_downloads(
    themes: list[ThemeBrief], language: str = ENGLISH
) -> list[tuple[str, Words, Words]]:
    """The theme briefs as the downloads page lists them: (path under ``downloads/``, title,
    description), as messages of the catalogue; those framed in another language than English
    say which, by its own name ("Markdown, Cymraeg")."""
    listed = []
    named = "" if language == ENGLISH else f", {LANGUAGE_NAMES[language]}"
    for theme in themes:
        for path, kind in ((theme.markdown, f"Markdown{named}"), (theme.word, f"Word{named}")):
            listed.append(
                (
                    Path(path).relative_to("downloads").as_posix(),
                    Words(
                        N_("Evidence brief: %(theme)s (%(kind)s)"),
                        (("theme", RecordText(theme.title)), ("kind", kind)),
                    ),
                    Words(
                        count_forms(
                            "The brief for the theme's %(num)s statement.",
                            "The brief for the theme's %(num)s statements.",
                        ),
                        count=theme.statements,
                    ),
                )
            )
    return listed


def write_brief_page(
    writer: PageWriter, themes: list[ThemeBrief], made_on: datetime.date | None = None
) -> None:
    """The brief page, offering the theme briefs (``write_theme_briefs``)."""
    records = Records(writer.model.document)  # its headlines in the page's language
    edition = Edition(writer.site, writer.site.release, made_on or datetime.date.today())
    everything = sorted(records.recommendations, key=records.report_order)
    brief = make_brief(records, everything, edition, language=writer.language)
    writer.write(
        PAGE,
        "brief-page.md.j2",
        {**EXCLUDED, "hide": ["toc"]},
        brief=brief,
        href=_relative_addresses("brief/"),
        themes=themes,
    )
