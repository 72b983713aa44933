"""The kinds of record that have a page of their own, named two ways: by type ("study"), as
IDs, links and the command line name them, and by the plural ("studies") under which the
export document lists them and the site keeps their pages; and what every record's ID looks
like."""

import re

from kb.records.document import DocumentKey

# A record's ID: lower-case letters, digits and hyphens, at most 64 (``kb.records.models`` checks
# it).
ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")

PLURALS: dict[str, DocumentKey] = {
    "source": "sources",
    "theme": "themes",
    "recommendation": "recommendations",
    "study": "studies",
    "example": "examples",
    "figure": "figures",
}
TYPES = {plural: record_type for record_type, plural in PLURALS.items()}
