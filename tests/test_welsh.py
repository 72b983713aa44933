"""The Welsh site: its catalogue (every message translated, drafts counted, six plural forms),
its pages under /cy/ (lang, hreflang, the toggle, the draft notice) and, in Chromium, no English
interface text outside record text marked lang="en", and axe on its pages."""

import functools
import html
import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from kb.localization import catalogue_state, translations
from tests.conftest import Site
from tests.test_site import AXE_TAGS, PAGE_TYPES, _page_types, _recommendation_with_links

pytestmark = pytest.mark.site

# Page types whose templates are not yet through the catalogue (issue 20): English remains.
NOT_YET_TRANSLATED: set[str] = set()
# Pages the Welsh site checks besides every page type of the English site's tests.
MORE_PAGE_TYPES = {"accessibility": "accessibility/", "changes": "changes/"}
# The brief page, showing a brief (its statements are hidden until the address names them).
WELSH_PAGE_TYPES = [*PAGE_TYPES, *MORE_PAGE_TYPES, "brief"]
# English words that no Welsh sentence holds: one outside lang="en" is English interface text.
ENGLISH_WORDS = {"the", "and", "of", "with", "this", "from", "which", "are", "has", "have", "not"}


@functools.cache
def english_phrases() -> frozenset[str]:
    """Phrases of the catalogue's English messages (markup and placeholders taken out) that
    their Welsh translations do not hold: one on a Welsh page is an untranslated string."""
    from babel.messages.pofile import read_po

    from kb.localization import catalogue_path

    with catalogue_path("cy").open("rb") as opened:
        catalogue = read_po(opened, locale="cy")
    phrases = set()
    for message in catalogue:
        ids = [message.id] if isinstance(message.id, str) else list(message.id)
        welsh = " ".join([message.string] if isinstance(message.string, str) else message.string)
        for english in filter(None, ids):
            for piece in re.split(r"<[^>]+>|%\(\w+\)s|[.:;,()“”]", english):
                piece = " ".join(piece.split())
                if len(piece) >= 12 and " " in piece and piece not in welsh:
                    phrases.add(piece)
    return frozenset(phrases)


@pytest.mark.unit
def test_every_extracted_message_has_a_welsh_entry() -> None:
    state = catalogue_state("cy")
    assert state.missing == ()
    assert state.translated == state.messages > 200
    # Every Welsh string so far is our draft, awaiting a Welsh speaker's review.
    assert state.drafts == state.translated
    assert state.reviewed == 0


@pytest.mark.unit
@pytest.mark.parametrize(
    ("number", "expected"),
    [
        (0, "0 cyswllt tystiolaeth"),
        (1, "1 cyswllt tystiolaeth"),
        (2, "2 gyswllt tystiolaeth"),  # dau gyswllt: soft mutation
        (3, "3 chyswllt tystiolaeth"),  # tri chyswllt: aspirate mutation
        (6, "6 chyswllt tystiolaeth"),  # chwe chyswllt
        (20, "20 cyswllt tystiolaeth"),
    ],
)
def test_welsh_plural_forms(number: int, expected: str) -> None:
    say = translations("cy").ngettext("%(num)s evidence link", "%(num)s evidence links", number)
    assert say % {"num": number} == expected


def test_every_page_has_a_welsh_namesake(tiny_site: Site) -> None:
    english = {
        path.relative_to(tiny_site.folder)
        for path in tiny_site.folder.rglob("index.html")
        if path.relative_to(tiny_site.folder).parts[0] not in ("cy", "downloads")
    }
    welsh = {
        path.relative_to(tiny_site.folder / "cy")
        for path in (tiny_site.folder / "cy").rglob("index.html")
    }
    assert english <= welsh


def _head(path: Path) -> str:
    return path.read_text(encoding="utf-8").split("</head>")[0]


def test_lang_and_hreflang_on_both_sites(tiny_site: Site) -> None:
    english = tiny_site.folder / "studies" / "index.html"
    welsh = tiny_site.folder / "cy" / "studies" / "index.html"
    assert '<html lang="en"' in english.read_text()
    assert '<html lang="cy"' in welsh.read_text()
    assert '<link rel="alternate" hreflang="cy" href="../cy/studies/">' in _head(english)
    assert '<link rel="alternate" hreflang="en" href="../../studies/">' in _head(welsh)
    assert 'hreflang="x-default" href="../../studies/"' in _head(welsh)


def test_welsh_pages_say_their_wording_awaits_review(tiny_site: Site) -> None:
    for path in (tiny_site.folder / "cy").rglob("index.html"):
        text = path.read_text(encoding="utf-8")
        assert "sy'n aros i siaradwr Cymraeg ei adolygu" in text, path
        assert "Dangosir cofnodion yn Saesneg lle nad oes fersiwn Gymraeg" in text, path


def _read(path: Path) -> str:
    """A built page, its character references (``kb.render.escape.inert``'s) read."""
    return html.unescape(path.read_text(encoding="utf-8"))


def test_the_welsh_brief_page_and_its_theme_briefs_are_framed_in_welsh(tiny_site: Site) -> None:
    page = _read(tiny_site.folder / "cy" / "brief" / "index.html")
    for english in ("Key messages", "Briefs for each theme", "Print or save as PDF", "Cite"):
        assert f">{english}<" not in page, english
    assert ">Negeseuon allweddol</h2>" in page and ">Briffiau ar gyfer pob thema</h2>" in page
    assert ">Argraffu neu gadw fel PDF</button>" in page
    assert '<blockquote class="kb-brief-statement" lang="en">' in page
    # Its theme briefs are the Welsh ones, beside the English ones in the shared downloads.
    assert 'href="../../downloads/briefs/cy/recruitment.md"' in page
    welsh = tiny_site.folder / "downloads" / "briefs" / "cy" / "recruitment.md"
    text = welsh.read_text(encoding="utf-8")
    assert text.startswith("# Briff tystiolaeth: Recruitment\n")
    assert "## Negeseuon allweddol" in text and "Key messages" not in text
    assert "> Use anonymised job applications for every post." in text  # the statement, English
    assert (welsh.parent / "recruitment.docx").is_file()
    english = tiny_site.folder / "downloads" / "briefs" / "recruitment.md"
    assert english.read_text(encoding="utf-8").startswith("# Evidence brief: Recruitment\n")
    assert 'href="../downloads/briefs/recruitment.md"' in _read(
        tiny_site.folder / "brief" / "index.html"
    )


def test_the_welsh_downloads_page_says_what_each_file_is_in_welsh(tiny_site: Site) -> None:
    page = _read(tiny_site.folder / "cy" / "downloads" / "index.html")
    assert "SQLite database" not in page and "One row per" not in page
    assert ">Cronfa ddata SQLite</a>" in page and "Un rhes i bob astudiaeth" in page
    # A theme's title in a brief's title stays English, marked so.
    assert 'Briff tystiolaeth: <span lang="en">Recruitment</span> (Markdown)' in page
    english = _read(tiny_site.folder / "downloads" / "index.html")
    assert ">SQLite database</a>" in english and "One row per study." in english
    assert "Evidence brief: Recruitment (Markdown)" in english


# --- In Chromium ----------------------------------------------------------------------------

OUTSIDE_ENGLISH = """() => {
  const texts = []
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT)
  while (walker.nextNode()) {
    const node = walker.currentNode
    const element = node.parentElement
    if (!element || element.closest('[lang="en"], script, style, code, pre, [hidden]')) continue
    if (!element.checkVisibility()) continue
    texts.push(node.textContent)
  }
  return texts.join(" ")
}"""


def _welsh_page_types(site: Site) -> dict[str, str]:
    """Every page type's address; the brief page's with a rated recommendation that has
    evidence and a statement that is not rated."""
    unrated = next(
        rec["id"] for rec in site.document["recommendations"] if rec["headline"]["level"] is None
    )
    ids = f"{_recommendation_with_links(site)['id']},{unrated}"
    return {**_page_types(site), **MORE_PAGE_TYPES, "brief": f"brief/?ids={ids}"}


@pytest.mark.browser
@pytest.mark.parametrize(
    "page_type",
    [
        pytest.param(
            kind,
            marks=pytest.mark.xfail(reason="not yet translated (issue 20)", strict=True),
        )
        if kind in NOT_YET_TRANSLATED
        else kind
        for kind in WELSH_PAGE_TYPES
    ],
)
def test_no_english_interface_text_on_a_welsh_page(
    real_site: Site, real_url: str, page: Any, page_type: str
) -> None:
    page.goto(real_url + "cy/" + _welsh_page_types(real_site)[page_type])
    page.wait_for_load_state("networkidle")  # the scripts have added their buttons and notes
    text = " ".join(page.evaluate(OUTSIDE_ENGLISH).split())
    words = set(re.findall(r"[a-z]+", text.lower()))
    assert not words & ENGLISH_WORDS, sorted(words & ENGLISH_WORDS)
    assert not [phrase for phrase in english_phrases() if phrase in text]


@pytest.mark.browser
@pytest.mark.parametrize("page_type", ["home", "study", "theme", "explorer"])
def test_the_language_toggle_lands_on_the_same_page_both_ways(
    real_site: Site, real_url: str, page: Any, page_type: str
) -> None:
    path = _page_types(real_site)[page_type]
    page.goto(real_url + path)
    page.locator("a.kb-language__toggle").click()
    assert page.url == real_url + "cy/" + path
    assert page.locator("html").get_attribute("lang") == "cy"
    page.locator("a.kb-language__toggle").click()
    assert page.url == real_url + path
    assert page.locator("html").get_attribute("lang") == "en"


@pytest.mark.browser
@pytest.mark.parametrize(
    "page_type", [kind for kind in WELSH_PAGE_TYPES if kind not in NOT_YET_TRANSLATED]
)
def test_welsh_pages_pass_axe(real_site: Site, real_url: str, page: Any, page_type: str) -> None:
    from axe_playwright_python.sync_playwright import Axe

    page.goto(real_url + "cy/" + _welsh_page_types(real_site)[page_type])
    results = Axe().run(page, options={"runOnly": {"type": "tag", "values": AXE_TAGS}})
    assert results.violations_count == 0, results.generate_report()


# --- Welsh fields on records, and the Welsh site's search -----------------------------------

WELSH_TITLE = "Ceisiadau dienw ar gyfer pob swydd yn y tŷ a'r gwasanaeth dŵr"


@pytest.fixture(scope="module")
def welsh_titled_site(tmp_path_factory: pytest.TempPathFactory) -> Site:
    """The tiny knowledge base with a Welsh title on one recommendation, built."""
    from tests.conftest import DATA, _build

    work = tmp_path_factory.mktemp("welsh")
    source = work / "source"
    shutil.copytree(DATA / "tiny", source)
    record = source / "recommendations" / "anonymise.yaml"
    text = record.read_text(encoding="utf-8")
    record.write_text(
        text.replace(
            "title: Anonymise applications\n",
            f'title: Anonymise applications\ntitle_cy: "{WELSH_TITLE}"\n',
        ),
        encoding="utf-8",
    )
    return _build(source, work)


def test_the_welsh_site_shows_a_welsh_title_where_a_reviewer_gave_one(
    welsh_titled_site: Site,
) -> None:
    welsh = (
        welsh_titled_site.folder / "cy" / "recommendations" / "anonymise" / "index.html"
    ).read_text()
    english = (
        welsh_titled_site.folder / "recommendations" / "anonymise" / "index.html"
    ).read_text()
    shown = WELSH_TITLE.replace("'", "&#39;")  # as kb.render.escape.inert writes it
    assert re.search(f'<h1 [^>]*id="ceisiadau[^>]*>{shown}', welsh)
    assert WELSH_TITLE not in english and "tŷ" not in english
    header = re.search(
        r'data-md-component="header-topic">\s*<span class="md-ellipsis"([^>]*)>', welsh
    )
    assert header and 'lang="en"' not in header.group(1)  # the header names it in Welsh too
    # The English title of the other recommendation is still marked as English.
    listing = (welsh_titled_site.folder / "cy" / "recommendations" / "index.html").read_text()
    assert 'lang="en">Publish representation targets</a>' in listing
    assert f">{shown}</a>" in listing


@pytest.mark.browser
@pytest.mark.parametrize("query", ["gwasanaeth dŵr", "gwasanaeth dwr", "ty", "tŷ"])
def test_the_welsh_search_finds_a_welsh_title_with_or_without_circumflexes(
    welsh_titled_site: Site, page: Any, query: str
) -> None:
    from tests.conftest import _serve

    for url in _serve(welsh_titled_site.folder):
        page.goto(url + "cy/")
        page.wait_for_load_state("networkidle")
        page.keyboard.press("/")
        # Typed as a Welsh keyboard would put it in, circumflexes included.
        box = page.locator("input.md-search__input")
        box.fill(query)
        box.press("End")  # a key up: Material searches on keyboard events
        first = page.locator(".md-search-result__item").first
        first.wait_for(timeout=15_000)
        assert "Ceisiadau dienw" in first.inner_text()


@pytest.mark.browser
def test_a_welsh_query_that_matches_nothing_says_so_in_welsh_and_offers_the_english_search(
    welsh_titled_site: Site, page: Any
) -> None:
    from tests.conftest import _serve

    for url in _serve(welsh_titled_site.folder):
        page.goto(url + "cy/")
        page.wait_for_load_state("networkidle")
        page.keyboard.press("/")
        page.locator("input.md-search__input").press_sequentially("hiliaeth", delay=10)
        first = page.locator(".md-search-result__item").first
        first.wait_for(timeout=15_000)
        assert "Nid oes dim ar y wefan Gymraeg yn cyfateb i “hiliaeth”" in first.inner_text()
        link = page.locator(".md-search-result__link").first.get_attribute("href")
        assert link.startswith(url + "?q=hiliaeth")


# --- The sentences the code composes --------------------------------------------------------

SUPPORT = [
    {"study": "a", "relation": "supports", "strength": "S3"},
    {"study": "b", "relation": "supports", "strength": "S3"},
    {"study": "c", "relation": "contradicts", "strength": "S2"},
]


@pytest.mark.unit
def test_the_headline_reasons_read_as_before_in_english() -> None:
    from kb.records.levels import headline, overall_level

    level, reason = overall_level(SUPPORT)
    assert (level, reason) == (
        "S2",
        "2 studies support it at S3 or above; one level lower for 1 contradicting item",
    )
    said = headline("recommendation", level, reason, "S4", "stated")
    assert said.explanation == (
        "The report itself judges the evidence S4 (good); the headline is S2 because "
        "2 studies support it at S3 or above; one level lower for 1 contradicting item."
    )
    assert headline("key-message", "S0", "", None, None).reason == (
        "only recommendations are rated; this is a key message"
    )


@pytest.mark.unit
@pytest.mark.parametrize("contradicting", [1, 2, 3, 6, 20])
def test_the_headline_reasons_read_in_welsh(contradicting: int) -> None:
    from kb.records.levels import headline, overall_level

    words = translations("cy")
    items = SUPPORT[:2] + [
        {"study": f"c{n}", "relation": "contradicts", "strength": "S2"}
        for n in range(contradicting)
    ]
    level, reason = overall_level(items, words)
    assert (level, reason) == (
        "S2",
        "2 astudiaeth yn ei gefnogi ar S3 neu uwch; un lefel yn is am "
        f"{contradicting} eitem sy'n gwrth-ddweud",
    )
    said = headline("recommendation", level, reason, "S4", "stated", words)
    assert said.explanation.startswith("Mae'r adroddiad ei hun yn barnu bod y dystiolaeth")
    assert said.explanation.endswith(f"S2 yw lefel y pennawd ({reason}).")
    assert not set(said.explanation.lower().split()) & ENGLISH_WORDS


@pytest.mark.unit
def test_the_welsh_document_says_the_same_levels_in_welsh() -> None:
    from kb.localization import in_language

    judged = {"level": "S4", "basis": "inferred"}
    rec = {"id": "r", "kind": "recommendation", "evidence_judgement": judged, "headline": {}}
    links = [{**link, "recommendation": "r"} for link in SUPPORT]
    document = {"recommendations": [rec], "evidence": links}
    assert in_language(document, "en") is document
    welsh = in_language(document, "cy")["recommendations"][0]["headline"]
    assert welsh["level"] == "S2"
    assert welsh["explanation"].startswith("Yn ôl ein darlleniad ni o eiriau'r adroddiad")
    assert rec["headline"] == {}  # the English document is left as it was


# --- Hand-written pages ---------------------------------------------------------------------

REPOSITORY = Path(__file__).resolve().parent.parent


def public_hand_written_pages() -> list[str]:
    """The hand-written pages of the public navigation (not those under Contributing, which
    are for the people who keep the knowledge base)."""
    import yaml

    from kb.localization import config_loader

    config = yaml.load((REPOSITORY / "mkdocs.yml").read_text(), Loader=config_loader())

    def pages(nav: list[Any]) -> list[str]:
        found = []
        for item in nav:
            for title, value in item.items():
                if title == "Contributing":
                    continue
                found += pages(value) if isinstance(value, list) else [value]
        return found

    return [page for page in pages(config["nav"]) if (REPOSITORY / "docs" / page).is_file()]


@pytest.mark.unit
def test_every_public_hand_written_page_has_a_welsh_draft() -> None:
    public = public_hand_written_pages()
    assert {"about.md", "accessibility.md"} <= set(public)
    for name in public:
        english = (REPOSITORY / "docs" / name).read_text(encoding="utf-8")
        welsh = (REPOSITORY / "docs-cy" / name).read_text(encoding="utf-8")
        # It says in the page that it is our draft, awaiting a Welsh speaker's review.
        assert "Drafft gan dîm y gronfa wybodaeth yw'r dudalen hon" in welsh, name
        assert "siaradwr Cymraeg ei hadolygu" in welsh, name
        # The same facts: the same anchors, addresses, figures and dates as the English page.
        for pattern in (r"\{: #[\w-]+ \}", r"\]\(([^)]+)\)", r"\b\d[\d.,%]*\b"):
            assert sorted(set(re.findall(pattern, welsh))) == sorted(
                set(re.findall(pattern, english))
            ), (name, pattern)


def _i18n_environment(language: str, constant: bool) -> Any:
    import jinja2

    from kb.render.pages import ConstantMessages

    extensions: list[Any] = ["jinja2.ext.i18n", *([ConstantMessages] if constant else [])]
    env = jinja2.Environment(autoescape=True, extensions=extensions)
    words = translations(language)
    env.install_gettext_translations(words, newstyle=True)  # type: ignore[attr-defined]
    env.constant_messages = words.gettext  # type: ignore[attr-defined]
    return env


def test_our_words_are_translated_as_a_template_compiles_and_read_as_before() -> None:
    """``_("Authors")`` is the catalogue's word in the compiled template (no gettext call
    while rendering); a message with values, or called as an attribute, is left to ``_``;
    every one renders as Jinja's i18n renders it."""
    source = (
        "<dt>{{ _('Authors') }}</dt><dd>{{ year or _(\"Reviewer's note\") }}</dd>"
        "{{ _('%(num)s more evidence link on %(page)s.', num=2, page='<x>') }}"
        "{{ words._('Authors') }}"
    )
    context = {"year": None, "words": {"_": lambda text: f"[{text}]"}}
    constant, plain = _i18n_environment("cy", True), _i18n_environment("cy", False)
    assert constant.from_string(source).render(context) == plain.from_string(source).render(context)
    assert "Awduron" in constant.from_string(source).render(context)
    compiled = constant.compile(source, raw=True)
    assert "<dt>Awduron</dt>" in compiled and "'Authors'" in compiled  # the second: words._
    assert "Reviewer" not in compiled and "Nodyn yr adolygydd" in compiled
    assert "%(num)s" in compiled  # formatted by _, as it renders


def test_the_filter_that_trusts_our_words_cannot_be_written_in_a_template() -> None:
    import jinja2

    from kb.render.pages import TRUSTED

    assert " " in TRUSTED
    env = _i18n_environment("en", True)
    with pytest.raises(jinja2.TemplateError):
        env.from_string("{{ '<script>'|" + TRUSTED + " }}")
