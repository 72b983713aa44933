"""BibTeX entries with bibtexparser v2, through a stack of its middlewares and a few of ours.

The file is split into blocks by bibtexparser, then each middleware transforms the library in
turn, bibtexparser's own where it has one:

1. ``NormalizeFieldKeys`` (bibtexparser): ``TITLE`` and ``Title`` are ``title``.
2. ``ConcatenateStrings`` (ours): ``#`` concatenation (``jean # " " # cesar``) and ``@string``
   values built from other strings. bibtexparser resolves a field that is one string's name,
   not a concatenation (its own code lists this as to do).
3. ``ResolveStringReferencesMiddleware`` (bibtexparser): ``journal = nice_journal``.
4. ``RemoveEnclosingMiddleware`` (bibtexparser): values without their braces or quotes; a value
   left unenclosed is a string nobody defined, which flags the entry when kb reads that field.
5. ``MonthLongStringMiddleware`` (bibtexparser): the month macros (``month = jan``).
6. ``InheritCrossref`` (ours; bibtexparser has none): a child entry takes from its
   ``crossref`` parent, anywhere in the file, the fields it lacks, as biblatex does: the
   parent's title becomes the child's ``booktitle``, and its year, editors, publisher,
   volume… come with it; never its DOI, URL, pages or title as the child's own.
7. ``SetAsideVerbatim`` (ours): the names, URL and DOI are kept as written, so that names are
   split before their braces are decoded (``{World Health Organization}`` stays whole) and a
   ``%`` in a URL is not read as a LaTeX comment; fields kb does not read are dropped so that
   a long abstract costs no decoding, and a field nested too deep is set aside and reported.
8. ``LatexDecodingMiddleware`` (bibtexparser) with ``kb.references.importers.markup.LATEX``,
pylatexenc's
   converter given the macros and math it lacks.

Names are then split by bibtexparser's ``split_multiple_persons_names`` and
``parse_single_name_into_parts``, each part decoded the same way.
"""

import copy
import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from bibtexparser.entrypoint import parse_string
from bibtexparser.library import Library
from bibtexparser.middlewares import (
    LatexDecodingMiddleware,
    MonthLongStringMiddleware,
    NormalizeFieldKeys,
    RemoveEnclosingMiddleware,
    ResolveStringReferencesMiddleware,
)
from bibtexparser.middlewares.middleware import LibraryMiddleware
from bibtexparser.middlewares.names import (
    parse_single_name_into_parts,
    split_multiple_persons_names,
)
from bibtexparser.model import (
    Block,
    DuplicateBlockKeyBlock,
    DuplicateFieldKeyBlock,
    Entry,
    MiddlewareErrorBlock,
    ParsingFailedBlock,
    String,
)

from kb.references.importers.fields import (
    MAX_NESTING,
    ImportEntry,
    References,
    study_fields,
    year_of,
)
from kb.references.importers.markup import LATEX, latex_nesting, latex_text
from kb.references.importers.names import person

# The fields kb reads: those decoded as text, and those kept as written.
TEXT_FIELDS = frozenset(
    "title journal journaltitle booktitle volume number issue publisher institution "  # noqa: SIM905
    "organization school".split()
)
VERBATIM_FIELDS = frozenset(
    "author editor url doi howpublished year date pages crossref".split()  # noqa: SIM905
)
# What a child inherits from its crossref parent, and under which name (biblatex's defaults).
INHERITED = {
    "author": "author",
    "editor": "editor",
    "year": "year",
    "date": "date",
    "booktitle": "booktitle",
    "journal": "journal",
    "journaltitle": "journaltitle",
    "volume": "volume",
    "number": "number",
    "publisher": "publisher",
    "institution": "institution",
    "organization": "organization",
    "school": "school",
}
# BibTeX's predefined month strings (plain.bst), for concatenations such as "1 " # jan.
MONTHS = {
    name[:3].lower(): name
    for name in (
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    )
}
# biblatex entry types that hold no reference of their own: a set of other entries, and data
# for other entries to inherit.
NOT_REFERENCES = {
    "set": "a biblatex @set only groups other entries; import those",
    "xdata": "a biblatex @xdata only holds fields for other entries to take",
}
# The longest text a @string may grow to, and the longest chain of crossrefs followed: far
# beyond real files, short of what a hostile file could make cost.
LONGEST_STRING = 100_000
CROSSREF_DEPTH = 8
_KEPT = "kb_verbatim"  # parser_metadata key: the values kept as written
_PROBLEMS = "kb_problems"  # parser_metadata key: what is wrong with the entry
_NOTES = "kb_notes"  # parser_metadata key: what was read other than as written
_KEY = "kb_key"  # parser_metadata key: the entry's own key when it repeats another's


# --- Our middlewares -------------------------------------------------------------------------


def _enclosed_text(value: str) -> str | None:
    """The text of a ``{...}`` or ``"..."`` value, or None when it is not enclosed."""
    value = value.strip()
    if len(value) >= 2 and (value[0], value[-1]) in (("{", "}"), ('"', '"')):
        return value[1:-1]
    return None


def _parts(value: str) -> list[str] | None:
    """The parts of a ``#`` concatenation, or None when braces or quotes do not balance."""
    parts, depth, quoted, start = [], 0, False, 0
    for at, char in enumerate(value):
        if char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
        elif char == '"' and depth == 0:
            quoted = not quoted
        elif char == "#" and depth == 0 and not quoted:
            parts.append(value[start:at].strip())
            start = at + 1
    parts.append(value[start:].strip())
    return parts if depth == 0 and not quoted else None


class ConcatenateStrings(LibraryMiddleware):
    """Resolve ``#`` concatenations, and ``@string`` values made of other strings.

    A part is a braced or quoted text, a number, or the name of a string defined before (or of
    a month). A concatenation with a part nobody defined is left as it is: the entry is then
    flagged, naming the field, when kb reads that field. Strings that would grow past
    ``LONGEST_STRING`` characters (each doubling the last: a few lines make gigabytes) are
    not resolved, and a field using one is flagged.
    """

    @classmethod
    def metadata_key(cls) -> str:
        return "kb_concatenate_strings"

    def transform(self, library: Library) -> Library:
        strings: dict[str, str] = dict(MONTHS)
        too_long: set[str] = set()
        for string in library.strings:
            try:
                text = self._resolve(str(string.value), strings, too_long)
            except _TooLong:
                too_long.add(string.key.lower())
                continue
            if text is not None:
                string.value = "{" + text + "}"
                strings[string.key.lower()] = text
        for entry in library.entries:
            for field in entry.fields:
                value = field.value
                if not isinstance(value, str):
                    continue
                try:
                    if "#" in value and len(_parts(value) or ()) > 1:
                        text = self._resolve(value, strings, too_long)
                        if text is not None:
                            field.value = "{" + text + "}"
                    elif value.strip().lower() in too_long:  # a plain reference to one
                        raise _TooLong
                except _TooLong:
                    entry.parser_metadata.setdefault(_PROBLEMS, []).append(
                        f"{field.key}: its @string macros grow past {LONGEST_STRING:,} characters"
                    )
                    field.value = "{}"
        return library

    @staticmethod
    def _resolve(value: str, strings: dict[str, str], too_long: set[str]) -> str | None:
        """The text of a concatenation; None when a part is not defined. Raises ``_TooLong``."""
        parts = _parts(value)
        if not parts:
            return None
        texts: list[str] = []
        length = 0
        for part in parts:
            text = _enclosed_text(part)
            if text is None and part.lower() in too_long:
                raise _TooLong
            if text is None:
                text = part if part.isdigit() else strings.get(part.lower())
            if text is None:
                return None
            length += len(text)
            if length > LONGEST_STRING:
                raise _TooLong
            texts.append(text)
        return "".join(texts)


class _TooLong(Exception):
    """A @string or concatenation grows past ``LONGEST_STRING`` characters."""


class InheritCrossref(LibraryMiddleware):
    """Give each entry with a ``crossref`` the fields it lacks from its parent (see above).

    Parents may themselves have parents, up to ``CROSSREF_DEPTH`` levels (BibTeX itself reads
    one); a chain that loops or goes deeper, or a parent not in the file, is noted on the
    child and nothing more is inherited.
    """

    @classmethod
    def metadata_key(cls) -> str:
        return "kb_inherit_crossref"

    def transform(self, library: Library) -> Library:
        by_key = {entry.key.casefold(): entry for entry in library.entries}
        for entry in library.entries:
            if entry.entry_type.lower() in NOT_REFERENCES:
                continue
            seen = {entry.key.casefold()}
            child = entry
            while "crossref" in child.fields_dict:
                parent_key = str(child.fields_dict["crossref"].value).strip()
                parent = by_key.get(parent_key.casefold())
                why = None
                if parent is None:
                    why = "is not in this file"
                elif parent_key.casefold() in seen:
                    why = "loops back"
                elif len(seen) > CROSSREF_DEPTH:
                    why = f"is more than {CROSSREF_DEPTH} crossrefs away"
                if parent is None or why:
                    entry.parser_metadata.setdefault(_NOTES, []).append(
                        f"crossref {parent_key!r} {why}: nothing inherited from it"
                    )
                    break
                seen.add(parent_key.casefold())
                self._inherit(entry, parent)
                child = parent
        return library

    @staticmethod
    def _inherit(child: Entry, parent: Entry) -> None:
        fields = parent.fields_dict
        taken = dict(INHERITED)
        if "booktitle" not in fields and "title" in fields:
            taken["title"] = "booktitle"  # the volume's title names the book a part is in
        for name, as_name in taken.items():
            if name in fields and as_name not in child.fields_dict:
                inherited = copy.deepcopy(fields[name])
                inherited.key = as_name
                child.set_field(inherited)


class SetAsideVerbatim(LibraryMiddleware):
    """Keep names, URL and DOI as written; drop fields kb does not read; set aside any field
    nested too deep to decode, and any value left unenclosed (a string nobody defined)."""

    @classmethod
    def metadata_key(cls) -> str:
        return "kb_set_aside_verbatim"

    def transform(self, library: Library) -> Library:
        for entry in library.entries:
            kept: dict[str, str] = {}
            problems: list[str] = entry.parser_metadata.setdefault(_PROBLEMS, [])
            for field in list(entry.fields):
                value = str(field.value)
                read = field.key in TEXT_FIELDS or field.key in VERBATIM_FIELDS
                if read and field.enclosing == "no-enclosing" and not value.isdigit():
                    problems.append(f"{field.key}: {value!r} is not a string defined with @string")
                elif read and latex_nesting(value) > MAX_NESTING:
                    problems.append(
                        f"{field.key}: braces, brackets or environments nest more than "
                        f"{MAX_NESTING} levels deep"
                    )
                elif field.key in VERBATIM_FIELDS:
                    kept[field.key] = value
                if field.key not in TEXT_FIELDS or problems:
                    entry.pop(field.key)
            entry.parser_metadata[_KEPT] = kept
        return library


PARSE_STACK = (
    NormalizeFieldKeys,
    ConcatenateStrings,
    ResolveStringReferencesMiddleware,
    RemoveEnclosingMiddleware,
    MonthLongStringMiddleware,
    InheritCrossref,
    SetAsideVerbatim,
)


def parse(text: str) -> Library:
    """The blocks of a BibTeX file, each transformed by ``PARSE_STACK`` and LaTeX decoding."""
    with _quiet("bibtexparser"):
        library = parse_string(text, parse_stack=[])
        blocks: list[Block] = []
        for number, block in enumerate(library.blocks):
            if isinstance(block, DuplicateBlockKeyBlock):  # a repeated key: read it all the same
                keyed = block.ignore_error_block  # the entry or @string it would have been
                if isinstance(keyed, Entry | String):
                    keyed.parser_metadata[_KEY] = keyed.key
                    keyed.key = f"{keyed.key}\0{number}"
                    block = keyed
            blocks.append(block)
        library = Library(blocks)
        for middleware in PARSE_STACK:
            library = middleware(allow_inplace_modification=True).transform(library)
        return LatexDecodingMiddleware(decoder=LATEX).transform(library)


# --- Entries ---------------------------------------------------------------------------------


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


def _bibtex_fields(entry: Entry, notes: list[str]) -> dict[str, Any]:
    kept: dict[str, str] = entry.parser_metadata.get(_KEPT, {})
    values = {field.key: " ".join(str(field.value).split()) for field in entry.fields}

    def text(*names: str) -> str | None:
        return next((values[name] for name in names if values.get(name)), None)

    url = kept.get("url") or next(
        iter(re.findall(r"\\url\{([^}]*)\}", kept.get("howpublished", ""))), None
    )
    authors = kept.get("author") or kept.get("editor") or ""
    return study_fields(
        entry.entry_type,
        notes,
        authors=[bibtex_name(name) for name in split_multiple_persons_names(authors)],
        year=year_of(kept.get("year") or kept.get("date")),
        title=text("title"),
        container=text("journal", "journaltitle", "booktitle"),
        volume=text("volume"),
        issue=text("number", "issue"),
        pages=" ".join(kept.get("pages", "").replace("--", "-").split()) or None,
        publisher=text("publisher", "institution", "organization", "school"),
        url=_verbatim(url) if url else None,
        doi=_verbatim(kept["doi"]) if kept.get("doi") else None,
    )


def _entry(number: int, block: Entry, line: int) -> ImportEntry:
    key = block.parser_metadata.get(_KEY, block.key)
    entry = ImportEntry(number, f"{key}, line {line}", key=key, line=line)
    entry.parent = block.parser_metadata.get(_KEPT, {}).get("crossref", "").strip() or None
    entry.notes.extend(block.parser_metadata.get(_NOTES, []))
    entry.problems.extend(block.parser_metadata.get(_PROBLEMS, []))
    if block.entry_type.lower() in NOT_REFERENCES:
        entry.problems = [NOT_REFERENCES[block.entry_type.lower()]]
    if not entry.problems:
        try:
            entry.fields = _bibtex_fields(block, entry.notes)
        except ValueError as error:
            entry.problems.append(str(error))
    return entry


def _undecodable(block: Entry) -> list[str]:
    """Which fields of an entry pylatexenc cannot decode, each named."""
    problems = []
    for field in block.fields:
        try:
            latex_text(str(field.value))
        except ValueError as error:
            problems.append(f"{field.key}: {error}")
    return problems or ["cannot read the LaTeX"]


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


def bibtex_entries(text: str) -> References:
    """BibTeX entries in file order; a broken entry is reported with its line.

    ``@string``, ``@preamble`` and ``@comment`` blocks, and text between entries, are not
    entries (BibTeX reads text outside entries as a comment).
    """
    entries: list[ImportEntry] = []
    for block in parse(text).blocks:
        line = (block.start_line or 0) + 1
        number = len(entries) + 1
        if isinstance(block, Entry):
            entries.append(_entry(number, block, line))
        elif isinstance(block, MiddlewareErrorBlock) and isinstance(
            block.ignore_error_block, Entry
        ):  # LaTeX decoding failed: say in which field
            entry = _entry(number, block.ignore_error_block, line)
            entry.fields = {}
            entry.problems = [*entry.problems, *_undecodable(block.ignore_error_block)]
            entries.append(entry)
        elif isinstance(block, DuplicateFieldKeyBlock):
            names = ", ".join(sorted(block.duplicate_keys))
            entries.append(
                ImportEntry(number, f"line {line}", problems=[f"{names} given twice"], line=line)
            )
        elif isinstance(block, ParsingFailedBlock):
            reason = getattr(block.error, "abort_reason", None) or str(block.error)
            entries.append(
                ImportEntry(
                    number,
                    f"line {line}",
                    problems=[f"not valid BibTeX: {' '.join(reason.split())}"],
                    line=line,
                )
            )
    return References("bibtex", entries)
