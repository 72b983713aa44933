"""A change to the records as a list of file changes, shown before it is made and then made.

``kb edit``, ``kb rm`` and ``kb mv`` each work out every file their change touches, as a
``FileChange``: a record file changed, renamed, created or deleted (or a held text renamed or
deleted), with the text it will hold and, field by field, what differs (``field_changes``). A
dry run prints them and stops. Otherwise ``Plan.apply`` writes them: each file atomically
(``kb.files.write_text``), new files first, then changed ones, deletions last, so that at
every moment each reference resolves; if anything fails, every file already written is put back.

The text of each record is made as ``kb add`` makes it (``kb.records.write.record_text``) and read
back exactly as ``kb check`` reads a file, so the records checked are the bytes to be written.
A record file with YAML comments is refused: rewriting it would drop them.

Imports the load, dump, write, validate and changing modules; never the CLI.
"""

import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kb.edits.changing import OnDisk
from kb.errors import ChangeRefused, Problem
from kb.files import write_atomically
from kb.records.dump import record_data
from kb.records.fmt import has_comment
from kb.records.load import RECORD_FOLDERS, FieldPath, RecordFile, format_field, parse_record
from kb.records.models import RECORD_MODELS, Record
from kb.records.read import read_limits
from kb.records.validate import validate_records
from kb.records.write import record_text

ACTIONS = ("create", "rename", "change", "delete")
_PAST = {"create": "created", "rename": "renamed", "change": "changed", "delete": "deleted"}
_FOLDER_OF = {kind: "/".join(folders) for folders, kind in RECORD_FOLDERS.items()}


@dataclass(frozen=True)
class FieldChange:
    """One value that differs: where (``findings[0].strength``), before and after (None for
    a value added or removed)."""

    field: str
    old: Any
    new: Any

    def as_dict(self) -> dict[str, Any]:
        return {"field": self.field, "old": self.old, "new": self.new}


@dataclass
class FileChange:
    """What happens to one file: its ``action`` (``ACTIONS``), its path from the root (before
    the change), the path it moves to, what differs field by field, and the text it will hold
    (None for a deletion; a held text that is renamed keeps its bytes)."""

    action: str
    path: str
    to: str | None = None
    fields: list[FieldChange] = field(default_factory=list)
    content: str | bytes | None = None
    reformatted: bool = False  # the file was not in the canonical style, and will be

    @property
    def target(self) -> str:
        """The file's path after the change."""
        return self.to or self.path

    def as_dict(self) -> dict[str, Any]:
        moved = {"to": self.to} if self.to else {}
        return {
            "action": self.action,
            "file": self.path,
            **moved,
            "fields": [change.as_dict() for change in self.fields],
            "reformatted": self.reformatted,
        }


@dataclass
class Plan:
    """Every file a change touches, in the order they are shown; the warnings ``kb check``
    would give after it that it does not give now; and notes on what it leaves alone."""

    files: list[FileChange]
    warnings: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # what a reviewer may want to change by hand

    def counts(self) -> dict[str, int]:
        """How many files each action touches, in ``ACTIONS`` order, leaving out none."""
        return {
            action: count
            for action in ACTIONS
            if (count := sum(change.action == action for change in self.files))
        }

    def apply(self, root: Path) -> list[str]:
        """Make the change: new and renamed files first, then changed ones, deletions last,
        each atomically; if any step fails, put back every file already written. Returns
        the paths written and deleted."""
        order = {"create": 0, "rename": 0, "change": 1, "delete": 2}
        done: list[tuple[Path, bytes | None]] = []  # each path touched, and what it held
        try:
            for change in sorted(self.files, key=lambda change: order[change.action]):
                if change.action != "delete":
                    _write(root / change.target, change.content, done)
            for change in self.files:
                if change.action == "rename":
                    _delete(root / change.path, done)
            for change in self.files:
                if change.action == "delete":
                    _delete(root / change.path, done)
        except BaseException:
            for path, previous in reversed(done):
                if previous is None:
                    path.unlink(missing_ok=True)
                else:
                    _put(path, previous)
            raise
        return [path.relative_to(root).as_posix() for path, _ in done]

    def as_dict(self) -> dict[str, Any]:
        return {
            "changes": [change.as_dict() for change in self.files],
            "warnings": [str(problem) for problem in self.warnings],
            "notes": self.notes,
        }


def past_tense(action: str) -> str:
    """``change`` → ``changed``."""
    return _PAST[action]


def _put(path: Path, content: str | bytes) -> None:
    """Replace ``path`` with ``content`` atomically (temporary file, fsync, rename)."""
    raw = content.encode("utf-8") if isinstance(content, str) else content
    write_atomically(path, lambda temporary: temporary.write_bytes(raw))


def _write(path: Path, content: str | bytes | None, done: list[tuple[Path, bytes | None]]) -> None:
    assert content is not None
    previous = path.read_bytes() if path.exists() else None
    done.append((path, previous))
    _put(path, content)


def _delete(path: Path, done: list[tuple[Path, bytes | None]]) -> None:
    previous = path.read_bytes()
    done.append((path, previous))
    path.unlink()


# --- Records as they will be written --------------------------------------------------------


def record_file_path(kind: str, record_id: str) -> str:
    """Where a record of ``kind`` with ``record_id`` lives, from the root."""
    return f"{_FOLDER_OF[kind]}/{record_id}.yaml"


def as_written(root: Path, path: str, kind: str, record: Record) -> tuple[str, RecordFile]:
    """The text ``record`` is written as at ``path``, and that text read back as ``kb check``
    reads it (with the line of every value); ``ChangeRefused`` for what it would refuse."""
    text, problems = record_text(root / path, record)
    if problems:
        raise ChangeRefused(f"nothing was written: {path}: {'; '.join(problems)}")
    read, _ = parse_record(path, kind, text.encode("utf-8"), **read_limits())
    assert read is not None  # record_text found no problem reading it
    return text, read


def rewritten(
    root: Path, old: RecordFile, record: Record, to: str | None = None
) -> tuple[FileChange, RecordFile]:
    """The change of a record file ``old`` to hold ``record`` (at ``to``, when it moves), and
    ``record`` as written. Refuses a file whose YAML comments rewriting would drop."""
    current = (root / old.path).read_bytes()
    if has_comment(current.decode("utf-8-sig"), old.data):
        raise ChangeRefused(
            f"nothing was written: {old.path} has YAML comments, which rewriting it would "
            "drop; move them into `note:` and run again"
        )
    text, read = as_written(root, to or old.path, old.kind, record)
    before = _model_data(old)
    change = FileChange(
        "rename" if to else "change",
        old.path,
        to,
        field_changes(before, record_data(record)),
        text,
        reformatted=current != _canonical(root, old),
    )
    return change, read


def _model_data(record: RecordFile) -> dict[str, Any]:
    return record_data(RECORD_MODELS[record.kind].model_validate(record.data))


def _canonical(root: Path, record: RecordFile) -> bytes:
    model = RECORD_MODELS[record.kind].model_validate(record.data)
    text, _ = record_text(root / record.path, model)
    return text.encode("utf-8")


# --- What differs, field by field ------------------------------------------------------------


def field_changes(old: Any, new: Any, where: FieldPath = ()) -> list[FieldChange]:
    """Every value that differs between two records' data, by field path.

    Mappings are compared key by key. Lists of evidence links (items with an ``id``) are
    compared link by link, so removing one does not show the others as changed (a link in
    the same place whose ID is new is the same link, renamed), and GRADE ratings domain by
    domain; other lists item by item when they are as long, else whole.
    """
    return list(_differences(old, new, where))


def _differences(old: Any, new: Any, where: FieldPath) -> Iterator[FieldChange]:
    if old == new:
        return
    if isinstance(old, list) and new is None:  # an empty list is left out of a record
        new = []
    elif old is None and isinstance(new, list):
        old = []
    if isinstance(old, dict) and isinstance(new, dict):
        for key in [*new, *(key for key in old if key not in new)]:
            yield from _differences(old.get(key), new.get(key), (*where, key))
    elif isinstance(old, list) and isinstance(new, list) and _key(old + new):
        key = _key(old + new)
        old_by_key = {item[key]: item for item in old}
        new_keys = {item[key] for item in new}
        paired: set[int] = set()  # old items matched to new ones
        for index, item in enumerate(new):
            before = old_by_key.get(item[key])
            renamed = key == "id" and index < len(old) and old[index]["id"] not in new_keys
            if before is None and renamed:
                before = old[index]  # the same link, its ID renamed
            if before is not None:
                paired.add(id(before))
            yield from _differences(before, item, (*where, index))
        for index, item in enumerate(old):
            if id(item) not in paired:
                yield FieldChange(format_field((*where, index)), item, None)
    elif isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        for index, (before, after) in enumerate(zip(old, new, strict=True)):
            yield from _differences(before, after, (*where, index))
    else:
        yield FieldChange(format_field(where), old, new)


def _key(items: list[Any]) -> str | None:
    """What tells the items of a list apart: evidence links' ``id``, ratings' ``domain``."""
    for key in ("id", "domain"):
        if items and all(isinstance(item, dict) and key in item for item in items):
            return key
    return None


_PLAIN = re.compile(r"[\w./:@+-]+")


def shown_value(value: Any) -> str:
    """A value as a dry run shows it: ``(none)``; an evidence link by its ID; a word as it
    is; other text, lists and mappings as JSON, so spaces and quotes are unambiguous."""
    if value is None:
        return "(none)"
    if isinstance(value, dict) and "id" in value:
        return f"evidence link {value['id']}"
    if isinstance(value, str) and _PLAIN.fullmatch(value):
        return value
    return json.dumps(value, ensure_ascii=False)


# --- Checking a change to several files -------------------------------------------------------


def new_problems(
    state: OnDisk,
    removed: Iterable[str],
    written: Iterable[RecordFile],
    moved: dict[str, str] | None = None,
    renamed_ids: dict[str, str] | None = None,
) -> list[Problem]:
    """The problems (errors and warnings) ``kb check`` would find after a change, and does
    not find now: the records with the files ``removed`` gone and ``written`` in place.

    ``moved`` maps a file's new path to its old one, and ``renamed_ids`` a new ID to the old,
    so that a problem a renamed file had already is not counted as new.
    """
    moved = moved or {}
    renamed_ids = renamed_ids or {}
    written = list(written)
    gone = set(removed) | {record.path for record in written} | set(moved.values())
    records = [record for record in state.records if record.path not in gone] + written
    _, problems = validate_records(state.paths.root, records)

    def key(problem: Problem) -> tuple[str, str, str]:
        message = problem.message
        for new_id, old_id in renamed_ids.items():
            message = message.replace(f"'{new_id}'", f"'{old_id}'")
        return moved.get(problem.path, problem.path), problem.field, message

    before = {(p.path, p.field, p.message) for p in state.problems}
    return [problem for problem in problems if key(problem) not in before]


def refuse_errors(problems: list[Problem]) -> None:
    """Raise ``ChangeRefused`` naming each error among ``problems``: file, field, message."""
    errors = [p for p in problems if p.severity == "error"]
    if errors:
        described = "; ".join(f"{p.path}: {p.field}: {p.message}" for p in errors)
        raise ChangeRefused(f"nothing was written: {described}")


# --- The outcome ------------------------------------------------------------------------------


@dataclass
class Changed:
    """What a command changed, or with ``dry_run`` would change: the plan, the files written
    and deleted, and what was refreshed."""

    plan: Plan
    dry_run: bool
    written: list[str] = field(default_factory=list)
    refreshed: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "dry_run": self.dry_run,
            **self.plan.as_dict(),
            "written": self.written,
            "refreshed": self.refreshed,
        }
