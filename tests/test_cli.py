"""What every command shares: typed settings, finding the knowledge base, suggestions for
mistyped commands."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from kb.settings import SETTINGS
from tests.conftest import REPOSITORY, run_kb

pytestmark = pytest.mark.cli

# --- Settings --------------------------------------------------------------------------------

_NUMBERS = {
    "KB_MAX_FILE_BYTES": "bytes from 1 to 67,108,864",
    "KB_MAX_FIELD_CHARS": "characters from 1 to 67,108,864",
    "KB_MAX_IMPORT_BYTES": "bytes from 1 to 1,073,741,824",
    "KB_INDEX_MEMORY_MB": "megabytes from 1 to 65,536",
}


def test_every_number_setting_is_listed_here() -> None:
    numbers = {setting.environment_variable for setting in SETTINGS if setting.is_number}
    assert numbers == set(_NUMBERS)


@pytest.mark.parametrize("variable", sorted(_NUMBERS))
@pytest.mark.parametrize("value", ["abc", "0", "-5", "1e3", "99999999999999"])
def test_a_number_setting_that_is_not_a_number_in_range_is_a_usage_error(
    tiny_kb: Path, monkeypatch: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    monkeypatch.setenv(variable, value)
    # kb check uses two of the four; every command refuses any of them.
    result = run_kb("check", "--root", tiny_kb)
    assert (result.exit_code, result.stdout, result.stderr) == (
        2,
        "",
        f"error: {variable} must be a whole number of {_NUMBERS[variable]}, not {value!r}\n",
    )


@pytest.mark.parametrize("variable", [s.environment_variable for s in SETTINGS])
def test_an_empty_setting_is_a_usage_error(
    tiny_kb: Path, monkeypatch: pytest.MonkeyPatch, variable: str
) -> None:
    monkeypatch.setenv(variable, "")
    result = run_kb("stats", "--root", tiny_kb)
    what = "a path" if variable in ("KB_ROOT", "KB_DATABASE", "KB_INDEX") else "a whole number"
    assert result.exit_code == 2
    assert result.stderr.startswith(f"error: {variable} is empty; give {what}")
    assert result.stderr.endswith(", or leave it unset for the default\n")


def test_a_path_setting_must_name_a_file_or_a_folder_as_it_should(
    tiny_kb: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = run_kb("stats", "--root", tiny_kb, "--database", tiny_kb / "evidence")
    assert (folder.exit_code, folder.stderr) == (
        2,
        f"error: --database names a folder, {tiny_kb / 'evidence'}; it must name a file\n",
    )
    monkeypatch.setenv("KB_INDEX", str(tiny_kb / "evidence/sources/tiny-report.txt"))
    file = run_kb("search", "pay", "--root", tiny_kb)
    assert (file.exit_code, file.stderr) == (
        2,
        f"error: KB_INDEX names a file, {tiny_kb / 'evidence/sources/tiny-report.txt'}; "
        "it must name a folder\n",
    )
    assert not (tiny_kb / "build").exists()


def test_a_number_setting_in_range_is_used(tiny_kb: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KB_MAX_FILE_BYTES", " 100 ")
    result = run_kb("check", "--root", tiny_kb)
    assert result.exit_code == 1
    assert "blind-cv-pilot: -: file is 319 bytes; the limit is 100\n" in result.stdout


# --- Finding the knowledge base --------------------------------------------------------------

TINY_COUNTS = (
    "ok: 1 sources, 1 themes, 2 recommendations, 1 studies, 1 examples, 1 figures, "
    "1 evidence links; 0 errors, 0 warnings\n"
)


def test_kb_finds_the_knowledge_base_it_is_run_inside(
    tiny_kb: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("KB_ROOT", raising=False)
    monkeypatch.chdir(tiny_kb / "evidence" / "studies")
    assert run_kb("check").stdout == TINY_COUNTS
    added = run_kb(
        "add", "study", "--no-input", "--title", "Hiring audits", "--author", "Okafor, C.",
        "--year", "2020", "--type", "review",
    )  # fmt: skip
    assert added.stdout.splitlines()[0] == "created evidence/studies/okafor-2020.yaml"
    assert (tiny_kb / "evidence/studies/okafor-2020.yaml").is_file()
    assert (tiny_kb / "build/kb.sqlite").is_file()
    assert not (tiny_kb / "evidence/studies/evidence").exists()
    assert not (tiny_kb / "evidence/studies/build").exists()


def test_root_and_kb_root_win_over_the_folder_kb_is_run_in(
    tiny_kb: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    other = tmp_path / "other"
    (other / "evidence").mkdir(parents=True)
    monkeypatch.chdir(tiny_kb / "recommendations" / "themes")
    monkeypatch.setenv("KB_ROOT", str(other))
    assert run_kb("check").stdout == (
        "ok: 0 sources, 0 themes, 0 recommendations, 0 studies, 0 examples, 0 figures, "
        "0 evidence links; 0 errors, 0 warnings\n"
    )
    monkeypatch.chdir(other / "evidence")
    assert run_kb("check", "--root", tiny_kb).stdout == TINY_COUNTS


def test_outside_any_knowledge_base_kb_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("KB_ROOT", raising=False)
    nowhere = tmp_path / "nowhere" / "deeper"
    nowhere.mkdir(parents=True)
    monkeypatch.chdir(nowhere)
    result = run_kb("check")
    assert (result.exit_code, result.stderr) == (
        1,
        f"error: {nowhere} has no recommendations/ or evidence/ folder; run kb in a knowledge "
        "base (or a folder inside one), or name one with --root\n",
    )


# --- Mistyped commands -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "usage", "meant"),
    [
        (["serch", "pay"], "kb", "search"),
        (["imprt", "refs.ris"], "kb", "import"),
        (["stat"], "kb", "stats"),
        (["buildb"], "kb", "build-db"),
        (["validate"], "kb", "check"),
        (["find", "pay"], "kb", "search"),
        (["graph", "profle", "x"], "kb graph", "profile"),
        (["add", "stdy"], "kb add", "study"),
    ],
)
def test_an_unknown_command_suggests_the_nearest(typed: list[str], usage: str, meant: str) -> None:
    result = run_kb(*typed)
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr.endswith(
        f"{usage.replace('kb', 'main')} --help' for help.\n\n"  # CliRunner calls kb "main"
        f"Error: No such command '{typed[len(usage.split()) - 1]}'. Did you mean '{meant}'?\n"
    )


def test_an_unknown_command_like_no_other_gets_no_suggestion() -> None:
    result = run_kb("zzzz")
    assert (result.exit_code, result.stderr.splitlines()[-1]) == (
        2,
        "Error: No such command 'zzzz'.",
    )


# --- Starting quickly ------------------------------------------------------------------------

# Libraries that take a tenth of a second or more to import, with what needs them.
HEAVY = ("sqlalchemy", "sqlmodel", "pydantic", "networkx", "whoosh", "jinja2", "mkdocs", "yaml")
# Runs `kb` through its entry point in a fresh interpreter, then prints which of HEAVY it
# imported: a test in this process could not tell, pytest and the fixtures having loaded them.
_PROBE = """
import json, sys
from kb.cli import main
try:
    main(json.loads(sys.argv[1]))
except SystemExit:
    pass
print(json.dumps(sorted(name for name in json.loads(sys.argv[2]) if name in sys.modules)))
"""


def imported_by(*args: str | Path, cwd: Path = REPOSITORY) -> list[str]:
    """Which of HEAVY `kb ARGS` imports, run as a process of its own."""
    command = [sys.executable, "-c", _PROBE, json.dumps([str(arg) for arg in args])]
    done = subprocess.run(
        [*command, json.dumps(HEAVY)], cwd=cwd, capture_output=True, text=True, check=True
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize(
    "args",
    [["--help"], ["search", "--help"], ["show", "--help"], ["add", "study", "--help"], ["nope"]],
    ids=["kb --help", "kb search --help", "kb show --help", "kb add study --help", "a typo"],
)
def test_help_and_usage_errors_import_no_heavy_library(args: list[str]) -> None:
    """Help and usage errors answer at once: no store, graph, search or site libraries."""
    assert imported_by(*args) == []


def test_a_search_with_a_current_store_and_index_does_not_load_the_store(tiny_kb: Path) -> None:
    """`kb search` reads the Whoosh index; when the store and index are current it needs no
    SQLModel or SQLAlchemy (nor networkx), only to tell that they are."""
    assert run_kb("search", "senior", "--root", tiny_kb).exit_code == 0  # builds both
    loaded = imported_by("search", "senior", "--root", tiny_kb)
    assert "whoosh" in loaded  # it did search
    assert not {"sqlalchemy", "sqlmodel", "pydantic", "networkx"} & set(loaded)


@pytest.mark.parametrize(
    "args",
    [["anonymise"], ["anonymise", "--json"], ["krause-2012"], ["blind-cv-pilot", "--json"]],
    ids=["a recommendation", "its JSON", "a study", "an example's JSON"],
)
def test_show_with_a_current_store_loads_neither_sqlmodel_nor_networkx(
    tiny_kb: Path, args: list[str]
) -> None:
    """`kb show` reads the store with sqlite3 (kb.store.export) and ranks related recommendations
    without the graph (kb.graph.related); only a store out of date loads the pipeline to rebuild
    it."""
    assert run_kb("build-db", "--root", tiny_kb).exit_code == 0
    loaded = imported_by("show", *args, "--root", tiny_kb)
    assert not {"sqlalchemy", "sqlmodel", "pydantic", "networkx"} & set(loaded)
