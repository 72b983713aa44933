"""Write record files safely: one writer at a time, atomically, in the canonical style.

Every command that changes records holds the repository lock (``fcntl.flock`` on
``<root>/.kb.lock``) from reading the records to writing them, so two ``kb add`` or
``kb import`` processes run one after the other and neither loses the other's work. Each file
is written to a temporary file in the same folder, flushed to disk and renamed over the
record (``store.write_atomically``), so a reader sees the old record or the new one, never
half of one.
"""

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from kb.dump import dump_record
from kb.errors import RecordExists
from kb.load import RECORD_FOLDERS
from kb.models import Record
from kb.store import write_atomically

LOCK_NAME = ".kb.lock"
_FOLDER_OF = {kind: Path(*folders) for folders, kind in RECORD_FOLDERS.items()}


@contextmanager
def repository_lock(root: Path) -> Iterator[None]:
    """Hold the knowledge base's write lock; other writers wait until it is released."""
    with open(root / LOCK_NAME, "a") as lock_file:
        fcntl.flock(lock_file.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock_file.fileno(), fcntl.LOCK_UN)


def record_path(root: Path, kind: str, record_id: str) -> Path:
    """Where the record of ``kind`` with ``record_id`` lives: ``evidence/studies/ID.yaml``."""
    return root / _FOLDER_OF[kind] / f"{record_id}.yaml"


def write_text(path: Path, text: str) -> None:
    """Replace ``path`` with ``text`` atomically (temporary file, fsync, rename)."""
    write_atomically(path, lambda temporary: temporary.write_text(text, encoding="utf-8"))


def write_record(path: Path, record: Record, force: bool = False) -> None:
    """Write ``record`` to ``path`` in the canonical style; refuse to replace a file unless
    ``force``."""
    if path.exists() and not force:
        raise RecordExists(f"{path.name} already exists; use --force to replace it")
    write_text(path, dump_record(record))
