"""Hostile queries to `kb search`: results or a one-line error, exit code 0 or 1, no traceback."""

import json
import re
import shutil
from pathlib import Path

import pytest

from tests.conftest import DATA, run_kb

pytestmark = pytest.mark.hostile

# Anything a terminal could act on, other than the line feeds between lines of output.
TERMINAL_CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f]")

QUERIES = {
    "unbalanced-quote": '"anonymised applications',
    "lone-quote": '"',
    "unbalanced-open-parenthesis": "(anonymised OR targets",
    "unbalanced-close-parenthesis": "anonymised)",
    "star-alone": "*",
    "question-mark-alone": "?",
    "star-prefix": "*ised",
    "field-that-does-not-exist": "nosuchfield:anything",
    "field-without-value": "title:",
    "field-of-a-field": "title:title:title:x",
    "colon-alone": ":",
    "operators-alone": "AND OR NOT",
    "trailing-operator": "anonymised AND",
    "not-not": "NOT NOT anonymised",
    "range-unclosed": "[a TO",
    "range": "{a TO z}",
    "boost-without-value": "anonymised^",
    "fuzzy-without-word": "~2",
    "backslash": "\\",
    "escaped-star": "\\*",
    "html": "<script>alert(1)</script>",
    "sql": "'; DROP TABLE study; --",
    "nul": "anonymised\x00applications",
    "terminal-escape": "\x1b[2J\x1b]0;owned\x07anonymised",
    "bidi-override": "\u202eanonymised\u200b\ufeff",
    # A byte that is not UTF-8 on the command line reaches Python as a lone surrogate.
    "undecodable-byte": "anonymised\udcff",
    "only-spaces": "   ",
    "only-punctuation": "!@#$%^&*()_+-=[]{};':\",./<>?",
    "very-long-word": "a" * 999,
    "999-characters-of-wildcards": "a* " * 333,
    "999-characters-of-fuzzy-words": "a~ " * 333,
    "10000-characters": "anonymised " * 909 + "x",
    "100-nested-parentheses": "(" * 100 + "anonymised" + ")" * 100,
    "499-nested-parentheses": "(" * 499 + "a" + ")" * 499,
}


@pytest.fixture(scope="module")
def indexed_kb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("search") / "kb"
    shutil.copytree(DATA / "tiny", root)
    assert run_kb("search", "anonymised", "--root", root).exit_code == 0
    return root


@pytest.mark.parametrize(
    ("query", "as_json"),
    [
        pytest.param(query, mode == "json", id=f"{mode}-{name}")
        for mode in ("text", "json")
        for name, query in QUERIES.items()
    ],
)
def test_hostile_query(indexed_kb: Path, query: str, as_json: bool) -> None:
    args = ["search", "--root", indexed_kb, *(["--json"] if as_json else []), "--", query]
    result = run_kb(*args)  # an exception here is a traceback for the user
    assert result.exit_code in (0, 1), result.output
    assert not TERMINAL_CONTROL.search(result.output)
    if result.exit_code == 1:
        assert result.stdout == ""
        [line] = result.stderr.splitlines()
        assert line.startswith("error: ")
        assert "index out of range" not in line
    elif as_json:
        assert isinstance(json.loads(result.stdout)["results"], list)
