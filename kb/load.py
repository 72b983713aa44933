"""Read record files from disk: the only YAML reader, which keeps each value's file and line.

YAML is parsed into plain dicts, lists and strings (no YAML 1.1 guessing: ``no`` stays the
string "no" and the schema decides types). Anchors, aliases, explicit tags, duplicate keys,
files over the size cap, invalid UTF-8 and NUL bytes are refused with a clear problem.
"""

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from kb.errors import NotAKnowledgeBase, Problem

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
}
FieldPath = tuple[str | int, ...]


@dataclass
class RecordFile:
    """One record as read from disk: its kind, parsed data and the line of every value."""

    path: str
    kind: str
    data: dict[str, Any]
    lines: dict[FieldPath, int] = field(default_factory=dict)

    @property
    def record_id(self) -> str:
        value = self.data.get("id")
        return value if isinstance(value, str) and value else Path(self.path).stem

    def line_of(self, location: FieldPath) -> int:
        """Line of the value at ``location``, or of its nearest enclosing value."""
        for end in range(len(location), -1, -1):
            line = self.lines.get(tuple(location[:end]))
            if line is not None:
                return line
        return 1


class YamlRefused(Exception):
    """A YAML feature or mistake that records must not contain."""

    def __init__(self, message: str, line: int, field_path: FieldPath = ()):
        super().__init__(message)
        self.line = line
        self.field_path = field_path


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
            line = event.start_mark.line + 1 if event.start_mark else 1
            if isinstance(event, yaml.AliasEvent):
                raise YamlRefused(
                    "aliases (*name) are not allowed in records", line, current_path()
                )
            anchor = getattr(event, "anchor", None)
            if anchor is not None:
                raise YamlRefused(
                    f"anchors (&{anchor}) are not allowed in records", line, current_path()
                )
            tag = getattr(event, "tag", None)
            if tag is not None:
                raise YamlRefused(f"tags ({tag}) are not allowed in records", line, current_path())
            if isinstance(event, yaml.DocumentStartEvent):
                documents += 1
                if documents > 1:
                    raise YamlRefused("a record file holds one YAML document", line)
            elif isinstance(event, yaml.ScalarEvent):
                value: Any = event.value
                if event.style is None and value in ("", "~", "null", "Null", "NULL"):
                    value = None
                attach(value, line)
            elif isinstance(event, yaml.MappingStartEvent | yaml.SequenceStartEvent):
                container: Any = {} if isinstance(event, yaml.MappingStartEvent) else []
                path = attach(container, line)
                stack.append((container, path, []))
            elif isinstance(event, yaml.MappingEndEvent | yaml.SequenceEndEvent):
                stack.pop()
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


def record_kind(relative: Path) -> str | None:
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


def read_record(
    root: Path, path: Path, max_file_bytes: int, max_field_chars: int
) -> tuple[RecordFile | None, list[Problem]]:
    """Read one record file; return it, or the problems that stopped it from being read."""
    relative = path.relative_to(root)
    name = relative.as_posix()
    stem = path.stem

    def refuse(message: str, line: int = 1, field_name: str = "-") -> tuple[None, list[Problem]]:
        return None, [Problem(name, line, stem, field_name, message)]

    kind = record_kind(relative)
    if kind is None:
        return refuse(
            "not in a record folder ("
            + ", ".join(sorted("/".join(folders) + "/" for folders in RECORD_FOLDERS))
            + ")"
        )
    if path.suffix != ".yaml":
        return refuse("record files end in .yaml")
    size = path.stat().st_size
    if size > max_file_bytes:
        return refuse(f"file is {size:,} bytes; the limit is {max_file_bytes:,}")
    raw = path.read_bytes()
    if b"\x00" in raw:
        return refuse("file contains a NUL byte; records are UTF-8 text")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        return refuse(f"not UTF-8: byte 0x{raw[error.start]:02x} cannot be decoded", line)
    try:
        data, lines = parse_yaml(text)
    except YamlRefused as refused:
        field_name = ".".join(map(str, refused.field_path)) or "-"
        return refuse(str(refused), refused.line, field_name)
    if data is None:
        return refuse("file is empty")
    if not isinstance(data, dict):
        return refuse("a record file holds one mapping of field: value")
    record = RecordFile(name, kind, data, lines)
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
    root: Path, max_file_bytes: int, max_field_chars: int
) -> tuple[list[RecordFile], list[Problem]]:
    """Read every record file below ``root``; return the readable ones and all problems."""
    if not (root / "recommendations").is_dir() and not (root / "evidence").is_dir():
        raise NotAKnowledgeBase(
            f"{root} has no recommendations/ or evidence/ folder; run kb in a knowledge base "
            "or name one with --root"
        )
    records: list[RecordFile] = []
    problems: list[Problem] = []
    for path in record_paths(root):
        record, found = read_record(root, path, max_file_bytes, max_field_chars)
        problems.extend(found)
        if record is not None:
            records.append(record)
    return records, problems
