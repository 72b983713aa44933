"""What every reader makes of an entry: study fields, types, years, pages and web addresses.

Each reader (``ris``, ``bibtex``, ``csl``) turns a file into numbered ``ImportEntry`` objects,
each either a dict of ``Study`` fields or the reasons it cannot be read, so one bad entry never
stops the rest; ``study_fields`` gives every format the same final shape.
"""

import re
from dataclasses import dataclass, field
from typing import Any

from kb.models import StudyType

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


def year_of(value: Any) -> int | None:
    """The first four-digit year in a date, or None."""
    found = _YEAR.search(str(value)) if value is not None else None
    return int(found.group(1)) if found else None


def clean(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, list):
        value = value[0] if value else None
        if value is None:
            return None
    text = " ".join(str(value).split())
    return text or None


def pages(start: Any, end: Any) -> str | None:
    start, end = clean(start), clean(end)
    if start and end and end != start:
        return f"{start}-{end}"
    return start or end


def study_fields(item_type: str | None, **values: Any) -> dict[str, Any]:
    """Drop empty values, move a doi.org URL into ``doi``, add the type."""
    fields = {name: value for name, value in values.items() if value not in (None, "", [])}
    url = fields.get("url")
    if url and _DOI_URL.match(url):
        fields.setdefault("doi", url)
        del fields["url"]
    fields["type"] = study_type(item_type).value
    return fields
