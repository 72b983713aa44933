"""Record files, as a commit holds them, turned into the documents ``kb.history.diff`` compares.

``read_blob`` reads one file's bytes as ``kb check`` would (``kb.records.load.parse_record``, then
the record's model), giving its data in the shape ``kb export`` writes. A record that does not
validate is kept as written, so that the history shows what the repository held; the fields
of an older record format are kept beside the others, read as today. ``document_of`` lays
records out as an export document: evidence links taken out of their studies, with ``study``
added, and each recommendation's headline level worked out by the rules of ``kb.records.levels``, as
``kb.store.export`` does. Comparing two such documents with ``kb.history.diff.compare`` gives what
``kb diff`` says of the two commits.
"""

from collections.abc import Iterable, Mapping
from pathlib import PurePosixPath
from typing import Any

from pydantic import ValidationError

from kb.records.levels import headline, overall_level
from kb.records.load import parse_record, record_kind
from kb.records.models import RECORD_MODELS
from kb.records.types import PLURALS
from kb.records.vocabularies import Strength
from kb.settings import number_setting
from kb.store.export import doi_url

Record = tuple[str, dict[str, Any]]  # kind of record, and its data
_LEVELS = frozenset(level.value for level in Strength)


def read_blob(path: str, raw: bytes) -> Record | None:
    """The record a file at ``path`` (from the root) holds, or None when it is not a record
    file or cannot be read as one (the history skips it, as ``kb check`` would refuse it)."""
    kind = record_kind(PurePosixPath(path))
    if kind not in PLURALS or not path.endswith(".yaml"):
        return None
    record, _ = parse_record(
        path,
        kind,
        raw,
        max_file_bytes=number_setting("max_file_bytes"),
        max_field_chars=number_setting("max_field_chars"),
    )
    if record is None or not isinstance(record.data.get("id"), str):
        return None
    model = RECORD_MODELS[kind]
    try:
        return kind, model.model_validate(record.data).model_dump(mode="json")
    except ValidationError as error:
        # Fields of an older record format: kept as written beside the rest, read as today.
        extra = {
            str(problem["loc"][0])
            for problem in error.errors()
            if problem["type"] == "extra_forbidden" and len(problem["loc"]) == 1
        }
    known = {name: value for name, value in record.data.items() if name not in extra}
    try:
        data = model.model_validate(known).model_dump(mode="json")
    except ValidationError:
        return kind, record.data  # as written: the history shows what the repository held
    return kind, {**data, **{name: record.data[name] for name in extra}}


def links_of(study: Mapping[str, Any]) -> list[dict[str, Any]]:
    """A study's evidence links as the export lists them: each with its ``study``."""
    findings = study.get("findings")
    if not isinstance(findings, list):
        return []
    return [
        {**finding, "study": study["id"]}
        for finding in findings
        if isinstance(finding, dict) and isinstance(finding.get("id"), str)
    ]


def document_of(records: Iterable[Record], links: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """An export document of ``records`` and the evidence ``links`` (``links_of``): each
    recommendation's headline worked out from the links given, which must be all of its
    links."""
    document: dict[str, list[dict[str, Any]]] = {key: [] for key in PLURALS.values()}
    document["evidence"] = sorted(links, key=lambda link: link["id"])
    for kind, data in records:
        if kind == "study":
            study = {name: value for name, value in data.items() if name != "findings"}
            study["doi_url"] = (
                doi_url(data.get("doi")) if isinstance(data.get("doi"), str) else None
            )
            document["studies"].append(study)
        elif kind == "recommendation":
            document["recommendations"].append(dict(data))
        else:
            document[PLURALS[kind]].append(data)
    _add_headlines(document)
    for records_of_kind in document.values():
        records_of_kind.sort(key=lambda record: record["id"])
    return document


def _add_headlines(document: dict[str, list[dict[str, Any]]]) -> None:
    """Each recommendation's ``strength`` and ``headline``, as ``kb.store.export`` gives them."""
    items: dict[str | None, list[dict[str, Any]]] = {}  # None: a link naming no recommendation
    for link in document["evidence"]:
        if link.get("strength") in _LEVELS and isinstance(link.get("relation"), str):
            items.setdefault(link.get("recommendation"), []).append(
                {"study": link["study"], "relation": link["relation"], "strength": link["strength"]}
            )
    for rec in document["recommendations"]:
        judgement = rec.get("evidence_judgement")
        judgement = judgement if isinstance(judgement, dict) else {}
        level, reason = overall_level(items.get(rec["id"], []))
        try:
            made = headline(
                rec.get("kind") or "recommendation",
                level,
                reason,
                judgement.get("level"),
                judgement.get("basis"),
            )
        except (ValueError, KeyError):  # a record that did not validate: no headline
            continue
        rec["strength"] = made.level
        rec["headline"] = made.as_dict()
