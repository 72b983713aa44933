"""References in the formats citation managers read (BibTeX, RIS and CSL-JSON), and in words.

One implementation for the site's downloads and pages, ``kb export`` and ``kb brief``. A study
or source (in the export document's form, ``kb.store.export``) is first normalised into a plain
reference dict (``study_reference`` / ``source_reference``) so every format says the same
thing; each writer then renders it. ``kb.references.importers`` reads all three back, and importing
an export creates nothing new (each entry is a duplicate of the record it came from).
``reference_text`` writes a reference in words, author–date as the source report's own
reference list does: for the pages' "Cite this", the briefs' reference lists and the JSON of
``kb search`` and ``kb show``.
"""

import re
from typing import Any, TypedDict

from kb.files import indented_json
from kb.records.document import (
    Document,
    LocationEntry,
    RecommendationEntry,
    SourceEntry,
    StudyEntry,
)
from kb.records.urls import record_url
from kb.records.vocabularies import RESEARCH_DESIGNS, StudyType
from kb.site_config import SiteInfo


class Reference(TypedDict):
    """A study or source as every citation format reads it."""

    id: str
    kind: str  # article, report, book, chapter, dataset, web, communication or misc
    authors: list[str]
    title: str
    year: int | None
    container: str | None
    volume: str | None
    issue: str | None
    pages: str | None
    publisher: str | None
    doi: str | None
    url: str | None
    note: str | None


class Citation(TypedDict):
    """How to cite one record: in words, as BibTeX and as RIS."""

    text: str
    bibtex: str
    ris: str


# Study type → kind of reference. Academic study types are journal articles when a container
# is given (as are imported studies whose design is not yet read: most are journal articles);
# the rest are reports, books, data sets, web pages or personal communications.
_ACADEMIC = RESEARCH_DESIGNS | {StudyType.UNCLASSIFIED}
_KIND_OF_TYPE = {
    "evaluation-report": "report",
    "policy-guidance": "report",
    "statistics": "dataset",
    "commentary": "web",
    "book": "book",
    "expert-communication": "communication",
}
# Kind → (BibTeX entry type, field naming the container), RIS type, CSL type.
_BIBTEX = {
    "article": ("article", "journal"),
    "report": ("techreport", "institution"),
    "book": ("book", None),
    "chapter": ("incollection", "booktitle"),
    "dataset": ("misc", "howpublished"),
    "web": ("misc", "howpublished"),
    "communication": ("misc", "howpublished"),
    "misc": ("misc", "howpublished"),
}
_RIS = {
    "article": "JOUR",
    "report": "RPRT",
    "book": "BOOK",
    "chapter": "CHAP",
    "dataset": "DATA",
    "web": "ELEC",
    "communication": "PCOMM",
    "misc": "GEN",
}
_CSL = {
    "article": "article-journal",
    "report": "report",
    "book": "book",
    "chapter": "chapter",
    "dataset": "dataset",
    "web": "webpage",
    "communication": "personal_communication",
    "misc": "document",
}
_WHITESPACE = re.compile(r"\s+")
_PAGE_RANGE = re.compile(r"^\s*(\S+?)\s*[-–—]+\s*(\S+)\s*$")
_BIBTEX_SPECIAL = str.maketrans(
    {
        "\\": r"\textbackslash{}",
        "{": r"\{",
        "}": r"\}",
        "&": r"\&",
        "%": r"\%",
        "$": r"\$",
        "#": r"\#",
        "_": r"\_",
        "~": r"\textasciitilde{}",
        "^": r"\textasciicircum{}",
    }
)


def one_line(value: Any) -> str:
    """Text on one line, runs of whitespace as one space."""
    return _WHITESPACE.sub(" ", str(value)).strip()


def _kind(study: StudyEntry) -> str:
    study_type = study["type"]
    if study_type in _ACADEMIC:
        if study.get("container"):
            return "article"
        return "report" if study.get("publisher") else "misc"
    kind = _KIND_OF_TYPE.get(study_type, "misc")
    if kind == "book" and study.get("container"):
        return "chapter"
    return kind


def study_reference(study: StudyEntry) -> Reference:
    """A study (export-document form) as a reference."""
    return {
        "id": study["id"],
        "kind": _kind(study),
        "authors": list(study.get("authors") or []),
        "title": study.get("title") or study.get("reference") or study["id"],
        "year": study.get("year"),
        "container": study.get("container"),
        "volume": study.get("volume"),
        "issue": study.get("issue"),
        "pages": study.get("pages"),
        "publisher": study.get("publisher"),
        "doi": study.get("doi"),
        "url": study.get("url"),
        "note": None,
    }


def source_reference(source: SourceEntry) -> Reference:
    """A source report as a reference."""
    return {
        "id": source["id"],
        "kind": "report",
        "authors": list(source.get("authors") or []),
        "title": source["title"],
        "year": source.get("year"),
        "container": source.get("publisher"),
        "volume": None,
        "issue": None,
        "pages": None,
        "publisher": source.get("publisher"),
        "doi": None,
        "url": source.get("url"),
        "note": None,
    }


def _split_author(author: str) -> tuple[str, str | None]:
    """'Family, I.' → ('Family', 'I.'); an organisation without a comma → (name, None)."""
    family, comma, given = author.partition(",")
    return (one_line(family), one_line(given) or None) if comma else (one_line(author), None)


def _page_range(pages: str | None) -> tuple[str | None, str | None]:
    if not pages:
        return None, None
    matched = _PAGE_RANGE.fullmatch(pages)
    return (matched.group(1), matched.group(2)) if matched else (one_line(pages), None)


# --- BibTeX -----------------------------------------------------------------------------------


def bibtex_text(value: Any) -> str:
    """Text as a BibTeX field value: one line, with every special character escaped."""
    return one_line(value).translate(_BIBTEX_SPECIAL)


def _bibtex_author(author: str) -> str:
    family, given = _split_author(author)
    if given is None:  # an organisation: braces keep BibTeX from splitting the name
        return "{" + bibtex_text(family) + "}"
    return f"{bibtex_text(family)}, {bibtex_text(given)}"


def bibtex_entry(reference: Reference) -> str:
    """One BibTeX entry, keyed by the record ID."""
    entry_type, container_field = _BIBTEX[reference["kind"]]
    first, last = _page_range(reference.get("pages"))
    fields: list[tuple[str, str | None]] = [
        ("author", " and ".join(map(_bibtex_author, reference["authors"])) or None),
        ("title", "{" + bibtex_text(reference["title"]) + "}"),
        ("year", str(reference["year"]) if reference.get("year") else None),
    ]
    if container_field and reference.get("container"):
        fields.append((container_field, bibtex_text(reference["container"])))
    fields += [
        ("volume", reference.get("volume") and bibtex_text(reference["volume"])),
        ("number", reference.get("issue") and bibtex_text(reference["issue"])),
        ("pages", first and bibtex_text(f"{first}--{last}" if last else first)),
        ("publisher", reference.get("publisher") and bibtex_text(reference["publisher"])),
        ("doi", reference.get("doi") and bibtex_text(reference["doi"])),
        ("url", reference.get("url") and bibtex_text(reference["url"])),
        ("note", reference.get("note") and bibtex_text(reference["note"])),
    ]
    if entry_type == "techreport":  # the institution is the publisher
        fields = [(name, value) for name, value in fields if name != "publisher"]
        if not reference.get("container") and reference.get("publisher"):
            fields.append(("institution", bibtex_text(reference["publisher"])))
    body = ",\n".join(f"  {name} = {{{value}}}" for name, value in fields if value)
    return f"@{entry_type}{{{reference['id']},\n{body}\n}}\n"


# --- RIS ------------------------------------------------------------------------------------


def ris_entry(reference: Reference) -> str:
    """One RIS record; every value on one line."""
    first, last = _page_range(reference.get("pages"))
    tags: list[tuple[str, Any]] = [("TY", _RIS[reference["kind"]]), ("ID", reference["id"])]
    tags += [("AU", author) for author in reference["authors"]]
    tags += [
        ("TI", reference["title"]),
        ("PY", reference.get("year")),
        ("T2", reference.get("container") if reference["kind"] != "report" else None),
        ("VL", reference.get("volume")),
        ("IS", reference.get("issue")),
        ("SP", first),
        ("EP", last),
        ("PB", reference.get("publisher")),
        ("DO", reference.get("doi")),
        ("UR", reference.get("url")),
        ("N1", reference.get("note")),
    ]
    lines = [f"{tag}  - {one_line(value)}" for tag, value in tags if value not in (None, "")]
    return "\n".join([*lines, "ER  - "]) + "\n"


# --- CSL-JSON -------------------------------------------------------------------------------


def csl_item(reference: Reference) -> dict[str, Any]:
    """One CSL-JSON item."""
    authors = []
    for author in reference["authors"]:
        family, given = _split_author(author)
        authors.append({"literal": family} if given is None else {"family": family, "given": given})
    item: dict[str, Any] = {
        "id": reference["id"],
        "type": _CSL[reference["kind"]],
        "title": one_line(reference["title"]),
        "author": authors,
        "issued": {"date-parts": [[reference["year"]]]} if reference.get("year") else None,
        "container-title": reference.get("container") if reference["kind"] != "report" else None,
        "volume": reference.get("volume"),
        "issue": reference.get("issue"),
        "page": reference.get("pages"),
        "publisher": reference.get("publisher"),
        "DOI": reference.get("doi"),
        "URL": reference.get("url"),
        "note": reference.get("note"),
    }
    return {key: value for key, value in item.items() if value not in (None, [], "")}


def all_references(document: Document) -> list[Reference]:
    """Every source and study as a reference, sources first, each sorted by ID."""
    return [source_reference(source) for source in document["sources"]] + [
        study_reference(study) for study in document["studies"]
    ]


def bibtex(references: list[Reference]) -> str:
    """A BibTeX file of ``references``."""
    return "\n".join(map(bibtex_entry, references))


def ris(references: list[Reference]) -> str:
    """A RIS file of ``references``."""
    return "\n".join(map(ris_entry, references))


def csl_json(references: list[Reference]) -> str:
    """A CSL-JSON file of ``references``."""
    return indented_json([csl_item(ref) for ref in references]) + "\n"


WRITERS = {"bibtex": bibtex, "ris": ris, "csl-json": csl_json}


# --- In words, author–date ------------------------------------------------------------------


def authors_text(authors: list[str]) -> str:
    """'Krause, A., Rinne, U. and Zhang, B.': every author, as recorded."""
    if len(authors) > 1:
        return ", ".join(authors[:-1]) + " and " + authors[-1]
    return authors[0] if authors else ""


def short_citation(authors: list[str], year: int | None, fallback: str) -> str:
    """A short citation: 'Krause (2012)', 'Krause and Rinne (2012)', 'Krause et al. (2012)';
    ``fallback`` (a title) when no author is recorded."""
    if not authors:
        return fallback
    names = [author.split(",")[0].strip() for author in authors]
    if len(names) == 1:
        who = names[0]
    elif len(names) == 2:
        who = f"{names[0]} and {names[1]}"
    else:
        who = f"{names[0]} et al."
    return f"{who} ({year or 'n.d.'})"


def _sentence(text: str) -> str:
    """Text ending as a sentence: a full stop added unless it already ends in one, or in a
    question or exclamation mark ("what works?", not "what works?.")."""
    return text if text.rstrip("”’\"')").endswith((".", "?", "!")) else f"{text}."


def reference_text(reference: Reference, doi_url: str | None = None) -> str:
    """A reference in a plain author–date style: authors (year). Title. Container, volume
    (issue), pages. Publisher. DOI or address. Only the fields the record holds are written;
    a missing year is "n.d."."""
    parts = []
    who = authors_text(reference["authors"])
    parts.append(f"{who} ({reference['year'] or 'n.d.'}).")
    parts.append(_sentence(reference["title"]))
    container = reference.get("container")
    if container and container != reference.get("publisher"):
        volume = reference.get("volume") or ""
        issue = f"({reference['issue']})" if reference.get("issue") else ""
        pages = f", {reference['pages']}" if reference.get("pages") else ""
        detail = f", {volume}{issue}" if volume or issue else ""
        parts.append(_sentence(f"{container}{detail}{pages}"))
    if publisher := reference["publisher"]:
        parts.append(_sentence(publisher))
    if doi_url:
        parts.append(doi_url)
    elif url := reference["url"]:
        parts.append(url)
    return " ".join(parts)


def location_text(location: LocationEntry) -> str:
    """Where in its source a record is: 'section “Recruitment”, p. 12'."""
    where = f"section “{location['section']}”"
    if location.get("page"):
        where += f", p. {location['page']}"
    return where


def recommendation_citation(
    rec: RecommendationEntry, source: SourceEntry, site: SiteInfo
) -> Citation:
    """How to cite a recommendation: its source report, located, and this record, with the
    record page's permanent address when the site's address is set."""
    where = location_text(rec["location"])
    address = site.absolute(record_url("recommendation", rec["id"]))
    record = f"recommendation {rec['id']} in {site.name}" + (f", {address}" if address else "")
    cited = source_reference(source)
    reference = cited | {"id": rec["id"], "note": f"{where}; {record}"}
    return {
        "text": f"{reference_text(cited)} {where[0].upper()}{where[1:]}; {record}.",
        "bibtex": bibtex_entry(reference),
        "ris": ris_entry(reference),
    }


def study_citation(study: StudyEntry) -> Citation:
    """How to cite a study (export-document form), in words, BibTeX and RIS."""
    reference = study_reference(study)
    return {
        "text": reference_text(reference, study["doi_url"]),
        "bibtex": bibtex_entry(reference),
        "ris": ris_entry(reference),
    }


def source_citation(source: SourceEntry) -> Citation:
    """How to cite a source report, in words, BibTeX and RIS: as the downloads cite it."""
    reference = source_reference(source)
    return {
        "text": reference_text(reference),
        "bibtex": bibtex_entry(reference),
        "ris": ris_entry(reference),
    }
