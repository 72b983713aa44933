"""CSL-JSON items (Better BibTeX, Zotero), checked against the CSL schema's shapes.

Titles, container titles and publishers may hold CSL rich text (``<i>``, ``<sub>``…), read
as plain text by ``kb.references.importers.markup.csl_text``; an item with no title but a short one
(``title-short``) takes that, with a note.
"""

import json
import re
from typing import Any

from kb.errors import UnreadableImport
from kb.references.importers.fields import (
    MAX_NESTING,
    ImportEntry,
    References,
    clean,
    study_fields,
    year_of,
)
from kb.references.importers.markup import csl_text
from kb.references.importers.names import person

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


def _csl_fields(item: Any, notes: list[str]) -> dict[str, Any]:
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
    for key in ("title", "title-short", "container-title", "publisher", "URL", "DOI"):
        if key in item and not isinstance(item[key], str):
            raise ValueError(f"'{key}' must be text")
    title = clean(csl_text(item.get("title") or ""))
    if not title and clean(item.get("title-short")):
        title = clean(csl_text(item["title-short"]))
        notes.append("title from 'title-short': the item has no 'title'")
    return study_fields(
        item["type"],
        notes,
        authors=[_csl_name(name) for name in names],
        year=_csl_year(item.get("issued")),
        title=title,
        container=clean(csl_text(item.get("container-title") or "")),
        volume=clean(item.get("volume")),
        issue=clean(item.get("issue")),
        pages=clean(item.get("page")),
        publisher=clean(csl_text(item.get("publisher") or "")),
        url=clean(item.get("URL")),
        doi=clean(item.get("DOI")),
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


def csl_entries(text: str) -> References:
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
        key = str(key) if key not in (None, "") else None
        entry = ImportEntry(number, f"{key}, item {number}" if key else f"item {number}", key=key)
        try:
            entry.fields = _csl_fields(item, entry.notes)
        except ValueError as error:
            entry.problems.append(str(error))
        entries.append(entry)
    return References("csl-json", entries)
