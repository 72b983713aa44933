"""What each record file parsed to, kept between builds so that only changed files are parsed.

Parsing YAML is most of reading a knowledge base: at 10,000 studies, reading 14,810 files took
5.9 s, and takes 2.1 s with the values kept here (0.5 s of it to load them). The build's check
(``kb.records.read.check``) reads every file's bytes as before, with every check on the file
itself, and looks its digest up here; a file whose bytes are not here is parsed afresh. So the
answer is always what parsing gives: an entry stands for exactly the bytes it was parsed from.

Kept: the records of files that parsed with no problem, under the limits and by the code that
parsed them (``_stamp``), in one file beside the store (``parsed_records_file``), written whole
or not at all, with a digest of its contents. A file that is unreadable, of another Python, or
whose contents do not match that digest is ignored, and everything is parsed again. It is a
cache of build output, as trusted as the store beside it: ``marshal`` is not meant for files
anyone else could write.
"""

import hashlib
import marshal
import sys
from contextlib import suppress
from pathlib import Path
from typing import Any

import yaml

from kb.errors import Problem
from kb.files import write_atomically
from kb.records.load import RecordFile, file_digest, parse_record
from kb.records.vocabularies import control_character_message

_FORMAT = 1
# By file name: the digest of the bytes parsed, and what they parsed to, marshalled when parsed
# (kind, data, line of each field), so that what is kept is what parsing gave.
Entry = tuple[bytes, bytes]


def parsed_records_file(database: Path) -> Path:
    """Where the parsed records are kept: beside the store."""
    return database.with_name("parsed-records.marshal")


def _stamp(max_file_bytes: int, max_field_chars: int) -> tuple[Any, ...]:
    """What else a parse rests on: the limits, the parser's code, PyYAML, Python and marshal."""
    code = hashlib.blake2b(digest_size=16)
    for module in (parse_record.__module__, control_character_message.__module__):
        code.update(Path(sys.modules[module].__file__ or "").read_bytes())
    return (
        _FORMAT,
        marshal.version,
        sys.version_info[:2],
        yaml.__version__,
        code.digest(),
        max_file_bytes,
        max_field_chars,
    )


class ParsedRecords:
    """The parsed records kept by the previous build, and those of this one (``parse_record``),
    to be written for the next (``save``)."""

    def __init__(self, path: Path, max_file_bytes: int, max_field_chars: int) -> None:
        self.path = path
        self.limits = (max_file_bytes, max_field_chars)
        self.stamp = _stamp(max_file_bytes, max_field_chars)
        self.previous = self._read()
        self.current: dict[str, Entry] = {}
        self.parsed = 0  # files not found here, so parsed

    def _read(self) -> dict[str, Entry]:
        try:
            with open(self.path, "rb") as opened:
                stamp, digest = marshal.load(opened)
                if stamp != self.stamp:
                    return {}
                payload = opened.read()
            if hashlib.blake2b(payload, digest_size=16).digest() != digest:
                return {}
            entries: dict[str, Entry] = marshal.loads(payload)
            return entries
        except (OSError, EOFError, ValueError, TypeError):
            return {}

    def parse_record(
        self, name: str, kind: str, raw: bytes
    ) -> tuple[RecordFile | None, list[Problem]]:
        """``kb.records.load.parse_record`` of ``raw``, from what is kept where it is those
        bytes; what parses without a problem is kept for the next build."""
        digest = file_digest(raw)
        entry = self.previous.get(name)
        if entry is not None and entry[0] == digest:
            kept_kind, data, lines = marshal.loads(entry[1])
            if kept_kind == kind:
                self.current[name] = entry
                return RecordFile(name, kind, data, lines, digest), []
        record, problems = parse_record(name, kind, raw, *self.limits)
        if record is not None and not problems:
            self.parsed += 1
            self.current[name] = (digest, marshal.dumps((kind, record.data, record.lines)))
        return record, problems

    def save(self, read_every_file: bool = True) -> None:
        """Write this build's entries for the next, unless they are those already kept: only
        those of the files read, when every file was read; else with the rest kept before.

        A failure to write is not the build's: the next one parses again."""
        if self.parsed == 0 and (len(self.current) == len(self.previous) or not read_every_file):
            return
        entries = self.current if read_every_file else {**self.previous, **self.current}
        payload = marshal.dumps(entries)
        header = marshal.dumps((self.stamp, hashlib.blake2b(payload, digest_size=16).digest()))

        def write(temporary: Path) -> None:
            with open(temporary, "wb") as opened:
                opened.write(header)
                opened.write(payload)

        with suppress(OSError):
            write_atomically(self.path, write)
