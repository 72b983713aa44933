"""Evidence briefs: what a policy writer takes away about a selection of statements.

Takes: the export document (``kb.store.export``) and a selection (IDs, a theme, a search's
results, a minimum strength, a saved selection file).
Gives: a ``Brief`` (``content``: plain data, every claim with its basis), laid out as plain
text or Markdown (``text``), a standalone HTML page (``html``) or a Word document (``word``,
the only module that imports python-docx); and one record in words, for ``kb show``
(``record_text``).

``records`` indexes the document for a brief and ``selection`` checks what was asked for.
The site's brief page and per-theme downloads (``kb.render.brief_page``) use the same parts.
A brief is framed in English or Welsh (``LANGUAGES``): our words from the catalogue, the
records' words as they were written.

May import: the shared modules, ``kb.records``, ``kb.localization``, ``kb.references``,
``kb.store.database`` and ``kb.history``; never the CLI, nor the evidence graph (networkx costs a
third of a second to load).
"""

from collections.abc import Callable
from typing import Any

from kb.brief.content import Brief, Edition, make_brief, theme_title
from kb.brief.records import Records
from kb.brief.selection import Named, read_selection_file, select_statements
from kb.localization import ENGLISH, LANGUAGES, in_language
from kb.records.document import Document

__all__ = [
    "FORMATS",
    "LANGUAGES",
    "Brief",
    "Edition",
    "Named",
    "Records",
    "brief_for",
    "make_brief",
    "read_selection_file",
    "render_brief",
    "select_statements",
]


def _text(brief: Brief, width: int | None) -> str:
    from kb.brief.text import brief_text

    return brief_text(brief, width)


def _markdown(brief: Brief, width: int | None) -> str:
    from kb.brief.text import brief_markdown

    return brief_markdown(brief)


def _html(brief: Brief, width: int | None) -> str:
    from kb.brief.html import brief_html

    return brief_html(brief)


def _docx(brief: Brief, width: int | None) -> bytes:
    from kb.brief.word import brief_docx

    return brief_docx(brief)


# Output format → its writer; "docx" gives bytes, the others text.
FORMATS: dict[str, Callable[[Brief, int | None], Any]] = {
    "text": _text,
    "md": _markdown,
    "html": _html,
    "docx": _docx,
}


def brief_for(
    document: Document,
    edition: Edition,
    names: list[Named],
    theme: str | None = None,
    found: list[str] | None = None,
    min_strength: str | None = None,
    title: str | None = None,
    language: str = ENGLISH,
) -> Brief:
    """The brief for a selection (``select_statements``: IDs from a file or the command
    line, a theme, a search's results, a minimum strength), framed in ``language``. Its title
    is ``title``, else the theme's when a theme alone chose the statements, else "Evidence
    brief"."""
    records = Records(in_language(document, language))
    chosen = select_statements(records, names, theme, found, min_strength)
    if title is None and theme and not names and found is None:
        title = theme_title(records.themes[theme]["title"], language)
    return make_brief(records, chosen, edition, title, language)


def render_brief(brief: Brief, output_format: str, width: int | None = None) -> str | bytes:
    """The brief in one of ``FORMATS``; ``width`` wraps plain text (for a terminal)."""
    result: str | bytes = FORMATS[output_format](brief, width)
    return result
