"""Citations that work outside the site: site_url read from one place, permanent addresses in
citations and JSON-LD only when it is set, `kb show` for people and its JSON for scripts."""

import html
import json
import shutil
from pathlib import Path

import pytest

from kb import pipeline
from kb.errors import SiteConfigInvalid
from kb.site_config import SiteInfo, read_site_info, site_info
from tests.conftest import DATA, run_kb

pytestmark = pytest.mark.cli


def test_site_url_is_read_from_mkdocs_yml(tmp_path: Path) -> None:
    config = tmp_path / "mkdocs.yml"
    config.write_text("site_name: KB\nsite_url: https://example.org/kb\n")
    assert read_site_info(config) == SiteInfo("KB", "https://example.org/kb/")
    assert site_info(tmp_path).absolute("recommendations/x/") == (
        "https://example.org/kb/recommendations/x/"
    )
    config.write_text("site_name: KB\n")
    assert site_info(tmp_path) == SiteInfo("KB", None)
    assert site_info(tmp_path).absolute("recommendations/x/") is None
    assert site_info(tmp_path / "elsewhere").name == "Evidence knowledge base"
    for wrong in ("javascript:alert(1)", "example.org/kb/", "https://", "'https://a b/'"):
        config.write_text(f"site_name: KB\nsite_url: {wrong}\n")
        with pytest.raises(SiteConfigInvalid, match="site_url"):
            read_site_info(config)


def _jsonld(staging: Path, path: str) -> dict:
    front = (staging / path).read_text().split("\n")[1]
    return json.loads(front)["jsonld"]


@pytest.mark.parametrize("url", ["https://example.org/kb/", None])
def test_json_ld_carries_permanent_addresses_only_when_set(tmp_path: Path, url: str | None) -> None:
    root = tmp_path / "kb"
    shutil.copytree(DATA / "tiny", root)
    paths = pipeline.Paths(root, tmp_path / "kb.sqlite", tmp_path / "index")
    staging = tmp_path / "staging"
    pipeline.build(paths, tmp_path / "docs", staging, SiteInfo("Tiny", url))
    data = _jsonld(staging, "recommendations/anonymise.md")
    if url:
        assert data["@id"] == data["url"] == f"{url}recommendations/anonymise/"
        assert data["isBasedOn"]["@id"] == f"{url}sources/tiny-report/"
        assert [study["@id"] for study in data["citation"]] == [f"{url}studies/krause-2012/"]
        page = html.unescape((staging / "recommendations/anonymise.md").read_text())
        assert f"recommendation anonymise in Tiny, {url}recommendations/anonymise/." in page
    else:
        text = json.dumps(data)
        assert "@id" not in text and '"url"' not in text.replace('"url": "https://doi', "")
        page = html.unescape((staging / "recommendations/anonymise.md").read_text())
        assert "recommendation anonymise in Tiny." in page


def test_show_reads_as_a_statement(tiny_kb: Path) -> None:
    result = run_kb("show", "anonymise", "--root", tiny_kb)
    assert result.exit_code == 0
    assert result.output == (
        "Recommendation anonymise: Anonymise applications\n"
        "\n"
        "“Use anonymised job applications for every post.”\n"
        "\n"
        "Strength of evidence: Expert opinion (S1). Expert opinion or consensus: stakeholders, "
        "lived experience, practice learning.\n"
        "  Computed from 1 evidence link: one level below its strongest supporting study (S2), "
        "which no other study matches.\n"
        "  The report itself judges the evidence S2 (very limited); the headline is S1 because "
        "one level below its strongest supporting study (S2), which no other study matches.\n"
        "\n"
        "Evidence: 1 link from 1 study\n"
        "  Supports (1)\n"
        "    S2 Very limited      Krause and Rinne (2012): A pilot found anonymised applications "
        "narrowed gaps in callbacks. [krause-2012--anonymise]\n"
        "\n"
        "Practice examples: 1\n"
        "  Anonymised application pilot (evaluated) [blind-cv-pilot]\n"
        "\n"
        "Related\n"
        "  Themes: Recruitment [recruitment]\n"
        "\n"
        "Cite: Example, A. (2021). Tiny Report on Fair Hiring. Example Centre. Section "
        "“Recruitment”; recommendation anonymise in Evidence knowledge base.\n"
        "Page: recommendations/anonymise/ on the site\n"
    )
    assert "**" not in result.output


def test_show_json_gains_quote_citation_section_and_address(tiny_kb: Path) -> None:
    (tiny_kb / "mkdocs.yml").write_text("site_name: Tiny\nsite_url: https://example.org/\n")
    shown = json.loads(run_kb("show", "blind-cv-pilot", "--json", "--root", tiny_kb).output)
    assert shown["record"]["name"] == "Anonymised application pilot"
    assert {key: shown[key] for key in ("quote", "section", "page", "path", "permalink")} == {
        "quote": "Anonymised applications reduced callback gaps in a pilot",
        "section": "Recruitment",
        "page": None,
        "path": "examples/blind-cv-pilot/",
        "permalink": "https://example.org/examples/blind-cv-pilot/",
    }
    assert shown["citation"] == (
        "Example, A. (2021). Tiny Report on Fair Hiring. Example Centre. Section “Recruitment”."
    )
    study = run_kb("show", "krause-2012", "--root", tiny_kb).output
    assert study.splitlines()[0] == "Study krause-2012: Krause and Rinne (2012)"
    assert "Page: https://example.org/studies/krause-2012/" in study
