"""Hostile reference files for `kb import`: a clear error naming the entry, nothing half-written.

Each file is generated in tmp_path. After every import the knowledge base must still pass
`kb check` (whatever was written is a whole, valid record), the records that were there are
unchanged, and no temporary file is left beside them. Files that could cost time or memory run
in a subprocess with a timeout.
"""

import json
import os
import random
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import REPOSITORY, run_kb

pytestmark = pytest.mark.hostile

KB = str(REPOSITORY / ".venv" / "bin" / "kb")
FIFTY_MB = 50 * 1024 * 1024


def ris_entry(
    title: str = "A study", authors: tuple[str, ...] = ("Smith, J.",), **tags: str
) -> str:
    lines = ["TY  - JOUR", f"TI  - {title}", *(f"AU  - {author}" for author in authors)]
    lines += [f"{tag}  - {value}" for tag, value in {"PY": "2015", **tags}.items()]
    return "\n".join([*lines, "ER  - ", "", ""])


def crossref_chain(length: int) -> bytes:
    """BibTeX entries each the crossref child of the next, with unalike titles and authors."""
    chance = random.Random(42)

    def word() -> str:
        return "".join(chance.choices("abcdefghijklmnopqrstuvwxyz", k=10))

    entries = [
        f"@inbook{{c{n}, title = {{{word()} {word()}}}, author = {{{word().title()}, A.}}, "
        f"crossref = {{c{n + 1}}}}}\n"
        for n in range(length)
    ]
    entries.append(f"@book{{c{length}, title = {{Whole}}, author = {{Smith, J.}}, year = 2015}}\n")
    return "".join(entries).encode()


def random_bytes(size: int, head: bytes = b"") -> bytes:
    chance = random.Random(42)
    return head + bytes(chance.randrange(256) for _ in range(size))


@dataclass(frozen=True)
class Case:
    """One reference file, what `kb import` must answer, and how many studies it may add."""

    name: str
    file: str
    content: bytes | Callable[[], bytes]
    exit_code: int
    says: str  # a line of the output starts with this, or contains it after the entry number
    created: int = 0


CASES = [
    Case(
        "truncated-ris",
        "cut.ris",
        (ris_entry("A complete one") + "TY  - JOUR\nTI  - Cut off in the mid").encode(),
        1,
        "2  flag    -           line 7: the record has no ER line: it is cut off (is the file "
        "truncated?)",
        created=1,
    ),
    Case(
        "truncated-bibtex",
        "cut.bib",
        b"@article{smith2015,\n  title = {A complete one},\n  author = {Smith, J.},\n"
        b"  year = {2015}\n}\n\n@article{jones2016,\n  title = {Cut off {in the mid",
        1,
        "2  flag    -           line 7: not valid BibTeX: Unexpectedly reached end of file.",
        created=1,
    ),
    Case(
        "truncated-csl-json",
        "cut.json",
        b'[{"id": "a", "type": "article", "title": "Cut off',
        1,
        "error: cut.json",
    ),
    Case(
        "binary",
        "random.ris",
        random_bytes(20_000),
        1,
        "error: random.ris is not a text file (it contains NUL bytes); export your references "
        "as RIS, BibTeX or CSL-JSON and import that file",
    ),
    Case(
        "image-named-ris",
        "picture.ris",
        random_bytes(2_000, head=b"\x89PNG\r\n\x1a\n"),
        1,
        "error: picture.ris is not a text file",
    ),
    Case("empty", "empty.ris", b"", 1, "error: empty.ris is empty"),
    Case(
        "not-references",
        "notes.txt",
        b"hello world\nthis is not a reference file\n",
        1,
        "error: cannot tell which format notes.txt is in",
    ),
    Case(
        "mixed-encodings",
        "mixed.ris",
        ris_entry("Café society", ("Müller, K.",)).encode()
        + ris_entry("Société générale", ("Lefèvre, A.",)).encode("latin-1"),
        1,
        "error: mixed.ris is not UTF-8 text: byte 0xe9 on line 8 cannot be decoded",
    ),
    Case(
        "utf-16-with-bom",
        "endnote.ris",
        ris_entry("Café society", ("Müller, K.",)).encode("utf-16"),
        0,
        "1  create  muller-2015",
        created=1,
    ),
    Case(
        "unknown-ris-type",
        "odd.ris",
        ris_entry("Strange type").replace("TY  - JOUR", "TY  - WHATEVER").encode(),
        0,
        "1  create  smith-2015",
        created=1,
    ),
    Case(
        "unknown-bibtex-type",
        "odd.bib",
        b"@weirdthing{x1,\n  title = {Strange type},\n  author = {Smith, J.},\n"
        b"  year = {2015}\n}\n",
        0,
        "1  create  smith-2015",
        created=1,
    ),
    Case(
        "10000-authors",
        "many.ris",
        ris_entry("Huge collaboration", tuple(f"Author{n}, A." for n in range(10_000))).encode(),
        0,
        "1  create  author0-2015",
        created=1,
    ),
    Case(
        "control-characters-and-markup",
        "hostile.ris",
        ris_entry("\x1b[2J<script>alert(1)</script>", UR="javascript:alert(1)").encode(),
        1,
        "1  flag    -   line 1: title: contains the control character U+001B; records hold "
        "plain text",
    ),
    Case(
        "csl-json-not-a-list-of-items",
        "items.json",
        b"[1, 2]",
        1,
        "2  flag    -   item 2: a CSL item must be an object",
    ),
    Case(
        "csl-json-wrong-types",
        "types.json",
        json.dumps([{"id": "x", "type": "article", "title": ["x"], "author": "me"}]).encode(),
        1,
        "1  flag",
    ),
    Case(
        "bibtex-string-doubling",
        "bomb.bib",
        (
            "@string{s0 = {ha}}\n"
            + "".join(f"@string{{s{n} = s{n - 1} # s{n - 1}}}\n" for n in range(1, 64))
            + "@article{a, title = s63, author = {Smith, J.}, year = 2015}\n"
        ).encode(),
        1,
        "1  flag    -   a, line 65: title: its @string macros grow past 100,000 characters",
    ),
    Case(
        "bibtex-crossref-chain",
        "chain.bib",
        lambda: crossref_chain(1_000),
        0,
        "1001  create  smith-2015",
        created=1_001,
    ),
    Case(
        "bibtex-crossref-loop",
        "loop.bib",
        b"@inbook{a, title = {A part}, author = {Smith, J.}, year = 2015, crossref = {b}}\n"
        b"@inbook{b, title = {Another}, author = {Jones, K.}, year = 2015, crossref = {a}}\n",
        0,
        "2  create  jones-2015",
        created=2,
    ),
    Case(
        "50-mb-abstract",
        "big.ris",
        lambda: ris_entry("One huge abstract", AB="word " * (FIFTY_MB // 5)).encode(),
        0,
        "1  create  smith-2015",
        created=1,
    ),
]
# Files whose entries `kb check` would refuse, or that nest deep enough to crash a parser.
REFUSED = [
    pytest.param(
        "title-over-the-field-cap.ris",
        ris_entry("word " * 6_000).encode(),
        "1  flag    -   line 1: title: text is 29,999 characters; the limit is 20,000",
        id="title-over-the-field-cap",
    ),
    pytest.param(
        "authors-over-the-file-cap.ris",
        ris_entry("Huge", tuple(f"{'Longname' * 15}{n}, A." for n in range(10_000))).encode(),
        "1  flag    -   line 1: file is 1,",
        id="authors-over-the-file-cap",
    ),
    pytest.param(
        "nested.json",
        b"[" * 100_000 + b"]" * 100_000,
        "error: nested.json: arrays and objects nest more than 32 levels deep",
        id="csl-json-nested-100000-deep",
    ),
    pytest.param(
        "deep.bib",
        b"@article{d, title = " + b"{" * 50_000 + b"x" + b"}" * 50_000 + b"}\n",
        "1  flag    -   d, line 1: title: braces, brackets or environments nest more than 32 "
        "levels deep",
        id="bibtex-braces-nested-50000-deep",
    ),
]


def study_files(root: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in (root / "evidence/studies").iterdir()}


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
def test_hostile_import(tiny_kb: Path, tmp_path: Path, case: Case) -> None:
    before = study_files(tiny_kb)
    references = tmp_path / case.file
    references.write_bytes(case.content() if callable(case.content) else case.content)
    result = run_kb("import", references, "--root", tiny_kb)
    assert result.exit_code == case.exit_code, result.output
    assert "Traceback" not in result.output
    assert any(line.startswith(case.says) for line in result.output.splitlines()), result.output[
        :2000
    ]
    after = study_files(tiny_kb)
    assert {name: after[name] for name in before} == before
    assert len(after) == len(before) + case.created, sorted(after)
    checked = run_kb("check", "--root", tiny_kb)
    assert checked.exit_code == 0, checked.output


def test_all_or_nothing_writes_nothing_when_an_entry_is_flagged(
    tiny_kb: Path, tmp_path: Path
) -> None:
    before = study_files(tiny_kb)
    references = tmp_path / "cut.ris"
    references.write_bytes(CASES[0].content)  # type: ignore[arg-type]
    result = run_kb("import", references, "--all-or-nothing", "--root", tiny_kb)
    assert result.exit_code == 1
    assert study_files(tiny_kb) == before


@pytest.mark.slow
@pytest.mark.parametrize(("file", "content", "says"), REFUSED)
def test_import_refuses_what_check_would_refuse(
    tiny_kb: Path, tmp_path: Path, file: str, content: bytes, says: str
) -> None:
    before = study_files(tiny_kb)
    references = tmp_path / file
    references.write_bytes(content)
    completed = subprocess.run(
        [KB, "import", str(references), "--root", str(tiny_kb)],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "KB_ROOT": str(tiny_kb)},
    )
    assert "Traceback" not in completed.stdout + completed.stderr
    assert completed.returncode == 1
    output = (completed.stdout + completed.stderr).splitlines()
    assert any(line.startswith(says) for line in output), output
    assert study_files(tiny_kb) == before
    assert run_kb("check", "--root", tiny_kb).exit_code == 0


def test_a_file_over_the_import_cap_is_refused_unread(
    tiny_kb: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KB_MAX_IMPORT_BYTES", "1000")
    references = tmp_path / "big.ris"
    references.write_bytes(ris_entry("A study", AB="word " * 400).encode())
    result = run_kb("import", references, "--root", tiny_kb)
    assert result.exit_code == 1
    assert result.stderr == (
        "error: big.ris is 2,067 bytes; the limit is 1,000 (KB_MAX_IMPORT_BYTES). Export the "
        "references in smaller files, or raise the limit\n"
    )


@pytest.mark.slow
def test_fifty_megabytes_of_entries_in_bounded_time(tiny_kb: Path, tmp_path: Path) -> None:
    # 2,000 entries of 25 kB: each new study is compared with the others for duplicates, so
    # 50,000 entries of 1 kB take minutes (reported).
    entry = ris_entry("x" * 1000, AB="word " * 5_000)
    references = tmp_path / "big.ris"
    with references.open("w") as written:
        for number in range(FIFTY_MB // len(entry) + 1):
            written.write(entry.replace("Smith, J.", f"Smith{number}, J.", 1))
    assert references.stat().st_size >= FIFTY_MB * 0.99
    completed = subprocess.run(
        [KB, "import", str(references), "--dry-run", "--root", str(tiny_kb)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert completed.returncode in (0, 1)
    assert "Traceback" not in completed.stdout + completed.stderr
    assert "nothing written" in completed.stdout
    shutil.rmtree(tiny_kb / "build", ignore_errors=True)
    assert study_files(tiny_kb).keys() == {"krause-2012.yaml"}
