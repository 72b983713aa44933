"""Read record files from disk: the only YAML reader, which keeps each value's file and line.

YAML is parsed into plain dicts, lists and strings (no YAML 1.1 guessing: ``no`` stays the
string "no" and the schema decides types). Anchors, aliases, explicit tags, duplicate keys,
nesting deeper than any record needs, control characters written as escapes, files over the
size cap, invalid UTF-8, NUL bytes and files outside the knowledge base (through a symbolic
link) are refused with a clear problem.
"""

import functools
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePath, PurePosixPath
from typing import TYPE_CHECKING, Any, TypedDict, cast

import yaml

from kb.errors import NotAKnowledgeBase, Problem
from kb.records.vocabularies import control_character_message

if TYPE_CHECKING:
    from kb.records.parsed import ParsedRecords

try:  # LibYAML's parser is several times faster; the pure-Python one gives the same events.
    from yaml import CBaseLoader as _Loader
except ImportError:  # pragma: no cover - depends on how PyYAML was built
    from yaml import BaseLoader as _Loader  # type: ignore[assignment]

# Folder (relative to the root) → kind of record; the longest matching folder wins.
RECORD_FOLDERS: dict[tuple[str, ...], str] = {
    ("evidence", "sources"): "source",
    ("evidence", "studies"): "study",
    ("evidence", "examples"): "example",
    ("evidence", "figures"): "figure",
    ("recommendations", "themes"): "theme",
    ("recommendations",): "recommendation",
    ("removed",): "removal",  # tombstones of removed records (``kb rm``)
}
FieldPath = tuple[str | int, ...]


@dataclass
class RecordFile:
    """One record as read from disk: its kind, parsed data and the line of every value."""

    path: str
    kind: str
    data: dict[str, Any]
    lines: dict[FieldPath, int] = field(default_factory=dict)
    digest: bytes = b""  # of the bytes it was read from (``file_digest``); empty when made up

    @property
    def record_id(self) -> str:
        """The record's ID as written, for messages; the file's name when it has none to show."""
        value = self.data.get("id")
        if isinstance(value, str) and value and value.isprintable():
            return value
        return Path(self.path).stem

    def line_of(self, location: FieldPath) -> int:
        """Line of the value at ``location``, or of its nearest enclosing value."""
        for end in range(len(location), -1, -1):
            line = self.lines.get(tuple(location[:end]))
            if line is not None:
                return line
        return 1


class ReadLimits(TypedDict):
    """The size caps records are read with (``kb.records.read.read_limits``)."""

    max_file_bytes: int
    max_field_chars: int


class YamlRefused(Exception):
    """A YAML feature or mistake that records must not contain."""

    def __init__(self, message: str, line: int, field_path: FieldPath = ()):
        super().__init__(message)
        self.line = line
        self.field_path = field_path


_SCALAR = yaml.ScalarEvent
_MAPPING_START, _MAPPING_END = yaml.MappingStartEvent, yaml.MappingEndEvent
_SEQUENCE_START, _SEQUENCE_END = yaml.SequenceStartEvent, yaml.SequenceEndEvent
_NULLS = frozenset(("", "~", "null", "Null", "NULL"))
# Records nest at most four deep (study → findings → finding → location); anything far deeper
# is an attack on the parser, whose memory would grow with the square of the depth.
MAX_DEPTH = 12
# Largest source text (the full text quotes are checked against) that is read.
MAX_TEXT_BYTES = 64 * 1024 * 1024


def shown(text: str) -> str:
    """``text`` as it can be printed in a one-line message: escaped unless plainly printable."""
    return text if text.isprintable() else ascii(text)[1:-1]


def _refuse_node(
    event: yaml.ScalarEvent | yaml.CollectionStartEvent, line: int, path: FieldPath
) -> None:
    """Refuse a value that carries an anchor or an explicit tag (which may hold escapes)."""
    if event.anchor is not None:
        raise YamlRefused(f"anchors (&{event.anchor}) are not allowed in records", line, path)
    raise YamlRefused(f"tags ({shown(event.tag or '')}) are not allowed in records", line, path)


def parse_yaml(text: str) -> tuple[Any, dict[FieldPath, int]]:
    """Parse one YAML document into plain data and a map from field path to line number."""
    lines: dict[FieldPath, int] = {}
    events = yaml.parse(text, Loader=_Loader)
    stack: list[tuple[Any, FieldPath, list[Any]]] = []  # (container, path, [pending key])
    root: Any = None
    documents = 0

    def attach(value: Any, line: int) -> FieldPath:
        nonlocal root
        if not stack:
            root = value
            lines[()] = line
            return ()
        container, path, pending = stack[-1]
        if isinstance(container, list):
            item_path = (*path, len(container))
            container.append(value)
            lines[item_path] = line
            return item_path
        if not pending:
            if not isinstance(value, str):
                raise YamlRefused("mapping keys must be plain text", line, path)
            if not value.isprintable():  # a field name is printed in messages, on one line
                raise YamlRefused(
                    f"field name '{shown(value)}' is not plain text on one line", line, path
                )
            if value in container:
                raise YamlRefused(f"duplicate key '{value}'", line, (*path, value))
            pending.append(value)
            return path
        key = pending.pop()
        container[key] = value
        lines[(*path, key)] = line
        return (*path, key)

    def current_path() -> FieldPath:
        if not stack:
            return ()
        container, path, pending = stack[-1]
        if isinstance(container, list):
            return (*path, len(container))
        return (*path, *pending)

    try:
        for event in events:
            # Dispatch on the exact class: this loop runs once per value of every record.
            kind = type(event)
            if kind is _SCALAR:
                # The exact-class test above narrows nothing for mypy: cast costs no more.
                scalar = cast(yaml.ScalarEvent, event)
                line = scalar.start_mark.line + 1 if scalar.start_mark else 1
                if scalar.anchor is not None or scalar.tag is not None:
                    _refuse_node(scalar, line, current_path())
                value: Any = scalar.value
                style = scalar.style  # None (pure-Python parser) or "" (LibYAML) when plain
                if not style and value in _NULLS:
                    value = None
                elif style == '"':  # only escapes in double quotes can write a control character
                    problem = control_character_message(value)
                    if problem:
                        raise YamlRefused(problem, line, current_path())
                if stack:  # the common cases of ``attach``, inlined
                    container, path, pending = stack[-1]
                    if pending:
                        key = pending.pop()
                        container[key] = value
                        lines[(*path, key)] = line
                        continue
                    if type(container) is list:
                        lines[(*path, len(container))] = line
                        container.append(value)
                        continue
                    if type(value) is str and value.isprintable() and value not in container:
                        pending.append(value)  # a plain, new key: the value follows
                        continue
                attach(value, line)
            elif kind is _MAPPING_START or kind is _SEQUENCE_START:
                start = cast(yaml.CollectionStartEvent, event)
                line = start.start_mark.line + 1 if start.start_mark else 1
                if start.anchor is not None or start.tag is not None:
                    _refuse_node(start, line, current_path())
                if len(stack) >= MAX_DEPTH:
                    raise YamlRefused(
                        f"values nest more than {MAX_DEPTH} levels deep", line, current_path()
                    )
                container = {} if kind is _MAPPING_START else []
                path = attach(container, line)
                stack.append((container, path, []))
            elif kind is _MAPPING_END or kind is _SEQUENCE_END:
                stack.pop()
            elif kind is yaml.AliasEvent:
                raise YamlRefused(
                    "aliases (*name) are not allowed in records",
                    event.start_mark.line + 1 if event.start_mark else 1,
                    current_path(),
                )
            elif kind is yaml.DocumentStartEvent:
                documents += 1
                if documents > 1:
                    line = event.start_mark.line + 1 if event.start_mark else 1
                    raise YamlRefused("a record file holds one YAML document", line)
    except yaml.reader.ReaderError as error:  # a character YAML does not allow, with no mark
        line = text.count("\n", 0, error.position) + 1
        raise YamlRefused(
            f"not valid YAML: character U+{error.character:04X} is not allowed ({error.reason})",
            line,
        ) from None
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        context = error.context or ""
        if error.context_mark and error.problem_mark and context:
            context += f" (line {error.context_mark.line + 1})"
        message = " ".join(part for part in (context, error.problem) if part)
        raise YamlRefused(f"not valid YAML: {message}", mark.line + 1 if mark else 1) from None
    except yaml.YAMLError as error:
        raise YamlRefused(f"not valid YAML: {error}", 1) from None
    return root, lines


def record_kind(relative: PurePath) -> str | None:
    """Kind of record a file holds, from the folder it is in."""
    folders = relative.parts[:-1]
    for length in range(len(folders), 0, -1):
        kind = RECORD_FOLDERS.get(tuple(folders[:length]))
        if kind:
            return kind
    return None


def record_paths(root: Path) -> Iterator[Path]:
    """Every record file below ``root``'s record folders, in a stable order."""
    for top in sorted({folders[0] for folders in RECORD_FOLDERS}):
        folder = root / top
        if folder.is_dir():
            for path in sorted(folder.rglob("*")):
                if path.suffix in (".yaml", ".yml") and path.is_file():
                    yield path


def load_order(path: str) -> tuple[str, ...]:
    """Sort key that puts record files, named from the root, in the order ``record_paths``
    yields them (and ``kb check`` reads them): folder by folder, not character by character."""
    return PurePosixPath(path).parts


def read_record(
    root: Path,
    path: Path,
    max_file_bytes: int,
    max_field_chars: int,
    *,
    parsed: "ParsedRecords | None" = None,
) -> tuple[RecordFile | None, list[Problem]]:
    """Read one record file; return it, or the problems that stopped it from being read.

    With ``parsed``, bytes parsed by an earlier build are not parsed again."""
    relative = path.relative_to(root)
    name = relative.as_posix()
    stem = path.stem

    def refuse(message: str, line: int = 1, field_name: str = "-") -> tuple[None, list[Problem]]:
        return None, [Problem(name, line, stem, field_name, message)]

    if not name.isprintable():  # shown escaped, so it can neither break a line nor a terminal
        name, stem = shown(name), shown(stem)
        return refuse("file name is not plain text on one line; rename the file")

    kind = record_kind(relative)
    if kind is None:
        return refuse(
            "not in a record folder ("
            + ", ".join(sorted("/".join(folders) + "/" for folders in RECORD_FOLDERS))
            + ")"
        )
    if path.suffix != ".yaml":
        return refuse("record files end in .yaml")
    try:
        raw = read_inside(root, path, max_file_bytes)
    except FileRefused as refused:
        return refuse(f"file {refused}")
    if parsed is not None:
        return parsed.parse_record(name, kind, raw)
    return parse_record(name, kind, raw, max_file_bytes, max_field_chars)


def parse_record(
    name: str, kind: str, raw: bytes, max_file_bytes: int, max_field_chars: int
) -> tuple[RecordFile | None, list[Problem]]:
    """Read one record from the bytes of its file, named ``name`` from the root.

    A command that writes a record (``kb add``, ``kb import``, ``kb fmt``) can pass it the
    bytes it is about to write, to refuse what ``kb check`` would refuse, in the same words.
    """
    stem = PurePosixPath(name).stem

    def refuse(message: str, line: int = 1, field_name: str = "-") -> tuple[None, list[Problem]]:
        return None, [Problem(name, line, stem, field_name, message)]

    if len(raw) > max_file_bytes:
        return refuse(f"file is {len(raw):,} bytes; the limit is {max_file_bytes:,}")
    if b"\x00" in raw:
        return refuse("file contains a NUL byte; records are UTF-8 text")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        byte, line = undecodable_byte(raw, error)
        return refuse(f"not UTF-8: {byte} cannot be decoded", line)
    try:
        data, lines = parse_yaml(text)
    except YamlRefused as refused:
        return refuse(str(refused), refused.line, format_field(refused.field_path))
    if data is None:
        return refuse("file is empty")
    if not isinstance(data, dict):
        return refuse("a record file holds one mapping of field: value")
    record = RecordFile(name, kind, data, lines, file_digest(raw))
    if len(text) <= max_field_chars:  # no value is longer than the text it is written in
        return record, []
    problems = [
        Problem(
            name,
            record.line_of(location),
            record.record_id,
            format_field(location),
            f"text is {length:,} characters; the limit is {max_field_chars:,}",
        )
        for location, length in _long_strings(data, ())
        if length > max_field_chars
    ]
    return (None if problems else record), problems


def file_digest(raw: bytes) -> bytes:
    """A digest of a record file's bytes: equal digests, the same record and lines."""
    return hashlib.blake2b(raw, digest_size=16).digest()


class FileRefused(Exception):
    """A file that the knowledge base will not read: outside it, too large, or unreadable."""


@functools.lru_cache(maxsize=8)
def _real_path(root: Path) -> Path:
    """``root`` with every symbolic link followed, worked out once per knowledge base."""
    return root.resolve()


def read_inside(root: Path, path: Path, max_bytes: int) -> bytes:
    """The bytes of ``path``, which must lie inside ``root`` once symbolic links are followed.

    Raises ``FileRefused``, saying what is wrong in words that follow the file's name, when it
    lies outside (a link in a pull request could otherwise publish any file of the machine that
    builds the site), is over ``max_bytes``, or cannot be read. Reads at most ``max_bytes + 1``
    bytes, whatever size the file claims.
    """
    try:
        real = path.resolve(strict=True)
        if not real.is_relative_to(_real_path(root)):
            raise FileRefused("is a link to a file outside the knowledge base")
        with open(real, "rb") as opened:
            raw = opened.read(max_bytes + 1)
    except OSError as error:
        raise FileRefused(f"cannot be read: {error.strerror or error}") from None
    if len(raw) > max_bytes:
        size = max(real.stat().st_size, len(raw))
        raise FileRefused(f"is {size:,} bytes; the limit is {max_bytes:,}")
    return raw


def read_text_file(root: Path, relative: str) -> str:
    """A source's full text, named by a path from ``root``: UTF-8, inside ``root``, capped.

    Raises ``FileRefused`` with a message that names the file.
    """
    path = root / relative
    if not path.is_file():
        raise FileRefused(f"file {relative} does not exist")
    try:
        raw = read_inside(root, path, MAX_TEXT_BYTES)
        return raw.decode("utf-8-sig")
    except FileRefused as refused:
        raise FileRefused(f"file {relative} {refused}") from None
    except UnicodeDecodeError as error:
        byte, line = undecodable_byte(raw, error)
        raise FileRefused(
            f"file {relative} is not UTF-8: {byte} on line {line} cannot be decoded"
        ) from None


def undecodable_byte(raw: bytes, error: UnicodeDecodeError) -> tuple[str, int]:
    """The byte that is not UTF-8, as ``byte 0x..``, and the line it is on (from 1)."""
    return f"byte 0x{raw[error.start]:02x}", raw[: error.start].count(b"\n") + 1


def _long_strings(value: Any, location: FieldPath) -> Iterator[tuple[FieldPath, int]]:
    if isinstance(value, str):
        yield location, len(value)
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _long_strings(item, (*location, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _long_strings(item, (*location, index))


def format_field(location: FieldPath) -> str:
    """Field path as people write it: ``findings[2].quote``."""
    text = ""
    for part in location:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text or "-"


def load_records(
    root: Path, max_file_bytes: int, max_field_chars: int, *, parsed: "ParsedRecords | None" = None
) -> tuple[list[RecordFile], list[Problem]]:
    """Read every record file below ``root``; return the readable ones and all problems.

    With ``parsed`` (``kb.records.parsed``), a file whose bytes an earlier build parsed is not
    parsed again, and what is parsed is kept for the next."""
    if not (root / "recommendations").is_dir() and not (root / "evidence").is_dir():
        raise NotAKnowledgeBase(
            f"{root} has no recommendations/ or evidence/ folder; run kb in a knowledge base "
            "(or a folder inside one), or name one with --root"
        )
    records: list[RecordFile] = []
    problems: list[Problem] = []
    for path in record_paths(root):
        record, found = read_record(root, path, max_file_bytes, max_field_chars, parsed=parsed)
        problems.extend(found)
        if record is not None:
            records.append(record)
    return records, problems
