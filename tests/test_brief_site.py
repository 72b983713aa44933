"""The site's brief in real Chromium: tick recommendations, open the brief page, reload it from
its address, print it, download the theme briefs, copy a recommendation for briefing; and a
hostile record's text shown as text on the brief page."""

import html
import urllib.request
from typing import Any

import docx
import pytest

from tests.conftest import Site

pytestmark = [pytest.mark.site, pytest.mark.browser, pytest.mark.slow]

# Records the copy event's data, as the clipboard would receive it.
RECORD_COPY = """() => {
  const setData = DataTransfer.prototype.setData;
  DataTransfer.prototype.setData = function (type, value) {
    (window.kbCopied = window.kbCopied || {})[type] = value;
    return setData.call(this, type, value);
  };
}"""


def _shown_items(page: Any) -> list[str]:
    return page.eval_on_selector_all(
        "#kb-brief-items > .kb-brief-item:not([hidden])", "items => items.map(i => i.dataset.id)"
    )


def test_ticked_recommendations_make_a_brief_kept_in_its_address(
    real_site: Site, real_url: str, page: Any
) -> None:
    page.goto(real_url + "recommendations/")
    page.locator("#kb-explorer-table input[data-brief-id='hsc-recruitment-2']").check()
    page.locator("#kb-explorer-table input[data-brief-id='hsc-data-7']").check()
    basket = page.locator("#kb-brief-basket")
    assert basket.text_content() == "Brief: 2 selected →"
    page.goto(real_url + "recommendations/hsc-recruitment-1/")
    page.get_by_role("button", name="Add to brief").click()
    assert page.get_by_role("button", name="In the brief ✓").get_attribute("aria-pressed") == "true"
    page.locator("#kb-brief-basket").click()
    page.wait_for_url("**/brief/?ids=hsc-recruitment-2,hsc-data-7,hsc-recruitment-1")
    assert _shown_items(page) == ["hsc-recruitment-2", "hsc-data-7", "hsc-recruitment-1"]
    assert page.locator("#kb-brief-status").text_content() == "3 statements in this brief."
    numbers = page.eval_on_selector_all(
        ".kb-brief-item:not([hidden]) .kb-brief-number", "n => n.map(x => x.textContent)"
    )
    assert numbers == ["1.", "2.", "3."]
    overview = page.locator("#kb-brief-overview").text_content()
    assert overview.startswith("3 recommendations. Headline strength of evidence: ")
    messages = page.eval_on_selector_all(
        "#kb-brief-messages li:not([hidden])", "m => m.map(x => Number(x.dataset.rank))"
    )
    assert messages == sorted(messages, reverse=True) and len(messages) == 3
    references = page.eval_on_selector_all(
        "#kb-brief-references li:not([hidden])", "r => r.map(x => x.dataset.id)"
    )
    assert "wcpp-race-equality-health" in references and "priest-2015" in references
    assert "krause-2012" not in references  # cited by none of the three shown
    address = page.url

    # A fresh browser (no basket) opening the shared address sees the same brief.
    fresh = page.context.browser.new_context()
    try:
        other = fresh.new_page()
        other.goto(address)
        assert _shown_items(other) == ["hsc-recruitment-2", "hsc-data-7", "hsc-recruitment-1"]
        other.reload()
        assert _shown_items(other) == ["hsc-recruitment-2", "hsc-data-7", "hsc-recruitment-1"]
        # Removing one rewrites the address.
        other.locator("#brief-hsc-data-7 .kb-brief-remove").click()
        assert other.url.endswith("/brief/?ids=hsc-recruitment-2,hsc-recruitment-1")
        assert _shown_items(other) == ["hsc-recruitment-2", "hsc-recruitment-1"]
    finally:
        fresh.close()

    # Printed, only the brief is left: no controls, no ticks, no navigation.
    page.emulate_media(media="print")
    for hidden in (".kb-brief-controls", ".kb-brief-downloads", ".kb-brief-remove", ".md-header"):
        assert not page.locator(hidden).first.is_visible(), hidden
    assert page.locator("#brief-hsc-recruitment-1 table.kb-brief-evidence").is_visible()
    pdf = page.pdf(format="A4")
    assert pdf.startswith(b"%PDF") and len(pdf) > 20_000


def test_theme_briefs_are_offered_and_downloadable(
    real_site: Site, real_url: str, page: Any
) -> None:
    page.goto(real_url + "brief/")
    links = page.eval_on_selector_all(
        ".kb-brief-downloads a[download]", "a => a.map(x => x.getAttribute('href'))"
    )
    assert "../downloads/briefs/hsc-debiasing-recruitment.md" in links
    assert "../downloads/briefs/hsc-debiasing-recruitment.docx" in links
    with urllib.request.urlopen(real_url + "downloads/briefs/hsc-debiasing-recruitment.md") as got:
        text = got.read().decode()
    assert text.startswith(
        "# Evidence brief: Debiasing recruitment, development and secondment opportunities\n"
    )
    word = real_site.folder / "downloads" / "briefs" / "hsc-debiasing-recruitment.docx"
    headings = [p.text for p in docx.Document(str(word)).paragraphs if p.style.name == "Heading 1"]
    assert headings[:2] == [
        "Key messages",
        "1. Combine sustained, management-backed recruitment and progression practices that "
        "unpick biased structures",
    ]
    # Markdown under downloads/ is a file to download, not a page of the site.
    assert not (real_site.folder / "downloads" / "briefs" / "hsc-data" / "index.html").exists()


def test_copy_for_briefing_puts_plain_and_rich_text_on_the_clipboard(
    real_url: str, page: Any
) -> None:
    page.goto(real_url + "recommendations/hsc-recruitment-1/")
    page.evaluate(RECORD_COPY)
    page.get_by_role("button", name="Copy for briefing").click()
    copied = page.evaluate("window.kbCopied")
    plain, rich = copied["text/plain"], copied["text/html"]
    assert plain.startswith(
        "Combine sustained, management-backed recruitment and progression practices that "
        "unpick biased structures\n\n“Utilise a combination of recruitment"
    )
    assert "\n\nStrength of evidence: Limited (S3). Few or small or non-causal studies" in plain
    assert "\n\nKey quote: “Priest et al. (2015) distilled key features" in plain
    assert (
        "\n\nSource: Hatch, S., Woodhead, C., Moriarty, J., Rhead, R. and Connor, L. (2021)."
        in (plain)
    )
    assert "recommendation hsc-recruitment-1 in Race Equality Evidence Knowledge Base" in plain
    assert "<strong>Strength of evidence: Limited (S3).</strong>" in rich
    assert "<blockquote><p>Utilise a combination" in rich
    status = page.locator(".kb-brief-said").text_content()
    assert status == "Copied: statement, strength, key quote and citation."


def test_hostile_record_text_is_text_on_the_brief_page(
    hostile_site: Site, hostile_url: str, page: Any
) -> None:
    page.goto(hostile_url + "brief/?ids=hostile-rec")
    title = " ".join(
        next(r for r in hostile_site.document["recommendations"] if r["id"] == "hostile-rec")[
            "title"
        ].split()
    )
    heading = page.locator("#brief-hostile-rec h2").text_content()
    assert " ".join(heading.split()) == f"1. {title}"
    assert page.locator("#kb-brief-document script, #kb-brief-document img").count() == 0
    page.goto(hostile_url + "recommendations/hostile-rec/")
    page.evaluate(RECORD_COPY)
    page.get_by_role("button", name="Copy for briefing").click()
    rich = page.evaluate("window.kbCopied['text/html']")
    assert "<script" not in rich and html.escape("<script>", quote=False) in rich
