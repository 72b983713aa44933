"""A drawing of one theme's recommendation–evidence network, as SVG that works without script.

Recommendations stand in a column on the left and the studies bearing on them in a column on
the right, each column ordered so that few lines cross (``kb.render.bipartite``); the taller
column is stacked and each node of the other is set level with its neighbours where there is
room. Each evidence link is a line between two nodes: its dash pattern says the relation and
its width the strength level, so neither depends on colour.

Every node is a link to its record's page, reachable with the keyboard, and shows its whole
label, wrapped over as many lines as it needs and never cut. Labels pass through ``inert``.
Record IDs, validated on the way in, make the addresses and the ``data-rec`` and
``data-study`` attributes that ``docs/javascripts/network.js`` reads for its focus view.
"""

import gettext
import html
import re
import unicodedata
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass

from markupsafe import Markup

from kb.records.levels import ENGLISH_WORDS
from kb.records.vocabularies import Relation, Strength
from kb.render.bipartite import order_columns
from kb.render.escape import inert

WIDTH = 900
FONT_SIZE = 14  # in the drawing's units: shown at this size wherever the drawing is shown whole
LINE_HEIGHT = 18

PAD = 4  # around a label, inside the box its focus outline draws
NODE_GAP = 4  # between one node's box and the next
TOP = 34  # below the column headings
DOT = 5
LABEL_WIDTH = 290  # the widest line a label may take, as ``text_width`` estimates it
REC_TEXT_END = 318  # recommendations' labels end here, right-aligned beside their dots
REC_X = 332
STUDY_X = 568
STUDY_TEXT_START = 582  # studies' labels start here: 582 + 290 + PAD stays inside WIDTH
PARALLEL = 4  # distance between two lines joining the same two nodes
LARGEST_DRAWN = 150  # studies or recommendations; larger themes get the table only
# Relation → (dash pattern, colour); colours meet 3:1 against white.
RELATION_STYLE = {
    "supports": ("", "#1b5e20"),
    "qualifies": ("8 4", "#6d4c00"),
    "contradicts": ("2 3", "#b71c1c"),
    "practice-example": ("12 3 2 3", "#0d47a1"),
    "context": ("1 5", "#4a4a4a"),
}


def line_width(strength: str) -> float:
    """A line's width for a strength level: 1 for S0, one more for each level above."""
    return 1 + Strength(strength).rank * 0.8


@dataclass(frozen=True)
class Link:
    id: str
    recommendation: str
    recommendation_label: str
    study: str
    study_label: str
    relation: str
    strength: str

    @property
    def rank(self) -> int:
        return int(self.strength[1])


# --- Labels ---------------------------------------------------------------------------------

# Advance widths of the printable ASCII characters, space to tilde, in thousandths of an em,
# in DejaVu Sans as Chromium measures it: wider than Helvetica, Arial, Roboto or San
# Francisco, which the site's font stack names first, so a line that fits by this measure
# fits in any of them.
_ASCII_WIDTHS = (
    318, 401, 460, 838, 636, 950, 780, 275, 390, 390, 500, 838, 318, 361, 318, 337,
    636, 636, 636, 636, 636, 636, 636, 636, 636, 636, 337, 337, 838, 838, 838, 531,
    1000, 684, 686, 698, 770, 632, 575, 775, 752, 295, 295, 656, 557, 863, 748, 787,
    603, 787, 695, 635, 611, 732, 684, 989, 685, 611, 685, 390, 337, 390, 838, 500,
    500, 613, 635, 550, 635, 615, 352, 635, 634, 278, 278, 579, 278, 974, 634, 612,
    635, 635, 411, 521, 392, 634, 592, 818, 592, 592, 525, 636, 337, 636, 838,
)  # fmt: skip
_OTHER_WIDTH = 800  # a character outside ASCII with no ASCII letter at its base
_WIDE_WIDTH = 1000  # East Asian wide and full-width characters


def _character_width(character: str) -> int:
    code = ord(character)
    if 32 <= code < 127:
        return _ASCII_WIDTHS[code - 32]
    if unicodedata.combining(character):
        return 0
    if unicodedata.east_asian_width(character) in "WF":
        return _WIDE_WIDTH
    base = unicodedata.normalize("NFD", character)[0]
    if 32 <= ord(base) < 127:  # é, ñ, ŵ: as wide as the letter they are made from
        return _ASCII_WIDTHS[ord(base) - 32]
    return _OTHER_WIDTH


def text_width(text: str) -> float:
    """An estimate, never much too small, of the width ``text`` takes in the drawing."""
    return sum(map(_character_width, text)) * FONT_SIZE / 1000


@dataclass(frozen=True)
class Wrapped:
    """A label over lines: ``spaced[i]`` says whether a space stood between line i and i+1
    (else a word too long for one line was broken there)."""

    lines: list[str]
    spaced: list[bool]


def _broken(word: str, width: float) -> list[str]:
    """``word`` in pieces no wider than ``width`` (one piece if it fits), each at least one
    character long."""
    pieces, start, used = [], 0, 0  # ``used``: thousandths of an em, as ``text_width`` sums
    for index, character in enumerate(word):
        advance = _character_width(character)
        if (used + advance) * FONT_SIZE / 1000 > width and index > start:
            pieces.append(word[start:index])
            start, used = index, 0
        used += advance
    pieces.append(word[start:])
    return pieces


_SPACES = re.compile(r"[ \t\r\n]+")  # what ``inert`` collapses; other spaces are kept


def wrap(text: str, width: float = LABEL_WIDTH) -> Wrapped:
    """``text`` over lines no wider than ``width``, broken at spaces where it can be and
    inside a word only when the word alone is wider. Joining the lines again, with a space
    where ``spaced`` says, gives the text back with its runs of spaces made one."""
    lines: list[str] = []
    spaced: list[bool] = []
    current = ""
    for word in _SPACES.split(text.strip(" \t\r\n")):
        joined = f"{current} {word}" if current else word
        if text_width(joined) <= width:
            current = joined
            continue
        if current:
            lines.append(current)
            spaced.append(True)
        *pieces, current = _broken(word, width)
        lines.extend(pieces)
        spaced.extend([False] * len(pieces))
    lines.append(current)
    return Wrapped(lines, spaced)


# --- Layout ---------------------------------------------------------------------------------


@dataclass
class _Node:
    id: str
    label: Wrapped
    top: int = 0

    @property
    def height(self) -> int:
        return len(self.label.lines) * LINE_HEIGHT + 2 * PAD

    @property
    def middle(self) -> int:
        return self.top + self.height // 2


def _column_height(nodes: list[_Node]) -> int:
    return sum(node.height for node in nodes) + NODE_GAP * (len(nodes) - 1)


def _stack(nodes: list[_Node]) -> None:
    top = TOP
    for node in nodes:
        node.top = top
        top += node.height + NODE_GAP


def _settle(nodes: list[_Node], wanted: list[float], bottom: int) -> None:
    """Place ``nodes`` in order with each middle as near its ``wanted`` height as the other
    nodes allow, between ``TOP`` and ``bottom``."""
    top = TOP
    for node, middle in zip(nodes, wanted, strict=True):
        node.top = max(round(middle) - node.height // 2, top)
        top = node.top + node.height + NODE_GAP
    top = bottom
    for node in reversed(nodes):
        node.top = min(node.top, top - node.height)
        top = node.top - NODE_GAP


def first_order(links: list[Link]) -> tuple[list[str], list[str]]:
    """The columns before any reordering: recommendations as the theme lists them, studies
    by label (the order the drawing had before it was laid out to reduce crossings)."""
    recs = list(dict.fromkeys(link.recommendation for link in links))
    study_labels = {link.study: link.study_label for link in links}
    return recs, sorted(study_labels, key=study_labels.__getitem__)


def column_orders(links: list[Link]) -> tuple[list[str], list[str]]:
    """The order of the recommendations and of the studies in the drawing: the first order
    rearranged so that fewer lines cross (never more), the same for the same links."""
    edges = [(link.recommendation, link.study) for link in links]
    return order_columns(edges, *first_order(links))


def _layout(links: list[Link]) -> tuple[list[_Node], list[_Node], int]:
    """The recommendations' and the studies' nodes, ordered and placed; and the bottom."""
    rec_labels = {link.recommendation: link.recommendation_label for link in links}
    study_labels = {link.study: link.study_label for link in links}
    edges = [(link.recommendation, link.study) for link in links]
    rec_order, study_order = column_orders(links)
    recs = [_Node(rec, wrap(rec_labels[rec])) for rec in rec_order]
    studies = [_Node(study, wrap(study_labels[study])) for study in study_order]
    of_rec: dict[str, dict[str, None]] = defaultdict(dict)  # dicts, not sets: one order
    of_study: dict[str, dict[str, None]] = defaultdict(dict)  # every run, so the same sums
    for rec, study in edges:
        of_rec[rec][study] = None
        of_study[study][rec] = None
    stacked, settled, neighbours = recs, studies, of_study
    if _column_height(studies) > _column_height(recs):
        stacked, settled, neighbours = studies, recs, of_rec
    _stack(stacked)
    middle = {node.id: node.middle for node in stacked}
    wanted = [
        sum(middle[other] for other in neighbours[node.id]) / len(neighbours[node.id])
        for node in settled
    ]
    bottom = TOP + _column_height(stacked)
    _settle(settled, wanted, bottom)
    return recs, studies, bottom


# --- Drawing --------------------------------------------------------------------------------


def _label_text(node: _Node, x: int, anchor: str) -> str:
    """The label as one ``text`` element, a ``tspan`` per line.

    The space between two lines is written where it moves nothing, and outside the
    underlined part: before the next line when the lines are right-aligned, after the line
    when left-aligned. So the element's text is the whole label, as a screen reader names
    the link.
    """
    wrapped = node.label
    first = node.top + PAD + FONT_SIZE - 1
    tspans = []
    for index, line in enumerate(wrapped.lines):
        before = " " if anchor == "end" and index and wrapped.spaced[index - 1] else ""
        last = index == len(wrapped.lines) - 1
        after = " " if anchor == "start" and not last and wrapped.spaced[index] else ""
        tspans.append(
            f'<tspan x="{x}" y="{first + index * LINE_HEIGHT}">{before}'
            f'<tspan class="kb-node__line">{inert(line)}</tspan>{after}</tspan>'
        )
    return f'<text text-anchor="{anchor}">{"".join(tspans)}</text>'


def _rec_node(node: _Node, href: str) -> str:
    width = max(text_width(line) for line in node.label.lines)
    left = REC_TEXT_END - round(width) - PAD
    return (
        f'<g role="listitem"><a class="kb-node kb-node--rec" href="{href}" '
        f'data-rec="{inert(node.id)}">'
        f'<rect class="kb-node__box" x="{left}" y="{node.top}" '
        f'width="{REC_X + DOT + PAD - left}" height="{node.height}" rx="3"/>'
        f'<circle class="kb-node__dot" cx="{REC_X}" cy="{node.middle}" r="{DOT}"/>'
        f"{_label_text(node, REC_TEXT_END, 'end')}</a></g>"
    )


def _study_node(node: _Node, href: str) -> str:
    width = max(text_width(line) for line in node.label.lines)
    left = STUDY_X - DOT - PAD
    return (
        f'<g role="listitem"><a class="kb-node kb-node--study" href="{href}" '
        f'data-study="{inert(node.id)}">'
        f'<rect class="kb-node__box" x="{left}" y="{node.top}" '
        f'width="{STUDY_TEXT_START + round(width) + PAD - left}" height="{node.height}" rx="3"/>'
        f'<circle class="kb-node__dot" cx="{STUDY_X}" cy="{node.middle}" r="{DOT}"/>'
        f"{_label_text(node, STUDY_TEXT_START, 'start')}</a></g>"
    )


def _lines(links: list[Link], recs: list[_Node], studies: list[_Node]) -> list[str]:
    """One path per link; lines joining the same two nodes are drawn side by side."""
    rec_y = {node.id: node.middle for node in recs}
    study_y = {node.id: node.middle for node in studies}
    parallel: dict[tuple[str, str], list[Link]] = defaultdict(list)
    for link in links:
        parallel[link.recommendation, link.study].append(link)
    start, end = REC_X + DOT + 1, STUDY_X - DOT - 1
    middle = (start + end) // 2
    paths = []
    for (rec, study), group in parallel.items():
        for index, link in enumerate(group):
            shift = (index - (len(group) - 1) / 2) * PARALLEL
            y1, y2 = rec_y[rec] + shift, study_y[study] + shift
            dash, colour = RELATION_STYLE.get(link.relation, RELATION_STYLE["context"])
            dash_attribute = f' stroke-dasharray="{dash}"' if dash else ""
            paths.append(
                f'<path class="kb-network__link" data-rec="{inert(rec)}" '
                f'data-study="{inert(study)}" '
                f'd="M{start},{y1:g} C{middle},{y1:g} {middle},{y2:g} {end},{y2:g}" '
                f'fill="none" stroke="{colour}" stroke-width="{line_width(link.strength):g}"'
                f"{dash_attribute}/>"
            )
    return paths


def network_svg(
    title: str,
    links: list[Link],
    svg_id: str,
    href: Callable[[str, str], str],
    words: gettext.NullTranslations = ENGLISH_WORDS,
    record_lang: str = "",
) -> Markup | None:
    """The drawing, or None when there is nothing to draw or too much to draw legibly.

    ``href(record_type, record_id)`` is the address of a record's page from the page the
    drawing is on; ``words`` says our own words in the page's language (kb.localization),
    and ``record_lang`` (`` lang="en"``) marks the records' names as English on a page in
    another language.
    """
    _, ngettext = words.gettext, words.ngettext
    rec_count = len({link.recommendation for link in links})
    study_count = len({link.study for link in links})
    if not links or study_count > LARGEST_DRAWN or rec_count > LARGEST_DRAWN:
        return None
    recs, studies, bottom = _layout(links)
    height = bottom + PAD
    heading, recs_heading, studies_heading = (
        _("Evidence network:"),
        _("Recommendations"),
        _("Studies"),
    )
    description = " ".join(
        (
            ngettext(
                "%(num)s recommendation on the left,",
                "%(num)s recommendations on the left,",
                rec_count,
            )
            % {"num": rec_count},
            ngettext("%(num)s study on the right,", "%(num)s studies on the right,", study_count)
            % {"num": study_count},
            ngettext(
                "joined by %(num)s evidence link.", "joined by %(num)s evidence links.", len(links)
            )
            % {"num": len(links)},
            _("Each name links to its page; the table that follows lists every link."),
        )
    )
    parts = [
        f'<svg id="{svg_id}" class="kb-network" role="group" viewBox="0 0 {WIDTH} {height}" '
        f'width="{WIDTH}" height="{height}" aria-labelledby="{svg_id}-title" '
        f'aria-describedby="{svg_id}-desc" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{svg_id}-title">{inert(heading)} {inert(title)}</title>',
        f'<desc id="{svg_id}-desc">{inert(description)}</desc>',
        f'<text id="{svg_id}-recs" x="{REC_TEXT_END}" y="18" text-anchor="end" '
        f'class="kb-network__heading" aria-hidden="true">{inert(recs_heading)}</text>',
        f'<text id="{svg_id}-studies" x="{STUDY_TEXT_START}" y="18" '
        f'class="kb-network__heading" aria-hidden="true">{inert(studies_heading)}</text>',
        '<g class="kb-network__links" aria-hidden="true">',
        *_lines(links, recs, studies),
        "</g>",
        f'<g class="kb-network__column" role="list" aria-labelledby="{svg_id}-recs"{record_lang}>',
        *(_rec_node(node, html.escape(href("recommendation", node.id))) for node in recs),
        "</g>",
        f'<g class="kb-network__column" role="list" aria-labelledby="{svg_id}-studies"'
        f"{record_lang}>",
        *(_study_node(node, html.escape(href("study", node.id))) for node in studies),
        "</g>",
        "</svg>",
    ]
    return Markup("".join(parts))


def legend_svg(words: gettext.NullTranslations = ENGLISH_WORDS) -> Markup:
    """The key to the lines: a sample of each relation's pattern and each level's width,
    each named in text, in the page's language (``words``)."""
    _ = words.gettext
    relations = []
    for relation, (dash, colour) in RELATION_STYLE.items():
        dash_attribute = f' stroke-dasharray="{dash}"' if dash else ""
        relations.append(
            '<li><svg width="48" height="10" aria-hidden="true" focusable="false">'
            f'<line x1="0" y1="5" x2="48" y2="5" stroke="{colour}" stroke-width="2.4"'
            f"{dash_attribute}/></svg> {inert(_(Relation(relation).label))}</li>"
        )
    levels = []
    for level in Strength:
        levels.append(
            '<li><svg width="48" height="10" aria-hidden="true" focusable="false">'
            f'<line x1="0" y1="5" x2="48" y2="5" stroke="#1f1f1f" '
            f'stroke-width="{line_width(level.value):g}"/></svg> '
            f"{inert(level.value)} {inert(_(level.label))}</li>"
        )
    pattern, width = _("Line pattern: the relation"), _("Line width: the strength level")
    return Markup(
        f'<span class="kb-legend__title">{inert(pattern)}</span>'
        f'<ul class="kb-legend">{"".join(relations)}</ul>'
        f'<span class="kb-legend__title">{inert(width)}</span>'
        f'<ul class="kb-legend">{"".join(levels)}</ul>'
    )


@dataclass(frozen=True)
class Group:
    """One recommendation with its links, strongest first: the drawing as a list."""

    recommendation: str
    label: str
    links: list[Link]


def by_recommendation(links: list[Link]) -> list[Group]:
    """The links grouped by recommendation, in the order the recommendations first come."""
    grouped: dict[str, list[Link]] = defaultdict(list)
    for link in links:
        grouped[link.recommendation].append(link)
    return [
        Group(
            rec,
            group[0].recommendation_label,
            sorted(group, key=lambda link: (-link.rank, link.study_label, link.id)),
        )
        for rec, group in grouped.items()
    ]
