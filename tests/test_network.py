"""The evidence network drawing: few crossings, whole labels, nodes that are links, a focus
view kept in the address, a list in its place on a phone, and inert record text.

The ordering and label tests need no site. The rest read the sites built once per session
(``tests/conftest.py``) and drive Debian's Chromium on them.
"""

import json
import os
import random
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kb import pipeline
from kb.graph.evidence import graph_of
from kb.render.bipartite import crossings, order_columns
from kb.render.escape import inert
from kb.render.model import SiteModel
from kb.render.network import (
    LABEL_WIDTH,
    Link,
    column_orders,
    first_order,
    network_svg,
    text_width,
    wrap,
)
from kb.render.pages import _theme_links
from kb.store.current import build_db
from kb.store.database import open_store
from kb.store.export import export_document
from tests.conftest import DATA, REPOSITORY, Site
from tests.test_site import AXE_TAGS

pytestmark = pytest.mark.site

# --- The knowledge bases' networks, without a site ------------------------------------------


def _theme_networks(root: Path, work: Path) -> dict[str, list[Link]]:
    """Each theme's links in a knowledge base, as the network pages draw them."""
    paths = pipeline.Paths(root, work / "kb.sqlite", work / "index")
    build_db(paths)
    document = export_document(open_store(paths.database))
    model = SiteModel(document, graph_of(document))
    return {theme: links for theme in model.themes if (links := _theme_links(model, theme))}


@pytest.fixture(scope="module")
def networks(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, list[Link]]]:
    """The networks of the real knowledge base and of the tiny and hostile fixtures."""
    return {
        name: _theme_networks(root, tmp_path_factory.mktemp(name))
        for name, root in (
            ("real", REPOSITORY),
            ("tiny", DATA / "tiny"),
            ("hostile", DATA / "hostile"),
        )
    }


def _edges(links: list[Link]) -> list[tuple[str, str]]:
    return [(link.recommendation, link.study) for link in links]


# --- Counting crossings ---------------------------------------------------------------------


def _crossings_pair_by_pair(edges: list[tuple[Any, Any]], left: list[Any], right: list[Any]) -> int:
    left_at = {node: index for index, node in enumerate(left)}
    right_at = {node: index for index, node in enumerate(right)}
    return sum(
        1
        for index, (a, b) in enumerate(edges)
        for c, d in edges[index + 1 :]
        if (left_at[a] - left_at[c]) * (right_at[b] - right_at[d]) < 0
    )


def test_crossings_are_lines_whose_ends_stand_in_opposite_orders() -> None:
    assert crossings([("a", 1), ("b", 0)], ["a", "b"], [0, 1]) == 1
    assert crossings([("a", 1), ("b", 0)], ["b", "a"], [0, 1]) == 0
    assert crossings([("a", 0), ("b", 0), ("a", 1)], ["a", "b"], [0, 1]) == 1  # a shared end
    assert crossings([("a", 1), ("a", 1), ("b", 0)], ["a", "b"], [0, 1]) == 2  # each of two


@st.composite
def _bipartite(draw: st.DrawFn) -> tuple[list[tuple[int, int]], list[int], list[int]]:
    """Lines between two columns of 1 to 12 nodes (repeats allowed), and starting orders."""
    left = draw(st.permutations(range(draw(st.integers(1, 12)))))
    right = draw(st.permutations(range(100, 100 + draw(st.integers(1, 12)))))
    edges = draw(
        st.lists(st.tuples(st.sampled_from(left), st.sampled_from(right)), min_size=1, max_size=40)
    )
    return edges, list(left), list(right)


@settings(max_examples=300, deadline=None)
@given(_bipartite())
def test_crossings_agree_with_a_count_pair_by_pair(graph: Any) -> None:
    edges, left, right = graph
    assert crossings(edges, left, right) == _crossings_pair_by_pair(edges, left, right)


# --- Ordering the columns -------------------------------------------------------------------


def _assert_a_better_order(edges: list[Any], left: list[Any], right: list[Any]) -> int:
    """Order the columns; check the order is a rearrangement with no more crossings, the same
    every time; return its crossings."""
    new_left, new_right = order_columns(edges, left, right)
    assert sorted(new_left) == sorted(left) and sorted(new_right) == sorted(right)
    assert order_columns(edges, left, right) == (new_left, new_right)
    after = crossings(edges, new_left, new_right)
    assert after <= crossings(edges, left, right)
    return after


@settings(max_examples=200, deadline=None)
@given(_bipartite())
def test_ordering_never_adds_crossings(graph: Any) -> None:
    _assert_a_better_order(*graph)


def test_ordering_untangles_seeded_random_networks() -> None:
    rng = random.Random(42)
    before = after = 0
    for _ in range(40):
        left = [f"rec-{index}" for index in range(rng.randint(2, 20))]
        right = [f"study-{index}" for index in range(rng.randint(2, 60))]
        edges = [(rng.choice(left), rng.choice(right)) for _ in range(rng.randint(1, 120))]
        before += crossings(edges, left, right)
        after += _assert_a_better_order(edges, left, right)
    assert after < before / 2


def test_the_drawn_order_beats_the_old_order_on_every_theme(
    networks: dict[str, dict[str, list[Link]]],
) -> None:
    counts = {}
    for name, themes in networks.items():
        for theme, links in themes.items():
            edges = _edges(links)
            old = crossings(edges, *first_order(links))
            new = crossings(edges, *column_orders(links))
            assert column_orders(list(links)) == column_orders(links)
            assert new <= old, (name, theme)
            counts[name, theme] = (old, new)
    real = [count for (name, _), count in counts.items() if name == "real"]
    assert real, "the real knowledge base has networks to draw"
    assert sum(new for _, new in real) < sum(old for old, _ in real) / 3, counts


_DRAW = """
import hashlib, json, sys
from kb.render.network import Link, network_svg
links = [Link(*row) for row in json.load(sys.stdin)]
href = lambda kind, record_id: f"../../{kind}/{record_id}/"
print(hashlib.sha256(str(network_svg("T", links, "n", href)).encode()).hexdigest())
"""


def test_the_drawing_is_the_same_in_every_process(
    networks: dict[str, dict[str, list[Link]]],
) -> None:
    """Same links, same bytes, whatever order Python's string hashing gives sets."""
    links = max(networks["real"].values(), key=len)
    rows = json.dumps([list(vars(link).values()) for link in links])
    digests = {
        subprocess.run(
            [sys.executable, "-c", _DRAW],
            input=rows,
            capture_output=True,
            text=True,
            check=True,
            cwd=REPOSITORY,
            env={**os.environ, "PYTHONHASHSEED": seed},
        ).stdout
        for seed in ("1", "2", "3")
    }
    assert len(digests) == 1


# --- Labels ---------------------------------------------------------------------------------


def _unwrapped(text: str) -> str:
    wrapped = wrap(text)
    return "".join(
        line + (" " if index < len(wrapped.spaced) and wrapped.spaced[index] else "")
        for index, line in enumerate(wrapped.lines)
    )


@settings(max_examples=300, deadline=None)
@given(st.text() | st.text(alphabet="Wmi -\t\néあ", max_size=400))
def test_wrapped_labels_keep_every_character_and_fit(text: str) -> None:
    wrapped = wrap(text)
    assert _unwrapped(text) == " ".join(re.split(r"[ \t\r\n]+", text.strip(" \t\r\n")))
    assert len(wrapped.spaced) == len(wrapped.lines) - 1
    for line in wrapped.lines:
        assert text_width(line) <= LABEL_WIDTH or len(line) == 1


def test_a_long_label_is_wrapped_not_cut() -> None:
    label = "Combine sustained, management-backed recruitment and progression practices"
    wrapped = wrap(label)
    assert len(wrapped.lines) > 1 and all(wrapped.spaced)
    assert " ".join(wrapped.lines) == label
    word = "Supercalifragilistic" * 15
    assert "".join(wrap(word).lines) == word and not any(wrap(word).spaced)


class _Drawing(HTMLParser):
    """The elements of a page's network drawing, and the text of each node link."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str]]] = []
        self.nodes: list[tuple[dict[str, str], str]] = []
        self.lines: list[dict[str, str]] = []
        self._depth = 0  # inside the drawing's <svg> (nested ones count too)
        self._node: tuple[dict[str, str], list[str]] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {name: value or "" for name, value in attrs}
        if tag == "svg" and ("kb-network" in attributes.get("class", "").split() or self._depth):
            self._depth += 1
        if not self._depth:
            return
        self.elements.append((tag, attributes))
        if tag == "a":
            self._node = (attributes, [])
        if tag == "path" and "kb-network__link" in attributes.get("class", ""):
            self.lines.append(attributes)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag == "svg" and self._depth:
            self._depth -= 1

    def handle_endtag(self, tag: str) -> None:
        if tag == "svg" and self._depth:
            self._depth -= 1
        if tag == "a" and self._node is not None:
            self.nodes.append((self._node[0], "".join(self._node[1])))
            self._node = None

    def handle_data(self, data: str) -> None:
        if self._node is not None:
            self._node[1].append(data)


def _drawing(site: Site, theme: str) -> _Drawing:
    drawing = _Drawing()
    drawing.feed(site.html(f"network/{theme}/").read_text(encoding="utf-8"))
    drawing.close()
    return drawing


def _drawn_themes(site: Site) -> list[str]:
    return sorted(
        path.parent.name
        for path in (site.folder / "network").glob("*/index.html")
        if 'class="kb-network"' in path.read_text(encoding="utf-8")
    )


def _expected_labels(site: Site) -> dict[tuple[str, str], str]:
    """Each record's label as a reader should see it: (kind, ID) → text."""
    model = SiteModel(site.document, graph_of(site.document))
    labels = {("rec", rec_id): rec["title"] for rec_id, rec in model.recommendations.items()}
    labels.update({("study", study_id): model.study_label(study_id) for study_id in model.studies})
    return {key: " ".join(re.split(r"[ \t\r\n]+", text.strip())) for key, text in labels.items()}


@pytest.mark.parametrize("name", ["real_site", "hostile_site"])
def test_every_node_is_a_link_to_its_record_with_its_whole_label(
    name: str, request: pytest.FixtureRequest
) -> None:
    site: Site = request.getfixturevalue(name)
    labels = _expected_labels(site)
    themes = _drawn_themes(site)
    assert themes
    for theme in themes:
        drawing = _drawing(site, theme)
        here = f"http://site.invalid/network/{theme}/"
        recs = {line["data-rec"] for line in drawing.lines}
        studies = {line["data-study"] for line in drawing.lines}
        assert len(drawing.nodes) == len(recs) + len(studies), theme
        for attributes, text in drawing.nodes:
            kind = "rec" if "data-rec" in attributes else "study"
            record_id = attributes[f"data-{kind}"]
            folder = "recommendations" if kind == "rec" else "studies"
            assert urlsplit(urljoin(here, attributes["href"])).path == f"/{folder}/{record_id}/"
            assert text == labels[kind, record_id], (theme, record_id)


def test_hostile_labels_stay_inert_in_the_drawing(hostile_site: Site) -> None:
    allowed = {"svg", "title", "desc", "text", "tspan", "g", "path", "a", "rect", "circle"}
    for theme in _drawn_themes(hostile_site):
        drawing = _drawing(hostile_site, theme)
        assert {tag for tag, _ in drawing.elements} <= allowed
        for tag, attributes in drawing.elements:
            assert not [name for name in attributes if name.startswith("on")], tag
            if "href" in attributes:
                assert re.fullmatch(
                    r"(\.\./)+(recommendations|studies)/[\w-]+/", attributes["href"]
                )
        texts = " ".join(text for _, text in drawing.nodes)
        assert "<script>alert(1)</script>" in texts and "{{ 7*7 }}" in texts


def test_record_text_reaches_the_drawing_only_through_inert() -> None:
    hostile = '<a href="javascript:x">*y*</a> {: onclick=1 } ' + "W" * 80
    links = [Link("l1", "rec-a", hostile, "study-b", hostile, "supports", "S3")]
    svg = str(network_svg(hostile, links, "n", lambda kind, record_id: f"../{record_id}/"))
    assert '<a href="javascript' not in svg and "{:" not in svg and "*y*" not in svg
    assert str(inert("<a")) in svg


# --- In the browser -------------------------------------------------------------------------

THEME_WIDE = 1280
PHONE = 390


@pytest.fixture(scope="module")
def theme(real_site: Site) -> str:
    """A drawn theme with several recommendations: the one with the fewest links."""
    drawn = _drawn_themes(real_site)
    return min(drawn, key=lambda theme: (len(_drawing(real_site, theme).lines), theme))


def _links_of(site: Site, theme: str, rec_id: str) -> tuple[int, set[str]]:
    lines = [line for line in _drawing(site, theme).lines if line["data-rec"] == rec_id]
    return len(lines), {line["data-study"] for line in lines}


def _lit(page: Any) -> dict[str, Any]:
    return page.evaluate(
        """() => {
          const svg = document.querySelector("svg.kb-network");
          const on = (selector) => [...svg.querySelectorAll(selector + ".is-on")];
          return {
            focused: svg.classList.contains("is-focused"),
            lines: on(".kb-network__link").length,
            studies: on(".kb-node--study").map((node) => node.dataset.study).sort(),
            recs: on(".kb-node--rec").map((node) => node.dataset.rec),
          };
        }"""
    )


@pytest.mark.browser
def test_nodes_are_reached_by_tab_in_order_with_a_visible_focus(
    real_site: Site, real_url: str, page: Any, theme: str
) -> None:
    page.set_viewport_size({"width": THEME_WIDE, "height": 900})
    page.goto(real_url + f"network/{theme}/")
    nodes = page.locator("svg.kb-network a.kb-node")
    count = nodes.count()
    names = [nodes.nth(index).text_content() for index in range(count)]
    page.locator("#kb-network-focus-rec").focus()
    for index in range(count):
        page.keyboard.press("Tab")
        focused = page.evaluate(
            """() => {
              const node = document.activeElement;
              const box = node.querySelector(".kb-node__box");
              const style = getComputedStyle(box);
              return {
                node: node.classList.contains("kb-node"),
                stroke: style.stroke, width: parseFloat(style.strokeWidth),
              };
            }"""
        )
        assert focused["node"], index
        assert focused["stroke"] not in ("none", "") and focused["width"] >= 2, focused
        assert page.evaluate("document.activeElement.textContent") == names[index]
    for name in names:  # each is a link named by its whole label
        assert page.get_by_role("link", name=name, exact=True).count() >= 1
    nodes.first.focus()
    page.keyboard.press("Enter")
    page.wait_for_url("**/recommendations/**")


@pytest.mark.browser
def test_the_focus_view_by_keyboard_pointer_and_address(
    real_site: Site, real_url: str, page: Any, theme: str
) -> None:
    page.set_viewport_size({"width": THEME_WIDE, "height": 900})
    address = real_url + f"network/{theme}/"
    page.goto(address)
    select = page.locator("#kb-network-focus-rec")
    assert select.is_visible() and _lit(page)["focused"] is False
    options = select.locator("option").evaluate_all("options => options.map(o => o.value)")
    first, second = options[1], options[2]

    select.focus()  # the keyboard: the arrow key moves to the first recommendation
    page.keyboard.press("ArrowDown")
    assert page.url.endswith(f"#focus={first}")
    lines, studies = _links_of(real_site, theme, first)
    lit = _lit(page)
    assert lit == {"focused": True, "lines": lines, "studies": sorted(studies), "recs": [first]}
    status = page.locator("#kb-network-focus-status").inner_text()
    assert f"{lines} evidence link" in status and f"{len(studies)} stud" in status

    select.select_option(second)  # the pointer, as a click on an option does
    assert page.url.endswith(f"#focus={second}") and _lit(page)["recs"] == [second]

    study = page.locator("svg.kb-network a.kb-node--study").first  # pointing previews
    study.hover()
    previewed = _lit(page)
    assert previewed["studies"] == [study.get_attribute("data-study")]
    page.mouse.move(1, 1)
    assert _lit(page)["recs"] == [second]

    page.goto("about:blank")  # the address alone brings the view back
    page.goto(address + f"#focus={first}")
    assert select.input_value() == first and _lit(page)["recs"] == [first]
    page.evaluate(f"location.hash = '#focus={second}'")
    page.wait_for_function(f"document.getElementById('kb-network-focus-rec').value === '{second}'")
    page.evaluate("location.hash = '#links'")  # a jump to a heading keeps the view
    page.wait_for_timeout(100)
    assert _lit(page)["recs"] == [second]
    select.select_option("")
    assert "#" not in page.url and _lit(page)["focused"] is False
    page.goto(address + "#focus=no-such-recommendation")
    assert select.input_value() == "" and _lit(page)["focused"] is False


@pytest.mark.browser
def test_without_javascript_it_is_a_plain_drawing_and_the_table(
    real_url: str, browser: Any, theme: str
) -> None:
    context = browser.new_context(
        java_script_enabled=False, viewport={"width": THEME_WIDE, "height": 900}
    )
    page = context.new_page()
    page.goto(real_url + f"network/{theme}/#focus=anything")
    assert page.locator("#kb-network-focus").is_hidden()
    assert page.locator("svg.kb-network").is_visible()
    assert page.locator("svg.kb-network a.kb-node").first.is_visible()
    assert page.locator(".kb-network-links table").is_visible()
    assert page.locator(".kb-network-list").is_hidden()
    context.close()


def _network_pages(site: Site) -> list[str]:
    return sorted(path.parent.name for path in (site.folder / "network").glob("*/index.html"))


@pytest.mark.browser
def test_network_pages_fit_a_phone_and_a_wide_screen(
    real_site: Site, real_url: str, page: Any
) -> None:
    drawn = set(_drawn_themes(real_site))
    for theme in _network_pages(real_site):
        for width in (PHONE, THEME_WIDE):
            page.set_viewport_size({"width": width, "height": 900})
            page.goto(real_url + f"network/{theme}/")
            scroll, inner = page.evaluate("[document.documentElement.scrollWidth, innerWidth]")
            assert scroll <= inner, (theme, width, scroll)
            if theme not in drawn:
                continue
            drawing = page.locator("svg.kb-network")
            if width == PHONE:  # the list in the drawing's and the table's place
                assert drawing.is_hidden()
                assert page.locator(".kb-network-links table").is_hidden()
                items = page.locator(".kb-network-list > ul > li")
                recs = {line["data-rec"] for line in _drawing(real_site, theme).lines}
                assert items.count() == len(recs) and items.first.is_visible()
            else:  # shown whole, at its own size: its text at 14px
                assert drawing.bounding_box()["width"] == pytest.approx(900, abs=1)
                assert page.locator(".kb-network-list").is_hidden()


@pytest.mark.browser
def test_print_shows_the_drawing_and_the_table(real_url: str, page: Any, theme: str) -> None:
    page.set_viewport_size({"width": THEME_WIDE, "height": 900})
    page.goto(real_url + f"network/{theme}/")
    page.emulate_media(media="print")
    assert page.locator("svg.kb-network").is_visible()
    assert page.locator(".kb-network-links table").is_visible()
    assert page.locator("#kb-network-focus").is_hidden()
    assert page.locator(".kb-network-list").is_hidden()


@pytest.mark.browser
@pytest.mark.parametrize("view", ["wide", "focused", "phone", "hostile"])
def test_a_network_page_passes_axe(
    real_url: str, hostile_url: str, page: Any, theme: str, view: str
) -> None:
    from axe_playwright_python.sync_playwright import Axe

    page.set_viewport_size({"width": PHONE if view == "phone" else THEME_WIDE, "height": 900})
    if view == "hostile":
        page.goto(hostile_url + "network/hostile-theme/")
    else:
        page.goto(real_url + f"network/{theme}/")
    if view == "focused":
        page.locator("#kb-network-focus-rec").select_option(index=1)
        page.locator("svg.kb-network a.kb-node--study").first.focus()
    results = Axe().run(page, options={"runOnly": {"type": "tag", "values": AXE_TAGS}})
    assert results.violations_count == 0, results.generate_report()
