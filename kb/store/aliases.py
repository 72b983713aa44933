"""Old IDs: where a record's former ID leads now, and what a removed record's ID says.

A record renamed by ``kb mv`` (or one that others were merged into) lists the IDs it had
before in ``former_ids``; a removed record leaves a tombstone in ``removed/``
(``kb.edits.tombstones``). ``Aliases`` holds both, read either from the record files
(``aliases_on_disk``: what a command that changes records consults when it cannot find an
ID) or from the export document (``aliases_in_document``: for ``kb show``, the search
filters, the graph commands and the site).

Commands that only read resolve a former ID to the record it leads to, saying so
(``resolve``); commands that change records refuse it, naming the ID to use
(``not_found``), so that nothing is written to a record other than the one meant.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from kb.errors import RecordNotFound, RecordRemoved, RecordRenamed
from kb.paths import Paths
from kb.records.load import RecordFile, load_records
from kb.records.types import TYPES
from kb.settings import number_setting

if TYPE_CHECKING:  # the store is read only by ``aliases_in_store``, which imports it then
    from sqlalchemy.engine import Engine


@dataclass(frozen=True)
class Renamed:
    """A former ID, and the record it leads to."""

    old_id: str
    record_type: str  # source, theme, recommendation, study, example, figure
    new_id: str
    file: str | None = None  # the file listing it, when read from disk

    def words(self) -> str:
        where = f" (former_ids in {self.file})" if self.file else ""
        return f"{self.record_type} {self.old_id} was renamed to {self.new_id}{where}"


@dataclass(frozen=True)
class Removed:
    """A removed record's ID, and what its tombstone says."""

    id: str
    record_type: str
    title: str
    removed_on: str
    reason: str
    file: str | None = None

    def words(self, asked: str | None = None) -> str:
        """What happened, for a message; ``asked`` is the ID looked up, when it was a former
        ID of the removed record."""
        where = f" ({self.file})" if self.file else ""
        what = f"{self.record_type} {self.id}"
        if asked and asked != self.id:
            what = f"{asked} was a former ID of {what}, which"
        return f"{what} was removed on {self.removed_on}{where}: {self.reason}"


@dataclass
class Aliases:
    """Every former ID and every removed record's ID (and its tombstone's own former IDs)."""

    renamed: dict[str, Renamed]
    removed: dict[str, Removed]

    def find(self, record_id: str) -> Renamed | Removed | None:
        return self.renamed.get(record_id) or self.removed.get(record_id)


def aliases_in_document(document: Mapping[str, Any]) -> Aliases:
    """The aliases of an export document (``kb.store.export``)."""
    renamed: dict[str, Renamed] = {}
    for key, record_type in TYPES.items():
        for record in document.get(key, []):
            for old in record.get("former_ids") or []:
                renamed[old] = Renamed(old, record_type, record["id"])
    removed: dict[str, Removed] = {}
    for tombstone in document.get("removed", []):
        entry = Removed(
            tombstone["id"],
            tombstone["type"],
            tombstone["title"],
            str(tombstone["removed_on"]),
            tombstone["reason"],
        )
        removed[tombstone["id"]] = entry
        for old in tombstone.get("former_ids") or []:
            removed[old] = entry
    return Aliases(renamed, removed)


def aliases_in_store(engine: "Engine") -> Aliases:
    """The aliases the store holds (``kb.store.database.alias_rows``)."""
    from kb.store.database import alias_rows

    former, tombstones = alias_rows(engine)
    removed: dict[str, Removed] = {}
    for row in tombstones:
        removed[row["id"]] = Removed(
            row["id"], row["type"], row["title"], row["removed_on"], row["reason"], row["file"]
        )
    renamed: dict[str, Renamed] = {}
    for row in former:
        if row["record_type"] == "removal":
            removed[row["id"]] = removed[row["record_id"]]
        else:
            renamed[row["id"]] = Renamed(
                row["id"], row["record_type"], row["record_id"], row["file"]
            )
    return Aliases(renamed, removed)


def aliases_on_disk(records: Iterable[RecordFile]) -> Aliases:
    """The aliases the record files give, read as they are (valid or not), for messages."""
    renamed: dict[str, Renamed] = {}
    removed: dict[str, Removed] = {}
    for record in records:
        data = record.data
        former = [old for old in data.get("former_ids") or [] if isinstance(old, str)]
        if record.kind == "removal":
            entry = Removed(
                record.record_id,
                str(data.get("type", "record")),
                str(data.get("title", "")),
                str(data.get("removed_on", "an unknown day")),
                str(data.get("reason", "no reason given")),
                record.path,
            )
            for old in [record.record_id, *former]:
                removed.setdefault(old, entry)
        else:
            for old in former:
                renamed.setdefault(old, Renamed(old, record.kind, record.record_id, record.path))
    return Aliases(renamed, removed)


def not_found(paths: Paths, record_id: str, otherwise: str) -> RecordNotFound:
    """The error for an ID that no valid record of the kind wanted has, for a command that
    changes records: a former ID names the record it leads to now, a removed record's ID says
    when and why it was removed, and any other gets the message ``otherwise``."""
    records, _ = load_records(
        paths.root,
        max_file_bytes=number_setting("max_file_bytes"),
        max_field_chars=number_setting("max_field_chars"),
    )
    found = aliases_on_disk(records).find(record_id)
    if isinstance(found, Renamed):
        return RecordRenamed(f"{found.words()}; use {found.new_id}")
    if isinstance(found, Removed):
        return RecordRemoved(found.words(record_id))
    return RecordNotFound(otherwise)


def resolve(aliases: Aliases, record_id: str) -> tuple[str, str | None]:
    """The ID a reader means by ``record_id``: the record a former ID leads to, with a note
    saying so; ``RecordRemoved`` for a removed record's ID; any other ID as it is, for the
    caller to find or report (``kb check`` keeps a record's ID from being a former ID)."""
    found = aliases.find(record_id)
    if isinstance(found, Renamed):
        return found.new_id, f"{found.words()}; showing {found.new_id}"
    if isinstance(found, Removed):
        raise RecordRemoved(found.words(record_id))
    return record_id, None
