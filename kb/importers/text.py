"""The text of an export file: its size capped, its encoding read, its format detected."""

import re
from pathlib import Path

from kb.errors import UnreadableImport
from kb.load import undecodable_byte


def decode(raw: bytes, name: str) -> str:
    """The text of an export file, or ``UnreadableImport`` when it is not text."""
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return raw.decode("utf-16")
    if b"\x00" in raw:
        raise UnreadableImport(
            f"{name} is not a text file (it contains NUL bytes); export your references "
            "as RIS, BibTeX or CSL-JSON and import that file"
        )
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        byte, line = undecodable_byte(raw, error)
        raise UnreadableImport(
            f"{name} is not UTF-8 text: {byte} on line {line} cannot be decoded; "
            "export it again as UTF-8"
        ) from None


def detect_format(text: str) -> str | None:
    """Which format the text is in, from its content, or None.

    JSON starts with ``[`` or ``{``; RIS has a ``TY  -`` line, Web of Science starts with
    ``FN`` or ``PT``; BibTeX has an ``@type{`` line (Mendeley starts with a line of prose).
    """
    stripped = text.lstrip()
    if stripped.startswith(("[", "{")):
        return "csl-json"
    if re.match(r"(FN|PT) ", stripped) or re.search(r"^TY  -", text, re.MULTILINE):
        return "ris"
    if re.search(r"^\s*@\w+\s*[{(]", text, re.MULTILINE):
        return "bibtex"
    return None


def read_capped(path: Path, max_bytes: int) -> bytes:
    """The bytes of an export file, or ``UnreadableImport`` when it is over ``max_bytes``.

    Reads at most ``max_bytes + 1`` bytes, whatever size the file claims.
    """
    try:
        with open(path, "rb") as opened:
            raw = opened.read(max_bytes + 1)
    except OSError as error:
        raise UnreadableImport(f"{path.name} cannot be read: {error.strerror or error}") from None
    if len(raw) > max_bytes:
        size = max(path.stat().st_size, len(raw))
        raise UnreadableImport(
            f"{path.name} is {size:,} bytes; the limit is {max_bytes:,} (KB_MAX_IMPORT_BYTES). "
            "Export the references in smaller files, or raise the limit"
        )
    return raw
