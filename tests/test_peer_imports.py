"""Other citation tools' own test files, imported as their authors expect.

The peer corpus (`../shared/peer-imports/` beside the repository, or the folder named by
KB_PEER_IMPORTS) holds 41 files from rispy, python-bibtexparser, citation-js, Better BibTeX,
JabRef and Zotero's translators, with SOURCES.md (where each comes from, its licence) and
expected.json (per entry: title, first author's family name, year and DOI as the peer's tests
state them; null is not checked). The files are read from there at test time and never copied
into this repository: their licences differ from ours.

Each file goes through a dry run of `kb import --json` into the tiny knowledge base. An entry is
right when the study it would create has the expected title (or a `title_alt`), first author,
year and DOI; or when it is skipped and `skip_ok` says it is a genuine duplicate; or when it is
flagged, or the whole file refused, and `refusal_ok` says that is reasonable. Anything else
(a wrong field, a different work skipped, a good entry refused) fails with every such entry
listed. Titles and names are compared as SOURCES.md says: after NFKC, case folding, and each run
of punctuation or space read as one space.
"""

import json
import os
import re
import unicodedata
from pathlib import Path
from typing import Any

import pytest

from kb.references.duplicates import family_name
from tests.conftest import run_kb

pytestmark = pytest.mark.cli


def _corpus() -> Path:
    given = os.environ.get("KB_PEER_IMPORTS")
    return Path(given) if given else Path(__file__).resolve().parents[2] / "shared" / "peer-imports"


PEER = _corpus()
EXPECTED: dict[str, list[dict[str, Any]]] = {}
if (PEER / "expected.json").is_file():
    for expectation in json.loads((PEER / "expected.json").read_text(encoding="utf-8")):
        EXPECTED.setdefault(expectation["file"], []).append(expectation)
    FILES = sorted(
        path.relative_to(PEER).as_posix()
        for path in PEER.rglob("*")
        if path.is_file() and path.name not in ("SOURCES.md", "expected.json")
    )
    PARAMS = [pytest.param(name, id=name) for name in FILES]
else:
    PARAMS = [
        pytest.param(
            None,
            id="peer-imports",
            marks=pytest.mark.skip(
                reason=f"the peer corpus is not there: {PEER} has no expected.json (set "
                "KB_PEER_IMPORTS to the folder holding it)"
            ),
        )
    ]


def _comparable(text: str) -> str:
    """NFKC, case folded, each run of punctuation or space one space."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    return " ".join(re.sub(r"[\W_]+", " ", folded).split())


def _wrong_fields(expected: dict[str, Any], study: dict[str, Any]) -> list[str]:
    """What the study that would be created gets wrong; nothing when it is right."""
    wrong = []
    titles = [expected["title"], *expected.get("title_alt", [])]
    if expected["title"] is not None and _comparable(study.get("title") or "") not in {
        _comparable(title) for title in titles
    }:
        wrong.append(f"title {study.get('title')!r}, expected {expected['title']!r}")
    if expected["first_author"] is not None:
        first = family_name(study["authors"][0]) if study.get("authors") else ""
        if _comparable(first) != _comparable(expected["first_author"]):
            wrong.append(f"first author {first!r}, expected {expected['first_author']!r}")
    if expected["year"] is not None and study.get("year") != expected["year"]:
        wrong.append(f"year {study.get('year')!r}, expected {expected['year']}")
    if expected["doi"] is not None and study.get("doi") != expected["doi"]:
        wrong.append(f"DOI {study.get('doi')!r}, expected {expected['doi']!r}")
    return wrong


def _outcomes(name: str, root: Path) -> dict[int, tuple[str, Any]] | str:
    """Each entry's outcome by number, as (action, its JSON object); or, when the file as a
    whole is refused, the error message."""
    result = run_kb("import", PEER / name, "--root", root, "--dry-run", "--json")
    assert "Traceback" not in result.output, result.output
    if result.exit_code == 1 and not result.stdout:
        assert result.stderr.startswith("error: "), result.stderr
        assert Path(name).name in result.stderr, "a refusal names the file"
        return result.stderr.strip()
    report = json.loads(result.stdout)
    outcomes: dict[int, tuple[str, Any]] = {}
    for action, key in (("create", "created"), ("skip", "skipped"), ("flag", "flagged")):
        for entry in report[key]:
            outcomes[entry["entry"]] = (action, entry)
    assert all(entry["problems"] for entry in report["flagged"]), "a flag says why"
    assert result.exit_code == (1 if report["flagged"] else 0), result.stderr
    return outcomes


def _verdict(expected: dict[str, Any], outcome: tuple[str, Any] | None) -> str | None:
    """Why this entry's outcome is not what its peer expects, or None when it is."""
    if outcome is None:
        return "not read"
    action, what = outcome
    if action == "flag":
        return None if expected.get("refusal_ok") else f"flagged: {what['problems']}"
    if expected.get("key") and what["key"] != expected["key"]:
        return f"entry {expected['n']} is {what['key']!r}, expected {expected['key']!r}"
    if action == "skip":
        return None if expected.get("skip_ok") else f"skipped, a different work: {what['reason']}"
    return "; ".join(_wrong_fields(expected, what["study"])) or None


@pytest.mark.parametrize("name", PARAMS)
def test_peer_file_imports_as_its_authors_expect(tiny_kb: Path, name: str) -> None:
    expected = EXPECTED.get(name)
    assert expected, f"{name} has no entries in expected.json"
    outcomes = _outcomes(name, tiny_kb)
    if isinstance(outcomes, str):  # the file as a whole is refused
        refused = [entry["n"] for entry in expected if not entry.get("refusal_ok")]
        assert not refused, f"entries {refused} refused with the file: {outcomes}"
        return
    wrong = [
        f"entry {entry['n']} {entry.get('key') or ''}: {verdict}"
        for entry in expected
        if (verdict := _verdict(entry, outcomes.get(entry["n"]))) is not None
    ]
    assert not wrong, "\n".join(wrong)
    numbers = sorted(entry["n"] for entry in expected)
    if numbers == list(range(1, len(numbers) + 1)):  # expected.json lists every entry
        assert len(outcomes) == len(numbers), f"read {len(outcomes)} entries, not {len(numbers)}"
