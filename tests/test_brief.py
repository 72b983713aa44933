"""`kb brief`: the brief of a fixture selection in every format, compared exactly with golden
files (tests/data/briefs/); the Word document read back; record text escaped in every format;
and the errors for IDs that name no statement and selections that hold none."""

import datetime
import io
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import docx
import markdown
import pytest

from kb.cli import brief as brief_command
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
