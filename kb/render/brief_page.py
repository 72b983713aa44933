"""The site's evidence brief: its page, and a Markdown and a Word brief for each theme.

``brief/index.md`` holds every statement's part of a brief (``_brief.html.j2``, as
``kb brief --format html`` writes them), hidden; ``docs/javascripts/brief.js`` shows the ones
the address names (``brief/?ids=a,b``), in that order, with their key messages and
references, so a brief can be shared and reloaded. The per-theme briefs are written into
``downloads/briefs/`` (``THEME.md`` and ``THEME.docx``) when the site is built, and the page
lists them.
"""

import datetime
import html
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from markupsafe import Markup

from kb.brief import Edition, Records, make_brief
from kb.brief.text import brief_markdown
from kb.brief.word import brief_docx
from kb.records.urls import record_url
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


def write_theme_briefs(records: Records, edition: Edition, folder: Path) -> list[ThemeBrief]:
    """A Markdown and a Word brief for each theme that holds statements, in ``folder``."""
    written = []
    target = folder / DOWNLOADS
    target.mkdir(parents=True, exist_ok=True)
    depth_of: dict[str, int] = {}
    for theme_id in records.theme_order():
        parent = records.themes[theme_id]["parent"]
        depth_of[theme_id] = depth_of[parent] + 1 if parent in depth_of else 0
        statements = records.statements_under(theme_id)
        if not statements:
            continue
        title = records.themes[theme_id]["title"]
        brief = make_brief(records, statements, edition, f"Evidence brief: {title}")
        (target / f"{theme_id}.md").write_text(brief_markdown(brief), encoding="utf-8")
        (target / f"{theme_id}.docx").write_bytes(brief_docx(brief))
        written.append(
            ThemeBrief(
                theme_id,
                title,
                depth_of[theme_id],
                len(statements),
                f"{DOWNLOADS.as_posix()}/{theme_id}.md",
                f"{DOWNLOADS.as_posix()}/{theme_id}.docx",
            )
        )
    return written


def _relative_addresses(page: str) -> Callable[[str, str], Markup]:
    """``href(type, id)`` for the brief page: a record page's address relative to it."""

    def href(record_type: str, record_id: str) -> Markup:
        return Markup(html.escape(relative_url(page, record_url(record_type, record_id))))

    return href


def theme_brief_downloads(themes: list[ThemeBrief]) -> list[tuple[str, str, str]]:
    """The theme briefs as the downloads page lists them: (path under ``downloads/``, title,
    description)."""
    listed = []
    for theme in themes:
        for path, kind in ((theme.markdown, "Markdown"), (theme.word, "Word")):
            listed.append(
                (
                    Path(path).relative_to("downloads").as_posix(),
                    f"Evidence brief: {theme.title} ({kind})",
                    f"The brief for the theme's {theme.statements} statements.",
                )
            )
    return listed


def write_brief_page(
    writer: PageWriter, themes: list[ThemeBrief], made_on: datetime.date | None = None
) -> None:
    """The brief page, offering the theme briefs (``write_theme_briefs``)."""
    records = Records(writer.model.document)
    edition = Edition(writer.site, writer.site.release, made_on or datetime.date.today())
    everything = sorted(records.recommendations, key=records.report_order)
    brief = make_brief(records, everything, edition)
    writer.write(
        PAGE,
        "brief-page.md.j2",
        {**EXCLUDED, "hide": ["toc"]},
        brief=brief,
        href=_relative_addresses("brief/"),
        themes=themes,
    )
