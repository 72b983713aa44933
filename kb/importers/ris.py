"""RIS records (Zotero, EndNote, Mendeley) and Web of Science tagged records, with rispy."""

from typing import Any

import rispy

from kb.importers.fields import ImportEntry, clean, pages, study_fields, year_of
from kb.importers.names import comma_name

_WOS_TYPES = {"b": "book"}


def _ris_fields(record: dict[str, Any]) -> dict[str, Any]:
    authors = record.get("authors") or record.get("first_authors") or []
    return study_fields(
        record.get("type_of_reference"),
        authors=[comma_name(name) for name in authors if name.strip()],
        year=year_of(record.get("year") or record.get("publication_year") or record.get("date")),
        title=clean(record.get("title") or record.get("primary_title")),
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


def _wos_fields(record: dict[str, Any]) -> dict[str, Any]:
    people = record.get("author_full_name") or record.get("authors") or []
    groups = record.get("group_authors") or []
    item_type = _WOS_TYPES.get(str(record.get("publication_type", "")).strip().lower())
    return study_fields(
        item_type,
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


def _is_tag(line: str, tag: str) -> bool:
    return line[:2] == tag and (line[2:5] == "  -" or not line[2:].strip())


def ris_entries(text: str) -> list[ImportEntry]:
    """RIS records, or Web of Science tagged ones, each parsed by rispy on its own."""
    lines = text.split("\n")
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
        key = str(records[0]["id"]) if records and records[0].get("id") else None
        if key:
            where = f"{key}, {where}"
        entry = ImportEntry(len(entries) + 1, where, key=key, line=first_line)
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
                line=stray[0],
            )
        )
    return entries
