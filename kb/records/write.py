"""Write record files safely: one writer at a time, atomically, in the canonical style.

Every command that changes records holds the repository lock (``fcntl.flock`` on
``<root>/.kb.lock``) from reading the records to writing them, so two ``kb add`` or
``kb import`` processes run one after the other and neither loses the other's work. Each file
is written to a temporary file in the same folder, flushed to disk and renamed over the
record (``kb.files.write_atomically``), so a reader sees the old record or the new one, never
half of one. Before that, the text is read back as ``kb check`` reads a file
(``kb.records.load.parse_record``: the file and field size caps, YAML) and checked against the
schema, so no command writes a record that ``kb check`` then refuses.
"""

from pathlib import Path

from kb.errors import ChangeRefused, RecordExists
from kb.files import write_text
from kb.records.dump import dump_record
from kb.records.load import RECORD_FOLDERS, parse_record
from kb.records.models import RECORD_MODELS, Record
from kb.records.validate import schema_problems
from kb.settings import number_setting

_FOLDER_OF = {kind: Path(*folders) for folders, kind in RECORD_FOLDERS.items()}
_KIND_OF = {model: kind for kind, model in RECORD_MODELS.items()}


def record_path(root: Path, kind: str, record_id: str) -> Path:
    """Where the record of ``kind`` with ``record_id`` lives: ``evidence/studies/ID.yaml``."""
    return root / _FOLDER_OF[kind] / f"{record_id}.yaml"


def record_text(path: Path, record: Record) -> tuple[str, list[str]]:
    """The text ``record`` is written as at ``path``, and what ``kb check`` would refuse in it.

    The problems are those of the file on its own, each as ``field: message``: its bytes read
    back with ``kb.records.load.parse_record``, exactly as ``kb check`` reads them, then the schema.
    """
    text = dump_record(record)
    kind = _KIND_OF[type(record)]
    read, problems = parse_record(
        path.as_posix(),
        kind,
        text.encode("utf-8"),
        max_file_bytes=number_setting("max_file_bytes"),
        max_field_chars=number_setting("max_field_chars"),
    )
    if read is not None:
        problems += schema_problems(read)
    return text, [
        problem.message if problem.field == "-" else f"{problem.field}: {problem.message}"
        for problem in problems
        if problem.severity == "error"
    ]


def write_record(path: Path, record: Record, force: bool = False) -> None:
    """Write ``record`` to ``path`` in the canonical style; refuse to replace a file unless
    ``force``, and refuse a record that ``kb check`` would refuse (``record_text``)."""
    if path.exists() and not force:
        raise RecordExists(f"{path.name} already exists; use --force to replace it")
    text, problems = record_text(path, record)
    if problems:
        raise ChangeRefused(f"nothing was written to {path.name}: {'; '.join(problems)}")
    write_text(path, text)
