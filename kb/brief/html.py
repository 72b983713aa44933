"""A brief as one standalone HTML page, styled for the screen and for print.

Laid out by ``kb/templates/brief.html.j2`` from the parts in ``_brief.html.j2``, which the
site's brief page shares. Jinja escapes every value it prints (``autoescape``): record text
holding ``<script>`` shows those characters. Record pages are linked by their permanent
addresses when the site's address is set (``kb.site_config``), and not linked otherwise.

Our words come from the brief's language's catalogue (Jinja's i18n extension, as on the
site); in a brief in Welsh, the record text is marked ``lang="en"`` (``record_lang``, the
``en`` filter, and ``said`` for our sentences with record text in them).
"""

from collections.abc import Callable
from typing import Any

import jinja2
from markupsafe import Markup, escape

from kb.brief.content import Brief
from kb.localization import ENGLISH, pieces_of, translations
from kb.records.urls import record_url
from kb.site_config import SiteInfo

ENGLISH_TEXT = Markup(' lang="en"')


def said_filter(
    made_safe: Callable[[Any], Markup], record_lang: Markup
) -> Callable[[Any, str | None], Markup]:
    """The ``said`` filter: a sentence of ours (``kb.localization.Said``) with its record text
    marked ``record_lang``, each piece made safe by ``made_safe``; the piece that is
    ``address`` (a permanent address), linked."""

    def said(value: Any, address: str | None = None) -> Markup:
        written = []
        for text, record in pieces_of(value):
            piece = made_safe(text)
            if address and text == address and not record:
                piece = Markup(f'<a href="{made_safe(address)}">{piece}</a>')
            elif record and record_lang:
                piece = Markup(f"<span{record_lang}>{piece}</span>")
            written.append(piece)
        return Markup("").join(written)

    return said


def _environment(language: str = ENGLISH) -> jinja2.Environment:
    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("kb", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        extensions=["jinja2.ext.i18n"],
    )
    environment.install_gettext_translations(translations(language), newstyle=True)  # type: ignore[attr-defined]
    environment.policies["ext.i18n.trimmed"] = True  # as kb/locale/babel.cfg extracts them
    record_lang = ENGLISH_TEXT if language != ENGLISH else Markup("")

    def english(value: Any) -> Markup:
        text = escape(value)
        return Markup(f"<span{record_lang}>{text}</span>") if record_lang and text else text

    environment.filters.update(en=english, said=said_filter(escape, record_lang))
    environment.globals.update(record_lang=record_lang, language=language)
    return environment


def permanent_addresses(site: SiteInfo) -> Callable[[str, str], str | None]:
    """``href(type, id)``: a record page's permanent address, or None while it is unknown."""

    def href(record_type: str, record_id: str) -> str | None:
        return site.absolute(record_url(record_type, record_id))

    return href


def brief_html(brief: Brief) -> str:
    """The brief as a standalone HTML page, in the brief's language."""
    template = _environment(brief.language).get_template("brief.html.j2")
    return template.render(brief=brief, href=permanent_addresses(brief.edition.site))
