"""A brief as a Word document (.docx) that a civil servant can edit: real headings, tables and
a reference list, written with python-docx (imported only here, only to write one).

The layout follows ``kb.brief.text``: the title (Word's Title style), the edition, "Key
messages" (Heading 1) with a bulleted list, one Heading 1 per statement with its statement
in the Quote style, its strongest evidence as a table (Study, Level, Our summary, In its own
words, Basis; the header row repeats on each page), its gaps, practice examples and citation
under Heading 2s, and "References" with one hanging-indented paragraph per reference. Record
text is written as Word text runs, never as markup, so ``<script>`` stays those characters.

The file is the same, byte for byte, for the same brief: the document's dates are the day the
brief was made, its author is left empty, and the zip entries carry that day too.
"""

import datetime
import io
import zipfile
from typing import Any

from kb.brief.content import Brief, BriefItem
from kb.brief.text import one_line

# Column widths of the evidence table on an A4 page with 2.54 cm margins (15.9 cm), in cm.
EVIDENCE_COLUMNS = (
    ("Study", 2.6),
    ("Level", 2.0),
    ("Our summary", 3.6),
    ("In its own words", 4.6),
    ("Basis", 3.1),
)
_LINK_COLOUR = "1F4E9A"


def _hyperlink(paragraph: Any, address: str, text: str) -> None:
    """Append a link to ``address`` (an external relationship) showing ``text``."""
    from docx.opc.constants import RELATIONSHIP_TYPE
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    relationship = paragraph.part.relate_to(address, RELATIONSHIP_TYPE.HYPERLINK, is_external=True)
    link = OxmlElement("w:hyperlink")
    link.set(qn("r:id"), relationship)
    run = OxmlElement("w:r")
    properties = OxmlElement("w:rPr")
    colour = OxmlElement("w:color")
    colour.set(qn("w:val"), _LINK_COLOUR)
    underline = OxmlElement("w:u")
    underline.set(qn("w:val"), "single")
    properties.extend([colour, underline])
    words = OxmlElement("w:t")
    words.text = text
    words.set(qn("xml:space"), "preserve")
    run.extend([properties, words])
    link.append(run)
    paragraph._p.append(link)


def _ending_in_link(paragraph: Any, text: str, address: str | None) -> None:
    """Write ``text``; where it ends with ``address`` (and a full stop), that as a link."""
    for ending in (f"{address}.", address):
        if address and ending and text.endswith(ending):
            paragraph.add_run(text[: -len(ending)])
            _hyperlink(paragraph, address, address)
            if ending.endswith("."):
                paragraph.add_run(".")
            return
    paragraph.add_run(text)


def _repeat_as_header(row: Any) -> None:
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    header = OxmlElement("w:tblHeader")
    header.set(qn("w:val"), "true")
    row._tr.get_or_add_trPr().append(header)


def _bullets(document: Any, lines: list[str]) -> None:
    for line in lines:
        document.add_paragraph(one_line(line), style="List Bullet")


def _evidence_table(document: Any, item: BriefItem) -> None:
    from docx.shared import Cm

    table = document.add_table(rows=1, cols=len(EVIDENCE_COLUMNS))
    table.style = "Table Grid"
    table.autofit = False
    for cell, (heading, _) in zip(table.rows[0].cells, EVIDENCE_COLUMNS, strict=True):
        cell.paragraphs[0].add_run(heading).bold = True
    _repeat_as_header(table.rows[0])
    for shown in item.evidence:
        claim = f"On {one_line(shown.claim)}: " if shown.claim else ""
        unchecked = "" if shown.quote_checked else " Not checked against a held text."
        values = (
            f"{one_line(shown.study)} ({one_line(shown.study_type).lower()})",
            one_line(shown.level_words),
            f"{claim}{one_line(shown.summary)}",
            f"“{one_line(shown.quote)}”",
            f"{one_line(shown.basis_words)}{unchecked}",
        )
        cells = table.add_row().cells
        for cell, value in zip(cells, values, strict=True):
            cell.text = value
    for column, (_, width) in zip(table.columns, EVIDENCE_COLUMNS, strict=True):
        for cell in column.cells:
            cell.width = Cm(width)


def _item(document: Any, number: int, item: BriefItem) -> None:
    document.add_heading(f"{number}. {one_line(item.title)}", level=1)
    label = "Theme" if len(item.themes) == 1 else "Themes"
    themes = "; ".join(one_line(theme) for theme in item.themes)
    document.add_paragraph(f"{one_line(item.kind_label)} {item.id} · {label}: {themes}")
    for paragraph in item.statement:
        document.add_paragraph(one_line(paragraph), style="Quote")
    strength = document.add_paragraph()
    strength.add_run(f"Strength of evidence: {one_line(item.strength.words)}.").bold = True
    reason = f" {one_line(item.strength.reason)}" if item.strength.reason else ""
    strength.add_run(f" {one_line(item.strength.meaning)}{reason}")
    document.add_heading("Strongest evidence", level=2)
    if item.evidence:
        _evidence_table(document, item)
        more = item.links - len(item.evidence)
        if more:
            page = document.add_paragraph(f"{more} more evidence link{'s' if more != 1 else ''} ")
            if item.permalink:
                page.add_run("on its page: ")
                _hyperlink(page, item.permalink, item.permalink)
                page.add_run(".")
            else:
                page.add_run(f"on its page ({item.path} on the site).")
    else:
        document.add_paragraph("No evidence link supports it.")
    document.add_heading("Gaps and uncertainties", level=2)
    if item.gaps:
        _bullets(document, item.gaps)
    else:
        document.add_paragraph("None recorded beyond its level.")
    document.add_heading("Practice examples", level=2)
    if item.examples:
        for example in item.examples:
            paragraph = document.add_paragraph(style="List Bullet")
            paragraph.add_run(one_line(example.name)).bold = True
            paragraph.add_run(f" ({one_line(example.status)}): {one_line(example.description)}")
    else:
        document.add_paragraph("None linked.")
    document.add_heading("Cite", level=2)
    _ending_in_link(document.add_paragraph(), one_line(item.citation), item.permalink)


def _fixed_zip(data: bytes, day: datetime.date) -> bytes:
    """The same zip with every entry dated ``day``, so that equal briefs are equal files."""
    stamp = (day.year, day.month, day.day, 0, 0, 0)
    written = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(data)) as original,
        zipfile.ZipFile(written, "w", zipfile.ZIP_DEFLATED) as fixed,
    ):
        for entry in original.infolist():
            info = zipfile.ZipInfo(entry.filename, date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            fixed.writestr(info, original.read(entry))
    return written.getvalue()


# Word's document properties hold at most this many characters.
PROPERTY_CHARACTERS = 255


def _property(text: str) -> str:
    """Text for a document property: one line, cut to ``PROPERTY_CHARACTERS`` with "…"."""
    text = one_line(text)
    if len(text) <= PROPERTY_CHARACTERS:
        return text
    return text[: PROPERTY_CHARACTERS - 1] + "…"


def brief_docx(brief: Brief) -> bytes:
    """The brief as the bytes of a .docx file."""
    from docx import Document
    from docx.shared import Cm

    document = Document()
    section = document.sections[0]
    section.page_width, section.page_height = Cm(21), Cm(29.7)
    made = datetime.datetime.combine(brief.edition.made_on, datetime.time())
    properties = document.core_properties
    properties.title = _property(brief.title)
    properties.subject = "Evidence brief"
    properties.comments = _property(brief.edition.words())
    properties.author = ""
    properties.last_modified_by = ""
    properties.created = properties.modified = made
    properties.revision = 1

    document.add_heading(one_line(brief.title), level=0)
    document.add_paragraph(one_line(brief.edition.words()))
    document.add_heading("Key messages", level=1)
    document.add_paragraph(one_line(brief.overview))
    for item in brief.key_messages:
        paragraph = document.add_paragraph(style="List Bullet")
        paragraph.add_run(one_line(item.title)).bold = True
        paragraph.add_run(f": {one_line(item.strength.words)}. {one_line(item.strength.meaning)}")
    for number, item in enumerate(brief.items, 1):
        _item(document, number, item)
    document.add_heading("References", level=1)
    for reference in brief.references:
        paragraph = document.add_paragraph()
        paragraph.paragraph_format.left_indent = Cm(1)
        paragraph.paragraph_format.first_line_indent = Cm(-1)
        _ending_in_link(paragraph, one_line(reference.text), reference.address)

    saved = io.BytesIO()
    document.save(saved)
    return _fixed_zip(saved.getvalue(), brief.edition.made_on)
