"""Read reference exports (RIS, BibTeX, CSL-JSON) into the fields of study records.

Each reader turns a file into numbered entries, each either a dict of ``Study`` fields or the
reasons it cannot be read, so one bad entry never stops the rest. What is read:

- **Text**: UTF-8 with or without a byte-order mark, UTF-16 with one (EndNote on Windows),
  any line endings. NUL bytes or undecodable bytes mean the file is not an export at all.
- **RIS** with rispy: Zotero, EndNote, Mendeley; Web of Science tagged files (``FN``/``PT``)
  too. Records are split at ``TY``/``ER`` lines first, so a record cut off at the end of the
  file (no ``ER``) or lines outside any record are reported instead of silently dropped.
- **BibTeX** with bibtexparser v2: LaTeX accents and escapes decoded (``Caf{\\'e}`` → Café),
  ``{Braced Names}`` read as organisations, broken entries reported with their line.
- **CSL-JSON** (Better BibTeX, Zotero): a list of items, each checked against the schema's
  required ``id`` and ``type`` and its name and date shapes.

Names become 'Family, I.' (the record format); a name in one field (``World Health
Organization``) is an organisation's and is kept whole. The year is the first four-digit year
of the date; none is left empty. A DOI given only as a doi.org URL becomes the DOI.

**Types are never guessed.** An export's item type says what kind of publication it is, not
the study's design, so only the clear cases are mapped (``BOOK_TYPES``, ``COMMENTARY_TYPES``,
``DATASET_TYPES``, ``COMMUNICATION_TYPES``); everything else, journal articles and reports
included, is imported as ``unclassified`` for a reviewer to classify (``kb check`` warns).
"""

import json
import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import bibtexparser
import rispy
from bibtexparser.middlewares.names import (
    parse_single_name_into_parts,
    split_multiple_persons_names,
)
from bibtexparser.model import (
    DuplicateBlockKeyBlock,
    DuplicateFieldKeyBlock,
    Entry,
    ParsingFailedBlock,
)
from pylatexenc.latex2text import LatexNodes2Text

from kb.errors import UnreadableImport
from kb.load import undecodable_byte
from kb.models import StudyType
from kb.settings import setting_value

FORMATS = ("ris", "bibtex", "csl-json")

# Export item types that say plainly what kind of work it is (RIS TY, BibTeX entry type, CSL
# type, Web of Science PT). Keys are lower case.
BOOK_TYPES = {"book", "ebook", "edbook", "chap", "echap", "inbook", "incollection", "chapter"}
COMMENTARY_TYPES = {"blog", "news", "post-weblog", "article-newspaper"}
DATASET_TYPES = {"data", "dbase", "dataset"}
COMMUNICATION_TYPES = {"pcomm", "personal_communication"}
_WOS_TYPES = {"b": "book"}

# CSL 1.0.2 item types (plus 1.0.1's), for checking CSL-JSON items against the schema.
CSL_TYPES = frozenset(
    (  # noqa: SIM905 - a word list reads better than 45 quoted strings
        "article article-journal article-magazine article-newspaper bill book broadcast chapter "
        "classic collection dataset document entry entry-dictionary entry-encyclopedia event "
        "figure graphic hearing interview legal_case legislation manuscript map motion_picture "
        "musical_score pamphlet paper-conference patent performance periodical "
        "personal_communication post post-weblog regulation report review review-book software "
        "song speech standard thesis treaty webpage"
    ).split()
)

# Deepest nesting read: JSON arrays and objects, LaTeX braces, brackets and environments. Real
# exports nest five levels at most; the parsers recurse once per level, so far deeper input
# would overflow Python's stack.
MAX_NESTING = 32

_YEAR = re.compile(r"(?<!\d)(\d{4})(?!\d)")
_DOI_URL = re.compile(r"^https?://(?:dx\.)?doi\.org/", re.IGNORECASE)
_LATEX = LatexNodes2Text(math_mode="verbatim")


@dataclass
class ImportEntry:
    """One reference of an import file: its study fields, or why it cannot be read."""

    number: int
    where: str
    fields: dict[str, Any] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    @property
    def label(self) -> str:
        return f"entry {self.number} ({self.where})"


def study_type(item_type: str | None) -> StudyType:
    """The study type an export's item type implies, or ``unclassified`` when it is unclear."""
    key = (item_type or "").strip().lower()
    if key in BOOK_TYPES:
        return StudyType.BOOK
    if key in COMMENTARY_TYPES:
        return StudyType.COMMENTARY
    if key in DATASET_TYPES:
        return StudyType.STATISTICS
    if key in COMMUNICATION_TYPES:
        return StudyType.EXPERT_COMMUNICATION
    return StudyType.UNCLASSIFIED


def _initials(given: str) -> str:
    words = []
    for word in given.replace(".", ". ").split():
        parts = [part for part in word.strip(".").split("-") if part]
        if parts:
            words.append("-".join(f"{part[0].upper()}." for part in parts))
    return " ".join(words)


def person(family: str, given: str = "", suffix: str = "") -> str:
    """A person's name in the record format: 'Family, I.' (with ', Jr.' if there is one)."""
    name = " ".join(family.split())
    initials = _initials(given)
    return ", ".join(part for part in (name, initials, suffix.strip()) if part)


def comma_name(name: str) -> str:
    """'Family, Given' → 'Family, G.'; a name with no comma is an organisation's, kept whole."""
    parts = [part.strip() for part in name.split(",")]
    if len(parts) == 1:
        return " ".join(name.split())
    return person(parts[0], parts[1], ", ".join(parts[2:]))


def year_of(value: Any) -> int | None:
    """The first four-digit year in a date, or None."""
    found = _YEAR.search(str(value)) if value is not None else None
    return int(found.group(1)) if found else None


def _clean(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, list):
        value = value[0] if value else None
        if value is None:
            return None
    text = " ".join(str(value).split())
    return text or None


def _pages(start: Any, end: Any) -> str | None:
    start, end = _clean(start), _clean(end)
    if start and end and end != start:
        return f"{start}-{end}"
    return start or end


def _study_fields(item_type: str | None, **values: Any) -> dict[str, Any]:
    """Drop empty values, move a doi.org URL into ``doi``, add the type."""
    fields = {name: value for name, value in values.items() if value not in (None, "", [])}
    url = fields.get("url")
    if url and _DOI_URL.match(url):
        fields.setdefault("doi", url)
        del fields["url"]
    fields["type"] = study_type(item_type).value
    return fields


# --- Text ------------------------------------------------------------------------------------


def decode(raw: bytes, name: str) -> str:
    """The text of an export file, or ``UnreadableImport`` when it is not text."""
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return raw.decode("utf-16")
    if b"\x00" in raw:
        raise UnreadableImport(
            f"{name} is not a text file (it contains NUL bytes); export your references "
            "as RIS, BibTeX or CSL-JSON and import that file"
        )
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        byte, line = undecodable_byte(raw, error)
        raise UnreadableImport(
            f"{name} is not UTF-8 text: {byte} on line {line} cannot be decoded; "
            "export it again as UTF-8"
        ) from None


def detect_format(text: str) -> str | None:
    """Which format the text is in, from its content, or None.

    JSON starts with ``[`` or ``{``; RIS has a ``TY  -`` line, Web of Science starts with
    ``FN`` or ``PT``; BibTeX has an ``@type{`` line (Mendeley starts with a line of prose).
    """
    stripped = text.lstrip()
    if stripped.startswith(("[", "{")):
        return "csl-json"
    if re.match(r"(FN|PT) ", stripped) or re.search(r"^TY  -", text, re.MULTILINE):
        return "ris"
    if re.search(r"^\s*@\w+\s*[{(]", text, re.MULTILINE):
        return "bibtex"
    return None


def read_capped(path: Path, max_bytes: int) -> bytes:
    """The bytes of an export file, or ``UnreadableImport`` when it is over ``max_bytes``.

    Reads at most ``max_bytes + 1`` bytes, whatever size the file claims.
    """
    try:
        with open(path, "rb") as opened:
            raw = opened.read(max_bytes + 1)
    except OSError as error:
        raise UnreadableImport(f"{path.name} cannot be read: {error.strerror or error}") from None
    if len(raw) > max_bytes:
        size = max(path.stat().st_size, len(raw))
        raise UnreadableImport(
            f"{path.name} is {size:,} bytes; the limit is {max_bytes:,} (KB_MAX_IMPORT_BYTES). "
            "Export the references in smaller files, or raise the limit"
        )
    return raw


def read_references(
    path: Path, format_name: str | None = None, max_bytes: int | None = None
) -> tuple[str, list[ImportEntry]]:
    """Read an export file; return its format and its entries, readable or not.

    ``max_bytes`` defaults to the ``max_import_bytes`` setting.
    """
    if max_bytes is None:
        max_bytes = int(setting_value("max_import_bytes"))
    text = decode(read_capped(path, max_bytes), path.name)
    if not text.strip():
        raise UnreadableImport(f"{path.name} is empty")
    chosen = format_name or detect_format(text)
    if chosen is None:
        raise UnreadableImport(
            f"cannot tell which format {path.name} is in; name it with "
            "--format ris, --format bibtex or --format csl-json"
        )
    reader = {"ris": ris_entries, "bibtex": bibtex_entries, "csl-json": csl_entries}[chosen]
    try:
        entries = reader(text)
    except UnreadableImport as error:
        raise UnreadableImport(f"{path.name}: {error}") from None
    if not entries:
        raise UnreadableImport(f"{path.name} holds no {chosen} references")
    return chosen, entries


# --- RIS -------------------------------------------------------------------------------------


def _ris_fields(record: dict[str, Any]) -> dict[str, Any]:
    authors = record.get("authors") or record.get("first_authors") or []
    return _study_fields(
        record.get("type_of_reference"),
        authors=[comma_name(name) for name in authors if name.strip()],
        year=year_of(record.get("year") or record.get("publication_year") or record.get("date")),
        title=_clean(record.get("title") or record.get("primary_title")),
        container=_clean(
            record.get("journal_name")
            or record.get("alternate_title3")
            or record.get("secondary_title")
            or record.get("alternate_title2")
        ),
        volume=_clean(record.get("volume")),
        issue=_clean(record.get("number")),
        pages=_pages(record.get("start_page"), record.get("end_page")),
        publisher=_clean(record.get("publisher")),
        url=_clean(record.get("urls")),
        doi=_clean(record.get("doi")),
    )


def _wos_fields(record: dict[str, Any]) -> dict[str, Any]:
    people = record.get("author_full_name") or record.get("authors") or []
    groups = record.get("group_authors") or []
    item_type = _WOS_TYPES.get(str(record.get("publication_type", "")).strip().lower())
    return _study_fields(
        item_type,
        authors=[comma_name(name) for name in people if name.strip()]
        + [" ".join(group.split()) for group in groups if group.strip()],
        year=year_of(record.get("publication_year") or record.get("publication_date")),
        title=_clean(record.get("document_title")),
        container=_clean(record.get("publication_name")),
        volume=_clean(record.get("volume")),
        issue=_clean(record.get("issue")),
        pages=_pages(record.get("beginning_page"), record.get("ending_page"))
        or _clean(record.get("article_number")),
        publisher=_clean(record.get("publisher")),
        doi=_clean(record.get("doi")),
    )


def _is_tag(line: str, tag: str) -> bool:
    return line[:2] == tag and (line[2:5] == "  -" or not line[2:].strip())


def ris_entries(text: str) -> list[ImportEntry]:
    """RIS records, or Web of Science tagged ones, each parsed by rispy on its own."""
    lines = text.splitlines()
    web_of_science = any(line.startswith("FN ") or line.startswith("PT ") for line in lines[:3])
    parser = rispy.WokParser if web_of_science else rispy.RisParser
    to_fields = _wos_fields if web_of_science else _ris_fields

    def starts(line: str) -> bool:
        return line.startswith("PT ") if web_of_science else _is_tag(line, "TY")

    def ends(line: str) -> bool:
        return line.rstrip() == "ER" if web_of_science else _is_tag(line, "ER")

    entries: list[ImportEntry] = []
    chunks: list[tuple[int, list[str], bool]] = []  # (first line, lines, ended with ER)
    stray: list[int] = []
    current: tuple[int, list[str]] | None = None
    for number, line in enumerate(lines, 1):
        if starts(line):
            if current:
                chunks.append((*current, False))
            current = (number, [line])
        elif current is not None:
            current[1].append(line)
            if ends(line):
                chunks.append((*current, True))
                current = None
        elif line.strip() and not (web_of_science and line[:3] in ("FN ", "VR ", "EF")):
            stray.append(number)
    if current:
        chunks.append((*current, False))

    for first_line, chunk, ended in chunks:
        records = rispy.loads("\n".join(chunk), implementation=parser)
        where = f"line {first_line}"
        if records and records[0].get("id"):
            where = f"{records[0]['id']}, {where}"
        entry = ImportEntry(len(entries) + 1, where)
        if not ended:
            entry.problems.append(
                "the record has no ER line: it is cut off (is the file truncated?)"
            )
        elif not records:
            entry.problems.append("not a RIS record")
        else:
            entry.fields = to_fields(records[0])
        entries.append(entry)
    if stray:
        entries.append(
            ImportEntry(
                len(entries) + 1,
                f"line {stray[0]}",
                problems=[
                    f"{len(stray)} line{'s' if len(stray) > 1 else ''} outside any record "
                    f"(from line {stray[0]}); each record starts with a "
                    f"{'PT' if web_of_science else 'TY'} line"
                ],
            )
        )
    return entries


# --- BibTeX ----------------------------------------------------------------------------------


# What opens or closes a level of LaTeX: braces, brackets, environments, \[ \] and \( \) math;
# other escapes (\{, \\…) are read as one token so that they open nothing.
_LATEX_TOKEN = re.compile(r"\\(?:begin|end)(?![A-Za-z])|\\.|[{}\[\]]", re.DOTALL)
_LATEX_OPENS = {"{", "[", "\\begin", "\\[", "\\("}
_LATEX_CLOSES = {"}", "]", "\\end", "\\]", "\\)"}


def latex_nesting(value: str) -> int:
    """How deep braces, brackets and environments nest in LaTeX text."""
    depth = deepest = 0
    for token in _LATEX_TOKEN.findall(value):
        if token in _LATEX_OPENS:
            depth += 1
            deepest = max(deepest, depth)
        elif token in _LATEX_CLOSES:
            depth = max(depth - 1, 0)
    return deepest


def latex_text(value: str) -> str:
    """BibTeX field text with LaTeX accents, escapes and protecting braces decoded.

    Raises ValueError for text nested more than ``MAX_NESTING`` deep, or that pylatexenc cannot
    read (it fails inside on some malformed input, e.g. ``\\sqrt\\sqrt``).
    """
    if latex_nesting(value) > MAX_NESTING:
        raise ValueError(
            f"braces, brackets or environments nest more than {MAX_NESTING} levels deep"
        )
    try:
        return " ".join(_LATEX.latex_to_text(value).split())
    except Exception:  # any failure of the parser is a problem of this entry, not a crash
        shown = value if len(value) <= 60 else f"{value[:59]}…"
        raise ValueError(f"cannot read the LaTeX in {shown!r}") from None


def _verbatim(value: str) -> str:
    """A URL or DOI field: only escapes undone (``\\_``, ``{\\%}``), never LaTeX-decoded."""
    value = re.sub(r"\\url\{([^}]*)\}", r"\1", value)
    return re.sub(r"\\([_%&#$~])", r"\1", value).replace("{", "").replace("}", "").strip()


def bibtex_name(name: str) -> str:
    """A BibTeX name as 'Family, I.'; a fully braced name is an organisation's, kept whole."""
    name = name.strip()
    if name.startswith("{") and name.endswith("}") and _balanced(name[1:-1]):
        return latex_text(name[1:-1])
    parts = parse_single_name_into_parts(name, strict=False)
    family = latex_text(" ".join(parts.von + parts.last))
    return person(family, latex_text(" ".join(parts.first)), latex_text(" ".join(parts.jr)))


def _balanced(text: str) -> bool:
    depth = 0
    for char in text:
        depth += {"{": 1, "}": -1}.get(char, 0)
        if depth < 0:
            return False
    return depth == 0


def _bibtex_fields(entry: Entry) -> dict[str, Any]:
    values = {item.key.lower(): str(item.value) for item in entry.fields}
    for name, value in values.items():  # before any is decoded, so each problem names its field
        if latex_nesting(value) > MAX_NESTING:
            raise ValueError(
                f"{name}: braces, brackets or environments nest more than {MAX_NESTING} levels deep"
            )

    def text(*names: str) -> str | None:
        for name in names:
            if values.get(name, "").strip():
                return latex_text(values[name])
        return None

    url = values.get("url") or next(
        iter(re.findall(r"\\url\{([^}]*)\}", values.get("howpublished", ""))), None
    )
    authors = values.get("author") or values.get("editor") or ""
    return _study_fields(
        entry.entry_type,
        authors=[bibtex_name(name) for name in split_multiple_persons_names(authors)],
        year=year_of(values.get("year") or values.get("date")),
        title=text("title"),
        container=text("journal", "journaltitle", "booktitle"),
        volume=text("volume"),
        issue=text("number", "issue"),
        pages=values.get("pages", "").replace("--", "-").strip() or None,
        publisher=text("publisher", "institution", "organization", "school"),
        url=_verbatim(url) if url else None,
        doi=_verbatim(values["doi"]) if values.get("doi") else None,
    )


@contextmanager
def _quiet(logger_name: str) -> Iterator[None]:
    """Silence a library's warnings: failed blocks are reported per entry instead."""
    logger = logging.getLogger(logger_name)
    level = logger.level
    logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        logger.setLevel(level)


def bibtex_entries(text: str) -> list[ImportEntry]:
    """BibTeX entries in file order; a broken entry is reported with its line."""
    with _quiet("bibtexparser"):
        library = bibtexparser.parse_string(text)
    entries: list[ImportEntry] = []
    for block in library.blocks:
        line = (block.start_line or 0) + 1
        if isinstance(block, DuplicateBlockKeyBlock):  # a repeated key: read it all the same
            block = block.ignore_error_block
        if isinstance(block, Entry):
            entry = ImportEntry(len(entries) + 1, f"{block.key}, line {line}")
            try:
                entry.fields = _bibtex_fields(block)
            except ValueError as error:
                entry.problems.append(str(error))
            entries.append(entry)
        elif isinstance(block, DuplicateFieldKeyBlock):
            names = ", ".join(sorted(block.duplicate_keys))
            entries.append(
                ImportEntry(len(entries) + 1, f"line {line}", problems=[f"{names} given twice"])
            )
        elif isinstance(block, ParsingFailedBlock):
            reason = getattr(block.error, "abort_reason", None) or str(block.error)
            entries.append(
                ImportEntry(
                    len(entries) + 1,
                    f"line {line}",
                    problems=[f"not valid BibTeX: {' '.join(reason.split())}"],
                )
            )
    return entries


# --- CSL-JSON --------------------------------------------------------------------------------


def _csl_name(name: Any) -> str:
    if not isinstance(name, dict):
        raise ValueError("each name must be an object")
    if name.get("literal"):
        return " ".join(str(name["literal"]).split())
    family = " ".join(
        str(name[part]) for part in ("non-dropping-particle", "family") if name.get(part)
    )
    if not family:
        raise ValueError("a name needs 'family' or 'literal'")
    return person(family, str(name.get("given", "")), str(name.get("suffix", "")))


def _csl_year(issued: Any) -> int | None:
    if issued is None:
        return None
    if not isinstance(issued, dict):
        raise ValueError("'issued' must be an object with 'date-parts', 'raw' or 'literal'")
    parts = issued.get("date-parts")
    if parts:
        if not (isinstance(parts, list) and isinstance(parts[0], list) and parts[0]):
            raise ValueError("'issued.date-parts' must be a list of lists")
        return year_of(parts[0][0])
    return year_of(issued.get("raw") or issued.get("literal"))


def _csl_fields(item: Any) -> dict[str, Any]:
    if not isinstance(item, dict):
        raise ValueError("a CSL item must be an object")
    if item.get("id") in (None, ""):
        raise ValueError("the item has no 'id' (required by CSL-JSON)")
    if item.get("type") in (None, ""):
        raise ValueError("the item has no 'type' (required by CSL-JSON)")
    if item.get("type") not in CSL_TYPES:
        raise ValueError(
            f"'type' {item.get('type')!r} is not a CSL item type (e.g. article-journal, report)"
        )
    names = item.get("author", [])
    if not isinstance(names, list):
        raise ValueError("'author' must be a list of names")
    for key in ("title", "container-title", "publisher", "URL", "DOI"):
        if key in item and not isinstance(item[key], str):
            raise ValueError(f"'{key}' must be text")
    return _study_fields(
        item["type"],
        authors=[_csl_name(name) for name in names],
        year=_csl_year(item.get("issued")),
        title=_clean(item.get("title")),
        container=_clean(item.get("container-title")),
        volume=_clean(item.get("volume")),
        issue=_clean(item.get("issue")),
        pages=_clean(item.get("page")),
        publisher=_clean(item.get("publisher")),
        url=_clean(item.get("URL")),
        doi=_clean(item.get("DOI")),
    )


# A JSON string (escapes and all), or a bracket outside one.
_JSON_STRING_OR_BRACKET = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}]')


def _json_too_deep(text: str) -> bool:
    """True when arrays and objects nest more than ``MAX_NESTING`` deep."""
    depth = 0
    for match in _JSON_STRING_OR_BRACKET.finditer(text):
        bracket = match.group()
        if bracket in "[{":
            depth += 1
            if depth > MAX_NESTING:
                return True
        elif bracket in "]}":
            depth -= 1
    return False


def csl_entries(text: str) -> list[ImportEntry]:
    """CSL-JSON items: a list of objects (a single object is read as a list of one)."""
    if _json_too_deep(text):
        raise UnreadableImport(
            f"arrays and objects nest more than {MAX_NESTING} levels deep; CSL-JSON nests a "
            "few levels, so this is not a reference export"
        )
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise UnreadableImport(
            f"not valid JSON (line {error.lineno}, column {error.colno}: {error.msg})"
        ) from None
    items = [data] if isinstance(data, dict) else data
    if not isinstance(items, list):
        raise UnreadableImport("CSL-JSON must be a list of items")
    entries = []
    for number, item in enumerate(items, 1):
        key = item.get("id") if isinstance(item, dict) else None
        entry = ImportEntry(number, f"{key}, item {number}" if key else f"item {number}")
        try:
            entry.fields = _csl_fields(item)
        except ValueError as error:
            entry.problems.append(str(error))
        entries.append(entry)
    return entries
