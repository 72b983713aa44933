"""What every reader makes of an entry: study fields, types, years, pages and web addresses.

Each reader (``ris``, ``bibtex``, ``csl``) turns a file into numbered ``ImportEntry`` objects,
each either a dict of ``Study`` fields or the reasons it cannot be read, so one bad entry never
stops the rest; ``study_fields`` gives every format the same final shape.
"""

import re
from dataclasses import dataclass, field
from typing import Any

from kb.records.vocabularies import StudyType

# Export item types that say plainly what kind of work it is (RIS TY, BibTeX entry type, CSL
# type, Web of Science PT). Keys are lower case.
BOOK_TYPES = {"book", "ebook", "edbook", "chap", "echap", "inbook", "incollection", "chapter"}
COMMENTARY_TYPES = {"blog", "news", "post-weblog", "article-newspaper"}
DATASET_TYPES = {"data", "dbase", "dataset"}
COMMUNICATION_TYPES = {"pcomm", "personal_communication"}


# Deepest nesting read: JSON arrays and objects, LaTeX braces, brackets and environments. Real
# exports nest five levels at most; the parsers recurse once per level, so far deeper input
# would overflow Python's stack.
MAX_NESTING = 32

_YEAR = re.compile(r"(?<!\d)(\d{4})(?!\d)")
_DOI_URL = re.compile(r"^https?://(?:dx\.)?doi\.org/", re.IGNORECASE)


@dataclass
class ImportEntry:
    """One reference of an import file: its study fields, or why it cannot be read.

    ``where`` says where it is for people (``key, line 12``); ``key`` (citation key, RIS ``ID``
    or CSL ``id``) and ``line`` (its first line; None for CSL-JSON items) say it for scripts.
    """

    number: int
    where: str
    fields: dict[str, Any] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    key: str | None = None
    line: int | None = None
    notes: list[str] = field(default_factory=list)  # what was read other than as written
    parent: str | None = None  # the key of the entry it is part of (BibTeX crossref)

    @property
    def label(self) -> str:
        return f"entry {self.number} ({self.where})"


@dataclass
class References:
    """What a reader found in a file: its format, its entries, and the numbers of the lines
    outside any entry that it ignored (export headers, notes between records)."""

    format: str
    entries: list[ImportEntry]
    ignored: list[int] = field(default_factory=list)


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


def year_of(value: Any) -> int | None:
    """The first four-digit year in a date, or None (also for ``0000``, an unknown year)."""
    found = _YEAR.search(str(value)) if value is not None else None
    return (int(found.group(1)) or None) if found else None


def clean(value: Any) -> str | None:
    """Text on one line, or None when empty; of a list, its first non-empty item."""
    if isinstance(value, list):
        return next((text for item in value if (text := clean(item))), None)
    if value is None:
        return None
    text = " ".join(str(value).split())
    return text or None


def pages(start: Any, end: Any) -> str | None:
    first, last = clean(start), clean(end)
    if first and last and last != first:
        return f"{first}-{last}"
    return first or last


def study_fields(
    item_type: str | None, notes: list[str] | None = None, **values: Any
) -> dict[str, Any]:
    """Drop empty values, read the URL as a web address (``web_address``) and move a doi.org
    one into ``doi``, add the type. What is read other than as written is added to ``notes``."""
    fields = {name: value for name, value in values.items() if value not in (None, "", [])}
    if fields.get("url"):
        url = web_address(fields.pop("url"), notes if notes is not None else [])
        if url and _DOI_URL.match(url):
            fields.setdefault("doi", url)
        elif url:
            fields["url"] = url
    fields["type"] = study_type(item_type).value
    return fields


_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")
_HOST = re.compile(r"^(?:[A-Za-z0-9-]+\.)+[A-Za-z]{2,}(?:[/?#]\S*)?$")


def web_address(url: str, notes: list[str]) -> str | None:
    """An export's URL as an http(s) address, or None when it is not one.

    A protocol-relative ``//host/path`` (ScienceDirect writes them) is read as https; a host
    name without a scheme (``washingtonpost.com``) as ``https://`` that, with a note. Anything
    else (``file:``, ``internal-pdf:``, a relative path) is left out, with a note, so the rest
    of the entry still imports.
    """
    if re.match(r"^https?://", url, re.IGNORECASE) or _DOI_URL.match(url):
        return url
    if url.startswith("//") and _HOST.match(url[2:]):
        return f"https:{url}"
    if not _SCHEME.match(url) and _HOST.match(url):
        notes.append(f"url {url!r} has no scheme: read as https://{url}")
        return f"https://{url}"
    notes.append(f"url {url!r} left out: not a web address")
    return None
