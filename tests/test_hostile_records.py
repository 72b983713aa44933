"""Hostile record files: each gets a located message and exit code 1 (or is read as intended).

Every case is one file written into a copy of the tiny knowledge base. `kb check` and
`kb build-db` must both give the expected `path:line: record: field: message` lines and exit
code 1, print no traceback, and leave an existing database byte for byte as it was; inputs that
are legitimately fine (a byte-order mark, CRLF, `title: no`) must be accepted. Inputs that could
cost time or memory (alias bombs, deep nesting, 10 MB fields, quadratic regular expressions) run
in a subprocess with a timeout.
"""

import json
import os
import re
import shutil
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import pytest

from tests.conftest import DATA, REPOSITORY, run_kb

pytestmark = pytest.mark.hostile

TINY = DATA / "tiny"
RECOMMENDATION = "recommendations/anonymise.yaml"
STUDY = "evidence/studies/krause-2012.yaml"
SOURCE = "evidence/sources/tiny-report.yaml"
THEME = "recommendations/themes/recruitment.yaml"
KB = str(REPOSITORY / ".venv" / "bin" / "kb")
# PATH:LINE: RECORD: FIELD: MESSAGE, where a file name is never empty and a line is a number.
LOCATED = re.compile(r"^[^:\s][^:]*:\d+: [^:]+: [^:]+: .+$")
NEXT_YEAR = date.today().year + 1


def tiny(path: str) -> str:
    return (TINY / path).read_text(encoding="utf-8")


def edited(path: str, old: str | bytes, new: str | bytes) -> bytes:
    """The tiny knowledge base's file at ``path`` with ``old`` replaced once by ``new``."""
    raw = (TINY / path).read_bytes()
    old, new = (part.encode() if isinstance(part, str) else part for part in (old, new))
    assert raw.count(old) == 1, f"{old!r} is not once in {path}"
    return raw.replace(old, new)


def added(path: str, lines: str) -> bytes:
    return (tiny(path) + lines).encode("utf-8")


@dataclass(frozen=True)
class Case:
    """One hostile file: where it goes, its bytes, and the problem lines it must produce."""

    name: str
    path: str
    content: bytes | Callable[[], bytes]
    expected: tuple[str, ...] = ()  # empty: the input is fine and both commands exit 0
    env: dict[str, str] = field(default_factory=dict)

    def write(self, root: Path) -> None:
        target = root / self.path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(self.content() if callable(self.content) else self.content)


def refused(name: str, path: str, content: bytes, *expected: str) -> Case:
    return Case(name, path, content, expected)


def accepted(name: str, path: str, content: bytes) -> Case:
    return Case(name, path, content)


INTEGER = "input should be a valid integer, unable to parse string as an integer"
YEAR = f"{STUDY}:5: krause-2012: year: {INTEGER}"
ID_RULE = "must be lower-case letters, digits and hyphens (at most 64, not starting with -)"
TAGS = "tags ({tag}) are not allowed in records"
BAD_ESCAPE = (
    "not valid YAML: while parsing a quoted scalar (line 2) found invalid Unicode character "
    "escape code"
)
NEW = "recommendations/new.yaml"


def new_record(*lines: str) -> bytes:
    return ("\n".join(lines) + "\n").encode("utf-8")


def billion_laughs() -> bytes:
    """The classic alias bomb: nine levels of ten aliases each, a billion strings if expanded."""
    lines = ['lol0: &a0 ["lol"]']
    lines += [
        f"lol{level}: &a{level} [{', '.join([f'*a{level - 1}'] * 10)}]" for level in range(1, 10)
    ]
    return ("\n".join(lines) + "\n").encode()


CASES = [
    # --- YAML that is not valid, or uses features records must not ---------------------------
    refused(
        "malformed-unterminated-quote",
        RECOMMENDATION,
        edited(RECOMMENDATION, "title: Anonymise applications", 'title: "Anonymise'),
        f"{RECOMMENDATION}:14: anonymise: -: not valid YAML: while scanning a quoted scalar "
        "(line 2) found unexpected end of stream",
    ),
    refused(
        "malformed-unclosed-flow-list",
        RECOMMENDATION,
        edited(RECOMMENDATION, "themes: [recruitment]", "themes: [recruitment"),
        f"{RECOMMENDATION}:6: anonymise: -: not valid YAML: while parsing a flow sequence "
        "(line 5) did not find expected ',' or ']'",
    ),
    refused(
        "malformed-bad-indentation",
        RECOMMENDATION,
        edited(RECOMMENDATION, "  section: Recruitment", "    section: Recruitment\n  page: 3"),
        f"{RECOMMENDATION}:8: anonymise: -: not valid YAML: while parsing a block mapping "
        "(line 1) did not find expected key",
    ),
    refused(
        "duplicate-key",
        RECOMMENDATION,
        added(RECOMMENDATION, "title: Again\n"),
        f"{RECOMMENDATION}:14: anonymise: title: duplicate key 'title'",
    ),
    refused(
        "duplicate-key-nested",
        STUDY,
        edited(STUDY, "    strength: S2\n", "    strength: S2\n    strength: S5\n"),
        f"{STUDY}:15: krause-2012: findings[0].strength: duplicate key 'strength'",
    ),
    refused(
        "duplicate-key-quoted-twin",
        RECOMMENDATION,
        added(RECOMMENDATION, '"title": Again\n'),
        f"{RECOMMENDATION}:14: anonymise: title: duplicate key 'title'",
    ),
    refused(
        "anchor",
        RECOMMENDATION,
        edited(RECOMMENDATION, "title: Anonymise", "title: &t Anonymise"),
        f"{RECOMMENDATION}:2: anonymise: title: anchors (&t) are not allowed in records",
    ),
    refused(
        "alias-without-anchor",
        RECOMMENDATION,
        added(RECOMMENDATION, "note: *missing\n"),
        f"{RECOMMENDATION}:14: anonymise: note: aliases (*name) are not allowed in records",
    ),
    refused(
        "merge-key",
        RECOMMENDATION,
        added(RECOMMENDATION, "<<: {note: merged}\n"),
        f"{RECOMMENDATION}:14: anonymise: <<: unknown field",
    ),
    refused(
        "python-tag",
        RECOMMENDATION,
        edited(
            RECOMMENDATION,
            "title: Anonymise applications",
            'title: !!python/object/apply:os.system ["touch PWNED"]',
        ),
        f"{RECOMMENDATION}:2: anonymise: title: "
        + TAGS.format(tag="tag:yaml.org,2002:python/object/apply:os.system"),
    ),
    refused(
        "local-tag",
        RECOMMENDATION,
        edited(RECOMMENDATION, "title: Anonymise", "title: !secret Anonymise"),
        f"{RECOMMENDATION}:2: anonymise: title: " + TAGS.format(tag="!secret"),
    ),
    refused(
        "tag-directive",
        NEW,
        new_record("%TAG !py! tag:yaml.org,2002:python/", "---", "id: !py!object new"),
        f"{NEW}:3: new: id: " + TAGS.format(tag="tag:yaml.org,2002:python/object"),
    ),
    refused(
        "two-documents",
        RECOMMENDATION,
        added(RECOMMENDATION, "---\nid: second\n"),
        f"{RECOMMENDATION}:14: anonymise: -: a record file holds one YAML document",
    ),
    refused(
        "not-a-mapping-scalar",
        NEW,
        new_record("just some text"),
        f"{NEW}:1: new: -: a record file holds one mapping of field: value",
    ),
    refused(
        "not-a-mapping-list",
        NEW,
        new_record("- id: new", "- id: other"),
        f"{NEW}:1: new: -: a record file holds one mapping of field: value",
    ),
    refused(
        "complex-key",
        RECOMMENDATION,
        added(RECOMMENDATION, "? [a, b]\n: value\n"),
        f"{RECOMMENDATION}:14: anonymise: -: mapping keys must be plain text",
    ),
    # --- YAML 1.1 surprises: values stay text and the schema decides --------------------------
    accepted(
        "yaml-1-1-no-is-text",
        RECOMMENDATION,
        edited(RECOMMENDATION, "title: Anonymise applications", "title: no"),
    ),
    accepted(
        "yaml-1-1-norway-in-a-list",
        STUDY,
        edited(STUDY, "type: evaluation-report", "type: evaluation-report\nsetting: [NO, on, 1e3]"),
    ),
    accepted(
        "yaml-1-1-no-as-a-flag",
        STUDY,
        edited(STUDY, "type: evaluation-report", "type: evaluation-report\nin_reference_list: no"),
    ),
    accepted(
        "yaml-null-is-no-value",
        STUDY,
        edited(STUDY, "container: IZA", "container: IZA\nnote: null\nvolume: ~\nissue:"),
    ),
    *[
        refused(f"year-{label}", STUDY, edited(STUDY, "year: 2012", f"year: {value}"), YEAR)
        for label, value in [
            ("exponent", "1e3"),
            ("date", "2012-01-01"),
            ("hexadecimal", "0x7DC"),
            ("octal", "0o3734"),
            ("underscore", "2_012"),
            ("sign", "+2012"),
            ("decimal-point", "2012.0"),
            ("sexagesimal", "33:32"),
            ("full-width-digits", "２０１２"),
            ("quoted-with-space", '"2012 "'),
        ]
    ],
    refused(
        "year-out-of-range",
        STUDY,
        edited(STUDY, "year: 2012", "year: 99999"),
        f"{STUDY}:5: krause-2012: year: must be between 1800 and {NEXT_YEAR}",
    ),
    refused(
        "page-hexadecimal",
        STUDY,
        edited(STUDY, "      section: Recruitment", "      section: Recruitment\n      page: 0x1F"),
        f"{STUDY}:22: krause-2012: findings[0].location.page: {INTEGER}",
    ),
    refused(
        "page-beyond-sqlite",
        STUDY,
        edited(
            STUDY,
            "      section: Recruitment",
            "      section: Recruitment\n      page: 9223372036854775808",
        ),
        f"{STUDY}:22: krause-2012: findings[0].location.page: {INTEGER}",
    ),
    refused(
        "position-zero",
        RECOMMENDATION,
        edited(RECOMMENDATION, "position: 1", "position: 0"),
        f"{RECOMMENDATION}:8: anonymise: position: input should be greater than or equal to 1",
    ),
    # --- Wrong types --------------------------------------------------------------------------
    refused(
        "text-for-a-list",
        STUDY,
        edited(STUDY, "authors:\n  - Krause, A.\n  - Rinne, U.", "authors: Krause, A."),
        f"{STUDY}:2: krause-2012: authors: input should be a valid list",
    ),
    refused(
        "list-for-text",
        RECOMMENDATION,
        edited(RECOMMENDATION, "title: Anonymise applications", "title: [Anonymise, apply]"),
        f"{RECOMMENDATION}:2: anonymise: title: input should be a valid string",
    ),
    refused(
        "mapping-for-text",
        RECOMMENDATION,
        edited(RECOMMENDATION, "title: Anonymise applications", "title: {a: b}"),
        f"{RECOMMENDATION}:2: anonymise: title: input should be a valid string",
    ),
    refused(
        "text-for-a-mapping",
        RECOMMENDATION,
        edited(RECOMMENDATION, "location:\n  section: Recruitment", "location: Recruitment"),
        f"{RECOMMENDATION}:6: anonymise: location: input should be a valid dictionary or "
        "instance of Location",
    ),
    refused(
        "word-for-a-flag",
        STUDY,
        edited(
            STUDY, "type: evaluation-report", "type: evaluation-report\nin_reference_list: maybe"
        ),
        f"{STUDY}:9: krause-2012: in_reference_list: input should be a valid boolean, unable "
        "to interpret input",
    ),
    refused(
        "empty-required-text",
        RECOMMENDATION,
        edited(RECOMMENDATION, "title: Anonymise applications", 'title: "   "'),
        f"{RECOMMENDATION}:2: anonymise: title: must not be empty",
    ),
    refused(
        "null-required-text",
        RECOMMENDATION,
        edited(RECOMMENDATION, "title: Anonymise applications", "title: null"),
        f"{RECOMMENDATION}:2: anonymise: title: input should be a valid string",
    ),
    refused(
        "repeated-reference",
        RECOMMENDATION,
        edited(RECOMMENDATION, "themes: [recruitment]", "themes: [recruitment, recruitment]"),
        f"{RECOMMENDATION}:5: anonymise: themes: lists 'recruitment' twice",
    ),
    # --- Empty files --------------------------------------------------------------------------
    *[
        refused(f"empty-{label}", NEW, content, f"{NEW}:1: new: -: file is empty")
        for label, content in [
            ("nothing", b""),
            ("blank-lines", b"\n\n  \n"),
            ("comment-only", b"# nothing here\n"),
            ("document-marker", b"---\n"),
            ("null", b"null\n"),
        ]
    ],
    # --- Bytes: encodings, BOM, line ends, tabs, NUL, invalid Unicode -------------------------
    refused(
        "latin-1",
        RECOMMENDATION,
        tiny(RECOMMENDATION).replace("Anonymise applications", "Anonymisé").encode("latin-1"),
        f"{RECOMMENDATION}:2: anonymise: -: not UTF-8: byte 0xe9 cannot be decoded",
    ),
    refused(
        "utf-16",
        RECOMMENDATION,
        tiny(RECOMMENDATION).encode("utf-16"),
        f"{RECOMMENDATION}:1: anonymise: -: file contains a NUL byte; records are UTF-8 text",
    ),
    refused(
        "overlong-utf-8",
        RECOMMENDATION,
        edited(RECOMMENDATION, b"Anonymise applications", b"a\xc0\xafb"),
        f"{RECOMMENDATION}:2: anonymise: -: not UTF-8: byte 0xc0 cannot be decoded",
    ),
    refused(
        "utf-8-encoded-surrogate",
        RECOMMENDATION,
        edited(RECOMMENDATION, b"Anonymise applications", b"\xed\xa0\x80"),
        f"{RECOMMENDATION}:2: anonymise: -: not UTF-8: byte 0xed cannot be decoded",
    ),
    refused(
        "truncated-multibyte",
        NEW,
        b"id: new\ntitle: caf\xc3",
        f"{NEW}:2: new: -: not UTF-8: byte 0xc3 cannot be decoded",
    ),
    accepted("byte-order-mark", RECOMMENDATION, b"\xef\xbb\xbf" + tiny(RECOMMENDATION).encode()),
    accepted("crlf", RECOMMENDATION, tiny(RECOMMENDATION).replace("\n", "\r\n").encode()),
    accepted("cr-only", RECOMMENDATION, tiny(RECOMMENDATION).replace("\n", "\r").encode()),
    refused(
        "bom-and-crlf-keep-line-numbers",
        RECOMMENDATION,
        b"\xef\xbb\xbf" + added(RECOMMENDATION, "strenght: strong\n").replace(b"\n", b"\r\n"),
        f"{RECOMMENDATION}:14: anonymise: strenght: unknown field",
    ),
    refused(
        "tab-indentation",
        RECOMMENDATION,
        edited(RECOMMENDATION, "  section: Recruitment", "\tsection: Recruitment"),
        f"{RECOMMENDATION}:7: anonymise: -: not valid YAML: while scanning for the next token "
        "(line 7) found character that cannot start any token",
    ),
    accepted(
        "tab-inside-text",
        RECOMMENDATION,
        edited(RECOMMENDATION, "title: Anonymise applications", "title: Anonymise\tapplications"),
    ),
    refused(
        "nul-byte",
        RECOMMENDATION,
        edited(RECOMMENDATION, "Anonymise applications", "Anonymise\x00applications"),
        f"{RECOMMENDATION}:1: anonymise: -: file contains a NUL byte; records are UTF-8 text",
    ),
    refused(
        "raw-control-character",
        RECOMMENDATION,
        edited(RECOMMENDATION, "Anonymise applications", "Anonymise\x07applications"),
        f"{RECOMMENDATION}:2: anonymise: -: not valid YAML: character U+0007 is not allowed "
        "(control characters are not allowed)",
    ),
    *[
        refused(
            f"escaped-{label}",
            RECOMMENDATION,
            edited(RECOMMENDATION, "title: Anonymise applications", f'title: "Anonymise{escape}"'),
            f"{RECOMMENDATION}:2: anonymise: title: contains the control character {code}; "
            "records hold plain text",
        )
        for label, escape, code in [
            ("nul", "\\0", "U+0000"),
            ("terminal-escape", "\\e[2J\\e]0;owned\\a", "U+001B"),
            ("carriage-return", "\\rOverwritten", "U+000D"),
            ("next-line", "\\N", "U+0085"),
            ("c1-control", "\\x9b", "U+009B"),
            ("non-character", "\\uFFFF", "U+FFFF"),
        ]
    ],
    refused(
        "escaped-control-character-in-a-key",
        RECOMMENDATION,
        added(RECOMMENDATION, '"\\e]0;owned\\a": 1\n'),
        f"{RECOMMENDATION}:14: anonymise: -: contains the control character U+001B; records "
        "hold plain text",
    ),
    refused(
        "field-name-on-two-lines",
        RECOMMENDATION,
        added(RECOMMENDATION, "? |\n  ok: 1 sources\n  x\n: 1\n"),
        f"{RECOMMENDATION}:14: anonymise: -: field name 'ok: 1 sources\\nx\\n' is not plain "
        "text on one line",
    ),
    refused(
        "tag-with-escapes",
        RECOMMENDATION,
        edited(RECOMMENDATION, "title: Anonymise", "title: !<tag:x%0A%1B[2J> Anonymise"),
        f"{RECOMMENDATION}:2: anonymise: title: " + TAGS.format(tag="tag:x\\n\\x1b[2J"),
    ),
    refused(
        "file-name-with-a-terminal-escape",
        "recommendations/\x1b[2Jnew\n.yaml",
        new_record("id: new"),
        "recommendations/\\x1b[2Jnew\\n.yaml:1: \\x1b[2Jnew\\n: -: file name is not plain "
        "text on one line; rename the file",
    ),
    *[
        refused(
            f"invalid-unicode-{label}",
            RECOMMENDATION,
            edited(RECOMMENDATION, "title: Anonymise applications", f'title: "{escape}"'),
            f"{RECOMMENDATION}:2: anonymise: -: {BAD_ESCAPE}",
        )
        for label, escape in [
            ("lone-high-surrogate", "\\ud800"),
            ("lone-low-surrogate", "\\udfff"),
            ("surrogate-pair", "\\ud83d\\ude00"),
            ("beyond-unicode", "\\U00110000"),
        ]
    ],
    # --- IDs ----------------------------------------------------------------------------------
    *[
        refused(
            f"id-{label}",
            NEW,
            new_record(
                f"id: {value}",
                "title: T",
                "statement: S",
                "source: tiny-report",
                "themes: [recruitment]",
                "location: {section: Recruitment}",
            ),
            f"{NEW}:1: {shown}: id: {ID_RULE}",
        )
        for label, value, shown in [
            ("parent-folder", "../../../etc/passwd", "../../../etc/passwd"),
            ("slashes", "a/b", "a/b"),
            ("absolute", "/tmp/x", "/tmp/x"),
            ("backslashes", "'a\\b'", "a\\b"),
            ("upper-case", "New", "New"),
            ("500-characters", "a" * 500, "a" * 500),
            ("leading-hyphen", "-new", "-new"),
            ("trailing-newline", '"new\\n"', "new"),  # shown by its file name, on one line
            ("dot", "new.html", "new.html"),
        ]
    ],
    refused(
        "reference-parent-folder",
        THEME,
        edited(THEME, "title: Recruitment", "title: Recruitment\nparent: ../../etc"),
        f"{THEME}:3: recruitment: parent: {ID_RULE}",
    ),
    refused(
        "upper-case-twin-file",
        "recommendations/Anonymise.yaml",
        tiny(RECOMMENDATION).encode(),
        "recommendations/Anonymise.yaml:1: anonymise: id: file name must be the ID: rename to "
        "anonymise.yaml",
    ),
    refused(
        "same-id-in-another-folder",
        "evidence/studies/anonymise.yaml",
        edited(STUDY, "id: krause-2012\n", "id: anonymise\n")
        .replace(b"doi: https://doi.org/10.1234/IZA.44\n", b"")
        .replace(b"krause-2012--anonymise", b"other-finding"),
        "recommendations/anonymise.yaml:1: anonymise: id: ID 'anonymise' is already used in "
        "evidence/studies/anonymise.yaml",
    ),
    # --- Links --------------------------------------------------------------------------------
    refused(
        "link-to-a-missing-record",
        RECOMMENDATION,
        edited(RECOMMENDATION, "themes: [recruitment]", "themes: [nowhere]"),
        f"{RECOMMENDATION}:5: anonymise: themes[0]: no theme has ID 'nowhere'",
    ),
    refused(
        "link-to-a-record-of-another-kind",
        STUDY,
        edited(STUDY, "    recommendation: anonymise", "    recommendation: recruitment"),
        f"{STUDY}:12: krause-2012: findings[0].recommendation: no recommendation has ID "
        "'recruitment'",
    ),
    refused(
        "record-linking-to-itself",
        THEME,
        edited(THEME, "title: Recruitment", "title: Recruitment\nparent: recruitment"),
        f"{THEME}:3: recruitment: parent: a record cannot refer to itself",
    ),
    refused(
        "same-doi-other-case-and-prefix",
        "evidence/studies/twin.yaml",
        new_record("id: twin", "type: review", "doi: 'doi: 10.1234/iza.44'"),
        "evidence/studies/twin.yaml:3: twin: doi: DOI 10.1234/iza.44 is also the DOI of study "
        "'krause-2012'",
    ),
    # --- Addresses and paths that could leave the knowledge base ------------------------------
    *[
        refused(
            f"url-{label}",
            STUDY,
            edited(STUDY, "container: IZA", f"container: IZA\nurl: '{url}'"),
            f"{STUDY}:8: krause-2012: url: {message}",
        )
        for label, url, message in [
            (
                "javascript",
                "javascript:alert(1)",
                "must be an http:// or https:// address with no spaces",
            ),
            (
                "data",
                "data:text/html,<script>alert(1)</script>",
                "must be an http:// or https:// address with no spaces",
            ),
            (
                "attribute-breakout",
                'https://example.org/"onmouseover="alert(1)',
                "must percent-encode '\"' (write it as %22)",
            ),
            (
                "angle-brackets",
                "https://example.org/<script>",
                "must percent-encode '<' (write it as %3C)",
            ),
        ]
    ],
    *[
        refused(
            f"source-text-{label}",
            SOURCE,
            edited(SOURCE, "text: evidence/sources/tiny-report.txt", f"text: '{path}'"),
            f"{SOURCE}:8: tiny-report: text: must be a path inside the knowledge base, from its "
            "root, with / between folders and no .. (e.g. evidence/sources/report.txt)",
        )
        for label, path in [
            ("parent-folder", "../../../../etc/passwd"),
            ("absolute", "/etc/passwd"),
            ("backslashes", "evidence\\sources\\tiny-report.txt"),
            ("drive", "C:/Windows/win.ini"),
            ("inner-parent-folder", "evidence/../../outside.txt"),
        ]
    ],
    refused(
        "source-text-missing",
        SOURCE,
        edited(SOURCE, "tiny-report.txt", "gone.txt"),
        f"{SOURCE}:8: tiny-report: text: file evidence/sources/gone.txt does not exist",
    ),
    refused(
        "source-text-not-utf-8",
        "evidence/sources/tiny-report.txt",
        "Recruitment\ncafé\n".encode("latin-1"),
        f"{SOURCE}:8: tiny-report: text: file evidence/sources/tiny-report.txt is not UTF-8: "
        "byte 0xe9 on line 2 cannot be decoded",
    ),
]


def ids(case: Case) -> str:
    return case.name


@pytest.fixture(scope="module")
def built_database(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """A database built from the tiny knowledge base, copied in before each case."""
    root = tmp_path_factory.mktemp("built") / "kb"
    shutil.copytree(TINY, root)
    assert run_kb("build-db", "--root", root).exit_code == 0
    return (root / "build" / "kb.sqlite").read_bytes()


def assert_clean(output: str) -> None:
    assert "Traceback" not in output
    *problems, _summary = output.splitlines() or [""]
    for line in problems:
        assert LOCATED.match(line), f"not located: {line!r}"


@pytest.mark.parametrize("case", CASES, ids=ids)
def test_hostile_record(tiny_kb: Path, built_database: bytes, case: Case) -> None:
    database = tiny_kb / "build" / "kb.sqlite"
    database.parent.mkdir()
    database.write_bytes(built_database)
    case.write(tiny_kb)

    checked = run_kb("check", "--root", tiny_kb)
    built = run_kb("build-db", "--root", tiny_kb)

    if not case.expected:
        assert checked.exit_code == 0, checked.output
        assert built.exit_code == 0, built.output
        return
    for result in (checked, built):
        assert result.exit_code == 1
        assert "Traceback" not in result.output
        lines = result.stdout.splitlines()
        for expected in case.expected:
            assert expected in lines, "\n".join(lines)
    assert_clean(checked.stdout)
    assert built.stderr.startswith("error: ") and "nothing was written" in built.stderr
    assert database.read_bytes() == built_database
    assert [path.name for path in database.parent.iterdir()] == ["kb.sqlite"]


def test_yaml_1_1_lookalikes_keep_the_meaning_the_schema_gives(tiny_kb: Path) -> None:
    (tiny_kb / RECOMMENDATION).write_bytes(
        edited(RECOMMENDATION, "title: Anonymise applications", "title: no")
    )
    (tiny_kb / STUDY).write_bytes(
        edited(
            STUDY,
            "type: evaluation-report",
            "type: evaluation-report\nsetting: [NO, on, 1e3]\nin_reference_list: no\n"
            "note: null\nvolume: ~\nissue:",
        )
    )
    document = json.loads(run_kb("export", "--root", tiny_kb).output)
    recommendation = document["recommendations"][0]
    study = document["studies"][0]
    assert recommendation["title"] == "no"
    assert study["setting"] == ["NO", "on", "1e3"]
    assert study["in_reference_list"] is False
    assert (study["note"], study["volume"], study["issue"]) == (None, None, None)


def test_a_python_tag_runs_nothing(tiny_kb: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tiny_kb)
    (tiny_kb / RECOMMENDATION).write_bytes(
        edited(
            RECOMMENDATION,
            "title: Anonymise applications",
            'title: !!python/object/apply:os.system ["touch PWNED"]',
        )
    )
    assert run_kb("build-db", "--root", tiny_kb).exit_code == 1
    assert not (tiny_kb / "PWNED").exists()


# --- Links that lead out of the knowledge base ---------------------------------------------


def test_record_file_linked_from_outside_is_refused(tiny_kb: Path, tmp_path: Path) -> None:
    secret = tmp_path / "secret.yaml"
    secret.write_text("id: secret\ntitle: a file outside the knowledge base\n")
    (tiny_kb / "recommendations" / "secret.yaml").symlink_to(secret)
    result = run_kb("check", "--root", tiny_kb)
    assert result.exit_code == 1
    assert result.stdout.splitlines()[0] == (
        "recommendations/secret.yaml:1: secret: -: file is a link to a file outside the "
        "knowledge base"
    )


def test_source_text_linked_from_outside_is_refused(tiny_kb: Path, tmp_path: Path) -> None:
    outside = tmp_path / "passwd"
    outside.write_text((TINY / "evidence/sources/tiny-report.txt").read_text())
    text = tiny_kb / "evidence/sources/tiny-report.txt"
    text.unlink()
    text.symlink_to(outside)
    result = run_kb("check", "--root", tiny_kb)
    assert result.exit_code == 1
    assert result.stdout.splitlines()[0] == (
        f"{SOURCE}:8: tiny-report: text: file evidence/sources/tiny-report.txt is a link to a "
        "file outside the knowledge base"
    )


def test_links_inside_the_knowledge_base_are_followed(tiny_kb: Path) -> None:
    text = tiny_kb / "evidence/sources/tiny-report.txt"
    text.rename(tiny_kb / "evidence/report.txt")
    text.symlink_to(Path("..") / "report.txt")
    assert run_kb("check", "--root", tiny_kb).exit_code == 0


def test_dangling_link_and_link_loop_do_not_crash(tiny_kb: Path) -> None:
    assert run_kb("build-db", "--root", tiny_kb).exit_code == 0
    (tiny_kb / "evidence" / "dangling.yaml").symlink_to(tiny_kb / "nowhere")
    (tiny_kb / "recommendations" / "loop").symlink_to(tiny_kb / "recommendations")
    (tiny_kb / "evidence" / "studies" / "self.yaml").symlink_to("self.yaml")
    for command in ("check", "stats", "export", "build-db"):
        result = run_kb(command, "--root", tiny_kb)
        assert result.exit_code == 0, (command, result.output)


# --- Inputs that could cost time or memory: run in a subprocess with a timeout -------------


def kb_subprocess(*args: str | Path, env: dict[str, str] | None = None) -> tuple[int, str, float]:
    """Run the installed `kb` and return its exit code, output and time; fail after 60 s."""
    started = time.monotonic()
    completed = subprocess.run(
        [KB, *map(str, args)],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **(env or {})},
    )
    return completed.returncode, completed.stdout + completed.stderr, time.monotonic() - started


TEN_MB = 10 * 1024 * 1024
EXPENSIVE = [
    Case(
        "alias-bomb",
        "recommendations/lol.yaml",
        billion_laughs,
        ("recommendations/lol.yaml:1: lol: lol0: anchors (&a0) are not allowed in records",),
    ),
    Case(
        "nesting-100000-deep",
        NEW,
        lambda: b"id: new\nnote: " + b"[" * 100_000 + b"]" * 100_000 + b"\n",
        (f"{NEW}:2: new: note" + "[0]" * 11 + ": values nest more than 12 levels deep",),
    ),
    Case(
        "field-of-10-mb",
        STUDY,
        lambda: edited(STUDY, "container: IZA", "container: " + "x" * TEN_MB),
        (f"{STUDY}:1: krause-2012: -: file is 10,486,428 bytes; the limit is 1,048,576",),
    ),
    Case(
        "field-of-10-mb-with-the-file-cap-raised",
        STUDY,
        lambda: edited(STUDY, "container: IZA", "container: " + "x" * TEN_MB),
        (f"{STUDY}:7: krause-2012: container: text is 10,485,760 characters; the limit is 20,000",),
        {"KB_MAX_FILE_BYTES": str(2 * TEN_MB)},
    ),
    Case(
        "many-keys",
        NEW,
        lambda: b"id: new\n" + b"".join(b"k%d: v\n" % index for index in range(20_000)),
        (f"{NEW}:2: new: k0: unknown field",),
        {"KB_MAX_FILE_BYTES": str(2 * TEN_MB)},
    ),
    Case(
        "quote-with-20000-spaces",
        STUDY,
        lambda: edited(
            STUDY, "    quote: Anonymised", '    quote: "Anonymised' + " " * 19_900 + 'x"\n    #'
        ),
        (
            f"{STUDY}:18: krause-2012: findings[0].quote: not found verbatim in source "
            "'tiny-report': 'Anonymised" + " " * 47 + "...'",
        ),
    ),
    Case(
        "quote-full-of-unclosed-list-tags",
        STUDY,
        lambda: edited(STUDY, "    quote: Anonymised", "    quote: " + "<li" * 6_000 + " #"),
        (
            f"{STUDY}:18: krause-2012: findings[0].quote: not found verbatim in source "
            "'tiny-report': '" + "<li" * 19 + "...'",
        ),
    ),
    Case(
        "source-text-full-of-unclosed-list-tags",
        "evidence/sources/tiny-report.txt",
        lambda: (TINY / "evidence/sources/tiny-report.txt").read_bytes() + b"<li" * 3_000_000,
        (),
    ),
]


@pytest.mark.slow
@pytest.mark.parametrize("case", EXPENSIVE, ids=ids)
def test_expensive_input_is_handled_in_bounded_time(
    tiny_kb: Path, case: Case, monkeypatch: pytest.MonkeyPatch
) -> None:
    case.write(tiny_kb)
    # The build in a subprocess first, so that a hang fails after 60 s instead of never
    # ending; `kb check` then runs the same code in-process.
    code, output, _seconds = kb_subprocess("build-db", "--root", tiny_kb, env=case.env)
    assert "Traceback" not in output
    for name, value in case.env.items():
        monkeypatch.setenv(name, value)
    checked = run_kb("check", "--root", tiny_kb)
    if not case.expected:
        assert (code, checked.exit_code) == (0, 0), output
        return
    assert (code, checked.exit_code) == (1, 1)
    for lines in (output.splitlines(), checked.stdout.splitlines()):
        for expected in case.expected:
            assert expected in lines, "\n".join(line[:200] for line in lines[:5])
    assert not (tiny_kb / "build").exists()
