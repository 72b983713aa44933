"""One record and everything that refers to it, for ``kb show``."""

from collections.abc import Mapping
from typing import Any, NotRequired, TypedDict

from kb.errors import RecordNotFound
from kb.records.document import Document, DocumentKey, entries
from kb.records.types import TYPES

# Export key → singular type name.
RECORD_TYPES: dict[DocumentKey, str] = {**TYPES, "evidence": "evidence"}

# For each type, the (export key, field) pairs whose value names a record of that type.
REFERRING_FIELDS: dict[str, list[tuple[DocumentKey, str]]] = {
    "source": [
        ("themes", "source"),
        ("recommendations", "source"),
        ("evidence", "source"),
        ("examples", "source"),
        ("figures", "source"),
    ],
    "theme": [("themes", "parent"), ("recommendations", "themes"), ("figures", "themes")],
    "recommendation": [
        ("evidence", "recommendation"),
        ("examples", "recommendations"),
        ("recommendations", "responds_to"),
    ],
    "study": [("evidence", "study"), ("examples", "studies"), ("figures", "studies")],
    "evidence": [],
    "example": [],
    "figure": [],
}


def _refers_to(value: Any, record_id: str) -> bool:
    return record_id in value if isinstance(value, list) else value == record_id


class Referrer(TypedDict):
    """A record that refers to the one described, and the field it names it in."""

    type: str
    id: str
    field: str


class Described(TypedDict):
    """One record of any type, with what refers to it (``describe_record``)."""

    type: str
    record: Mapping[str, Any]
    referred_by: list[Referrer]
    renamed: NotRequired[dict[str, str | None]]  # from, to, note: reached by a former ID


def describe_record(document: Document, record_id: str) -> Described:
    """Find ``record_id`` in an export document; return it with the records that refer to it.

    A former ID finds the record it leads to now, and the result says so (``renamed``); a
    removed record's ID raises ``RecordRemoved``, saying when and why (``kb.store.aliases``)."""
    found = _described(document, record_id)
    if found is not None:
        return found
    from kb.store.aliases import aliases_in_document, resolve

    current, note = resolve(aliases_in_document(document), record_id)
    found = _described(document, current) if current != record_id else None
    if found is None:
        raise RecordNotFound(f"no record has ID '{record_id}'; try `kb search` to find one")
    found["renamed"] = {"from": record_id, "to": current, "note": note}
    return found


def _described(document: Document, record_id: str) -> Described | None:
    for key, type_name in RECORD_TYPES.items():
        for record in entries(document, key):
            if record["id"] == record_id:
                referred_by: list[Referrer] = [
                    {"type": RECORD_TYPES[other_key], "id": other["id"], "field": field}
                    for other_key, field in REFERRING_FIELDS[type_name]
                    for other in entries(document, other_key)
                    if _refers_to(other.get(field), record_id)
                ]
                return {"type": type_name, "record": record, "referred_by": referred_by}
    return None
