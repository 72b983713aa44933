"""`kb import`: real-world exports (one file per quirk), duplicates, and round trips."""

import json
import random
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import yaml
from rapidfuzz import fuzz

from kb.references.duplicates import (
    LIKELY_THRESHOLD,
    DuplicateFinder,
    Match,
    Reference,
    _comparable,
    _NameIndex,
    _score,
    doi_key,
)
from tests.conftest import DATA, REPOSITORY, run_kb

pytestmark = pytest.mark.cli

IMPORTS = DATA / "imports"

# Sample file → what `kb import` does with each entry against the tiny knowledge base, whose
# one study is krause-2012 (DOI 10.1234/IZA.44).
SAMPLES = {
    # Zotero RIS: journal article, organisation author without a year, blog post, and the
    # tiny KB's study again with its DOI as a lower-case doi.org URL.
    "zotero.ris": [
        ("create", "paradies-2015"),
        ("create", "public-health-wales-nd"),
        ("create", "okafor-2020"),
        ("skip", "krause-2012"),
    ],
    # EndNote RIS: UTF-8 byte-order mark, CRLF line ends, T1/JF/Y1 tags, a book chapter.
    "endnote-bom-crlf.ris": [("create", "kapadia-2022"), ("create", "bhopal-2014")],
    # Web of Science tagged: FN/VR header, continuation lines, AF full names, CA group author.
    "web-of-science.txt": [
        ("create", "williams-2019"),
        ("create", "lancet-commission-on-racism-2022"),
    ],
    # Zotero BibTeX: LaTeX accents and escapes, a {Braced} organisation, @book.
    "zotero-latex.bib": [
        ("create", "nazroo-2020"),
        ("create", "world-health-organization-2021"),
        ("create", "garcia-lopez-2018"),
    ],
    # Better BibTeX CSL-JSON: years as strings, literal names, a dataset, an item with no date.
    "better-bibtex.json": [
        ("create", "bhui-2003"),
        ("create", "office-for-national-statistics-2021"),
        ("create", "wales-centre-for-public-policy-nd"),
    ],
    # Mendeley BibTeX: a prose header line, {{double braces}}, {\&}, \url{} in howpublished.
    "mendeley.bib": [("create", "kline-2014"), ("create", "nhs-employers-2019")],
    # RIS whose last record is cut off: the two whole records import, the third is flagged.
    "truncated.ris": [("create", "wood-2009"), ("create", "cabinet-office-2017"), ("flag", "-")],
    # BibTeX with a broken entry and one whose URL has a space in it.
    "broken-entry.bib": [("create", "ahmed-2021"), ("flag", "-"), ("flag", "-")],
    # CSL-JSON items that break the schema: no type, authors as a string, nothing to cite.
    "csl-schema-errors.json": [
        ("create", "evans-2019"),
        ("flag", "-"),
        ("flag", "-"),
        ("flag", "-"),
    ],
}


# One file of our own per quirk that other citation tools read and kb once got wrong (issue
# 14), and what a dry run makes of each entry: (action, ID, fields the study has) for a created
# entry, (action, the record it duplicates, {}) for a skipped one.
QUIRKS: dict[str, list[tuple[str, str, dict[str, Any]]]] = {
    # JabRef writes UTF-16BE without a byte-order mark (its header line names the encoding).
    "bibtex-utf16be-no-bom.bib": [
        (
            "create",
            "becares-2019",
            {
                "authors": ["Bécares, L.", "Nazroo, J."],
                "title": "Ethnic inequalities in general practice: a résumé of survey evidence",
                "container": "Ethnicity & Health",
            },
        )
    ],
    # Classic Mac line ends (CR only): the format is still detected.
    "bibtex-cr-line-ends.bib": [
        ("create", "shankley-2020", {"title": "Ethnic minorities and housing in Britain"})
    ],
    # BibTeX @string macros, # concatenation, a string made of strings, a month macro.
    "bibtex-string-macros.bib": [
        (
            "create",
            "jones-2021",
            {
                "authors": ["Jones, C.", "Begum, N."],
                "title": "Ethnic pay gaps in the National Health Service Wales",
                "container": "Journal of Health and Social Research",
                "year": 2021,
            },
        )
    ],
    # BibTeX crossref: children before their parent take its year, publisher and (the first)
    # its title as book title; none is skipped as a duplicate of another.
    "bibtex-crossref.bib": [
        (
            "create",
            "hussain-2018",
            {
                "year": 2018,
                "container": "Community health champions",
                "publisher": "Race Equality Press",
                "pages": "12-19",
            },
        ),
        ("create", "hussain-2018b", {"year": 2018, "container": "Conference programme"}),
        ("create", "hussain-2018c", {"title": "Community health champions", "year": 2018}),
    ],
    # LaTeX logos that pylatexenc drops, biblatex's \hyphen and \mkbibquote.
    "bibtex-latex-logos-and-hyphens.bib": [
        ("create", "evans-2015", {"title": "Typesetting equality reports with LaTeX and BibTeX"}),
        ("create", "osei-2019", {"title": "Culturally-competent care and the “hard to reach”"}),
    ],
    # LaTeX math and \textsuperscript: Unicode sub- and superscripts.
    "bibtex-latex-math.bib": [
        (
            "create",
            "ng-2020",
            {
                "title": "Vitamin D₃ and β-thalassaemia screening: R² by ethnic group",
                "container": "Journal of the 2ⁿᵈ Screening Network",
            },
        )
    ],
    # CSL-JSON rich text: <i>, <b>, <span class="nocase"> removed, <sub>/<sup> in Unicode
    # where Unicode has the character ('c' has no subscript form).
    "csl-rich-text.json": [
        (
            "create",
            "adebayo-2022",
            {
                "title": "Sickle cell care in Wales: HbA1c, pain and eGFR at 10³ sites",
                "container": "Haematology in Practice",
            },
        )
    ],
    # RIS: an A1 first author, then AU co-authors (rispy keeps the two tags apart).
    "ris-a1-then-au.ris": [
        ("create", "rahman-2021", {"authors": ["Rahman, F.", "Owusu, K.", "Jenkins, R."]})
    ],
    # Embase RIS: 'Surname Initials.' without a comma.
    "ris-embase-surname-initial.ris": [
        (
            "create",
            "mensah-2022",
            {"authors": ["Mensah, K.", "Llewellyn, J. A."], "doi": "10.5555/kb.quirk.embase"},
        )
    ],
    # RIS with 'Given Family' names without a comma; an organisation alone stays whole.
    "ris-given-family.ris": [
        ("create", "okonkwo-2019", {"authors": ["Okonkwo, A.", "Wiśniewski, T.", "van Dijk, H."]}),
        ("create", "social-care-wales-2023", {"authors": ["Social Care Wales"]}),
    ],
    # RIS URLs: protocol-relative, without a scheme, and a local attachment (left out).
    "ris-relative-url.ris": [
        ("create", "patel-2020", {"url": "https://www.example.org/memory-assessment", "notes": []}),
        (
            "create",
            "hughes-2022",
            {
                "url": "https://example.org/community-health-workers",
                "notes": [
                    "url 'example.org/community-health-workers' has no scheme: read as "
                    "https://example.org/community-health-workers"
                ],
            },
        ),
        (
            "create",
            "ali-2018",
            {
                "url": None,
                "notes": [
                    "url 'internal-pdf://0123456789/care-home-staffing.pdf' left out: not a "
                    "web address"
                ],
            },
        ),
    ],
    # RIS with an export header before each record (ignored and reported; exit code 0).
    "ris-export-header.ris": [
        (
            "create",
            "clarke-2017",
            {"title": "Racial discrimination and blood pressure: a cohort study"},
        ),
        ("create", "begum-2019", {"title": "Neighbourhood deprivation and diabetes care"}),
    ],
    # RIS tags written 'TY - ' with one space, and a continuation line.
    "ris-single-space-tags.ris": [
        (
            "create",
            "adeyemi-2021",
            {
                "authors": ["Adeyemi, G.", "Morgan, S."],
                "title": "Trust in maternity services among Black women",
                "container": "Midwifery Studies",
            },
        )
    ],
    # RIS with empty tags (PB, DO) before the real value, as the OEB database writes; the
    # value runs on to a second line.
    "ris-empty-tags.ris": [
        ("create", "kaur-2014", {"publisher": "Race Equality Press", "doi": None})
    ],
    # RIS with no TI or T1 but a short title (ST).
    "ris-short-title-only.ris": [
        (
            "create",
            "kowalczyk-2016",
            {
                "title": "Polish migrants and GP registration",
                "notes": ["title from ST (short title): the record has no TI or T1"],
            },
        )
    ],
    # Web of Science with initials run together ('Nkemelu, PS') and no full names (AF).
    "wos-run-together-initials.txt": [
        ("create", "nkemelu-2018", {"authors": ["Nkemelu, P. S.", "Howells, D. J."]})
    ],
}
# Lines a quirk file holds outside any entry, ignored and reported.
QUIRK_IGNORED = {"ris-export-header.ris": [1, 2, 3, 11, 12]}


@pytest.mark.parametrize("name", QUIRKS)
def test_quirks_other_tools_read(tiny_kb: Path, name: str) -> None:
    result = run_kb("import", IMPORTS / name, "--root", tiny_kb, "--dry-run", "--json")
    assert (result.exit_code, result.stderr) == (0, ""), result.output
    report = json.loads(result.stdout)
    outcomes = sorted(
        [
            (c["entry"], "create", c["id"], {**c["study"], "notes": c.get("notes", [])})
            for c in report["created"]
        ]
        + [(s["entry"], "skip", s["duplicate_of"], {}) for s in report["skipped"]]
        + [(f["entry"], "flag", "-", {}) for f in report["flagged"]],
        key=lambda outcome: outcome[0],
    )
    expected = QUIRKS[name]
    assert [row[1:3] for row in outcomes] == [row[:2] for row in expected]
    for (*_, study), (*_, fields) in zip(outcomes, expected, strict=True):
        assert {field: study.get(field) for field in fields} == fields
    assert report["ignored_lines"] == QUIRK_IGNORED.get(name, [])


def _studies(root: Path) -> list[str]:
    return sorted(path.stem for path in (root / "evidence" / "studies").glob("*.yaml"))


def _rows(output: str) -> list[tuple[str, str]]:
    """(action, id) of each line of the import table."""
    return [tuple(line.split()[1:3]) for line in output.splitlines()[1:-1]]  # type: ignore[misc]


def _record(root: Path, study_id: str) -> dict:
    return yaml.safe_load((root / "evidence" / "studies" / f"{study_id}.yaml").read_text())


@pytest.mark.parametrize("name", SAMPLES)
def test_sample_exports(tiny_kb: Path, name: str) -> None:
    expected = SAMPLES[name]
    flagged = any(action == "flag" for action, _ in expected)

    dry_run = run_kb("import", IMPORTS / name, "--root", tiny_kb, "--dry-run")
    assert _rows(dry_run.stdout) == expected
    assert _studies(tiny_kb) == ["krause-2012"]
    assert dry_run.exit_code == (1 if flagged else 0)

    result = run_kb("import", IMPORTS / name, "--root", tiny_kb)
    assert _rows(result.stdout.rsplit("\n", 2)[0] + "\n") == expected
    created = [record_id for action, record_id in expected if action == "create"]
    assert _studies(tiny_kb) == sorted(["krause-2012", *created])
    assert result.exit_code == (1 if flagged else 0)
    assert run_kb("check", "--root", tiny_kb).exit_code == 0


def test_latex_accents_escapes_and_organisations(tiny_kb: Path) -> None:
    run_kb("import", IMPORTS / "zotero-latex.bib", "--root", tiny_kb)
    assert (tiny_kb / "evidence/studies/nazroo-2020.yaml").read_text() == (
        "id: nazroo-2020\n"
        "authors:\n"
        "  - Nazroo, J. Y.\n"
        "  - Bhui, K. S.\n"
        "  - Rhodes, J.\n"
        "year: 2020\n"
        "title: >-\n"
        "  Structural racism and the health of ethnic minorities in Britain: a review of évidence\n"
        "container: Sociology of Health & Illness\n"
        "volume: '42'\n"
        "issue: '2'\n"
        "pages: 262-276\n"
        "url: https://onlinelibrary.wiley.com/doi/abs/10.1111/1467-9566.13001\n"
        "doi: 10.1111/1467-9566.13001\n"
        "type: unclassified\n"
    )
    assert _record(tiny_kb, "garcia-lopez-2018")["authors"] == ["García-López, M. J.", "Öztürk, A."]
    assert _record(tiny_kb, "garcia-lopez-2018")["title"] == "Salud y migración en España"
    assert _record(tiny_kb, "garcia-lopez-2018")["type"] == "book"
    organisation = _record(tiny_kb, "world-health-organization-2021")
    assert organisation["authors"] == ["World Health Organization"]
    assert (
        organisation["title"] == "Social determinants of health: the Müller and Østergaard lectures"
    )


def test_what_each_flavour_gives(tiny_kb: Path) -> None:
    for name in (
        "endnote-bom-crlf.ris",
        "web-of-science.txt",
        "better-bibtex.json",
        "mendeley.bib",
    ):
        run_kb("import", IMPORTS / name, "--root", tiny_kb)
    kapadia = _record(tiny_kb, "kapadia-2022")
    assert (kapadia["authors"][0], kapadia["container"], kapadia["pages"]) == (
        "Kapadia, D.",
        "NHS Race and Health Observatory",
        "1-142",
    )
    assert _record(tiny_kb, "bhopal-2014")["type"] == "book"
    williams = _record(tiny_kb, "williams-2019")
    assert williams["authors"] == ["Williams, D. R.", "Lawrence, J. A.", "Davis, B. A."]
    assert williams["doi"] == "10.1146/annurev-publhealth-040218-043750"
    lancet = _record(tiny_kb, "lancet-commission-on-racism-2022")
    assert lancet["title"] == "Structural racism in health care: a call to action"
    bhui = _record(tiny_kb, "bhui-2003")
    assert (bhui["year"], bhui["doi"], "url" in bhui) == (2003, "10.1192/bjp.182.2.105", False)
    assert _record(tiny_kb, "office-for-national-statistics-2021")["type"] == "statistics"
    assert "year" not in _record(tiny_kb, "wales-centre-for-public-policy-nd")
    kline = _record(tiny_kb, "kline-2014")
    assert kline["title"] == (
        'The "snowy white peaks" of the NHS: a survey of discrimination in governance & leadership'
    )
    assert (kline["doi"], "url" in kline) == ("10.13140/RG.2.1.3583.5528", False)
    assert _record(tiny_kb, "nhs-employers-2019")["url"] == (
        "https://www.nhsemployers.org/articles/workforce-race-equality-standard"
    )


def test_dry_run_table(tiny_kb: Path) -> None:
    result = run_kb("import", IMPORTS / "zotero.ris", "--root", tiny_kb, "--dry-run")
    assert result.exit_code == 0
    assert result.stdout == (
        "#  action  id                      details\n"
        "1  create  paradies-2015           "
        "Racism as a Determinant of Health: A Systematic Review and…\n"
        "2  create  public-health-wales-nd  "
        "Ethnic minority health and wellbeing in Wales: a rapid revi…\n"
        "3  create  okafor-2020             Why anonymised CVs are not enough\n"
        "4  skip    krause-2012             same DOI as krause-2012\n"
        "dry run: would create 3, skip 1, flag 0; nothing written\n"
    )
    assert not (tiny_kb / ".kb.lock").exists()


def test_json_says_what_was_created_skipped_and_flagged(tiny_kb: Path, tmp_path: Path) -> None:
    export = tmp_path / "three.ris"
    export.write_text(
        "TY  - JOUR\nID  - one\nTI  - New study\nAU  - Smith, Jane\nPY  - 2020\nER  - \n\n"
        "TY  - RPRT\nTI  - Again\nDO  - https://doi.org/10.1234/IZA.44\nER  - \n\n"
        "TY  - JOUR\nPY  - 2021\nER  - \n"
    )
    result = run_kb("import", export, "--root", tiny_kb, "--json")
    assert result.exit_code == 1
    assert result.stderr == (
        "error: 1 of 3 entries in three.ris cannot be imported (flagged above)\n"
    )
    assert result.stdout == (
        "{\n"
        '  "file": "three.ris",\n'
        '  "dry_run": false,\n'
        '  "format": "ris",\n'
        '  "created": [\n'
        "    {\n"
        '      "entry": 1,\n'
        '      "key": "one",\n'
        '      "line": 1,\n'
        '      "id": "smith-2020",\n'
        '      "file": "evidence/studies/smith-2020.yaml",\n'
        '      "study": {\n'
        '        "id": "smith-2020",\n'
        '        "authors": [\n'
        '          "Smith, J."\n'
        "        ],\n"
        '        "year": 2020,\n'
        '        "title": "New study",\n'
        '        "type": "unclassified"\n'
        "      }\n"
        "    }\n"
        "  ],\n"
        '  "skipped": [\n'
        "    {\n"
        '      "entry": 2,\n'
        '      "key": null,\n'
        '      "line": 8,\n'
        '      "duplicate_of": "krause-2012",\n'
        '      "match": "same-doi",\n'
        '      "score": 100.0,\n'
        '      "reason": "same DOI as krause-2012"\n'
        "    }\n"
        "  ],\n"
        '  "flagged": [\n'
        "    {\n"
        '      "entry": 3,\n'
        '      "key": null,\n'
        '      "line": 13,\n'
        '      "problems": [\n'
        '        "no title, authors or DOI"\n'
        "      ]\n"
        "    }\n"
        "  ],\n"
        '  "ignored_lines": [],\n'
        '  "written": [\n'
        '    "evidence/studies/smith-2020.yaml"\n'
        "  ],\n"
        '  "refreshed": "updated the store (build/kb.sqlite) and the search index (build/index)"\n'
        "}\n"
    )
    assert _studies(tiny_kb) == ["krause-2012", "smith-2020"]
    dry_run = json.loads(run_kb("import", export, "--root", tiny_kb, "--json", "--dry-run").stdout)
    assert (dry_run["dry_run"], dry_run["created"], dry_run["written"]) == (True, [], [])
    assert [(s["entry"], s["duplicate_of"]) for s in dry_run["skipped"]] == [
        (1, "smith-2020"),
        (2, "krause-2012"),
    ]


def test_the_table_shows_notes_and_ignored_lines(tiny_kb: Path, tmp_path: Path) -> None:
    export = tmp_path / "notes.ris"
    export.write_text(
        "Provider: An online library\n\n"
        "TY  - JOUR\nAU  - Hughes, Gareth\nST  - Community health workers\nPY  - 2022\n"
        "UR  - example.org/chw\nER  - \n"
    )
    result = run_kb("import", export, "--root", tiny_kb, "--dry-run")
    assert (result.exit_code, result.stderr) == (0, "")
    assert result.stdout == (
        "#  action  id           details\n"
        "1  create  hughes-2022  Community health workers\n"
        "                        note: title from ST (short title): the record has no TI or T1\n"
        "                        note: url 'example.org/chw' has no scheme: read as "
        "https://example.org/chw\n"
        "ignored 1 line outside any entry (line 1): export headers or notes, not references\n"
        "dry run: would create 1, skip 0, flag 0; nothing written\n"
    )


def test_flagged_entries_name_the_entry_and_the_reason(tiny_kb: Path) -> None:
    result = run_kb("import", IMPORTS / "broken-entry.bib", "--root", tiny_kb)
    assert result.exit_code == 1
    assert result.stdout == (
        "#  action  id          details\n"
        "1  create  ahmed-2021  Race equality in the NHS workforce\n"
        "2  flag    -           line 8: not valid BibTeX: Expected comma after entry key, "
        "but found =\n"
        "3  flag    -           jones_bad_url_2020, line 14: url: must be an http:// or "
        "https:// address with no spaces\n"
        "created 1, skipped 0, flagged 2\n"
        "updated the store (build/kb.sqlite) and the search index (build/index)\n"
    )
    assert result.stderr == (
        "error: 2 of 3 entries in broken-entry.bib cannot be imported (flagged above)\n"
    )
    schema = run_kb("import", IMPORTS / "csl-schema-errors.json", "--root", tiny_kb, "--dry-run")
    assert schema.stdout.splitlines()[2:5] == [
        "2  flag    -           no-type, item 2: the item has no 'type' (required by CSL-JSON)",
        "3  flag    -           author-string, item 3: 'author' must be a list of names",
        "4  flag    -           empty, item 4: no title, authors or DOI",
    ]


def test_all_or_nothing_writes_nothing_when_an_entry_is_flagged(tiny_kb: Path) -> None:
    result = run_kb("import", IMPORTS / "truncated.ris", "--root", tiny_kb, "--all-or-nothing")
    assert result.exit_code == 1
    assert result.stdout.splitlines()[-1] == "flagged 1 with --all-or-nothing: nothing written"
    assert _studies(tiny_kb) == ["krause-2012"]


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        (
            "binary.ris",
            None,
            "binary.ris is not a text file (it contains NUL bytes); export your references as "
            "RIS, BibTeX or CSL-JSON and import that file",
        ),
        (
            "malformed.json",
            None,
            "malformed.json: not valid JSON (line 2, column 74: Invalid control character at)",
        ),
        (
            "not-references.txt",
            None,
            "cannot tell which format not-references.txt is in; name it with --format ris, "
            "--format bibtex or --format csl-json",
        ),
        ("empty.ris", b"\xef\xbb\xbf\r\n", "empty.ris is empty"),
        (
            "latin-1.ris",
            "TY  - JOUR\nTI  - Caf\xe9 culture\nER  - \n".encode("latin-1"),
            "latin-1.ris is not UTF-8 text: byte 0xe9 on line 2 cannot be decoded; export it "
            "again as UTF-8",
        ),
    ],
)
def test_unreadable_files_write_nothing(
    tiny_kb: Path, tmp_path: Path, name: str, content: bytes | None, message: str
) -> None:
    path = IMPORTS / name
    if content is not None:
        path = tmp_path / name
        path.write_bytes(content)
    result = run_kb("import", path, "--root", tiny_kb)
    assert (result.exit_code, result.stdout, result.stderr) == (1, "", f"error: {message}\n")
    assert _studies(tiny_kb) == ["krause-2012"]


def test_format_option_overrides_detection(tiny_kb: Path) -> None:
    result = run_kb(
        "import", IMPORTS / "web-of-science.txt", "--format", "bibtex", "--root", tiny_kb
    )
    assert result.stderr == "error: web-of-science.txt holds no bibtex references\n"


# --- Duplicates ------------------------------------------------------------------------------

KRAUSE = Reference(
    "krause-2012",
    "Pilot Project: Anonymized Application procedure",
    2012,
    ("Krause, A.", "Rinne, U."),
    "10.1234/IZA.44",
)


@pytest.mark.parametrize(
    ("title", "year", "first_author", "doi", "expected"),
    [
        ("Another title", 2019, "Smith, J.", "10.1234/iza.44", "same DOI as krause-2012"),
        (None, None, None, "https://doi.org/10.1234/IZA.44", "same DOI as krause-2012"),
        (None, None, None, "doi:10.1234/Iza.44", "same DOI as krause-2012"),
        (None, None, None, "HTTP://DX.DOI.ORG/10.1234/IZA.44", "same DOI as krause-2012"),
        (
            "Pilot project - anonymized application procedure.",
            2012,
            "Krause, Annabelle",
            None,
            "likely duplicate of krause-2012 (100% alike)",
        ),
        (
            "PILOT PROJECT: ANONYMIZED APPLICATION PROCEDURE",
            2012,
            "Krause, A.",
            None,
            "likely duplicate of krause-2012 (100% alike)",
        ),
        (
            "Pilot Projèct: Anonymised Application Procedure",
            2012,
            "Kraus, A.",
            None,
            "likely duplicate of krause-2012 (98% alike)",
        ),
        (
            "Pilot project: anonymized application procedure – final report",
            None,
            "Krause, A.",
            None,
            "likely duplicate of krause-2012 (100% alike)",
        ),
        ("Pilot Project: Anonymized Application procedure", 2013, "Krause, A.", None, None),
        ("Pilot Project: Anonymized Application procedure", 2012, "Rinne, U.", None, None),
        (
            "Pilot Project: Anonymized Application procedure",
            2012,
            "Krause, A.",
            "10.5555/other",
            None,
        ),
        ("Anonymous job applications in Europe", 2012, "Krause, A.", None, None),
    ],
)
def test_duplicate_detection(
    title: str | None,
    year: int | None,
    first_author: str | None,
    doi: str | None,
    expected: str | None,
) -> None:
    authors = (first_author,) if first_author else ()
    match = DuplicateFinder([KRAUSE]).find(Reference("", title, year, authors, doi))
    assert (str(match) if match else None) == expected


def _misspelt(text: str, chance: random.Random, letters: str = "abcde") -> str:
    for _ in range(chance.randint(0, 3)):
        at = chance.randint(0, len(text))
        edit = chance.choice(["insert", "delete", "replace"])
        letter = chance.choice(letters)
        text = text[:at] + (letter if edit != "delete" else "") + text[at + (edit != "insert") :]
    return text


def _references(count: int, chance: random.Random) -> list[Reference]:
    """References with near-identical titles, names and years, some without one or other."""
    names = ["Krause", "Kraus", "Smith", "Smyth", "Okafor", "Public Health Wales", "Nazroo"]
    names += ["Office for National Statistics", "García-López", "Bhui", "Longname" * 6]
    titles = ["Pilot project: anonymised applications", "Race equality in health care"]
    references = []
    for number in range(count):
        name = _misspelt(chance.choice(names), chance, "aeiklnrst -")
        title = _misspelt(chance.choice(titles), chance, "aeiklnrst -")
        references.append(
            Reference(
                f"r{number}",
                chance.choice([title, title, None]),
                chance.choice([2012, 2012, 2013, None]),
                chance.choice([(f"{name}, A.", "Other, B."), (name,), ()]),
                chance.choice([None, None, None, f"10.5555/{chance.randint(0, 30)}"]),
            )
        )
    return references


def test_indexed_duplicate_detection_finds_what_comparing_with_every_one_finds() -> None:
    chance = random.Random(42)
    known = _references(400, chance)
    finder = DuplicateFinder(known)
    for new in _references(400, chance):
        expected = None  # the rules applied to every known reference, first best match kept
        if doi_key(new.doi) in {doi_key(reference.doi) for reference in known if reference.doi}:
            expected = next(r.id for r in known if doi_key(r.doi) == doi_key(new.doi))
            assert str(finder.find(new)) == f"same DOI as {expected}"
            continue
        best, rank = None, None
        for order, reference in enumerate(known):
            if new.doi and reference.doi and doi_key(new.doi) != doi_key(reference.doi):
                continue
            score = _score(_comparable(new), _comparable(reference))
            alike = fuzz.ratio(_comparable(new)[0], _comparable(reference)[0])
            if score >= LIKELY_THRESHOLD and (rank is None or (score, alike, -order) > rank):
                rank = (score, alike, -order)
                best = Match("likely" if new.title else "untitled", reference.id, score)
        assert finder.find(new) == best, new


@pytest.mark.parametrize("repetitive", [False, True])
def test_the_name_index_finds_every_name_that_scores_90(repetitive: bool) -> None:
    chance = random.Random(42)
    bases = ["".join(chance.choices("abcde", k=chance.randint(1, 40))) for _ in range(300)]
    if repetitive:  # long names that share most pieces: compared in one call to rapidfuzz
        bases = [f"{'name' * 8}{number}" for number in range(300)]
    names = {_misspelt(chance.choice(bases), chance) for _ in range(3000)} - {""}
    index = _NameIndex()
    for name in names:
        index.add(name)
    found = 0
    for _ in range(1000):
        name = _misspelt(chance.choice(bases), chance) or "a"
        alike = {known for known in names if fuzz.ratio(name, known) >= LIKELY_THRESHOLD}
        assert alike <= index.candidates(name), name
        found += len(alike)
    assert found > 3000


def test_duplicates_on_import(tiny_kb: Path, tmp_path: Path) -> None:
    export = tmp_path / "variants.ris"
    export.write_text(
        "TY  - RPRT\nTI  - A\nDO  - doi:10.1234/iza.44\nER  - \n\n"
        "TY  - RPRT\nTI  - Pilot project - anonymized application procedure.\nAU  - Krause, A.\n"
        "PY  - 2012\nER  - \n\n"
        "TY  - JOUR\nTI  - New study\nAU  - Smith, J.\nPY  - 2020\nDO  - 10.5555/NEW\nER  - \n\n"
        "TY  - JOUR\nTI  - New study (preprint)\nAU  - Smith, J.\nPY  - 2020\n"
        "DO  - https://doi.org/10.5555/new\nER  - \n"
    )
    result = run_kb("import", export, "--root", tiny_kb)
    assert result.stdout.splitlines()[1:5] == [
        "1  skip    krause-2012  same DOI as krause-2012",
        "2  skip    krause-2012  likely duplicate of krause-2012 (100% alike); --allow-duplicate "
        "adds it anyway",
        "3  create  smith-2020   New study",
        "4  skip    smith-2020   same DOI as smith-2020",
    ]
    assert _studies(tiny_kb) == ["krause-2012", "smith-2020"]
    allowed = run_kb("import", export, "--root", tiny_kb, "--allow-duplicate")
    assert _rows(allowed.stdout.rsplit("\n", 2)[0] + "\n") == [
        ("skip", "krause-2012"),
        ("create", "krause-2012b"),
        ("skip", "smith-2020"),
        ("skip", "smith-2020"),
    ]


def test_an_entry_without_a_title_is_flagged_not_skipped(tiny_kb: Path, tmp_path: Path) -> None:
    export = tmp_path / "untitled.ris"
    export.write_text(
        "TY  - RPRT\nAU  - Krause, Annabelle\nPY  - 2012\nER  - \n\n"
        "TY  - RPRT\nAU  - Krause, Annabelle\nPY  - 2013\nER  - \n"
    )
    result = run_kb("import", export, "--root", tiny_kb, "--dry-run")
    assert result.stdout.splitlines()[1:3] == [
        "1  flag    -            line 1: no title to tell it from krause-2012, which has the same "
        "first author and year: add its title, or import it with --allow-duplicate",
        "2  create  krause-2013  (no title)",
    ]
    assert result.exit_code == 1
    report = json.loads(run_kb("import", export, "--root", tiny_kb, "--dry-run", "--json").stdout)
    assert report["flagged"][0]["possible_duplicate_of"] == "krause-2012"
    allowed = run_kb("import", export, "--root", tiny_kb, "--dry-run", "--allow-duplicate")
    assert _rows(allowed.stdout) == [("create", "krause-2012b"), ("create", "krause-2013")]


def test_a_part_is_never_a_duplicate_of_its_whole() -> None:
    volume = Reference("volume", "Community health champions", 2018, ("Hussain, A.",))
    paper = Reference(
        "",
        "Community health champions in Cardiff",
        2018,
        ("Hussain, A.",),
        None,
        "Community health champions",
    )
    assert DuplicateFinder([volume]).find(replace(paper, container=None)) == Match(
        "likely", "volume", 100.0
    )
    assert DuplicateFinder([volume]).find(paper) is None
    assert DuplicateFinder([replace(paper, id="paper")]).find(volume) is None
    assert DuplicateFinder([volume]).find(replace(paper, container=None), ignore={"volume"}) is None


@pytest.mark.parametrize(
    ("content", "flag"),
    [
        pytest.param(
            "@article{a, title = {T}, author = {Smith, J.}, journal = undefined_journal}\n",
            "1  flag    -   a, line 1: journal: 'undefined_journal' is not a string defined with "
            "@string",
            id="undefined-string",
        ),
        pytest.param(
            "@article{a, title = {T}, author = {Smith, J.}, journal = x # { Review}}\n",
            "1  flag    -   a, line 1: journal: 'x # { Review}' is not a string defined with "
            "@string",
            id="undefined-string-in-concatenation",
        ),
        pytest.param(
            "@set{s, entryset = {a,b}}\n",
            "1  flag    -   s, line 1: a biblatex @set only groups other entries; import those",
            id="biblatex-set",
        ),
        pytest.param(
            "@article{a, title = {\\sqrt\\sqrt}, author = {Smith, J.}}\n",
            "1  flag    -   a, line 1: title: cannot read the LaTeX in '\\sqrt\\sqrt'",
            id="unreadable-latex",
        ),
    ],
)
def test_broken_bibtex_entries_are_flagged_naming_the_field(
    tiny_kb: Path, tmp_path: Path, content: str, flag: str
) -> None:
    export = tmp_path / "broken.bib"
    export.write_text(content)
    result = run_kb("import", export, "--root", tiny_kb, "--dry-run")
    assert result.stdout.splitlines()[1] == flag
    assert result.exit_code == 1
    assert (
        result.stderr == "error: 1 of 1 entries in broken.bib cannot be imported (flagged above)\n"
    )


# --- Round trips -----------------------------------------------------------------------------


@pytest.mark.parametrize("export_format", ["bibtex", "ris", "csl-json"])
def test_quirks_round_trip(tiny_kb: Path, tmp_path: Path, export_format: str) -> None:
    """Import every quirk file, export the knowledge base, import that: nothing new."""
    for name in QUIRKS:
        assert run_kb("import", IMPORTS / name, "--root", tiny_kb).exit_code == 0, name
    created = len(_studies(tiny_kb))
    exported = run_kb("export", "--format", export_format, "--root", tiny_kb)
    path = tmp_path / f"export.{export_format}"
    path.write_text(exported.stdout, encoding="utf-8")
    report = json.loads(run_kb("import", path, "--root", tiny_kb, "--json").stdout)
    assert (report["created"], report["flagged"], report["ignored_lines"]) == ([], [], [])
    skipped = {entry["key"]: entry["duplicate_of"] for entry in report["skipped"]}
    assert len(skipped) == created + 1  # every study, and the source report
    assert all(key == record for key, record in skipped.items()), skipped  # each its own
    assert len(_studies(tiny_kb)) == created


@pytest.mark.parametrize("export_format", ["bibtex", "ris", "csl-json"])
@pytest.mark.parametrize("knowledge_base", ["tiny", "repository"])
def test_importing_our_own_export_creates_nothing(
    tiny_kb: Path, tmp_path: Path, export_format: str, knowledge_base: str
) -> None:
    root = tiny_kb if knowledge_base == "tiny" else REPOSITORY
    database = tmp_path / "kb.sqlite"
    exported = run_kb("export", "--format", export_format, "--root", root, "--database", database)
    assert exported.exit_code == 0
    path = tmp_path / f"export.{export_format}"
    path.write_text(exported.stdout, encoding="utf-8")
    result = run_kb("import", path, "--root", root, "--dry-run")
    assert result.exit_code == 0
    summary = result.stdout.splitlines()[-1]
    assert summary.startswith("dry run: would create 0, skip ")
    assert summary.endswith(", flag 0; nothing written")
