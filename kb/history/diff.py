"""What changed between two versions of the knowledge base, record by record, in words.

``compare(old, new)`` takes two export documents (``kb.store.export.export_document``, or files
written by ``kb export``) and returns a ``Diff``: for each kind of record, what was added,
removed, renamed and changed, field by field; and every recommendation whose headline strength
level moved, with the evidence links on it that changed. It reads no file and runs no git
(``kb.history.revisions`` makes the documents); ``kb.history.diff_report`` lays a ``Diff`` out as
text or Markdown.

A record is **renamed** when one with a new ID takes the place of a removed one of the same
kind: at least ``RENAME_SIMILARITY`` of the fields either of them fills are equal, once the
IDs it refers to are read through the renames already found (so the links of a renamed study
are renamed links, not removed and added ones). An evidence link keeps its study and its
recommendation when renamed; a link moved to another recommendation is removed and added,
since it moves two headlines.
"""

import difflib
import json
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeGuard

from kb.records.levels import overall_level, rank
from kb.store.describe import RECORD_TYPES, REFERRING_FIELDS

RENAME_SIMILARITY = 0.75
# Above this many (removed × added) pairs of one kind, only records equal but for their IDs
# are paired as renames: comparing every pair would take minutes.
MOST_PAIRS_COMPARED = 250_000
# Text longer than this is shown as the words that changed, not whole.
LONG_TEXT = 60
EXCERPT_CHARS = 100
CONTEXT_WORDS = 3


@dataclass(frozen=True)
class Kind:
    """One kind of record as the diff treats it."""

    key: str  # the export document's key
    singular: str
    plural: str
    label_field: str | None  # the field that names a record to a reader, besides its ID
    derived: frozenset[str] = frozenset()  # computed from other fields: not compared
    keeps: tuple[str, ...] = ()  # fields a renamed record keeps (read through renames)

    @property
    def references(self) -> dict[str, str]:
        """Field → the key of the kind whose IDs it holds."""
        return {
            name: target_key
            for target_key, target in RECORD_TYPES.items()
            for referring_key, name in REFERRING_FIELDS[target]
            if referring_key == self.key
        }

    def counted(self, count: int) -> str:
        return f"{count} {self.singular if count == 1 else self.plural}"


# In the order renames are looked for: a kind after the kinds its records refer to.
KINDS = (
    Kind("sources", "source", "sources", "title"),
    Kind("themes", "theme", "themes", "title"),
    Kind(
        "recommendations",
        "recommendation",
        "recommendations",
        "title",
        derived=frozenset({"strength", "headline"}),  # the headline section reports them
    ),
    Kind("studies", "study", "studies", "title", derived=frozenset({"doi_url"})),
    Kind(
        "evidence",
        "evidence link",
        "evidence links",
        None,
        keeps=("study", "recommendation"),
    ),
    Kind("examples", "practice example", "practice examples", "name"),
    Kind("figures", "key figure", "key figures", "title"),
)
KIND_BY_KEY = {kind.key: kind for kind in KINDS}
CHANGE_ORDER = ("added", "removed", "renamed", "changed")


# --- Values in words ----------------------------------------------------------------------

_BARE = re.compile(r"[\w.:/+#-]{1,60}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def printable(text: str) -> str:
    """Text with control characters written as escapes, so that a terminal shows them rather
    than obeys them (records from git are refused with them; an export file may hold any)."""
    return _CONTROL.sub(lambda match: f"\\u{ord(match.group()):04x}", text)


def quoted(text: str) -> str:
    """Text in curly quotes, with line breaks and other control characters escaped (``\\n``)
    so that a value shows on one line as it is; its own quotation marks stay as they are."""
    return "“" + json.dumps(text, ensure_ascii=False)[1:-1].replace('\\"', '"') + "”"


def shown(value: Any) -> str:
    """A field's value as a reader sees it: short tokens bare, text quoted (``quoted``)."""
    if value is None or value == "" or value == []:
        return "nothing"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, str):
        if _BARE.fullmatch(value):
            return value
        text = value if len(value) <= EXCERPT_CHARS else value[: EXCERPT_CHARS - 1] + "…"
        return quoted(text)
    if isinstance(value, list | tuple):
        return ", ".join(shown(item) for item in value)
    if isinstance(value, dict):
        return "{" + ", ".join(f"{key}: {shown(item)}" for key, item in value.items()) + "}"
    return shown(str(value))


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}


def _excerpts(old: str, new: str) -> tuple[str, str]:
    """The stretch of words in which two texts differ, with a few words either side."""
    old_words, new_words = old.split(), new.split()
    blocks = [
        opcode
        for opcode in difflib.SequenceMatcher(
            None, old_words, new_words, autojunk=False
        ).get_opcodes()
        if opcode[0] != "equal"
    ]
    if not blocks:  # only the spacing changed
        return shown(old), shown(new)
    first, last = blocks[0], blocks[-1]

    def excerpt(words: list[str], start: int, end: int) -> str:
        start, end = max(start - CONTEXT_WORDS, 0), min(end + CONTEXT_WORDS, len(words))
        text = " ".join(words[start:end])
        cut = len(text) > EXCERPT_CHARS
        if cut:
            text = text[: EXCERPT_CHARS - 1]
        text = ("…" if start > 0 else "") + text + ("…" if cut or end < len(words) else "")
        return quoted(text)

    return excerpt(old_words, first[1], last[2]), excerpt(new_words, first[3], last[4])


_LEVEL = re.compile(r"S[0-5]")
_LEVELS = frozenset(f"S{number}" for number in range(6))


def _is_level(value: object) -> TypeGuard[str]:
    return isinstance(value, str) and value in _LEVELS


@dataclass(frozen=True)
class FieldChange:
    """One field of one record, before and after; nested fields are named with dots."""

    field: str
    old: Any
    new: Any

    def words(self) -> str:
        """The change in words: `strength: S2 → S3, up`, `note added: "…"`."""
        old, new = self.old, self.new
        if _empty(old):
            return f"{self.field} added: {shown(new)}"
        if _empty(new):
            return f"{self.field} removed (was {shown(old)})"
        if isinstance(old, list) and isinstance(new, list) and _scalars(old) and _scalars(new):
            added = [item for item in new if item not in old]
            removed = [item for item in old if item not in new]
            parts = [f"added {shown(item)}" for item in added]
            parts += [f"removed {shown(item)}" for item in removed]
            return f"{self.field}: {'; '.join(parts) if parts else 'reordered'}"
        if isinstance(old, str) and isinstance(new, str):
            if max(len(old), len(new)) > LONG_TEXT:
                before, after = _excerpts(old, new)
                return f"{self.field} reworded: {before} → {after}"
            if _LEVEL.fullmatch(old) and _LEVEL.fullmatch(new):
                way = "up" if rank(new) > rank(old) else "down"
                return f"{self.field}: {old} → {new}, {way}"
        return f"{self.field}: {shown(old)} → {shown(new)}"

    def as_dict(self) -> dict[str, Any]:
        return {"field": self.field, "old": self.old, "new": self.new, "words": self.words()}


def _scalars(values: list[Any]) -> bool:
    return all(not isinstance(value, list | dict) for value in values)


# --- Records --------------------------------------------------------------------------------


@dataclass(frozen=True)
class RecordChange:
    """One record added, removed, renamed or changed."""

    kind: str  # the export key: "studies", "evidence", …
    change: str  # added, removed, renamed or changed
    id: str  # its ID now (when removed, its ID before)
    old_id: str | None  # renamed: its ID before
    label: str  # what names it to a reader besides its ID, or ""
    fields: tuple[FieldChange, ...] = ()
    record: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def name(self) -> str:
        """Its ID, or `old → new` when renamed."""
        return f"{self.old_id} → {self.id}" if self.old_id else self.id

    def as_dict(self) -> dict[str, Any]:
        return {
            "change": self.change,
            "id": self.id,
            "old_id": self.old_id,
            "label": self.label,
            "fields": [change.as_dict() for change in self.fields],
        }


def _label(kind: Kind, record: Mapping[str, Any]) -> str:
    if kind.key == "evidence":
        relation, strength = record.get("relation"), record.get("strength")
        return f"{relation} at {strength}" if relation and strength else ""
    value = record.get(kind.label_field) if kind.label_field else None
    return value if isinstance(value, str) else ""


def _flat(record: Mapping[str, Any], skip: Iterable[str], prefix: str = "") -> dict[str, Any]:
    """A record's fields, nested mappings flattened to dotted names."""
    flat: dict[str, Any] = {}
    for name, value in record.items():
        if name in skip:
            continue
        if isinstance(value, dict) and value:
            flat.update(_flat(value, (), f"{prefix}{name}."))
        else:
            flat[f"{prefix}{name}"] = value
    return flat


def _field_changes(old: Mapping[str, Any], new: Mapping[str, Any]) -> tuple[FieldChange, ...]:
    names = list(old) + [name for name in new if name not in old]
    return tuple(
        FieldChange(name, old.get(name), new.get(name))
        for name in names
        if old.get(name) != new.get(name) and not (_empty(old.get(name)) and _empty(new.get(name)))
    )


def _similarity(old: Mapping[str, Any], new: Mapping[str, Any]) -> float:
    names = [
        name
        for name in old.keys() | new.keys()
        if not (_empty(old.get(name)) and _empty(new.get(name)))
    ]
    if not names:
        return 1.0
    return sum(1 for name in names if old.get(name) == new.get(name)) / len(names)


def _frozen(value: Any) -> Any:
    if isinstance(value, list | tuple):
        return tuple(_frozen(item) for item in value)
    if isinstance(value, dict):
        return tuple(sorted((key, _frozen(item)) for key, item in value.items()))
    return value


def _renames(
    kind: Kind, removed: dict[str, dict[str, Any]], added: dict[str, dict[str, Any]]
) -> dict[str, str]:
    """Pair removed records with added ones they were renamed to: old ID → new ID."""
    if not removed or not added:
        return {}

    def kept(record: Mapping[str, Any]) -> tuple[Any, ...]:
        return tuple(_frozen(record.get(name)) for name in kind.keeps)

    pairs: list[tuple[float, str, str]] = []
    if len(removed) * len(added) > MOST_PAIRS_COMPARED:
        by_content: dict[Any, list[str]] = {}
        for new_id, record in sorted(added.items()):
            by_content.setdefault(_frozen(record), []).append(new_id)
        for old_id, record in sorted(removed.items()):
            pairs += [(1.0, old_id, new_id) for new_id in by_content.get(_frozen(record), [])]
    else:
        for old_id, old in removed.items():
            for new_id, new in added.items():
                if kept(old) == kept(new):
                    similarity = _similarity(old, new)
                    if similarity >= RENAME_SIMILARITY:
                        pairs.append((similarity, old_id, new_id))
    renamed: dict[str, str] = {}
    taken: set[str] = set()
    for _, old_id, new_id in sorted(pairs, key=lambda pair: (-pair[0], pair[1], pair[2])):
        if old_id not in renamed and new_id not in taken:
            renamed[old_id] = new_id
            taken.add(new_id)
    return renamed


# --- Headlines ------------------------------------------------------------------------------


@dataclass(frozen=True)
class HeadlineMove:
    """A recommendation whose headline strength level moved, and the links that moved it."""

    id: str
    old_id: str
    title: str
    old: str | None  # None: not judged
    new: str | None
    reason: str  # why the level is what it is now
    links: tuple[RecordChange, ...]

    @property
    def direction(self) -> str:
        if self.old is None:
            return "now rated"
        if self.new is None:
            return "no longer rated"
        return "up" if rank(self.new) > rank(self.old) else "down"

    def as_dict(self) -> dict[str, Any]:
        return {
            "recommendation": self.id,
            "old_id": self.old_id if self.old_id != self.id else None,
            "title": self.title,
            "old": self.old,
            "new": self.new,
            "direction": self.direction,
            "reason": self.reason,
            "links": [link.as_dict() for link in self.links],
        }


def headlines(document: Mapping[str, Any]) -> dict[str, tuple[str | None, str]]:
    """Each statement's headline level and its reason, as the export gives them; computed
    from the evidence links by ``kb.records.levels`` for an export written before it had them."""
    levels: dict[str, tuple[str | None, str]] = {}
    links: dict[str, list[Mapping[str, Any]]] = {}
    for link in document.get("evidence", []):
        if _is_level(link.get("strength")) and isinstance(link.get("study"), str):
            links.setdefault(link.get("recommendation"), []).append(link)
    for record in document.get("recommendations", []):
        given = record.get("headline")
        if isinstance(given, dict):
            level, reason = given.get("level"), given.get("reason")
            levels[record["id"]] = (
                level if _is_level(level) else None,
                reason if isinstance(reason, str) else "",
            )
        elif record.get("kind", "recommendation") != "recommendation":
            levels[record["id"]] = (None, "only recommendations are rated")
        else:
            levels[record["id"]] = overall_level(links.get(record["id"], []))
    return levels


def _headline_moves(
    old: Mapping[str, Any],
    new: Mapping[str, Any],
    renamed: Mapping[str, str],
    links: list[RecordChange],
) -> list[HeadlineMove]:
    old_levels, new_levels = headlines(old), headlines(new)
    titles = {
        record["id"]: record["title"] if isinstance(record.get("title"), str) else ""
        for record in new["recommendations"]
    }
    moves = []
    for old_id, (old_level, _) in old_levels.items():
        new_id = renamed.get(old_id, old_id)
        if new_id not in new_levels:
            continue
        new_level, reason = new_levels[new_id]
        if new_level == old_level:
            continue
        moved_by = tuple(
            link
            for link in links
            if link.record.get("recommendation") == new_id
            or (link.change == "removed" and link.record.get("recommendation") == old_id)
        )
        moves.append(
            HeadlineMove(new_id, old_id, titles[new_id], old_level, new_level, reason, moved_by)
        )
    return sorted(moves, key=lambda move: move.id)


# --- The comparison -------------------------------------------------------------------------


@dataclass(frozen=True)
class Diff:
    """Everything that changed from one export document to another."""

    records: dict[str, list[RecordChange]]  # kind's key → its changes, in ``CHANGE_ORDER``
    headlines: list[HeadlineMove]

    @property
    def empty(self) -> bool:
        return not any(self.records.values())

    def counts(self, key: str) -> dict[str, int]:
        return {
            change: sum(record.change == change for record in self.records[key])
            for change in CHANGE_ORDER
        }

    def changes(self) -> Iterator[RecordChange]:
        for kind in KINDS:
            yield from self.records[kind.key]

    def as_dict(self) -> dict[str, Any]:
        return {
            "counts": {kind.key: self.counts(kind.key) for kind in KINDS},
            "records": {
                kind.key: [change.as_dict() for change in self.records[kind.key]] for kind in KINDS
            },
            "headlines": [move.as_dict() for move in self.headlines],
        }


def _by_id(document: Mapping[str, Any], key: str) -> dict[str, dict[str, Any]]:
    return {record["id"]: record for record in document.get(key, [])}


def _through(
    record: Mapping[str, Any], kind: Kind, renamed: Mapping[str, Mapping[str, str]]
) -> dict[str, Any]:
    """A record from the old version with the IDs it refers to read through the renames."""
    mapped = dict(record)
    for name, target in kind.references.items():
        names = renamed.get(target, {})
        value = record.get(name)
        if isinstance(value, str):
            mapped[name] = names.get(value, value)
        elif isinstance(value, list):
            mapped[name] = [
                names.get(item, item) if isinstance(item, str) else item for item in value
            ]
    return mapped


def compare(old: Mapping[str, Any], new: Mapping[str, Any]) -> Diff:
    """What changed from the export document ``old`` to ``new``."""
    renamed: dict[str, dict[str, str]] = {}
    records: dict[str, list[RecordChange]] = {}
    for kind in KINDS:
        before, after = _by_id(old, kind.key), _by_id(new, kind.key)
        skip = {"id", *kind.derived}
        flat_before = {
            record_id: _flat(_through(record, kind, renamed), skip)
            for record_id, record in before.items()
        }
        flat_after = {record_id: _flat(record, skip) for record_id, record in after.items()}
        removed = {key: value for key, value in flat_before.items() if key not in after}
        added = {key: value for key, value in flat_after.items() if key not in before}
        renamed[kind.key] = _renames(kind, removed, added)
        renamed_from = {new_id: old_id for old_id, new_id in renamed[kind.key].items()}
        changes = []
        for record_id, record in after.items():
            old_id = renamed_from.get(record_id)
            label = _label(kind, record)
            if old_id is not None:
                fields = _field_changes(flat_before[old_id], flat_after[record_id])
                changes.append(
                    RecordChange(kind.key, "renamed", record_id, old_id, label, fields, record)
                )
            elif record_id not in before:
                changes.append(RecordChange(kind.key, "added", record_id, None, label, (), record))
            else:
                fields = _field_changes(flat_before[record_id], flat_after[record_id])
                if fields:
                    changes.append(
                        RecordChange(kind.key, "changed", record_id, None, label, fields, record)
                    )
        changes += [
            RecordChange(kind.key, "removed", record_id, None, _label(kind, record), (), record)
            for record_id, record in before.items()
            if record_id not in after and record_id not in renamed[kind.key]
        ]
        changes.sort(key=lambda change: (CHANGE_ORDER.index(change.change), change.id))
        records[kind.key] = changes
    moves = _headline_moves(old, new, renamed["recommendations"], records["evidence"])
    return Diff(records, moves)
