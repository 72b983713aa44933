"""Tombstones: what is kept of a record taken out of the knowledge base.

A removed record leaves a small file, ``removed/ID.yaml`` (the ``Removal`` model), saying
what the record was, when it was removed, by whom and why. ``kb check`` reads it as it reads
any record; the site gives it a page at the record's old address, so that a link to the
record says it was removed rather than failing; ``kb show ID`` and the commands that take an
ID say so too (``kb.store.aliases``). ``kb rm study`` writes one (``study_tombstone``).
"""

from typing import Any

from kb.records.models import Study
from kb.records.vocabularies import RecordType
from kb.references.citations import short_citation

REMOVED_FOLDER = "removed"


def tombstone_path(record_id: str) -> str:
    """Where the tombstone of ``record_id`` lives, from the root."""
    return f"{REMOVED_FOLDER}/{record_id}.yaml"


def study_title(study: Study) -> str:
    """What a study was, in a line: ``Krause and Rinne (2012): Pilot project…``."""
    title = study.title or study.reference or study.id
    if not study.authors:
        return title
    return f"{short_citation(study.authors, study.year, title)}: {title}"


def study_tombstone(study: Study, reason: str, by: str | None, on: str) -> dict[str, Any]:
    """The data of the tombstone ``kb rm study`` leaves, to be validated as a ``Removal``:
    the study's former IDs lead to it too."""
    tombstone = {
        "id": study.id,
        "former_ids": list(study.former_ids),
        "type": RecordType.STUDY.value,
        "title": study_title(study),
        "removed_on": on,
        "removed_by": by,
        "reason": reason,
    }
    return {name: value for name, value in tombstone.items() if value is not None}
