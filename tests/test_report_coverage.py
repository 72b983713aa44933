"""Coverage of the WCPP report 'Improving Race Equality in Health and Social Care'.

The report text is the extracted PDF in evidence/sources/. These tests parse it with a small,
readable parser and check that the knowledge base covers it:

* every entry of the reference list has a study record (first author + year + title words);
* every in-text citation in the body resolves to a study record (name + year);
* every bullet of the six "Recommendations" lists is the statement of a recommendation record.
"""

import functools
import re
import unicodedata
from pathlib import Path
from typing import Any

import pytest

from kb import pipeline
from kb.records.quotes import normalise_text
from kb.records.read import check
from kb.records.validate import KnowledgeBase

pytestmark = pytest.mark.content

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / "evidence" / "sources" / "wcpp-race-equality-health.txt"

YEAR = r"(?:19|20)\d{2}[a-z]?"

# In-text citations that do not resolve to any study record, with the reason. The test
# asserts that the unresolved set is exactly these keys, so a newly broken or a newly fixed
# citation fails it. (Every citation currently resolves: works missing from the reference
# list, personal communications and misdated/misspelt citations have their own records or
# are listed in the `cited_as` of the entry they point at.)
KNOWN_UNRESOLVED: dict[str, str] = {}

# Bracketed text with a year that is not a citation. Kept small and specific:
# a date range "(2nd March to 15th May 2020)" and a year range "(2020-2024)".
NOT_A_CITATION = re.compile(
    r"^\d{1,2}(?:st|nd|rd|th)\s+\w+\s+to\s+\d{1,2}(?:st|nd|rd|th)\s+\w+\s+\d{4}$"
    r"|^\d{4}-\d{4}$"
)

# Words too common to identify a title.
STOPWORDS = {"a", "an", "and", "as", "at", "by", "for", "from", "in", "of", "on", "or", "the", "to"}


# --------------------------------------------------------------------------------------
# Helpers


def report_lines() -> list[str]:
    return SOURCE.read_text(encoding="utf-8").splitlines()


def fold(text: str) -> str:
    """Lower-case ASCII with accents folded and punctuation turned into single spaces."""
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", " ", text.lower()).strip()


def name_key(name: str) -> str:
    """Compare names ignoring case, punctuation, a leading 'the', 'et al.', '(ABBR)'."""
    name = re.sub(r"\([^)]*\)", " ", name)  # "Office for National Statistics (ONS)"
    name = re.sub(r"\bet\.?\s*al\.?", " ", name)
    key = fold(name)
    key = re.sub(r"^the ", "", key)
    return key.replace(" ", "")  # "Stats Wales" == "StatsWales", "GOV.UK" == "GOVUK"


def significant_words(text: str) -> set[str]:
    return {w for w in fold(text).split() if w not in STOPWORDS and len(w) > 1}


@functools.cache
def repository_records() -> KnowledgeBase:
    """The repository's records as kb reads them (defaults filled in), valid or not."""
    knowledge_base, _ = check(pipeline.Paths.for_root(ROOT))
    return knowledge_base


def records(kind: str) -> list[dict[str, Any]]:
    """Every valid record of one kind, as plain data."""
    return [
        record.model_dump(mode="json") for record in repository_records().by_kind(kind).values()
    ]


def index_of_line(lines: list[str], text: str, start: int = 0) -> int:
    """Index of the first line equal to ``text`` (the table of contents has tab + page)."""
    for i in range(start, len(lines)):
        if lines[i].strip() == text:
            return i
    raise AssertionError(f"line {text!r} not found in the report")


def first_author_family(author: str) -> str:
    """'Priest, N.' -> 'Priest'; an organisation is returned whole."""
    return author.split(",")[0] if re.search(r",\s*[A-Z]", author) else author


# --------------------------------------------------------------------------------------
# Reference list


def reference_entries() -> list[str]:
    """The reference list, one string per entry.

    Entries are paragraphs; two entries (JCPMH 2014, StatsWales) have their URL on a separate
    paragraph, which is joined back to the entry.
    """
    lines = report_lines()
    start = index_of_line(lines, "References") + 1
    end = next(i for i in range(start, len(lines)) if lines[i].startswith("Annex 1:"))
    entries: list[str] = []
    for line in lines[start:end]:
        line = line.strip()
        if not line:
            continue
        if line.startswith(("<", "http")) and entries:
            entries[-1] += " " + line
        else:
            entries.append(line)
    return entries


def parse_reference(entry: str) -> dict:
    """First author (family name or organisation), year and title of one entry."""
    year_match = re.search(r"\((\d{4})[a-z]?\)", entry)
    head = entry[: year_match.start()] if year_match else entry.split("**")[0]
    head = head.strip()
    if re.search(r",\s*[A-Z]\.|\s[A-Z]\.,", head):  # people: "Priest, N., ..." / "Naqvi H., ..."
        first = head.split(",")[0]
        first = re.sub(r"(\s+[A-Z]\.)+$", "", first)  # "Gifford J. G. M." -> "Gifford"
    else:  # an organisation: "Equality and Human Rights Commission (EHRC)."
        first = head.rstrip(".")
    bold = re.search(r"\*\*(.+?)\*\*", entry)
    if bold:
        title = bold.group(1)
    else:  # Ford (2020) prints its title without bold: the text after "(year). "
        title = re.split(r"\s<|\sRetrieved", entry[year_match.end() :].lstrip(". "))[0]
    return {
        "first_author": first.strip(),
        "year": int(year_match.group(1)) if year_match else None,  # StatsWales has no year
        "title": title.strip(),
    }


def test_reference_list_is_parsed():
    entries = reference_entries()
    assert entries[0].startswith("Andrulis, D. P.")
    assert entries[-1].startswith("WRES Implementation Team. (2020)")
    assert len(entries) == 133


def test_every_reference_has_a_study():
    studies = [s for s in records("study") if s["in_reference_list"]]
    misses = []
    for entry in reference_entries():
        ref = parse_reference(entry)
        wanted_words = significant_words(ref["title"])
        found = False
        for study in studies:
            authors = study.get("authors") or []
            if not authors:
                continue
            if name_key(first_author_family(authors[0])) != name_key(ref["first_author"]):
                continue
            if ref["year"] is not None and study.get("year") != ref["year"]:
                continue
            # The report sometimes prints the publisher inside the bold title
            # (Atewologun et al. 2019: "...; General Medical Council"), so the publisher's
            # words count as well.
            have = significant_words(
                " ".join(str(study.get(k) or "") for k in ("title", "publisher"))
            )
            if wanted_words <= have:
                found = True
                break
        if not found:
            misses.append(f"{ref['first_author']} ({ref['year']}) {ref['title']}")
    assert not misses, "reference entries without a study record:\n" + "\n".join(misses)


# --------------------------------------------------------------------------------------
# In-text citations


def body_text() -> str:
    """Report body from 'Summary' to 'References', footnotes moved after the main text.

    A footnote block can interrupt a sentence (even a citation: "(Flanagan et al., ... 2020)"),
    so footnote lines (starting with a superscript number) are taken out of the flow.
    """
    lines = report_lines()
    contents = index_of_line(lines, "Contents")
    start = index_of_line(lines, "Summary", contents + 2)
    end = index_of_line(lines, "References", start)
    main, notes = [], []
    for line in lines[start:end]:
        (notes if re.match(r"^[⁰¹²³⁴⁵⁶⁷⁸⁹]", line) else main).append(line)
    return normalise_text("\n".join(main)) + " " + normalise_text("\n".join(notes))


def parse_citation_part(part: str, previous_name: str | None):
    """One ';'-separated piece of a bracketed citation -> (name, year), 'skip' or None.

    Handles "Name, 2020", "Name et al. 2020", "Name and Name, 2014", "Name, 2020, p.12",
    "Name, 2020 [personal communication]", "W. Name, role..., personal communication <date>",
    a bare "2012" after "Name et al., 2010;" and a page reference "p.52" (skipped).
    """
    part = re.sub(r"^(?:e\.g\.|see|cf\.)\s+", "", part.strip())
    if re.fullmatch(r"p\.\s*\S+", part):  # "(Sue, 2008; p.329)"
        return "skip"
    if re.fullmatch(YEAR, part):
        return (previous_name, part) if previous_name else "skip"
    if "personal communication" in part:
        name = part.split(",")[0]
        name = re.sub(r"^(?:[A-Z]\.\s*)+", "", name)  # "W. Farah" -> "Farah"
        return name.strip(), re.findall(r"\b(\d{4})\b", part)[-1]
    # A name starts with a capital or a lower-case particle ("van Knippenberg").
    match = re.match(
        rf"^(?P<name>(?:(?:van|von|de|der)\s+)?[A-Z][^\d\[\]]*?),?\s+(?P<year>{YEAR})\b", part
    )
    if not match:
        return None
    name = match.group("name")
    if "," in name:  # "Atewologun, Kline and Ochieng" -> first author
        name = name.split(",")[0]
    return name.strip(), match.group("year")


def citations_in(text: str) -> list[tuple[str, str, str]]:
    """All citations in ``text`` as (citation text, name, year)."""
    found = []
    # 1. Bracketed: "(Author, 2020)", "(A et al., 2014; B and C, 2018)", "(EHRC 2018)".
    for bracket in re.finditer(r"\(([^()]*)\)", text):
        content = bracket.group(1)
        if not re.search(rf"\b{YEAR}\b", content):
            continue
        if re.fullmatch(YEAR, content.strip()):
            continue  # "Author (2020)": a narrative citation, handled below
        previous = None
        for part in content.split(";"):
            if NOT_A_CITATION.match(part.strip()):
                continue
            parsed = parse_citation_part(part, previous)
            if parsed == "skip":
                continue
            if parsed is None:  # not understood: reported as unresolved
                found.append((part.strip(), "", ""))
                continue
            previous = parsed[0]
            text = part.strip()
            if re.fullmatch(YEAR, text):  # a bare "2012": show the whole bracket
                text = f"({content}) {text}"
            found.append((text, *parsed))
    # 2. Narrative: "Priest et al. (2015)", "Priest et al.'s (2015)", "The Ogbonna report
    #    (2020)", "the McGregor-Smith review (2017)", "Hatch et. al. (2020)".
    narrative = re.compile(
        r"(?P<name>(?:[A-Z][\w'.-]*\s+(?:and\s+)?)*?[A-Z][\w'.-]*(?:\s+et\.?\s*al\.?)?)"
        r"(?:'s)?(?:\s+(?:report|review|manifesto))?"
        rf"\s+\((?P<year>{YEAR})\)"
    )
    for match in narrative.finditer(text):
        name = re.sub(r"^The\s+", "", match.group("name"))
        name = re.sub(r"'s$", "", name)  # "Ogbonna's (2020) report"
        found.append((match.group(0), name, match.group("year")))
    return found


def citation_keys(name: str, year: str) -> set[tuple[str, str]]:
    """Ways a citation can match a record: whole name, or the first of 'A and B'."""
    keys = {(name_key(name), year)}
    first = re.split(r"\s+and\s+", name)[0]
    keys.add((name_key(first), year))
    return keys


def study_keys(study: dict) -> set[tuple[str, str]]:
    """(name, year) pairs a study answers to: its first author + year, and its cited_as.

    A cited_as form can name several works ("Welsh Government, 2020a; 2020d" is listed by
    both records), so a record takes from it only the pairs with its own year (and its own
    letter, if its id has one). A form with no pair of the record's year is a misdated
    citation recorded on purpose ("Royal College of Physicians, 2020" on the 2019 entry):
    all its pairs count.
    """
    keys = set()
    authors = study.get("authors") or []
    year = str(study.get("year") or "")
    letter = re.search(r"-\d{4}([a-z])$", str(study.get("id", "")))
    if authors and year:
        keys.add((name_key(first_author_family(authors[0])), year))

    def own_year(cited_year: str) -> bool:
        if cited_year[:4] != year:
            return False
        return not (letter and len(cited_year) == 5 and cited_year[4] != letter.group(1))

    for form in study.get("cited_as") or []:
        pairs = [(n, y) for _, n, y in citations_in(form) or citations_in(f"({form})") if n]
        mine = [(n, y) for n, y in pairs if own_year(y)] or pairs
        keys |= {(name_key(n), y) for n, y in mine}
    return keys


def test_citation_parser_examples():
    def names(text):
        return [(n, y) for _, n, y in citations_in(text)]

    assert names("(Author et al., 2014; Other and Other, 2018)") == [
        ("Author et al.", "2014"),
        ("Other and Other", "2018"),
    ]
    assert names("(Welsh Government, 2020a; 2020d)") == [
        ("Welsh Government", "2020a"),
        ("Welsh Government", "2020d"),
    ]
    assert names("(Sue, 2008; p.329)") == [("Sue", "2008")]
    assert names("(Byrne, 2020; Moriarty, 2020 [personal communication])") == [
        ("Byrne", "2020"),
        ("Moriarty", "2020"),
    ]
    assert names("Priest et al.'s (2015) evidence review") == [("Priest et al.", "2015")]
    assert names("The Ogbonna report (2020) highlights") == [("Ogbonna", "2020")]
    assert names("(2nd March to 15th May 2020)") == []
    assert names("the Equality Act 2010, the Strategic Equality Plan (2020-2024)") == []


def test_every_in_text_citation_resolves():
    studies = records("study")
    known = set()
    for study in studies:
        known |= study_keys(study)
    unresolved = {}
    for text, name, year in citations_in(body_text()):
        # "2020a" matches only a record that lists that form in cited_as.
        keys = citation_keys(name, year) if name else set()
        if not keys & known:
            unresolved[text] = f"{name} {year}"
    assert set(unresolved) == set(KNOWN_UNRESOLVED), (
        "unresolved citations differ from KNOWN_UNRESOLVED:\n"
        + "\n".join(
            f"  new: {t!r} ({r})" for t, r in unresolved.items() if t not in KNOWN_UNRESOLVED
        )
        + "\n"
        + "\n".join(f"  now resolved: {t!r}" for t in KNOWN_UNRESOLVED if t not in unresolved)
    )


# --------------------------------------------------------------------------------------
# Recommendation bullets


def recommendation_lists() -> list[list[str]]:
    """The bullets of each list headed 'Recommendations' in the body.

    Bullets start with '- ', or are '•'-separated inside one '<ul ...>' line (the mental
    health list). A bullet broken by a page break continues on a later line that starts in
    lower case; blank lines inside a list are skipped; any other line ends the list.
    """
    lines = report_lines()
    lists = []
    for i, line in enumerate(lines):
        if line.strip() != "Recommendations":
            continue
        bullets: list[str] = []
        for following in lines[i + 1 :]:
            stripped = following.strip()
            if not stripped:
                continue
            if stripped.startswith("<ul") or "•" in stripped:
                items = re.sub(r"^<ul[^>]*>", "", stripped).split("•")
                bullets.extend(item.strip() for item in items if item.strip())
            elif stripped.startswith("- "):
                bullets.append(stripped[2:])
            elif bullets and stripped[0].islower():
                bullets[-1] += " " + stripped
            else:
                break
        lists.append(bullets)
    return lists


def test_recommendation_lists_are_parsed():
    lists = recommendation_lists()
    assert [len(bullets) for bullets in lists] == [5, 10, 4, 5, 10, 4]


def test_every_recommendation_bullet_has_a_record():
    statements = {
        normalise_text(str(record.get("statement", "")))
        for record in records("recommendation")
        if record.get("kind") == "recommendation"
    }
    misses = [
        bullet
        for bullets in recommendation_lists()
        for bullet in bullets
        if normalise_text(bullet) not in statements
    ]
    assert not misses, "recommendation bullets without a record:\n" + "\n".join(misses)
