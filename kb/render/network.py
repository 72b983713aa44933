"""A static SVG drawing of one theme's recommendation–evidence network.

Recommendations stand in a column on the left, the studies bearing on them on the right, and
each evidence link is a line between them: its dash pattern says the relation, its width the
strength level, so neither depends on colour. The drawing is an image with a text
description; the page's table beside it is the keyboard- and screen-reader-usable version.
Every label passes through ``inert``.
"""

from dataclasses import dataclass

from markupsafe import Markup

from kb.models import Relation
from kb.render.escape import inert

ROW = 26
TOP = 40
WIDTH = 880
LEFT_X = 250
RIGHT_X = 630
LABEL_CHARACTERS = 38
LARGEST_DRAWN = 150  # studies or recommendations; larger themes get the table only
# Relation → (dash pattern, colour); colours meet 3:1 against white.
RELATION_STYLE = {
    "supports": ("", "#1b5e20"),
    "qualifies": ("8 4", "#6d4c00"),
    "contradicts": ("2 3", "#b71c1c"),
    "practice-example": ("12 3 2 3", "#0d47a1"),
    "context": ("1 5", "#4a4a4a"),
}


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


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= LABEL_CHARACTERS else text[: LABEL_CHARACTERS - 1] + "…"


def network_svg(title: str, links: list[Link], svg_id: str) -> Markup | None:
    """The drawing, or None when there is nothing to draw or too much to draw legibly."""
    recs = list(dict.fromkeys((link.recommendation, link.recommendation_label) for link in links))
    studies = sorted(
        dict.fromkeys((link.study, link.study_label) for link in links), key=lambda s: s[1]
    )
    if not links or len(studies) > LARGEST_DRAWN or len(recs) > LARGEST_DRAWN:
        return None
    rec_y = {rec: TOP + index * ROW for index, (rec, _) in enumerate(recs)}
    study_y = {study: TOP + index * ROW for index, (study, _) in enumerate(studies)}
    height = TOP + max(len(recs), len(studies)) * ROW + 10
    parts = [
        f'<svg id="{svg_id}" class="kb-network" role="img" viewBox="0 0 {WIDTH} {height}" '
        f'width="{WIDTH}" height="{height}" aria-labelledby="{svg_id}-title {svg_id}-desc" '
        'xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{svg_id}-title">Evidence network: {inert(title)}</title>',
        f'<desc id="{svg_id}-desc">{len(recs)} recommendations on the left, {len(studies)} '
        f"studies on the right, joined by {len(links)} evidence links. The table that follows "
        "lists every link.</desc>",
        f'<text x="{LEFT_X}" y="18" text-anchor="end" class="kb-network__heading">'
        "Recommendations</text>",
        f'<text x="{RIGHT_X}" y="18" class="kb-network__heading">Studies</text>',
    ]
    for link in links:
        dash, colour = RELATION_STYLE.get(link.relation, RELATION_STYLE["context"])
        y1, y2 = rec_y[link.recommendation], study_y[link.study]
        middle = (LEFT_X + RIGHT_X) // 2
        dash_attribute = f' stroke-dasharray="{dash}"' if dash else ""
        parts.append(
            f'<path d="M{LEFT_X + 8},{y1} C{middle},{y1} {middle},{y2} {RIGHT_X - 8},{y2}" '
            f'fill="none" stroke="{colour}" stroke-width="{1 + link.rank * 0.7:.1f}"'
            f"{dash_attribute}/>"
        )
    for rec, label in recs:
        y = rec_y[rec]
        parts.append(f'<circle cx="{LEFT_X}" cy="{y}" r="5" class="kb-network__rec"/>')
        parts.append(
            f'<text x="{LEFT_X - 10}" y="{y + 4}" text-anchor="end">{inert(_short(label))}</text>'
        )
    for study, label in studies:
        y = study_y[study]
        parts.append(f'<circle cx="{RIGHT_X}" cy="{y}" r="5" class="kb-network__study"/>')
        parts.append(f'<text x="{RIGHT_X + 10}" y="{y + 4}">{inert(_short(label))}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def legend_svg() -> Markup:
    """A small key to the line styles, one line per relation, each named in text."""
    parts = []
    for relation, (dash, colour) in RELATION_STYLE.items():
        dash_attribute = f' stroke-dasharray="{dash}"' if dash else ""
        parts.append(
            '<li><svg width="48" height="10" aria-hidden="true" focusable="false">'
            f'<line x1="0" y1="5" x2="48" y2="5" stroke="{colour}" stroke-width="2.4"'
            f"{dash_attribute}/></svg> {inert(Relation(relation).label)}</li>"
        )
    return Markup('<ul class="kb-legend">' + "".join(parts) + "</ul>")
