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

A brief in Welsh is a Welsh document (its language property, and the proofing language of its
Normal style, ``cy-GB``) whose record text runs are marked English (``en-GB``), so that Word
checks each in its own language and a screen reader voices each in its own. python-docx has
no public API for a run's language, so ``_mark_language`` writes ``w:lang`` through its oxml
layer, as ``_hyperlink`` writes a link.
"""

import datetime
import io
import re
import zipfile
from typing import TYPE_CHECKING, Any

from kb.brief.content import Brief, BriefItem
from kb.brief.text import Words, one_line
from kb.localization import ENGLISH, RecordText, compose, pieces_of, translations
from kb.records.vocabularies import CONTROL_CHARACTERS

if TYPE_CHECKING:
    from docx.document import Document

# Column widths of the evidence table on an A4 page with 2.54 cm margins (15.9 cm), in cm;
# the headings are messages of the catalogue, translated where they are written.
EVIDENCE_COLUMNS = (
    ("Study", 2.6),
    ("Level", 2.0),
    ("Our summary", 3.6),
    ("In its own words", 4.6),
    ("Basis", 3.1),
)
_LINK_COLOUR = "1F4E9A"
_SPACES = re.compile(r"\s+")
# Word's language tags for a brief's language, and for the records' English.
WORD_LANGUAGES = {"en": "en-GB", "cy": "cy-GB"}
RECORD_LANGUAGE = WORD_LANGUAGES[ENGLISH]


def _flat(text: str) -> str:
    """A piece of a line: ``one_line`` but keeping a space at either end."""
    return _SPACES.sub(" ", CONTROL_CHARACTERS.sub("", text))


def _mark_language(properties: Any, tag: str) -> None:
    """Set ``w:lang`` (the proofing and reading language) on run properties ``w:rPr``."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    for old in properties.findall(qn("w:lang")):
        properties.remove(old)
    language = OxmlElement("w:lang")
    language.set(qn("w:val"), tag)
    properties.append(language)


def _text_run(paragraph: Any, text: str) -> Any:
    """``paragraph.add_run(text)``, without python-docx reading the text a character at a
    time: text with no tab or line break is one ``w:t``, as python-docx writes it. Half of a
    brief's runs' time went on that reading (``benchmarks/private_api.py``)."""
    if "\t" in text or "\n" in text or "\r" in text:
        return paragraph.add_run(text)
    run = paragraph.add_run()
    if text:
        run._r.add_t(text)
    return run


class _QuickDocument:
    """python-docx's ``Document``, adding paragraphs and headings as it does, but with each
    style's ID found once per document (python-docx finds it again, through two searches of
    the styles, for every paragraph) and the text written by ``_text_run``. The XML is the
    same; ``tests/test_private_api.py`` holds a brief's bytes equal both ways."""

    def __init__(self, document: "Document"):
        self.document = document
        self._style_ids: dict[str, str | None] = {}

    def __getattr__(self, name: str) -> Any:
        return getattr(self.document, name)

    def add_paragraph(self, text: str = "", style: str | None = None) -> Any:
        from docx.enum.style import WD_STYLE_TYPE

        paragraph = self.document.add_paragraph()
        if text:
            _text_run(paragraph, text)
        if style is not None:
            if style not in self._style_ids:
                part: Any = self.document.part  # python-docx leaves this method unannotated
                self._style_ids[style] = part.get_style_id(style, WD_STYLE_TYPE.PARAGRAPH)
            paragraph._p.style = self._style_ids[style]
        return paragraph

    def add_heading(self, text: str = "", level: int = 1) -> Any:
        return self.add_paragraph(text, "Title" if level == 0 else f"Heading {level}")


class _Runs:
    """Writes text into paragraphs as runs, marking record text as English (``en-GB``) in a
    brief in another language; our words take the document's language."""

    def __init__(self, language: str):
        self.record_lang = RECORD_LANGUAGE if language != ENGLISH else None

    def run(self, paragraph: Any, text: str, record: bool = False) -> Any:
        run = _text_run(paragraph, text)
        if record and self.record_lang:
            _mark_language(run._r.get_or_add_rPr(), self.record_lang)
        return run

    def record(self, paragraph: Any, text: object) -> Any:
        """Record text, one line, marked English."""
        return self.run(paragraph, one_line(text), record=True)

    def said(self, paragraph: Any, value: object) -> None:
        """Our words with record text among them (``kb.localization.Said``), piece by piece."""
        for text, record in pieces_of(value):
            self.run(paragraph, _flat(text), record)


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


def _ending_in_link(
    paragraph: Any, text: str, address: str | None, runs: "_Runs | None" = None
) -> None:
    """Write ``text`` (record text); where it ends with ``address`` (and a full stop), that
    as a link."""
    runs = runs or _Runs(ENGLISH)
    for ending in (f"{address}.", address):
        if address and ending and text.endswith(ending):
            runs.run(paragraph, text[: -len(ending)], record=True)
            _hyperlink(paragraph, address, address)
            if ending.endswith("."):
                _text_run(paragraph, ".")
            return
    runs.run(paragraph, text, record=True)


def _said_ending_in_link(paragraph: Any, value: object, address: str | None, runs: _Runs) -> None:
    """Our sentence ``value``, its piece that is ``address`` written as a link to it."""
    for text, record in pieces_of(value):
        if address and text == address and not record:
            _hyperlink(paragraph, address, address)
        else:
            runs.run(paragraph, _flat(text), record)


def _repeat_as_header(row: Any) -> None:
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    header = OxmlElement("w:tblHeader")
    header.set(qn("w:val"), "true")
    row._tr.get_or_add_trPr().append(header)


def _bullets(document: Any, lines: list[str], runs: _Runs) -> None:
    for line in lines:
        runs.said(document.add_paragraph(style="List Bullet"), line)


def _evidence_table(document: Any, item: BriefItem, words: Words, runs: _Runs) -> None:
    from docx.shared import Cm

    _ = words.gettext
    table = document.add_table(rows=1, cols=len(EVIDENCE_COLUMNS))
    table.style = "Table Grid"
    table.autofit = False
    for cell, (heading, _width) in zip(table.rows[0].cells, EVIDENCE_COLUMNS, strict=True):
        _text_run(cell.paragraphs[0], _(heading)).bold = True
    _repeat_as_header(table.rows[0])
    for shown in item.evidence:
        claim = (
            compose(f"{_('On %(claim)s:')} ", claim=RecordText(one_line(shown.claim)))
            if shown.claim
            else ""
        )
        unchecked = "" if shown.quote_checked else f" {_('Not checked against a held text.')}"
        values = (
            (
                RecordText(one_line(shown.study)),
                f" ({one_line(shown.study_type).lower()})",
            ),
            (one_line(shown.level_words),),
            (claim, RecordText(one_line(shown.summary))),
            ("“", RecordText(one_line(shown.quote)), "”"),
            (shown.basis_words, unchecked),
        )
        cells = table.add_row().cells
        for cell, value in zip(cells, values, strict=True):
            for part in value:
                runs.said(cell.paragraphs[0], part)
    for column, (_, width) in zip(table.columns, EVIDENCE_COLUMNS, strict=True):
        for cell in column.cells:
            cell.width = Cm(width)


def _item(document: Any, number: int, item: BriefItem, words: Words, runs: _Runs) -> None:
    _ = words.gettext
    heading = document.add_heading(f"{number}. ", level=1)
    runs.record(heading, item.title)
    label = _("Theme") if len(item.themes) == 1 else _("Themes")
    kicker = document.add_paragraph(f"{one_line(item.kind_label)} {item.id} · {label}: ")
    runs.record(kicker, "; ".join(one_line(theme) for theme in item.themes))
    for paragraph in item.statement:
        runs.record(document.add_paragraph(style="Quote"), paragraph)
    strength = document.add_paragraph()
    said = _("Strength of evidence")
    _text_run(strength, f"{said}: {one_line(item.strength.words)}.").bold = True
    reason = f" {one_line(item.strength.reason)}" if item.strength.reason else ""
    _text_run(strength, f" {one_line(item.strength.meaning)}{reason}")
    document.add_heading(_("Strongest evidence"), level=2)
    if item.evidence:
        _evidence_table(document, item, words, runs)
        more = item.links - len(item.evidence)
        if more:
            said = words.ngettext(
                "%(num)s more evidence link on %(page)s.",
                "%(num)s more evidence links on %(page)s.",
                more,
            )
            if item.permalink:
                page = f"{_('its page')}: {item.permalink}"
                _said_ending_in_link(
                    document.add_paragraph(),
                    said % {"num": more, "page": page},
                    item.permalink,
                    runs,
                )
            else:
                page = _("its page (%(path)s on the site)") % {"path": item.path}
                document.add_paragraph(said % {"num": more, "page": page})
    else:
        document.add_paragraph(_("No evidence link supports it."))
    document.add_heading(_("Gaps and uncertainties"), level=2)
    if item.gaps:
        _bullets(document, item.gaps, runs)
    else:
        document.add_paragraph(_("None recorded beyond its level."))
    document.add_heading(_("Practice examples"), level=2)
    if item.examples:
        for example in item.examples:
            paragraph = document.add_paragraph(style="List Bullet")
            runs.record(paragraph, example.name).bold = True
            _text_run(paragraph, f" ({one_line(example.status)}): ")
            runs.record(paragraph, example.description)
    else:
        document.add_paragraph(_("None linked."))
    document.add_heading(_("Cite"), level=2)
    _said_ending_in_link(document.add_paragraph(), item.citation, item.permalink, runs)


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


# The styles a brief uses (with their characters' twins, which Word links to them), and the
# defaults every document needs. Looking a style up by name scans every style the document
# holds; python-docx's template holds 164, so each paragraph cost about a millisecond, and
# the theme briefs in both languages most of the site's page step (issue 18). With the
# unused ones deleted, through python-docx's own ``delete``, a paragraph costs a seventh.
USED_STYLES = frozenset(
    {
        *("Normal", "Default Paragraph Font", "Normal Table", "No List"),
        *("Title", "Heading 1", "Heading 2", "List Bullet", "Quote", "Table Grid"),
        *("Title Char", "Heading 1 Char", "Heading 2 Char", "Quote Char"),
    }
)


def _without_unused_styles(document: "Document") -> None:
    for style in list(document.styles):
        if style.name not in USED_STYLES:
            style.delete()


def brief_docx(brief: Brief) -> bytes:
    """The brief as the bytes of a .docx file."""
    from docx import Document
    from docx.shared import Cm

    words = translations(brief.language)
    _ = words.gettext
    runs = _Runs(brief.language)
    document = _QuickDocument(Document())
    _without_unused_styles(document.document)
    tag = WORD_LANGUAGES.get(brief.language, brief.language)
    _mark_language(document.styles["Normal"].element.get_or_add_rPr(), tag)
    section = document.sections[0]
    section.page_width, section.page_height = Cm(21), Cm(29.7)
    made = datetime.datetime.combine(brief.edition.made_on, datetime.time())
    properties = document.core_properties
    properties.title = _property(brief.title)
    properties.subject = _("Evidence brief")
    properties.language = tag
    properties.comments = _property(brief.edition.words())
    properties.author = ""
    properties.last_modified_by = ""
    properties.created = properties.modified = made
    properties.revision = 1

    runs.said(document.add_heading(level=0), brief.title)
    document.add_paragraph(one_line(brief.edition_words))
    document.add_heading(_("Key messages"), level=1)
    document.add_paragraph(one_line(brief.overview))
    for item in brief.key_messages:
        paragraph = document.add_paragraph(style="List Bullet")
        runs.record(paragraph, item.title).bold = True
        _text_run(
            paragraph, f": {one_line(item.strength.words)}. {one_line(item.strength.meaning)}"
        )
    for number, item in enumerate(brief.items, 1):
        _item(document, number, item, words, runs)
    document.add_heading(_("References"), level=1)
    for reference in brief.references:
        paragraph = document.add_paragraph()
        paragraph.paragraph_format.left_indent = Cm(1)
        paragraph.paragraph_format.first_line_indent = Cm(-1)
        _ending_in_link(paragraph, one_line(reference.text), reference.address, runs)

    saved = io.BytesIO()
    document.save(saved)
    return _fixed_zip(saved.getvalue(), brief.edition.made_on)
