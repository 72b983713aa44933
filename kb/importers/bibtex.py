"""BibTeX entries with bibtexparser v2: LaTeX decoded, names split, broken entries reported."""

import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import bibtexparser
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

from kb.importers.fields import MAX_NESTING, ImportEntry, References, study_fields, year_of
from kb.importers.names import person

_LATEX = LatexNodes2Text(math_mode="verbatim")

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


def _bibtex_fields(entry: Entry, notes: list[str]) -> dict[str, Any]:
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
    return study_fields(
        entry.entry_type,
        notes,
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


def bibtex_entries(text: str) -> References:
    """BibTeX entries in file order; a broken entry is reported with its line."""
    with _quiet("bibtexparser"):
        library = bibtexparser.parse_string(text)
    entries: list[ImportEntry] = []
    for block in library.blocks:
        line = (block.start_line or 0) + 1
        if isinstance(block, DuplicateBlockKeyBlock):  # a repeated key: read it all the same
            block = block.ignore_error_block
        if isinstance(block, Entry):
            entry = ImportEntry(
                len(entries) + 1, f"{block.key}, line {line}", key=block.key, line=line
            )
            try:
                entry.fields = _bibtex_fields(block, entry.notes)
            except ValueError as error:
                entry.problems.append(str(error))
            entries.append(entry)
        elif isinstance(block, DuplicateFieldKeyBlock):
            names = ", ".join(sorted(block.duplicate_keys))
            entries.append(
                ImportEntry(
                    len(entries) + 1,
                    f"line {line}",
                    problems=[f"{names} given twice"],
                    line=line,
                )
            )
        elif isinstance(block, ParsingFailedBlock):
            reason = getattr(block.error, "abort_reason", None) or str(block.error)
            entries.append(
                ImportEntry(
                    len(entries) + 1,
                    f"line {line}",
                    problems=[f"not valid BibTeX: {' '.join(reason.split())}"],
                    line=line,
                )
            )
    return References("bibtex", entries)
