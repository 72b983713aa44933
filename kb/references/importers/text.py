"""The text of an export file: its size capped, its encoding read, its format detected.

UTF-16 without a byte-order mark is recognised here by where its NUL bytes fall: Python's
codecs need to be told the encoding, and no library kb keeps guesses encodings.
"""

import re
from pathlib import Path

from kb.errors import UnreadableImport
from kb.records.load import undecodable_byte


def decode(raw: bytes, name: str) -> str:
    """The text of an export file, with its line ends as ``\\n``; ``UnreadableImport`` when it
    is not text.

    UTF-8 (with or without a byte-order mark) and UTF-16 with a byte-order mark are read;
    UTF-16 without one is recognised by its NUL bytes, all on even or all on odd positions
    (JabRef writes UTF-16BE so). CRLF and CR-only (classic Mac) line ends become ``\\n``, so
    line numbers are what an editor shows.
    """
    encoding = "utf-16" if raw.startswith((b"\xff\xfe", b"\xfe\xff")) else None
    if encoding is None and b"\x00" in raw:
        encoding = _utf16_without_bom(raw)
        if encoding is None:
            raise UnreadableImport(
                f"{name} is not a text file (it contains NUL bytes); export your references "
                "as RIS, BibTeX or CSL-JSON and import that file"
            )
    try:
        text = raw.decode(encoding or "utf-8-sig")
    except UnicodeDecodeError as error:
        if encoding:
            shown = {"utf-16-be": "UTF-16BE", "utf-16-le": "UTF-16LE"}.get(encoding, "UTF-16")
            raise UnreadableImport(
                f"{name} looks like {shown} text, but bytes {error.start}-{error.end} cannot be "
                "decoded as such; export it again as UTF-8"
            ) from None
        byte, line = undecodable_byte(raw, error)
        raise UnreadableImport(
            f"{name} is not UTF-8 text: {byte} on line {line} cannot be decoded; "
            "export it again as UTF-8"
        ) from None
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _utf16_without_bom(raw: bytes) -> str | None:
    """``utf-16-be`` or ``utf-16-le`` when the NUL bytes of ``raw`` say so, else None.

    In UTF-16 text that is mostly ASCII, as exports are, every other byte is NUL: the first of
    each pair in big-endian, the second in little-endian. Binary files have NULs anywhere.
    """
    if len(raw) % 2:
        return None
    first, second = raw[0::2], raw[1::2]
    if second.count(0) == 0 and first.count(0) * 2 >= len(first):
        return "utf-16-be"
    if first.count(0) == 0 and second.count(0) * 2 >= len(second):
        return "utf-16-le"
    return None


# A RIS tag line: two characters, one or two spaces, a hyphen.
RIS_TAG = re.compile(r"^([A-Z][A-Z0-9]) {1,2}-(?: |$)", re.MULTILINE)


def detect_format(text: str) -> str | None:
    """Which format the text is in, from its content, or None.

    JSON starts with ``[`` or ``{``; RIS has a ``TY  -`` line (or ``TY -``: Zotero reads one
    space too), Web of Science starts with ``FN`` or ``PT``; BibTeX has an ``@type{`` line
    (Mendeley starts with a line of prose). Lines of RIS tags without any ``TY`` are RIS too,
    so that the reader can say which lines are outside any record.
    """
    stripped = text.lstrip()
    if stripped.startswith(("[", "{")):
        return "csl-json"
    if re.match(r"(FN|PT) ", stripped) or re.search(r"^TY {1,2}-", text, re.MULTILINE):
        return "ris"
    if re.search(r"^\s*@\w+\s*[{(]", text, re.MULTILINE):
        return "bibtex"
    if len(RIS_TAG.findall(text, 0, 100_000)) >= 2:
        return "ris"
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
