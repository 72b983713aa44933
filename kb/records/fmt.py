"""Rewrite record files in the canonical style (``kb.records.dump``), or list those that differ.

A file is rewritten only when it is a valid record: its data is read, checked against its
model and dumped again, so formatting never changes a value. A file with YAML comments is
left alone and reported, because the canonical style has no place for them (use ``note:``).
"""

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from kb.errors import KnowledgeBaseError
from kb.files import repository_lock, write_text
from kb.records.load import read_record, record_kind, record_paths
from kb.records.models import RECORD_MODELS
from kb.records.write import record_text
from kb.settings import number_setting


@dataclass(frozen=True)
class Formatted:
    """One file's outcome: ``unchanged``, ``changed`` (or would be), or ``refused`` and why."""

    path: str
    status: str
    reason: str = ""


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def has_comment(text: str, data: Any) -> bool:
    """True when the file has a ``#`` that is in no value, so in a comment."""
    return "#" in text and not any("#" in value for value in _strings(data))


def format_file(root: Path, path: Path, check: bool) -> Formatted:
    """Compare one record file with its canonical form and, unless ``check``, rewrite it."""
    name = path.relative_to(root).as_posix()
    record, problems = read_record(
        root,
        path,
        max_file_bytes=number_setting("max_file_bytes"),
        max_field_chars=number_setting("max_field_chars"),
    )
    if record is None:
        return Formatted(name, "refused", problems[0].message if problems else "unreadable")
    try:
        model = RECORD_MODELS[record.kind].model_validate(record.data)
    except ValidationError:
        return Formatted(name, "refused", "not a valid record; run `kb check`")
    current = path.read_bytes()
    canonical, refusals = record_text(path, model)
    if refusals:  # e.g. folding made the file longer than the size cap
        return Formatted(name, "refused", f"kb check would refuse it formatted: {refusals[0]}")
    if current == canonical.encode("utf-8"):
        return Formatted(name, "unchanged")
    if has_comment(current.decode("utf-8-sig"), record.data):
        return Formatted(name, "refused", "has YAML comments, which formatting would drop")
    if not check:
        write_text(path, canonical)
    return Formatted(name, "changed")


def record_files(root: Path, given: Iterable[Path]) -> list[Path]:
    """The record files named (folders searched), or every record file when none is named."""
    given = [Path(path).resolve() for path in given]
    if not given:
        return list(record_paths(root))
    files: list[Path] = []
    for path in given:
        if not path.is_relative_to(root):
            raise KnowledgeBaseError(f"{path} is not inside the knowledge base {root}")
        found = sorted(path.rglob("*.yaml")) if path.is_dir() else [path]
        files.extend(file for file in found if record_kind(file.relative_to(root)))
    return list(dict.fromkeys(files))


def format_records(root: Path, given: Iterable[Path] = (), check: bool = False) -> list[Formatted]:
    """Format the named record files (all by default); with ``check`` write nothing."""
    files = record_files(root, given)
    if check:
        return [format_file(root, path, check) for path in files]
    with repository_lock(root):
        return [format_file(root, path, check) for path in files]
