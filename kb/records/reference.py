"""The record format reference, generated from the models so it cannot drift from them.

``record_format_markdown()`` describes every record kind (folder, fields, types, whether
required, descriptions) and every vocabulary (values, labels, and the strength scale's
definitions). ``python -m kb.records.reference`` writes it to ``docs/reference-records.md``; a test
fails when that file differs from what the models say.
"""

import re
import sys
import types
from enum import Enum
from pathlib import Path
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel
from pydantic.fields import FieldInfo

from kb.records.load import RECORD_FOLDERS
from kb.records.models import ID_PATTERN, RECORD_MODELS
from kb.records.vocabularies import STRENGTH_DEFINITIONS, Labelled, Strength

DOCUMENT = Path(__file__).resolve().parents[2] / "docs" / "reference-records.md"

_CHECKS = {
    "_check_url": "URL",
    "_check_doi": "DOI",
    "_check_year": "year",
    "_check_date": "date (YYYY-MM-DD)",
}
_INTRO = """\
<!-- Generated from kb/records/models.py by `python -m kb.records.reference`: do not edit. -->

# Record format

Every record is one YAML file, named after its ID (`ID.yaml`), in the folder for its kind.
IDs are lower-case letters, digits and hyphens, at most 64 characters, unique across the whole
knowledge base. Unknown fields are errors; text is never guessed into numbers or dates. Write
fields in the order below; `kb fmt` rewrites a file into this canonical order and style.

Addresses stay stable. A record renamed (`kb mv OLD NEW`) lists the IDs it had before in
`former_ids`; a record merged into another, as a duplicate, is deleted and its ID added to the
other's `former_ids` by hand. A former ID still finds the record: `kb show OLD` shows it, the
search and graph commands follow it, and the site's page at the old address redirects to the
new one. A removed record (`kb rm study ID --reason WHY`) leaves a file in `removed/` (a
[removal](#removal)), and its page stays, saying when and why it was removed. `kb check`
refuses a former ID that is in use, listed by two records, or also removed, naming the file,
the record and the field.
"""


def _words(name: str) -> str:
    """``RecommendationKind`` → ``Recommendation kind``."""
    spaced = re.sub(r"(?<!^)(?=[A-Z])", " ", name).lower()
    return spaced[0].upper() + spaced[1:]


def _anchor(title: str) -> str:
    return "#" + re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")


def _type_name(annotation: Any, metadata: list[Any], nested: list[type[BaseModel]]) -> str:
    """How a field's type reads in the reference, noting nested models to document."""
    origin = get_origin(annotation)
    if origin is Annotated:
        base, *extra = get_args(annotation)
        return _type_name(base, [*metadata, *extra], nested)
    if origin in (Union, types.UnionType):
        present = [arg for arg in get_args(annotation) if arg is not type(None)]
        return _type_name(present[0], metadata, nested)
    if origin is list:
        return "list of " + _type_name(get_args(annotation)[0], [], nested)
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        title = _words(annotation.__name__)
        return f"[{title.lower()}]({_anchor(title)})"
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        if annotation not in nested:
            nested.append(annotation)
        title = _words(annotation.__name__)
        return f"[{title.lower()}]({_anchor(title)})"
    for item in metadata:
        name = getattr(getattr(item, "func", None), "__name__", "")
        if name in _CHECKS:
            return _CHECKS[name]
        if getattr(item, "pattern", None) == ID_PATTERN.pattern:
            return "ID"
    if annotation is bool:
        return "true or false"
    if annotation is int:
        return "whole number"
    return "text"


def _required(info: FieldInfo) -> str:
    if info.is_required():
        return "yes"
    default = info.get_default(call_default_factory=True)
    if default in (None, [], ""):
        return ""
    if isinstance(default, Enum):
        default = default.value
    if isinstance(default, bool):
        default = str(default).lower()
    return f"no (default `{default}`)"


def _cell(text: str | None) -> str:
    return (text or "").replace("|", "\\|")


def _fields_table(model: type[BaseModel], nested: list[type[BaseModel]]) -> list[str]:
    lines = ["| Field | Required | Type | Description |", "| --- | --- | --- | --- |"]
    for name, info in model.model_fields.items():
        kind = _type_name(info.annotation, list(info.metadata), nested)
        lines.append(f"| `{name}` | {_required(info)} | {kind} | {_cell(info.description)} |")
    return lines


def _doc(model: type[BaseModel]) -> str:
    return " ".join((model.__doc__ or "").split())


def _vocabularies() -> list[str]:
    lines = ["## Vocabularies", ""]
    vocabularies = sorted(
        {vocabulary for vocabulary in Labelled.__subclasses__()}, key=lambda v: v.__name__
    )
    for vocabulary in vocabularies:
        lines += [f"### {_words(vocabulary.__name__)}", ""]
        if vocabulary is Strength:
            lines += [
                "| Value | Label | Meaning | Equivalents |",
                "| --- | --- | --- | --- |",
            ]
            for level in reversed(list(Strength)):
                meaning, equivalents = STRENGTH_DEFINITIONS[level]
                lines.append(f"| `{level.value}` | {level.label} | {meaning} | {equivalents} |")
        else:
            lines += ["| Value | Label |", "| --- | --- |"]
            lines += [f"| `{member.value}` | {member.label} |" for member in vocabulary]
        lines.append("")
    return lines


def record_format_markdown() -> str:
    """The record format reference as Markdown."""
    folders = {kind: "/".join(folder) + "/" for folder, kind in RECORD_FOLDERS.items()}
    lines = [_INTRO]
    documented: set[type[BaseModel]] = set()
    for kind, model in RECORD_MODELS.items():
        nested: list[type[BaseModel]] = []
        lines += [f"## {_words(model.__name__)}", "", f"In `{folders[kind]}`. {_doc(model)}", ""]
        lines += _fields_table(model, nested)
        lines.append("")
        while nested:
            inner = nested.pop(0)
            if inner in documented:
                continue
            documented.add(inner)
            lines += [f"### {_words(inner.__name__)}", "", _doc(inner), ""]
            lines += _fields_table(inner, nested)
            lines.append("")
    lines += _vocabularies()
    return "\n".join(lines).rstrip() + "\n"


def write_reference(path: Path = DOCUMENT) -> None:
    """Write the generated reference to ``path``."""
    path.write_text(record_format_markdown(), encoding="utf-8")


if __name__ == "__main__":
    write_reference(Path(sys.argv[1]) if len(sys.argv) > 1 else DOCUMENT)
