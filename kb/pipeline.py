"""The data flow, one step after another: records → validation → SQLite → graph → index → pages.

Each function here runs the steps up to the one it names, so any command can start from the
records on disk and rebuild whatever it needs.
"""

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import Engine

from kb import store
from kb.errors import Problem, RecordsInvalid
from kb.load import load_records
from kb.settings import resolve_path, setting_value
from kb.validate import KnowledgeBase, validate_records


@dataclass(frozen=True)
class Paths:
    """Where one knowledge base keeps its records and its built artefacts."""

    root: Path
    database: Path
    index: Path

    @classmethod
    def for_root(
        cls, root: str | Path | None = None, database: str | None = None, index: str | None = None
    ) -> "Paths":
        folder = Path(setting_value("root", None if root is None else str(root))).resolve()
        return cls(
            folder, resolve_path(folder, "database", database), resolve_path(folder, "index", index)
        )


def check(paths: Paths) -> tuple[KnowledgeBase, list[Problem]]:
    """Load and validate every record; return the knowledge base and all problems found."""
    records, problems = load_records(
        paths.root,
        max_file_bytes=int(setting_value("max_file_bytes")),
        max_field_chars=int(setting_value("max_field_chars")),
    )
    knowledge_base, found = validate_records(paths.root, records)
    return knowledge_base, sorted(problems + found)


def checked(paths: Paths) -> tuple[KnowledgeBase, list[Problem]]:
    """Like ``check``, but raise ``RecordsInvalid`` when any problem is an error."""
    knowledge_base, problems = check(paths)
    if any(problem.severity == "error" for problem in problems):
        raise RecordsInvalid(problems)
    return knowledge_base, problems


def build_db(paths: Paths) -> tuple[dict[str, int], list[Problem]]:
    """Validate the records and write the SQLite store; return row counts and warnings."""
    knowledge_base, warnings = checked(paths)
    return store.build_db(knowledge_base, paths.database), warnings


def store_is_current(paths: Paths) -> bool:
    """True when the store exists and no record, folder or source text changed since."""
    if not paths.database.is_file():
        return False
    built = paths.database.stat().st_mtime
    folders = [paths.root / name for name in ("recommendations", "evidence")]
    watched = [
        path for folder in folders if folder.is_dir() for path in (folder, *folder.rglob("*"))
    ]
    return all(path.stat().st_mtime <= built for path in watched)


def current_store(paths: Paths) -> Engine:
    """The store, rebuilt first if the records changed since it was built."""
    if not store_is_current(paths):
        build_db(paths)
    return store.open_store(paths.database)
