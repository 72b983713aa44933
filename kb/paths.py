"""Where a knowledge base keeps its records and what is built from them, and whether the
store built there is still current with the records.

Plain Python (no SQLModel, no pipeline), so that every command finds its knowledge base, and
`kb search` can tell that nothing needs rebuilding, for the cost of a few file reads.
``kb.pipeline`` rebuilds what is out of date.
"""

import math
import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from kb.settings import resolve_path, setting_source, setting_value

# A folder holding either of these is a knowledge base's root.
KNOWLEDGE_BASE_FOLDERS = ("recommendations", "evidence")
# The fingerprint of this kb's tables (``kb.store.database.schema_fingerprint``), which a store
# keeps in its ``user_version``; written out so that telling whether a store is current does not
# load SQLModel to work it out. A test fails, naming the new value, when the tables change; until it
# is updated, every store looks out of date and is rebuilt, never misread.
STORE_SCHEMA = 1379271895


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
        """The paths of the knowledge base at ``root``, else ``KB_ROOT``, else the one the
        current folder is in (``find_root``); the database and index as their settings say."""
        given = None if root is None else str(root)
        if setting_source("root", given) is None:
            folder = find_root(Path.cwd().resolve())
        else:
            folder = Path(setting_value("root", given)).resolve()
        return cls(
            folder, resolve_path(folder, "database", database), resolve_path(folder, "index", index)
        )


def history_cache(paths: Paths) -> Path:
    """Where the history of the records is cached, commit by commit (``kb.history.log``):
    beside the store."""
    return paths.database.parent / "history"


def staging_folder(paths: Paths) -> Path:
    """Where the site's pages are staged for MkDocs: the generated ones with the hand-written
    ones (``kb.render.render_site``); each other language's beside it (``build/docs-cy``)."""
    return paths.root / "build" / "docs"


def find_root(start: Path) -> Path:
    """The knowledge base ``start`` is in, found as git finds a repository: ``start`` or the
    nearest folder above it that holds ``recommendations/`` or ``evidence/``; ``start`` itself
    when none does (reading it then says that it is not a knowledge base)."""
    for folder in (start, *start.parents):
        if any((folder / name).is_dir() for name in KNOWLEDGE_BASE_FOLDERS):
            return folder
    return start


def changing_marker(path: Path) -> Path:
    """The file that marks the store at ``path`` as being changed in place
    (``kb.store.database.updating``)."""
    return path.with_name(f"{path.name}.changing")


def schema_is_current(path: Path) -> bool:
    """Whether the store at ``path`` was built with the tables of this ``kb``."""
    try:
        connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            (found,) = connection.execute("PRAGMA user_version").fetchone()
        finally:
            connection.close()
    except sqlite3.Error:
        return False
    return bool(found == STORE_SCHEMA)


def store_is_current(paths: Paths) -> bool:
    """True when the store exists, was built with this ``kb``'s tables, is not half-way
    through a change in place, and no record, folder or source text changed since."""
    if not paths.database.is_file() or changing_marker(paths.database).exists():
        return False
    if not schema_is_current(paths.database):
        return False
    built = paths.database.stat().st_mtime
    folders = [paths.root / name for name in ("recommendations", "evidence", "removed")]
    return all(_last_change(folder) <= built for folder in folders if folder.is_dir())


def _last_change(folder: Path) -> float:
    """The latest modification time of ``folder`` and of everything below it.

    Links are not followed (a dangling link is a change to look at, not a crash: the build
    reports it), nor folders that links point to. A folder that cannot be read counts as
    changed now. One ``scandir`` per folder: this runs before every ``kb add``.
    """
    latest = folder.lstat().st_mtime
    folders = [str(folder)]
    try:
        while folders:
            with os.scandir(folders.pop()) as entries:
                for entry in entries:
                    latest = max(latest, entry.stat(follow_symlinks=False).st_mtime)
                    if entry.is_dir(follow_symlinks=False):
                        folders.append(entry.path)
    except OSError:
        return math.inf
    return latest
