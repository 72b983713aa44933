"""A ``kb.history.diff.Diff`` laid out for people: plain text for a terminal, Markdown for a pull
request's summary.

Both say the same things in the same order: the counts, then every headline strength level
that moved with the links that moved it, then each kind of record's changes, field by field.
Record text in the Markdown form is escaped, so a record cannot add links, images or HTML to
a pull request's page.
"""

import re

from kb.history.diff import KIND_BY_KEY, KINDS, Diff, HeadlineMove, RecordChange, printable

INDENT = "  "
# The fields of an evidence link that the overall-level rule reads (kb.records.levels).
LEVEL_FIELDS = ("relation", "strength")


def _counts(diff: Diff, key: str) -> str:
    counts = diff.counts(key)
    return ", ".join(f"{count} {change}" for change, count in counts.items() if count)


def _level(level: str | None) -> str:
    return level or "not judged"


def _moved_by(change: RecordChange) -> str:
    """How a link changed, under the headline it moved: the fields the level rule reads in
    full, the others by name (the link's own entry below has them all)."""
    level = [field.words() for field in change.fields if field.field in LEVEL_FIELDS]
    others = [field.field for field in change.fields if field.field not in LEVEL_FIELDS]
    if others:
        level.append(
            f"also changed: {', '.join(others)}" if level else f"{', '.join(others)} changed"
        )
    if change.change == "changed":
        return "; ".join(level)
    return "; ".join([change.label, *level]) if change.label else "; ".join(level)


# --- Plain text -----------------------------------------------------------------------------


def _text_move(move: HeadlineMove) -> list[str]:
    lines = [
        printable(
            f"{INDENT}{move.id}: {_level(move.old)} → {_level(move.new)}, {move.direction}"
            + (f" ({move.title})" if move.title else "")
        )
    ]
    if move.old_id != move.id:
        lines.append(printable(f"{INDENT * 2}renamed from {move.old_id}"))
    lines.append(printable(f"{INDENT * 2}now: {move.reason}"))
    for link in move.links:
        how = _moved_by(link)
        line = f"{INDENT * 2}{link.change} link {link.name}" + (f": {how}" if how else "")
        lines.append(printable(line))
    if not move.links:
        lines.append(f"{INDENT * 2}no evidence link on it changed")
    return lines


def _text_record(change: RecordChange) -> list[str]:
    line = f"{INDENT}{change.change} {change.name}" + (f": {change.label}" if change.label else "")
    return [
        printable(line),
        *(printable(f"{INDENT * 2}{field.words()}") for field in change.fields),
    ]


def text_report(diff: Diff, old: str, new: str) -> str:
    """The diff for a terminal, from the version described as ``old`` to ``new``."""
    lines = [printable(f"Changes from {old} to {new}")]
    if diff.empty:
        return "\n".join([*lines, "No record changed.", ""])
    lines += [
        f"{INDENT}{kind.plural}: {_counts(diff, kind.key)}"
        for kind in KINDS
        if diff.records[kind.key]
    ]
    lines += ["", f"Headline strength levels that moved: {len(diff.headlines) or 'none'}"]
    for move in diff.headlines:
        lines += _text_move(move)
    for kind in KINDS:
        if diff.records[kind.key]:
            lines += ["", kind.plural.capitalize()]
            for change in diff.records[kind.key]:
                lines += _text_record(change)
    return "\n".join([*lines, ""])


# --- Markdown -------------------------------------------------------------------------------

_SPECIAL = re.compile(r"([\\`*_\[\]|~])")


def escaped(text: str) -> str:
    """Text that Markdown shows as written: no emphasis, links, images, tables or HTML."""
    text = printable(" ".join(text.split()))
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _SPECIAL.sub(r"\\\1", text)


def code(text: str) -> str:
    """An ID as inline code, or escaped text when it cannot be one."""
    return f"`{text}`" if re.fullmatch(r"[^`\s\x00-\x1f\x7f-\x9f]+", text) else escaped(text)


def _md_name(change: RecordChange) -> str:
    if change.old_id:
        return f"{code(change.old_id)} → {code(change.id)}"
    return code(change.id)


def _md_link(change: RecordChange) -> str:
    how = _moved_by(change)
    return f"{change.change} link {_md_name(change)}" + (f": {escaped(how)}" if how else "")


def _md_move(move: HeadlineMove) -> list[str]:
    title = f" ({escaped(move.title)})" if move.title else ""
    renamed = f", renamed from {code(move.old_id)}" if move.old_id != move.id else ""
    lines = [
        f"- {code(move.id)}{title}{renamed}: {_level(move.old)} → **{_level(move.new)}**, "
        f"{move.direction}. Now: {escaped(move.reason)}."
    ]
    lines += [f"  - {_md_link(link)}" for link in move.links]
    if not move.links:
        lines.append("  - no evidence link on it changed")
    return lines


def _md_record(change: RecordChange) -> list[str]:
    label = f": {escaped(change.label)}" if change.label else ""
    lines = [f"- {change.change} {_md_name(change)}{label}"]
    lines += [f"  - {escaped(field.words())}" for field in change.fields]
    return lines


def markdown_report(diff: Diff, old: str, new: str) -> str:
    """The diff as GitHub-flavoured Markdown, for a pull request's summary."""
    lines = [f"### Knowledge base changes from {escaped(old)} to {escaped(new)}", ""]
    if diff.empty:
        return "\n".join([*lines, "No record changed.", ""])
    lines += [
        "| Records | Added | Removed | Renamed | Changed |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for kind in KINDS:
        if diff.records[kind.key]:
            counts = " | ".join(str(count) for count in diff.counts(kind.key).values())
            lines.append(f"| {kind.plural.capitalize()} | {counts} |")
    lines += ["", f"#### Headline strength levels that moved: {len(diff.headlines) or 'none'}"]
    if diff.headlines:
        lines.append("")
    for move in diff.headlines:
        lines += _md_move(move)
    for kind in KINDS:
        changes = diff.records[kind.key]
        if changes:
            lines += ["", f"#### {KIND_BY_KEY[kind.key].plural.capitalize()}", ""]
            for change in changes:
                lines += _md_record(change)
    return "\n".join([*lines, ""])
