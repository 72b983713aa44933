"""A brief as one standalone HTML page, styled for the screen and for print.

Laid out by ``kb/templates/brief.html.j2`` from the parts in ``_brief.html.j2``, which the
site's brief page shares. Jinja escapes every value it prints (``autoescape``): record text
holding ``<script>`` shows those characters. Record pages are linked by their permanent
addresses when the site's address is set (``kb.site_config``), and not linked otherwise.
"""

from collections.abc import Callable

import jinja2

from kb.brief.content import Brief
from kb.records.urls import record_url
from kb.site_config import SiteInfo


def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("kb", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def permanent_addresses(site: SiteInfo) -> Callable[[str, str], str | None]:
    """``href(type, id)``: a record page's permanent address, or None while it is unknown."""

    def href(record_type: str, record_id: str) -> str | None:
        return site.absolute(record_url(record_type, record_id))

    return href


def brief_html(brief: Brief) -> str:
    """The brief as a standalone HTML page."""
    template = _environment().get_template("brief.html.j2")
    return template.render(brief=brief, href=permanent_addresses(brief.edition.site))
