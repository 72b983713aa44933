"""Write records in the one canonical, diff-friendly YAML style.

Keys follow the schema's field order; empty and default values are left out; long text is
folded at about 95 columns so a one-word change is a one-line diff. Reading a dumped record
back gives the same record.
"""

from typing import Any

import yaml

from kb.records.models import Record

_WIDTH = 88
_FOLD_AT = 80


class _Dumper(yaml.SafeDumper):
    """A SafeDumper that folds long strings and indents lists under their key."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)


def _represent_text(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
    foldable = (
        len(value) > _FOLD_AT and "\n" not in value and value == value.strip() and "  " not in value
    )
    style = ">" if foldable else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _represent_text)


def record_data(record: Record) -> dict[str, Any]:
    """The record as plain data, without values that equal their defaults."""
    return record.model_dump(mode="json", exclude_defaults=True, exclude_none=True)


def dump_record(record: Record) -> str:
    """The canonical YAML text of one record."""
    return yaml.dump(
        record_data(record),
        Dumper=_Dumper,
        sort_keys=False,
        allow_unicode=True,
        width=_WIDTH,
        default_flow_style=False,
    )
