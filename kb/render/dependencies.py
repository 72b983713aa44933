"""Which record pages a change to the records can alter, learnt from what each page read.

While a record's page is rendered, everything it reads through the site model is noted
against it (``PageReads``): an entry (``recommendations[x]``), a list kept by ID
(``evidence_of_rec[x]``), or what a method of the model works out for one ID (a study's label,
a recommendation's related recommendations, what rests on a study). The build keeps each
page's reads with a digest of each value read, beside the staged pages (``READS_FILE``). The
next build renders a record page again only if one of its reads now gives another digest, or
a read no longer has a value; any other page is the previous build's file. A page that reads a
whole collection (a listing, the explorer) is rendered every time, as are pages of no record.

The pages also rest on what no record holds: the code and templates, the site's settings, the
history and the language. Their digest (``inputs_digest``) is kept too; when it changes, every
page is rendered.
"""

import hashlib
import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, TypeVar

import kb
from kb.files import files_digest, write_text

READS_FILE = ".kb-page-reads.json"  # in the staged folder, whose dot-files MkDocs leaves out
_FORMAT = 1
_MISSING = "-"  # the digest of a read that finds no value
Read = tuple[str, str]  # (what was read: a collection or a method, the ID it was read for)
Value = TypeVar("Value")


def value_digest(value: Any) -> str:
    """A short digest of a JSON-ready value (entries, lists, the model's answers)."""
    text = json.dumps(value, sort_keys=True, ensure_ascii=False, default=repr)
    return hashlib.blake2b(text.encode(), digest_size=8).hexdigest()


def inputs_digest(*parts: Any) -> str:
    """The digest of what every page rests on besides the records: the ``kb`` package's files
    (code, templates, catalogues) and ``parts`` (the settings, the history, the language)."""
    digest = hashlib.blake2b(files_digest(Path(kb.__file__).parent), digest_size=16)
    digest.update(json.dumps(parts, sort_keys=True, default=repr).encode())
    return digest.hexdigest()


@dataclass
class PageReads:
    """What each record page read while it was rendered, and a way to tell, build to build,
    whether any of it changed."""

    # Works out the value of a read in this build (``look_up``), for its digest.
    look_up: Callable[[Read], Any]
    pages: dict[str, set[Read]] = field(default_factory=dict)
    _page: str = ""
    _reading: set[Read] | None = None
    _whole: bool = False  # the page read a whole collection
    _digests: dict[Read, str] = field(default_factory=dict)

    def note(self, collection: str, key: str) -> None:
        if self._reading is not None:
            self._reading.add((collection, key))

    def note_whole(self) -> None:
        if self._reading is not None:
            self._whole = True

    def start(self, page: str) -> None:
        self._page, self._reading, self._whole = page, set(), False

    def stop(self, page: str) -> None:
        """Keep what ``page`` read since it started; a page that read a whole collection is
        not kept, so it is always rendered. Any other page's end changes nothing."""
        if self._reading is None or page != self._page:
            return
        if not self._whole:
            self.pages[page] = self._reading
        self._reading = None

    def digests(self) -> dict[Read, str]:
        """Every read of every page kept, with the digest of its value now."""
        every = {read for reads in self.pages.values() for read in reads}
        return {read: self.digest(read) for read in sorted(every)}

    def digest(self, read: Read) -> str:
        """The digest of what ``read`` gives in this build (worked out once)."""
        found = self._digests.get(read)
        if found is None:
            try:
                found = value_digest(self.look_up(read))
            except KeyError:
                found = _MISSING
            self._digests[read] = found
        return found


@dataclass
class PreviousReads:
    """The previous build's reads (``READS_FILE``), to tell which of its pages can be kept."""

    inputs: str
    pages: dict[str, list[int]]  # page → indexes into ``reads``
    reads: list[tuple[str, str, str]]  # (collection, ID, digest)
    _changed: dict[int, bool] = field(default_factory=dict)

    @classmethod
    def read(cls, folder: Path, inputs: str) -> "PreviousReads | None":
        """The reads kept in ``folder``, if they were made from the same ``inputs``."""
        try:
            kept = json.loads((folder / READS_FILE).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if not isinstance(kept, dict) or kept.get("format") != _FORMAT:
            return None
        if kept.get("inputs") != inputs:
            return None
        return cls(inputs, kept["pages"], [tuple(read) for read in kept["reads"]])

    def reads_of(self, page: str) -> set[Read]:
        return {(self.reads[index][0], self.reads[index][1]) for index in self.pages[page]}

    def unchanged(self, page: str, now: PageReads) -> bool:
        """Whether every read of ``page`` in the previous build gives the same digest now."""
        indexes = self.pages.get(page)
        if indexes is None:
            return False
        for index in indexes:
            changed = self._changed.get(index)
            if changed is None:
                collection, key, digest = self.reads[index]
                changed = self._changed[index] = now.digest((collection, key)) != digest
            if changed:
                return False
        return True


def write_reads(folder: Path, inputs: str, reads: PageReads) -> None:
    """Keep ``reads`` in ``folder`` for the next build, with the digest of each value."""
    digests = reads.digests()
    index = {read: number for number, read in enumerate(digests)}
    kept = {
        "format": _FORMAT,
        "inputs": inputs,
        "reads": [[collection, key, digest] for (collection, key), digest in digests.items()],
        "pages": {
            page: sorted(index[read] for read in page_reads)
            for page, page_reads in sorted(reads.pages.items())
        },
    }
    write_text(folder / READS_FILE, json.dumps(kept, separators=(",", ":")))


class NotedMapping(Mapping[str, Value], Generic[Value]):
    """A mapping that notes each key read, and any read of the whole, in ``reads``."""

    def __init__(self, name: str, data: Mapping[str, Value], reads: PageReads):
        self.name = name
        self.data = data
        self.reads = reads

    def __getitem__(self, key: str) -> Value:
        self.reads.note(self.name, key)
        return self.data[key]

    def __contains__(self, key: object) -> bool:
        if isinstance(key, str):
            self.reads.note(self.name, key)
        return key in self.data

    def __iter__(self) -> Iterator[str]:
        self.reads.note_whole()
        return iter(self.data)

    def __len__(self) -> int:
        self.reads.note_whole()
        return len(self.data)
