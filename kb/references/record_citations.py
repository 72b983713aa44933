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

from typing import TypedDict

from kb.records.document import Document, LocationEntry
from kb.records.urls import record_url
from kb.references.citations import (
    location_text,
    recommendation_citation,
    reference_text,
    source_reference,
    study_citation,
)
from kb.site_config import SiteInfo


class CitedRecord(TypedDict):
    """What a script needs to quote and cite one record (the module's docstring says each)."""

    quote: str | None
    citation: str
    section: str | None
    page: int | None
    path: str
    permalink: str | None


class RecordCitations:
    """An export document indexed by ID, ready to cite any of its records."""

    def __init__(self, document: Document, site: SiteInfo):
        self.site = site
        self.sources = {row["id"]: row for row in document["sources"]}
        self.themes = {row["id"]: row for row in document["themes"]}
        self.recommendations = {row["id"]: row for row in document["recommendations"]}
        self.studies = {row["id"]: row for row in document["studies"]}
        self.evidence = {row["id"]: row for row in document["evidence"]}
        self.examples = {row["id"]: row for row in document["examples"]}
        self.figures = {row["id"]: row for row in document["figures"]}

    def _at_section(self, source_id: str, location: LocationEntry | None) -> str:
        """The source report, located: 'Hatch, S. … (2021). Title. Publisher. Section “X”.'"""
        text = reference_text(source_reference(self.sources[source_id]))
        if not location:
            return text
        where = location_text(location)
        return f"{text} {where[0].upper()}{where[1:]}."

    def cite(self, record_type: str, record_id: str) -> CitedRecord:
        """The quote, citation, section, page, path and permalink of one record."""
        quote: str | None = None
        location: LocationEntry | None = None
        of_recommendation = None
        if record_type == "recommendation":
            rec = self.recommendations[record_id]
            quote = rec["statement"]
            citation = recommendation_citation(rec, self.sources[rec["source"]], self.site)["text"]
            location = rec["location"]
        elif record_type == "evidence":
            link = self.evidence[record_id]
            quote = link["quote"]
            citation = study_citation(self.studies[link["study"]])["text"]
            location = link["location"] if link["basis"] == "source" else None
            of_recommendation = link["recommendation"]
        elif record_type == "study":
            citation = study_citation(self.studies[record_id])["text"]
        elif record_type == "source":
            citation = self._at_section(record_id, None)
        elif record_type == "theme":
            theme = self.themes[record_id]
            location = theme["location"]
            citation = self._at_section(theme["source"], location)
        else:  # an example or a figure: the report's own words at a section
            quoted = (
                self.examples[record_id] if record_type == "example" else self.figures[record_id]
            )
            quote = quoted["quote"]
            location = quoted["location"]
            citation = self._at_section(quoted["source"], location)
        path = record_url(record_type, record_id, of_recommendation)
        return {
            "quote": quote,
            "citation": citation,
            "section": location["section"] if location else None,
            "page": location["page"] if location else None,
            "path": path,
            "permalink": self.site.absolute(path),
        }
