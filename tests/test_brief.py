"""`kb brief`: the brief of a fixture selection in every format, compared exactly with golden
files (tests/data/briefs/); the Word document read back; record text escaped in every format;
and the errors for IDs that name no statement and selections that hold none."""

import datetime
import io
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import docx
import markdown
import pytest
from click.testing import CliRunner

from kb.cli import brief as brief_command
from kb.cli import main
from tests.conftest import DATA, run_kb

pytestmark = pytest.mark.cli

GOLDEN = DATA / "briefs"
MADE_ON = datetime.date(2026, 12, 4)
SITE_URL = "https://example.org/kb/"


@pytest.fixture(autouse=True)
def fixed_day(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every brief here is made on the same day, so the golden files hold."""
    monkeypatch.setattr(brief_command, "today", lambda: MADE_ON)


def _copy(name: str, tmp_path: Path, site_url: str | None = SITE_URL) -> Path:
    root = tmp_path / name
    shutil.copytree(DATA / name, root)
    if site_url is not None:
        (root / "mkdocs.yml").write_text(f"site_name: Tiny Knowledge Base\nsite_url: {site_url}\n")
    return root


@pytest.fixture
def tiny(tmp_path: Path) -> Path:
    return _copy("tiny", tmp_path)


def _brief(root: Path, *args: str) -> str:
    result = run_kb("brief", "--root", root, *args)
    assert result.exit_code == 0, result.output + result.stderr
    return result.output


@pytest.mark.parametrize(
    ("output_format", "golden"), [("text", "tiny.txt"), ("md", "tiny.md"), ("html", "tiny.html")]
)
def test_brief_matches_golden_file(tiny: Path, output_format: str, golden: str) -> None:
    made = _brief(tiny, "targets", "anonymise", "--format", output_format)
    assert made == (GOLDEN / golden).read_text(encoding="utf-8")


def test_plain_text_has_no_markdown_markers(tiny: Path) -> None:
    made = _brief(tiny, "--theme", "recruitment")
    assert made.startswith("Evidence brief: Recruitment\n")
    for marker in ("**", "# ", "\n> ", "](", "`"):
        assert marker not in made, marker
    assert "“Use anonymised job applications for every post.”" in made


def test_theme_brief_and_file_ending_choose_the_title_and_format(tiny: Path) -> None:
    output = tiny / "out" / "brief.md"
    result = run_kb("brief", "--root", tiny, "--theme", "recruitment", "-o", output)
    assert result.output == f"wrote {output}: 2 statements, 2 references (md)\n"
    assert output.read_text().startswith("# Evidence brief: Recruitment\n")


def test_without_a_site_url_no_address_is_made_up(tmp_path: Path) -> None:
    root = _copy("tiny", tmp_path, site_url=None)
    made = _brief(root, "anonymise", "--format", "md")
    assert "https://example.org/kb" not in made
    assert "recommendation anonymise in Evidence knowledge base." in made


def test_word_document_holds_the_styles_it_uses_and_no_others(tiny: Path) -> None:
    """Unused styles are deleted for speed (kb.brief.word.USED_STYLES); every style a
    paragraph or table uses, and every style another names, is still defined."""
    from kb.brief.word import USED_STYLES

    output = tiny / "brief.docx"
    _brief(tiny, "targets", "anonymise", "-o", output)
    document = docx.Document(str(output))
    defined = {style.style_id for style in document.styles}
    used = {paragraph.style.style_id for paragraph in document.paragraphs}
    used |= {table.style.style_id for table in document.tables}
    assert {"Title", "Heading1", "Heading2", "ListBullet", "Quote", "TableGrid"} <= used
    assert used <= defined
    named = {
        value
        for style in document.styles
        for value in style.element.xpath("w:basedOn/@w:val | w:link/@w:val | w:next/@w:val")
    }
    assert named <= defined
    assert {style.name for style in document.styles} <= USED_STYLES


def test_word_document_reads_back_with_headings_tables_and_references(tiny: Path) -> None:
    output = tiny / "brief.docx"
    _brief(tiny, "targets", "anonymise", "-o", output)
    document = docx.Document(str(output))
    headings = [
        (paragraph.style.name, paragraph.text)
        for paragraph in document.paragraphs
        if paragraph.style.name.startswith(("Heading", "Title"))
    ]
    assert headings == [
        ("Title", "Evidence brief"),
        ("Heading 1", "Key messages"),
        ("Heading 1", "1. Publish representation targets"),
        ("Heading 2", "Strongest evidence"),
        ("Heading 2", "Gaps and uncertainties"),
        ("Heading 2", "Practice examples"),
        ("Heading 2", "Cite"),
        ("Heading 1", "2. Anonymise applications"),
        ("Heading 2", "Strongest evidence"),
        ("Heading 2", "Gaps and uncertainties"),
        ("Heading 2", "Practice examples"),
        ("Heading 2", "Cite"),
        ("Heading 1", "References"),
    ]
    [table] = document.tables  # only anonymise has supporting evidence
    assert [cell.text for cell in table.rows[0].cells] == [
        "Study",
        "Level",
        "Our summary",
        "In its own words",
        "Basis",
    ]
    assert [cell.text for cell in table.rows[1].cells] == [
        "Krause and Rinne (2012) (evaluation report)",
        "Very limited (S2)",
        "A pilot found anonymised applications narrowed gaps in callbacks.",
        "“Anonymised applications reduced callback gaps in a pilot (Krause et al., 2012).”",
        "The source report's words, section “Recruitment”; recorded by Fixture author on "
        "2026-11-26.",
    ]
    texts = [paragraph.text for paragraph in document.paragraphs]
    references = texts[texts.index("References") + 1 :]
    assert references == [
        "Example, A. (2021). Tiny Report on Fair Hiring. Example Centre.",
        "Krause, A. and Rinne, U. (2012). Pilot Project: Anonymized Application procedure. "
        "IZA. https://doi.org/10.1234/IZA.44",
    ]
    cite = texts[texts.index("References") - 1]
    assert cite.endswith(
        f"recommendation anonymise in Tiny Knowledge Base, {SITE_URL}recommendations/anonymise/."
    )
    links = [link.address for paragraph in document.paragraphs for link in paragraph.hyperlinks]
    assert f"{SITE_URL}recommendations/anonymise/" in links
    assert "https://doi.org/10.1234/IZA.44" in links
    assert document.core_properties.title == "Evidence brief"
    assert document.core_properties.author == ""
    # The same brief is the same file.
    again = tiny / "again.docx"
    _brief(tiny, "targets", "anonymise", "-o", again)
    assert again.read_bytes() == output.read_bytes()


def test_word_document_goes_to_a_pipe_but_not_to_a_terminal(tiny: Path) -> None:
    result = run_kb("brief", "--root", tiny, "anonymise", "--format", "docx")
    assert result.exit_code == 0
    assert docx.Document(io.BytesIO(result.stdout_bytes)).paragraphs[0].text == "Evidence brief"


class _Text(HTMLParser):
    """The text of an HTML page, and every element and attribute in it."""

    def __init__(self) -> None:
        super().__init__()
        self.text: list[str] = []
        self.tags: list[str] = []
        self.attributes: list[tuple[str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attributes.extend(attrs)

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def _parsed(page: str) -> _Text:
    parser = _Text()
    parser.feed(page)
    return parser


def _spaced(text: str) -> str:
    return " ".join(text.split())


@pytest.fixture
def hostile(tmp_path: Path) -> tuple[Path, str]:
    root = _copy("hostile", tmp_path)
    title = _spaced(
        next(
            rec["title"]
            for rec in __import__("json").loads(run_kb("export", "--root", root).output)[
                "recommendations"
            ]
            if rec["id"] == "hostile-rec"
        )
    )
    return root, title


def test_record_text_stays_text_in_every_format(hostile: tuple[Path, str]) -> None:
    root, title = hostile
    assert "<script>" in title and "*em*" in title and "[x](javascript:alert(1))" in title
    plain = _brief(root, "hostile-rec")
    assert title in plain
    for output_format, to_html in (
        ("md", lambda text: markdown.markdown(text)),
        ("html", lambda text: text),
    ):
        page = _parsed(to_html(_brief(root, "hostile-rec", "--format", output_format)))
        assert "script" not in page.tags and "img" not in page.tags, output_format
        assert not any(name.startswith("on") for name, _ in page.attributes), output_format
        addresses = [value or "" for name, value in page.attributes if name in ("href", "src")]
        assert all(re.match(r"https?://", address) for address in addresses), addresses
        assert title in _spaced("".join(page.text)), output_format
    output = root / "hostile.docx"
    _brief(root, "hostile-rec", "-o", output)
    headings = [
        p.text for p in docx.Document(str(output)).paragraphs if p.style.name == "Heading 1"
    ]
    assert f"1. {title}" in headings
    # A title longer than Word's document properties hold is cut there, not refused.
    _brief(root, "--theme", "hostile-theme", "-o", output)
    properties = docx.Document(str(output)).core_properties
    assert len(properties.title) == 255 and properties.title.endswith("…")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["anonymse"], "error: no statement has ID 'anonymse'; did you mean 'anonymise'?\n"),
        (
            ["krause-2012"],
            "error: 'krause-2012' is a study, not a statement: a brief covers recommendations, "
            "key messages, recurring recommendations and government actions\n",
        ),
        (
            ["nope", "Not An ID"],
            "error: 2 IDs name no statement:\n  no statement has ID 'nope'\n"
            "  'Not An ID' is not a record ID (lower-case letters, digits and hyphens)\n",
        ),
        (
            ["--theme", "recruitmnt"],
            "error: no theme has ID 'recruitmnt' (--theme recruitmnt); did you mean "
            "'recruitment'?\n",
        ),
        (
            ["--min-strength", "S4"],
            "error: the selection holds no statement: no statement has a headline level of S4 "
            "or above\n",
        ),
        (
            ["--theme", "recruitment", "--min-strength", "S2"],
            "error: the selection holds no statement: none of the 2 statements selected has a "
            "headline level of S2 or above\n",
        ),
    ],
)
def test_errors_name_what_is_wrong(tiny: Path, args: list[str], message: str) -> None:
    result = run_kb("brief", "--root", tiny, *args)
    assert result.exit_code == 1
    assert result.stderr == message
    assert result.stdout == ""


def test_nothing_chosen_is_a_usage_error(tiny: Path) -> None:
    result = run_kb("brief", "--root", tiny)
    assert result.exit_code == 2
    assert "choose the statements: IDs, --theme, --query, --selection FILE or --min-strength" in (
        result.stderr
    )


def test_selection_file_takes_ids_comments_and_a_brief_page_address(tiny: Path) -> None:
    selection = tiny / "selection.txt"
    selection.write_text(
        f"# for the minister\ntargets  # the second\n{SITE_URL}brief/?ids=anonymise,targets\n"
    )
    made = _brief(tiny, "--selection", selection, "--format", "md")
    assert re.findall(r"^## \d\. .*$", made, re.MULTILINE) == [
        "## 1. Publish representation targets",
        "## 2. Anonymise applications",
    ]
    selection.write_text("targets\nanonymse\n")
    result = run_kb("brief", "--root", tiny, "--selection", selection)
    assert result.exit_code == 1
    assert result.stderr == (
        f"error: {selection}:2: no statement has ID 'anonymse'; did you mean 'anonymise'?\n"
    )
    selection.write_bytes(b"\xff\xfe targets")
    result = run_kb("brief", "--root", tiny, "--selection", selection)
    assert result.exit_code == 1
    assert result.stderr.startswith(f"error: {selection}: not UTF-8 text")
    result = run_kb("brief", "--root", tiny, "--selection", tiny / "missing.txt")
    assert result.exit_code == 1
    assert result.stderr.startswith(f"error: {tiny / 'missing.txt'}: cannot be read")


def test_query_and_min_strength_select(tiny: Path) -> None:
    made = _brief(tiny, "--query", "anonymised applications", "--format", "md")
    assert "## 1. Anonymise applications" in made
    assert "## 2." not in made
    assert "Expert opinion (S1)" in _brief(tiny, "--min-strength", "S1")


def test_output_that_cannot_be_written_is_a_clear_error(tiny: Path) -> None:
    result = run_kb("brief", "--root", tiny, "anonymise", "-o", tiny / "recommendations")
    assert result.exit_code == 1
    assert result.stderr.startswith(f"error: cannot write {tiny / 'recommendations'}: ")


# --- A brief framed in Welsh ------------------------------------------------------------------

QUOTE = "Anonymised applications reduced callback gaps in a pilot (Krause et al., 2012)."
STATEMENT = "Use anonymised job applications for every post."


def _headings(markdown_brief: str) -> list[str]:
    """The Markdown brief's headings of our own (not a statement's numbered title)."""
    return [
        line.lstrip("#").strip()
        for line in markdown_brief.splitlines()
        if line.startswith("#") and not re.match(r"#+ \d+\. ", line)
    ]


def test_every_heading_of_a_welsh_brief_is_welsh(tiny: Path) -> None:
    """Fails when a heading is left in English: one the catalogue lacks, or a new one whose
    Welsh nobody drafted (gettext then gives back the English)."""
    english = _headings(_brief(tiny, "targets", "anonymise", "--format", "md"))
    welsh = _headings(_brief(tiny, "targets", "anonymise", "--format", "md", "--lang", "cy"))
    assert len(welsh) == len(english) > 6
    assert not set(english) & set(welsh), sorted(set(english) & set(welsh))
    assert welsh[:2] == ["Briff tystiolaeth", "Negeseuon allweddol"]
    assert {"Y dystiolaeth gryfaf", "Bylchau ac ansicrwydd", "Dyfynnu", "Cyfeiriadau"} <= set(welsh)


def _welsh_words(english: str) -> str:
    from kb.localization import translations

    welsh = translations("cy").gettext(english)
    assert welsh != english, f"{english!r} has no Welsh"
    return welsh


@pytest.mark.parametrize("output_format", ["text", "md", "html"])
def test_a_welsh_brief_frames_english_quotes_in_welsh(tiny: Path, output_format: str) -> None:
    made = _brief(tiny, "targets", "anonymise", "--format", output_format, "--lang", "cy")
    for heading in ("Key messages", "Strongest evidence", "Gaps and uncertainties", "Cite"):
        assert _welsh_words(heading) in made
        assert heading not in made
    assert "Cryfder y dystiolaeth: Cyfyngedig iawn (S2)" not in made  # a study's, not headline
    assert "Cryfder y dystiolaeth: Barn arbenigol (S1)." in made
    assert "2 argymhelliad. Cryfder pennawd y dystiolaeth: Barn arbenigol (S1) i 1" in made
    assert "Adran “" in made and "argymhelliad anonymise, Tiny Knowledge Base" in made
    assert "Lluniwyd ar 4 Rhagfyr 2026" in made
    # The report's words and the records' stay in English.
    assert STATEMENT in made
    assert "Krause and Rinne (2012)" in made
    assert QUOTE in made
    for english in ("Strength of evidence", "Our summary", "recorded by", "Made on"):
        assert english not in made, english


def test_a_welsh_html_brief_marks_the_records_english(tiny: Path) -> None:
    made = _brief(tiny, "targets", "anonymise", "--format", "html", "--lang", "cy")
    assert '<html lang="cy">' in made
    assert f'<q lang="en">{QUOTE}</q>' in made
    assert f'<blockquote class="kb-brief-statement" lang="en"><p>{STATEMENT}</p>' in made
    assert '<span lang="en">Publish representation targets</span></h2>' in made
    assert 'Dywed yr adroddiad: “<span lang="en">There is little evidence' in made
    assert 'id="reference-krause-2012" data-id="krause-2012" lang="en">' in made
    # Every text outside lang="en" is ours: no English word of the records is left there.
    outside = re.sub(r'<(\w+)[^>]* lang="en"[^>]*>.*?</\1>', "", made, flags=re.S)
    outside = re.sub(r"<style>.*?</style>|<[^>]+>", " ", outside, flags=re.S)
    assert not {"the", "and", "of", "with", "from"} & set(re.findall(r"[a-z]+", outside))


def test_a_welsh_word_brief_has_welsh_headings_and_english_runs(tiny: Path) -> None:
    from docx.oxml.ns import qn

    output = tiny / "brief-cy.docx"
    _brief(tiny, "targets", "anonymise", "--lang", "cy", "-o", output)
    document = docx.Document(str(output))
    headings = [
        paragraph.text
        for paragraph in document.paragraphs
        if paragraph.style.name.startswith(("Heading", "Title"))
    ]
    assert headings[:3] == [
        "Briff tystiolaeth",
        "Negeseuon allweddol",
        "1. Publish representation targets",
    ]
    assert "Y dystiolaeth gryfaf" in headings and "Cyfeiriadau" in headings
    assert "Strongest evidence" not in headings
    [table] = document.tables
    assert [cell.text for cell in table.rows[0].cells] == [
        "Astudiaeth",
        "Lefel",
        "Ein crynodeb",
        "Yn ei eiriau ei hun",
        "Sail",
    ]
    assert table.rows[1].cells[3].text == f"“{QUOTE}”"
    assert table.rows[1].cells[4].text.startswith("Geiriau'r adroddiad ffynhonnell, adran “")

    def language(run: Any) -> str | None:
        properties = run._r.rPr
        found = None if properties is None else properties.find(qn("w:lang"))
        return None if found is None else found.get(qn("w:val"))

    [quote] = [run for run in table.rows[1].cells[3].paragraphs[0].runs if QUOTE in run.text]
    assert language(quote) == "en-GB"
    [ours] = [run for run in table.rows[1].cells[4].paragraphs[0].runs if "Geiriau" in run.text]
    assert language(ours) is None  # the document's language, Welsh
    normal = document.styles["Normal"].element.rPr.find(qn("w:lang")).get(qn("w:val"))
    assert normal == "cy-GB"
    assert document.core_properties.language == "cy-GB"
    statement = next(p for p in document.paragraphs if p.style.name == "Quote")
    assert {language(run) for run in statement.runs} == {"en-GB"}


def test_a_language_the_brief_does_not_speak_is_a_clear_error(tiny: Path) -> None:
    result = CliRunner().invoke(main, ["brief", "--root", str(tiny), "targets", "--lang", "fr"])
    assert result.exit_code == 2
    assert "Invalid value for '--lang': 'fr' is not one of 'en', 'cy'." in result.output
    assert "Traceback" not in result.output


def test_the_site_keeps_a_word_brief_until_what_it_says_or_the_code_changes(
    tiny: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The theme briefs' Word files are kept between builds (kb.render.brief_page.WordBriefs)
    under a hash of their Markdown and the code: a kept file is the file a new one would be."""
    from kb.brief import Edition, Records
    from kb.paths import Paths
    from kb.render.brief_page import WordBriefs, write_theme_briefs
    from kb.site_config import SiteInfo
    from kb.store.current import current_store
    from kb.store.export import export_document

    document = export_document(current_store(Paths.for_root(tiny)))
    edition = Edition(SiteInfo("Tiny"), None, MADE_ON)
    kept = tmp_path / "kept"

    def build(name: str, edition: Edition = edition) -> tuple[WordBriefs, dict[str, bytes]]:
        word = WordBriefs(kept)
        write_theme_briefs(Records(document), edition, tmp_path / name, word=word)
        word.forget_unused()
        files = (tmp_path / name).rglob("*.docx")
        return word, {path.name: path.read_bytes() for path in files}

    first, made = build("first")
    assert (first.made, first.kept) == (len(made), 0) and made
    again, same = build("again")
    assert (again.made, again.kept) == (0, len(made)) and same == made
    unkept = tmp_path / "unkept"
    write_theme_briefs(Records(document), edition, unkept)  # no kept files: each made anew
    assert {path.name: path.read_bytes() for path in unkept.rglob("*.docx")} == made
    tomorrow = Edition(SiteInfo("Tiny"), None, MADE_ON + datetime.timedelta(1))
    later, _ = build("later", tomorrow)
    assert later.made == len(made)  # the edition line changed: every brief says so
    assert len(list(kept.iterdir())) == len(made)  # the earlier files, unused, are gone
    changed = tmp_path / "word.py"
    changed.write_text("another layout")
    monkeypatch.setattr(WordBriefs, "CODE", (*WordBriefs.CODE, changed))
    assert build("recoded", tomorrow)[0].made == len(made)
