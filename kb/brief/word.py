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

import contextlib
import datetime
import functools
import io
import re
import sys
import zipfile
from collections.abc import Iterator
from typing import IO, TYPE_CHECKING, Any

from docx.oxml.ns import qn
from lxml.etree import SubElement

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
_W_R, _W_RPR, _W_B, _W_LANG, _W_T = (qn(f"w:{name}") for name in ("r", "rPr", "b", "lang", "t"))
_W_P, _W_PPR, _W_PSTYLE, _W_SECTPR = (qn(f"w:{name}") for name in ("p", "pPr", "pStyle", "sectPr"))
_W_TR, _W_TC, _W_TCPR, _W_TCW = (qn(f"w:{name}") for name in ("tr", "tc", "tcPr", "tcW"))
_W_VAL, _W_W, _W_TYPE, _XML_SPACE = qn("w:val"), qn("w:w"), qn("w:type"), qn("xml:space")
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


def _text_run(paragraph: Any, text: str, bold: bool = False, language: str | None = None) -> None:
    """Append a run of ``text`` to ``paragraph``, in bold or marked as in ``language`` if
    asked: the XML ``_public_text_run`` writes through python-docx's ``add_run``, built
    directly (python-docx searches a paragraph's and a run's children for where each new
    element goes, and reads the text a character at a time). With ``_QuickDocument``,
    ``_add_row`` and ``_dated_save``, a brief takes under a third of the time of python-docx's
    public calls (``benchmarks/private_api.py``: 445 briefs, 27.0 s → 7.7 s). Text with a
    tab or a line break is python-docx's to read."""
    if "\t" in text or "\n" in text or "\r" in text:
        _public_text_run(paragraph, text, bold, language)
        return
    run = SubElement(paragraph._p, _W_R)
    if bold or language:
        properties = SubElement(run, _W_RPR)
        if bold:
            SubElement(properties, _W_B)
        if language:
            SubElement(properties, _W_LANG, {_W_VAL: language})
    if text:
        words = SubElement(run, _W_T)
        words.text = text
        if len(text.strip()) < len(text):
            words.set(_XML_SPACE, "preserve")


def _public_text_run(
    paragraph: Any, text: str, bold: bool = False, language: str | None = None
) -> None:
    """``_text_run`` through python-docx's ``add_run`` (``tests/test_private_api.py``)."""
    run = paragraph.add_run(text)
    if bold:
        run.bold = True
    if language:
        _mark_language(run._r.get_or_add_rPr(), language)


class _QuickDocument:
    """python-docx's ``Document``, adding paragraphs and headings as its ``add_paragraph``
    and ``add_heading`` do, but faster, for the same XML (``tests/test_private_api.py`` holds
    a brief's bytes equal both ways):

    - each style's ID is found once per document (python-docx finds it again, through two
      searches of the styles, for every paragraph);
    - a paragraph goes in just before the body's closing section properties, which are
      found once (python-docx looks for them among all the body's children each time, so a
      long brief cost time in the square of its paragraphs);
    - its style and text are written directly (``_text_run``)."""

    def __init__(self, document: "Document"):
        self.document = document
        self._style_ids: dict[str, str | None] = {}
        body = document.element.body
        self._body = body
        self._end = body[-1] if len(body) and body[-1].tag == _W_SECTPR else None

    def __getattr__(self, name: str) -> Any:
        return getattr(self.document, name)

    def add_paragraph(self, text: str = "", style: str | None = None) -> Any:
        from docx.text.paragraph import Paragraph

        style_id = None if style is None else self._style_id(style)
        if style is not None and style_id is None:  # the default style: python-docx's way
            return self.document.add_paragraph(text, style)
        element = SubElement(self._body, _W_P)
        if self._end is not None:
            self._end.addprevious(element)
        if style_id is not None:
            SubElement(SubElement(element, _W_PPR), _W_PSTYLE, {_W_VAL: style_id})
        paragraph = Paragraph(element, self.document)
        if text:
            _text_run(paragraph, text)
        return paragraph

    def _style_id(self, style: str) -> str | None:
        from docx.enum.style import WD_STYLE_TYPE

        if style not in self._style_ids:
            part: Any = self.document.part  # python-docx leaves this method unannotated
            self._style_ids[style] = part.get_style_id(style, WD_STYLE_TYPE.PARAGRAPH)
        return self._style_ids[style]

    def add_heading(self, text: str = "", level: int = 1) -> Any:
        return self.add_paragraph(text, "Title" if level == 0 else f"Heading {level}")


class _Runs:
    """Writes text into paragraphs as runs, marking record text as English (``en-GB``) in a
    brief in another language; our words take the document's language."""

    def __init__(self, language: str):
        self.record_lang = RECORD_LANGUAGE if language != ENGLISH else None

    def run(self, paragraph: Any, text: str, record: bool = False, bold: bool = False) -> None:
        _text_run(paragraph, text, bold, self.record_lang if record else None)

    def record(self, paragraph: Any, text: object, bold: bool = False) -> None:
        """Record text, one line, marked English."""
        self.run(paragraph, one_line(text), record=True, bold=bold)

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
    widths = [Cm(width) for _heading, width in EVIDENCE_COLUMNS]
    header = table.rows[0].cells
    for cell, (heading, _width) in zip(header, EVIDENCE_COLUMNS, strict=True):
        _text_run(cell.paragraphs[0], _(heading), bold=True)
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
        for paragraph, value in zip(_add_row(table, widths), values, strict=True):
            for part in value:
                runs.said(paragraph, part)
    for cell, width in zip(header, widths, strict=True):
        cell.width = width


def _add_row(table: Any, widths: list[Any]) -> list[Any]:
    """Add a row to ``table``, its cells ``widths`` wide, and return each cell's paragraph:
    the XML of ``_public_add_row``, built directly (python-docx gives a new row its
    columns' widths, found among the grid's columns, and then ours, and finds each cell's
    place among the row's children), which was a quarter of a brief's tables' time."""
    from docx.text.paragraph import Paragraph

    row = SubElement(table._tbl, _W_TR)
    paragraphs = []
    for width in widths:
        cell = SubElement(row, _W_TC)
        SubElement(SubElement(cell, _W_TCPR), _W_TCW, {_W_TYPE: "dxa", _W_W: str(width.twips)})
        paragraphs.append(Paragraph(SubElement(cell, _W_P), table))
    return paragraphs


def _public_add_row(table: Any, widths: list[Any]) -> list[Any]:
    """``_add_row`` through python-docx's ``add_row`` (``tests/test_private_api.py``)."""
    cells = table.add_row().cells
    for cell, width in zip(cells, widths, strict=True):
        cell.width = width
    return [cell.paragraphs[0] for cell in cells]


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
    _text_run(strength, f"{said}: {one_line(item.strength.words)}.", bold=True)
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
            runs.record(paragraph, example.name, bold=True)
            _text_run(paragraph, f" ({one_line(example.status)}): ")
            runs.record(paragraph, example.description)
    else:
        document.add_paragraph(_("None linked."))
    document.add_heading(_("Cite"), level=2)
    _said_ending_in_link(document.add_paragraph(), item.citation, item.permalink, runs)


class _DatedZip:
    """A zip of a package's parts, each entry dated ``day`` so that equal briefs are equal
    files: python-docx's writer of a package's parts (``PhysPkgWriter``: ``write``,
    ``close``), which dates each entry now."""

    def __init__(self, stream: IO[bytes], day: datetime.date) -> None:
        self._zip = zipfile.ZipFile(stream, "w", zipfile.ZIP_DEFLATED)
        self._stamp = (day.year, day.month, day.day, 0, 0, 0)

    def write(self, pack_uri: Any, blob: bytes) -> None:
        self.add(pack_uri.membername, blob)

    def add(self, name: str, blob: bytes) -> None:
        entry = zipfile.ZipInfo(name, date_time=self._stamp)
        entry.compress_type = zipfile.ZIP_DEFLATED
        self._zip.writestr(entry, blob)

    def close(self) -> None:
        self._zip.close()


def _dated_save(document: "Document", day: datetime.date) -> bytes:
    """``document.save``, into a zip whose entries are dated ``day``: python-docx's
    ``Package.save`` and ``PackageWriter.write``, line for line, with ``_DatedZip`` as the
    zip. (Saving, then writing the zip again with the dates changed, compressed every part
    twice; this saves a fifth of a brief's time, ``benchmarks/private_api.py``.)"""
    from docx.opc.pkgwriter import PackageWriter

    package = document.part.package
    for part in package.parts:
        part.before_marshal()
    saved = io.BytesIO()
    dated = _DatedZip(saved, day)
    writer: Any = PackageWriter  # partly unannotated, and typed for its own zip writer
    writer._write_content_types_stream(dated, package.parts)
    writer._write_pkg_rels(dated, package.rels)
    writer._write_parts(dated, package.parts)
    dated.close()
    return saved.getvalue()


def _public_dated_save(document: "Document", day: datetime.date) -> bytes:
    """``_dated_save`` through python-docx's ``save`` (``tests/test_private_api.py``): the
    zip it writes, written again with each entry dated ``day``."""
    saved = io.BytesIO()
    document.save(saved)
    written = io.BytesIO()
    dated = _DatedZip(written, day)
    with zipfile.ZipFile(saved) as original:
        for entry in original.infolist():
            dated.add(entry.filename, original.read(entry))
    dated.close()
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


@functools.cache
def _blank_document(tag: str) -> bytes:
    """python-docx's default document with only the styles a brief uses, its Normal style in
    the language ``tag``, on A4: made once for each language, and opened for each brief."""
    from docx import Document
    from docx.shared import Cm

    document = Document()
    _without_unused_styles(document)
    _mark_language(document.styles["Normal"].element.get_or_add_rPr(), tag)
    section = document.sections[0]
    section.page_width, section.page_height = Cm(21), Cm(29.7)
    saved = io.BytesIO()
    document.save(saved)
    return saved.getvalue()


def brief_docx(brief: Brief) -> bytes:
    """The brief as the bytes of a .docx file."""
    from docx import Document
    from docx.shared import Cm

    words = translations(brief.language)
    _ = words.gettext
    runs = _Runs(brief.language)
    tag = WORD_LANGUAGES.get(brief.language, brief.language)
    document = _QuickDocument(Document(io.BytesIO(_blank_document(tag))))
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
        runs.record(paragraph, item.title, bold=True)
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

    return _dated_save(document.document, brief.edition.made_on)


@contextlib.contextmanager
def public_api_only() -> Iterator[None]:
    """Within this, briefs are written through python-docx's public calls only: each fast
    way of this module replaced by its ``_public_`` twin, and paragraphs and headings added
    by python-docx's own ``add_paragraph`` and ``add_heading``. For the test that holds
    both ways' bytes equal and the benchmark that times them; not thread-safe."""
    module = sys.modules[__name__]
    replaced: list[tuple[Any, str, Any]] = [
        (module, "_text_run", _public_text_run),
        (module, "_add_row", _public_add_row),
        (module, "_dated_save", _public_dated_save),
        (
            _QuickDocument,
            "add_paragraph",
            lambda self, text="", style=None: self.document.add_paragraph(text, style),
        ),
        (
            _QuickDocument,
            "add_heading",
            lambda self, text="", level=1: self.document.add_heading(text, level),
        ),
    ]
    before = [(target, name, getattr(target, name)) for target, name, _ in replaced]
    try:
        for target, name, public in replaced:
            setattr(target, name, public)
        yield
    finally:
        for target, name, value in before:
            setattr(target, name, value)
