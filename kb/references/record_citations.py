"""What a script needs to quote and cite any record: for ``kb show --json`` and each result of
``kb search --json``.

``cite_record`` gives, for a record of any type: ``quote`` (the words it can be quoted in,
verbatim: a statement, an evidence link's quote, an example's or figure's quote; None for a
study, source or theme), ``citation`` (in words, author–date, ``kb.references.citations``: the
source report at the record's section for what the report says, the study itself for a study or an
evidence link), ``section`` and ``page`` (where in the source report the quoted words are; None
where they are not the report's), ``path`` (its page, relative to the site's root) and
``permalink`` (that page's permanent address, None while ``site_url`` is unset).
"""

from typing import Any

from kb.records.types import PLURALS
from kb.records.urls import record_url
from kb.references.citations import (
    location_text,
    recommendation_citation,
    reference_text,
    source_reference,
    study_citation,
)
from kb.site_config import SiteInfo

Row = dict[str, Any]
_KEYS = {**PLURALS, "evidence": "evidence"}  # record type → export key


class RecordCitations:
    """An export document indexed by ID, ready to cite any of its records."""

    def __init__(self, document: dict[str, list[Row]], site: SiteInfo):
        self.site = site
        self.records = {
            record_type: {row["id"]: row for row in document[key]}
            for record_type, key in _KEYS.items()
        }

    def _at_section(self, source_id: str, location: Row | None) -> str:
        """The source report, located: 'Hatch, S. … (2021). Title. Publisher. Section “X”.'"""
        text = reference_text(source_reference(self.records["source"][source_id]))
        if not location:
            return text
        where = location_text(location)
        return f"{text} {where[0].upper()}{where[1:]}."

    def cite(self, record_type: str, record_id: str) -> dict[str, Any]:
        """The quote, citation, section, page, path and permalink of one record."""
        row = self.records[record_type][record_id]
        quote: str | None = None
        citation: str | None = None
        location: dict[str, Any] | None = None
        if record_type == "recommendation":
            source = self.records["source"][row["source"]]
            quote = row["statement"]
            citation = recommendation_citation(row, source, self.site)["text"]
            location = row["location"]
        elif record_type == "evidence":
            quote = row["quote"]
            citation = study_citation(self.records["study"][row["study"]])["text"]
            location = row["location"] if row["basis"] == "source" else None
        elif record_type == "study":
            citation = study_citation(row)["text"]
        elif record_type == "source":
            citation = self._at_section(row["id"], None)
        else:  # theme, example, figure: the report's own words at a section
            quote = row.get("quote")
            location = row["location"]
            citation = self._at_section(row["source"], location)
        path = record_url(record_type, record_id, row.get("recommendation"))
        return {
            "quote": quote,
            "citation": citation,
            "section": location["section"] if location else None,
            "page": location.get("page") if location else None,
            "path": path,
            "permalink": self.site.absolute(path),
        }
