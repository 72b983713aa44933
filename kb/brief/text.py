"""A brief as plain text (for a terminal, or to paste anywhere) and as Markdown.

Both lay out the same ``Brief`` in the same order. Plain text carries no markup at all: no
``#``, ``**`` or ``>``, so what is piped or pasted reads as it is. Markdown escapes every
record text (``markdown_text``), so a title holding ``<script>``, ``*emphasis*`` or
``[a](link)`` shows those characters and is never markup, in CommonMark, GitHub's Markdown and
Python-Markdown alike.
"""

import gettext
import re
import textwrap
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from kb.brief.content import Brief, BriefItem, EvidenceShown
from kb.localization import translations
from kb.records.vocabularies import CONTROL_CHARACTERS

_SPACES = re.compile(r"\s+")
# Characters that mean something in Markdown anywhere in a line, each with its escape:
# a backslash where CommonMark and Python-Markdown both read one, else a character reference.
_MARKDOWN_SPECIAL = re.compile(r"[\\`*_\[\]{}<>|~$^]|&(?=#?[A-Za-z0-9]+;)")
_MARKDOWN_ESCAPES = {
    **{character: f"\\{character}" for character in "\\`*_[]{}"},
    "<": "&lt;",
    ">": "&gt;",
    "&": "&amp;",
    "|": "&#124;",
    "~": "&#126;",
    "$": "&#36;",
    "^": "&#94;",
}
Words = gettext.NullTranslations  # our words in a brief's language (kb.localization)
# What makes a line a heading, a list item, a quote or a rule when it starts the line.
_LINE_START = re.compile(r"^(#|[-+=]|\d+(?=[.)]))")


def one_line(value: object) -> str:
    """Record text on one line, control characters removed (kb.records.models refuses them too)."""
    return _SPACES.sub(" ", CONTROL_CHARACTERS.sub("", str(value))).strip()


def markdown_text(value: object) -> str:
    """Record text as Markdown that shows exactly that text.

    >>> markdown_text("<b>*x*</b> & [a](b)")
    '&lt;b&gt;\\\\*x\\\\*&lt;/b&gt; & \\\\[a\\\\](b)'
    """
    text = _MARKDOWN_SPECIAL.sub(lambda match: _MARKDOWN_ESCAPES[match.group()[0]], one_line(value))
    start = _LINE_START.match(text)
    if start:  # a heading, list or rule marker at the start of a paragraph
        end = start.end()
        if start.group().isdigit():
            return f"{text[:end]}\\{text[end:]}"
        return f"\\{text}"
    return text


def _destination(address: str) -> str:
    """An address as a Markdown link's destination, written between ``<`` and ``>``."""
    return address.replace("<", "%3C").replace(">", "%3E").replace(" ", "%20")


@dataclass(frozen=True)
class _Style:
    """How one output format marks what the layout needs."""

    text: Callable[[object], str]  # record text
    heading: Callable[[int, str], str]  # level, words already made safe
    strong: Callable[[str], str]
    code: Callable[[str], str]  # a record ID
    statement: Callable[[str], str]  # a paragraph of a statement, quoted
    aside: Callable[[str], str]  # a paragraph set apart: the quote of an evidence link
    link: Callable[[str, str], str] | None  # words, address; None: addresses are written out
    bullet: str
    line_break: str  # between the lines of one block


def _plain_heading(level: int, words: str) -> str:
    return words


_PLAIN = _Style(
    text=one_line,
    heading=_plain_heading,
    strong=lambda words: words,
    code=lambda record_id: record_id,
    statement=lambda words: f"“{words}”",
    aside=lambda words: words,
    link=None,
    bullet="• ",
    line_break="\n",
)

_MARKDOWN = _Style(
    text=markdown_text,
    heading=lambda level, words: f"{'#' * level} {words}",
    strong=lambda words: f"**{words}**",
    code=lambda record_id: f"`{record_id}`",
    statement=lambda words: f"> {words}",
    aside=lambda words: f"> {words}",
    link=lambda words, address: f"[{words}](<{_destination(address)}>)",
    bullet="- ",
    line_break="\n\n",
)


def _evidence(style: _Style, number: int, shown: EvidenceShown, words: Words) -> str:
    """One study's evidence: a block of lines in plain text, of paragraphs in Markdown."""
    t, _ = style.text, words.gettext
    claim = " " + _("On %(claim)s:") % {"claim": t(shown.claim)} if shown.claim else ""
    unchecked = "" if shown.quote_checked else f" {_('Not checked against a held text.')}"
    return style.line_break.join(
        (
            f"{style.strong(f'{number}. {t(shown.study)}')}, {t(shown.study_type).lower()}; "
            f"{t(shown.level_words)}.{claim}",
            f"{_('Our summary')}: {t(shown.summary)}",
            style.aside(f"{_('In its own words')}: “{t(shown.quote)}”"),
            f"{_('Basis')}: {t(shown.basis_words)}{unchecked}",
        )
    )


def _page_words(style: _Style, item: BriefItem, words: Words) -> str:
    """ "its page", linked (or with its address) where the site's address is known."""
    _ = words.gettext
    if item.permalink is None:
        return _("its page (%(path)s on the site)") % {"path": item.path}
    if style.link is None:
        return f"{_('its page')} ({item.permalink})"
    return style.link(_("its page"), item.permalink)


def _citation(style: _Style, item: BriefItem) -> str:
    """The citation; its closing address as a link where the format has links."""
    citation = style.text(item.citation)
    written = style.text(item.permalink) if item.permalink else None
    if style.link and item.permalink and written and citation.endswith(f"{written}."):
        return f"{citation[: -len(written) - 1]}{style.link(written, item.permalink)}."
    return citation


def _item(style: _Style, number: int, item: BriefItem, words: Words) -> Iterator[str]:
    t, _ = style.text, words.gettext
    yield style.heading(2, f"{number}. {t(item.title)}")
    themes = "; ".join(t(theme) for theme in item.themes)
    label = _("Theme") if len(item.themes) == 1 else _("Themes")
    yield f"{t(item.kind_label)} {style.code(item.id)} · {label}: {themes}"
    for paragraph in item.statement:
        yield style.statement(t(paragraph))
    strength = item.strength
    reason = f" {t(strength.reason)}" if strength.reason else ""
    said = _("Strength of evidence")
    yield f"{style.strong(f'{said}: {t(strength.words)}.')} {t(strength.meaning)}{reason}"
    yield style.heading(3, _("Strongest evidence"))
    if item.evidence:
        for number_shown, shown in enumerate(item.evidence, 1):
            yield _evidence(style, number_shown, shown, words)
        more = item.links - len(item.evidence)
        if more:
            yield words.ngettext(
                "%(num)s more evidence link on %(page)s.",
                "%(num)s more evidence links on %(page)s.",
                more,
            ) % {"num": more, "page": _page_words(style, item, words)}
    else:
        yield _("No evidence link supports it.")
    yield style.heading(3, _("Gaps and uncertainties"))
    if item.gaps:
        yield "\n".join(f"{style.bullet}{t(gap)}" for gap in item.gaps)
    else:
        yield _("None recorded beyond its level.")
    yield style.heading(3, _("Practice examples"))
    if item.examples:
        yield "\n".join(
            f"{style.bullet}{style.strong(t(example.name))} ({t(example.status)}): "
            f"{t(example.description)}"
            for example in item.examples
        )
    else:
        yield _("None linked.")
    yield style.heading(3, _("Cite"))
    yield _citation(style, item)


def _blocks(style: _Style, brief: Brief) -> Iterator[str]:
    t = style.text
    words = translations(brief.language)
    _ = words.gettext
    yield style.heading(1, t(brief.title))
    yield t(brief.edition_words)
    yield style.heading(2, _("Key messages"))
    yield t(brief.overview)
    yield "\n".join(
        f"{style.bullet}{style.strong(t(item.title))}: {t(item.strength.words)}. "
        f"{t(item.strength.meaning)}"
        for item in brief.key_messages
    )
    for number, item in enumerate(brief.items, 1):
        yield from _item(style, number, item, words)
    yield style.heading(2, _("References"))
    yield "\n".join(f"{style.bullet}{t(reference.text)}" for reference in brief.references)


def brief_markdown(brief: Brief) -> str:
    """The brief in Markdown, every record text escaped."""
    return "\n\n".join(_blocks(_MARKDOWN, brief)) + "\n"


def brief_text(brief: Brief, width: int | None = None) -> str:
    """The brief as plain text; with ``width``, each paragraph wrapped to it (for a
    terminal), else one line per paragraph (for pasting)."""
    blocks = list(_blocks(_PLAIN, brief))
    if width:
        blocks = [
            "\n".join(
                textwrap.fill(line, width, subsequent_indent="  " if line.startswith("•") else "")
                for line in block.splitlines()
            )
            for block in blocks
        ]
    return "\n\n".join(blocks) + "\n"
