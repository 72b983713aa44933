"""RIS records (Zotero, EndNote, Mendeley, Embase…) and Web of Science tagged records, with rispy.

Records are split at their first and last tags (``TY``/``ER``; ``PT``/``ER`` in Web of
Science) here, then each is parsed by rispy with its own tag mapping, so that a record cut off
at the end of the file (no ``ER``) is flagged rather than half-read. What rispy does not do is
done here, each for a dialect that other tools read:

- Lines outside any record that are not tags (``Record #1 of 2``, ``Provider: OEB``: export
  headers) are ignored and reported as such; tag lines outside any record are a record whose
  ``TY`` is missing, and are flagged.
- ``TY - JOUR`` with one space before the hyphen, as some exports write it (Zotero reads it):
  when a file's first record is written so, tags with one space are read throughout that file.
- ``A1`` first authors followed by ``AU`` ones are all authors, in that order (rispy keeps
  them apart); names without a comma are read as ``kb.references.importers.names.ris_names`` says.
- No ``TI``/``T1`` but a short title (``ST``): the short title is the title, with a note.
- A tag given twice (``PB  -`` empty, then ``PB  - Griffith Institute``) keeps its first
  non-empty value, where rispy would keep the empty one: empty tags are left out before
  rispy reads the record.
"""

import re
from dataclasses import dataclass
from typing import Any

import rispy

from kb.references.importers.fields import (
    ImportEntry,
    References,
    clean,
    pages,
    study_fields,
    year_of,
)
from kb.references.importers.names import comma_name, ris_names

_WOS_TYPES = {"b": "book"}


class _OneSpaceRisParser(rispy.RisParser):
    """rispy's RIS parser, reading ``TY - JOUR`` (one space before the hyphen) as a tag too."""

    def parse_line(self, line: str) -> tuple[str, str] | tuple[None, str]:
        matched = _ONE_OR_TWO_SPACES.match(line)
        if matched:
            return matched.group(1), line[matched.end() :].strip()
        return None, line.strip()


_TWO_SPACES = re.compile(r"([A-Z][A-Z0-9])  -(?: |$)")
_ONE_OR_TWO_SPACES = re.compile(r"([A-Z][A-Z0-9]) {1,2}-(?: |$)")
_WOS_TAG = re.compile(r"([A-Z][A-Z0-9])(?: |$)")


def _ris_fields(record: dict[str, Any], notes: list[str]) -> dict[str, Any]:
    authors = list(dict.fromkeys([*record.get("first_authors", []), *record.get("authors", [])]))
    title = clean(record.get("title")) or clean(record.get("primary_title"))
    if not title and clean(record.get("short_title")):
        title = clean(record.get("short_title"))
        notes.append("title from ST (short title): the record has no TI or T1")
    return study_fields(
        clean(record.get("type_of_reference")),
        notes,
        authors=ris_names(authors),
        year=year_of(
            clean(record.get("year"))
            or clean(record.get("publication_year"))
            or clean(record.get("date"))
        ),
        title=title,
        container=clean(
            record.get("journal_name")
            or record.get("alternate_title3")
            or record.get("secondary_title")
            or record.get("alternate_title2")
        ),
        volume=clean(record.get("volume")),
        issue=clean(record.get("number")),
        pages=pages(record.get("start_page"), record.get("end_page")),
        publisher=clean(record.get("publisher")),
        url=clean(record.get("urls")),
        doi=clean(record.get("doi")),
    )


def _wos_fields(record: dict[str, Any], notes: list[str]) -> dict[str, Any]:
    people = record.get("author_full_name") or record.get("authors") or []
    groups = record.get("group_authors") or []
    item_type = _WOS_TYPES.get((clean(record.get("publication_type")) or "").lower())
    return study_fields(
        item_type,
        notes,
        authors=[comma_name(name) for name in people if name.strip()]
        + [" ".join(group.split()) for group in groups if group.strip()],
        year=year_of(record.get("publication_year") or record.get("publication_date")),
        title=clean(record.get("document_title")),
        container=clean(record.get("publication_name")),
        volume=clean(record.get("volume")),
        issue=clean(record.get("issue")),
        pages=pages(record.get("beginning_page"), record.get("ending_page"))
        or clean(record.get("article_number")),
        publisher=clean(record.get("publisher")),
        doi=clean(record.get("doi")),
    )


def ris_entries(text: str) -> References:
    """RIS records, or Web of Science tagged ones, each parsed by rispy on its own."""
    lines = text.split("\n")
    web_of_science = any(line.startswith(("FN ", "PT ")) for line in lines[:3])
    first_type = next((line for line in lines if re.match(r"TY {1,2}-", line)), "")
    if web_of_science:
        parser: rispy.RisParser = rispy.WokParser()
        tag, to_fields, first = _WOS_TAG, _wos_fields, "PT"
    elif first_type.startswith("TY -"):
        parser, tag, to_fields, first = (
            _OneSpaceRisParser(),
            _ONE_OR_TWO_SPACES,
            _ris_fields,
            "TY",
        )
    else:
        parser = rispy.RisParser()
        tag, to_fields, first = _TWO_SPACES, _ris_fields, "TY"

    def tag_of(line: str) -> str | None:
        matched = tag.match(line)
        return matched.group(1) if matched else ("ER" if line.rstrip() == "ER" else None)

    found = References("ris", [])
    chunks: list[_Chunk] = []  # records, and runs of tag lines outside any, in file order
    run: list[int] = []  # lines outside any record, since the last blank line

    def close_run() -> None:
        if any(tag_of(lines[number - 1]) for number in run):  # a record that lost its start
            chunks.append(_Chunk(run[0], [], ended=False, last_line=run[-1]))
        else:
            found.ignored.extend(run)
        run.clear()

    current: _Chunk | None = None
    for number, line in enumerate(lines, 1):
        line_tag = tag_of(line)
        if line_tag == first:
            close_run()
            if current:
                chunks.append(current)
            current = _Chunk(number, [line])
        elif current is not None:
            if not (line_tag and line_tag != "ER" and not tag.sub("", line, count=1).strip()):
                current.lines.append(line)  # an empty tag says nothing, and would hide a later one
            if line_tag == "ER":
                current.ended = True
                chunks.append(current)
                current = None
        elif not line.strip():
            close_run()
        elif not (web_of_science and line_tag in ("FN", "VR", "EF")):
            run.append(number)
    close_run()
    if current:
        chunks.append(current)

    for chunk in chunks:
        number = len(found.entries) + 1
        if chunk.lines:
            found.entries.append(_entry(number, chunk, parser, to_fields))
            continue
        found.entries.append(
            ImportEntry(
                number,
                f"line {chunk.first_line}",
                problems=[
                    f"lines {chunk.first_line}-{chunk.last_line} hold tags outside any record: "
                    f"each record starts with a {first} line (is it missing?)"
                ],
                line=chunk.first_line,
            )
        )
    return found


@dataclass
class _Chunk:
    """A record's lines from its first tag, whether its ``ER`` was reached; or, with no lines,
    a run of tag lines outside any record (from ``first_line`` to ``last_line``)."""

    first_line: int
    lines: list[str]
    ended: bool = False
    last_line: int = 0


def _entry(number: int, chunk: _Chunk, parser: rispy.RisParser, to_fields: Any) -> ImportEntry:
    first_line = chunk.first_line
    try:
        records = parser.parse("\n".join(chunk.lines))
    except (AttributeError, KeyError, TypeError, ValueError) as error:  # rispy fails inside
        return ImportEntry(
            number,
            f"line {first_line}",
            problems=[f"cannot read this record: {error}"],
            line=first_line,
        )
    key = clean(records[0].get("id")) if records else None
    where = f"{key}, line {first_line}" if key else f"line {first_line}"
    entry = ImportEntry(number, where, key=key, line=first_line)
    if not chunk.ended:
        entry.problems.append("the record has no ER line: it is cut off (is the file truncated?)")
    elif not records:
        entry.problems.append("not a RIS record")
    else:
        entry.fields = to_fields(records[0], entry.notes)
    return entry
