"""schema.org descriptions of records, as plain data for each page's JSON-LD (free-form, as
schema.org is: the records going in are typed, the descriptions coming out are dictionaries).

The data goes into the page's front matter; the theme override writes it into a
``<script type="application/ld+json">`` through Jinja's ``tojson``, which escapes ``<``, ``>``,
``&`` and ``'`` so no value can close the script element. Addresses are included only when
they are http(s); a record page's own address (``@id``) only when the site's address is set
(``kb.site_config``).
"""

from collections.abc import Callable
from typing import Any

from kb.records.document import RecommendationEntry, SourceEntry, StudyEntry
from kb.records.vocabularies import RESEARCH_DESIGNS
from kb.render.escape import is_safe_url

CONTEXT = "https://schema.org"
OGL = "https://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/"


def _clean(data: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in data.items() if value not in (None, [], "", {})}


def _url(value: str | None) -> str | None:
    return value if value and is_safe_url(value) else None


def _person(name: str) -> dict[str, Any]:
    return {"@type": "Person" if "," in name else "Organization", "name": name}


def licence_url(licence: str | None) -> str | None:
    """The address of a licence named by its short code, where we know it."""
    if licence and licence.upper().replace(" ", "-") in {"OGL-3.0", "OGL-V3.0", "OGL-UK-3.0"}:
        return OGL
    return _url(licence)


def source_data(source: SourceEntry, page_url: str | None = None) -> dict[str, Any]:
    """A source report as a schema.org ``Report``."""
    return _clean(
        {
            "@type": "Report",
            "@id": page_url,
            "identifier": source["id"],
            "name": source["title"],
            "author": [_person(name) for name in source["authors"]],
            "publisher": _clean({"@type": "Organization", "name": source["publisher"]})
            if source.get("publisher")
            else None,
            "datePublished": str(source["year"]) if source.get("year") else None,
            "license": licence_url(source.get("licence")),
            "url": _url(source.get("url")),
        }
    )


def study_data(study: StudyEntry, page_url: str | None = None) -> dict[str, Any]:
    """A study as a ``ScholarlyArticle`` (research designs) or a ``CreativeWork``."""
    return _clean(
        {
            "@type": "ScholarlyArticle" if study["type"] in RESEARCH_DESIGNS else "CreativeWork",
            "@id": page_url,
            "identifier": study["id"],
            "name": study.get("title") or study.get("reference") or study["id"],
            "author": [_person(name) for name in study["authors"]],
            "datePublished": str(study["year"]) if study.get("year") else None,
            "isPartOf": {"@type": "CreativeWork", "name": study["container"]}
            if study.get("container")
            else None,
            "publisher": {"@type": "Organization", "name": study["publisher"]}
            if study.get("publisher")
            else None,
            "sameAs": _url(study.get("doi_url")),
            "url": _url(study.get("url")),
        }
    )


def _no_address(record_type: str, record_id: str) -> str | None:
    return None


def recommendation_data(
    rec: RecommendationEntry,
    source: SourceEntry,
    studies: list[StudyEntry],
    page_url: str | None = None,
    page_of: Callable[[str, str], str | None] = _no_address,
) -> dict[str, Any]:
    """A recommendation as a ``CreativeWork`` citing the studies behind it.

    ``page_url`` is the permanent address of its page and ``page_of(type, id)`` that of any
    record's page (the source's, the studies'), each None while the site's address is unset:
    then no ``@id`` or ``url`` is written, rather than a relative or guessed one.
    """
    return _clean(
        {
            "@type": "CreativeWork",
            "@id": page_url,
            "url": page_url,
            "identifier": rec["id"],
            "name": rec["title"],
            "text": rec["statement"],
            "isBasedOn": source_data(source, page_of("source", source["id"])),
            "citation": [study_data(study, page_of("study", study["id"])) for study in studies],
        }
    )


def page_data(data: dict[str, Any]) -> dict[str, Any]:
    """A description with its ``@context``, ready for the page."""
    return {"@context": CONTEXT, **_clean(data)}
