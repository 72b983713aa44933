"""Whether the search index is current: its stamp, and its time against the store's.

The stamp (``kb-index.json`` in the index folder) names the schema version the index was
built with and a digest of the synonym groups it holds; the stamp's time says when the index
was last brought in line with the store. Reading them needs neither the store nor Whoosh's
writer, so `kb search` can tell that the index is current and go straight to the query.
"""

import hashlib
import json
from pathlib import Path

from kb.files import recover_folder
from kb.search.analysis import SYNONYMS_FILE

# Bump when the schema or the way documents are built changes: the next search rebuilds.
SCHEMA_VERSION = 4
STAMP = "kb-index.json"


def _synonyms_digest() -> str:
    """A digest of the synonym groups: the index holds their tokens (analysis.group_token)."""
    return hashlib.sha256(SYNONYMS_FILE.read_bytes()).hexdigest()[:16]


def write_stamp(index_dir: Path) -> None:
    """Stamp the index in ``index_dir`` as built with this schema version and these synonyms."""
    stamp = {"schema_version": SCHEMA_VERSION, "synonyms": _synonyms_digest()}
    (index_dir / STAMP).write_text(json.dumps(stamp) + "\n")


def _stamp_version(index_dir: Path) -> int | None:
    """The index's schema version; None without a stamp or when the synonyms changed since."""
    try:
        stamp = json.loads((index_dir / STAMP).read_text())
        if stamp.get("synonyms") != _synonyms_digest():
            return None
        version: int = stamp["schema_version"]
        return version
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


def stamp_is_current(index_dir: Path) -> bool:
    """Whether the index was built with this schema version and these synonyms."""
    return _stamp_version(index_dir) == SCHEMA_VERSION


def index_is_current(index_dir: Path, database: Path) -> bool:
    """True when the index exists, has this schema version and was refreshed after the store."""
    recover_folder(Path(index_dir))
    stamp = Path(index_dir) / STAMP
    return (
        stamp_is_current(Path(index_dir))
        and database.is_file()
        and stamp.stat().st_mtime >= database.stat().st_mtime
    )
