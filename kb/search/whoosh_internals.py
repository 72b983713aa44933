"""Every use of Whoosh's private API in the project, fenced here, each with what it buys.

Whoosh's public API reads postings one Python call at a time and writes a segment asking the
disk for a field length per posting. At 10,000 studies that made a long query take up to half a
second and a commit most of an index build, so ``kb.search`` reaches under it in the places
below, and nowhere else (``tests/test_private_api.py`` fails when another module does).
Each use is pinned by a test that compares it with Whoosh's public answer, so an upgrade of
Whoosh that changes what we rely on fails there first. Measured gains: docs/performance.md,
"Private APIs" (``benchmarks/private_api.py`` measures them again).

- ``block_postings``: a term's postings a block at a time from Whoosh's leaf matcher
  (``_read_ids``, ``_read_weights``, ``_read_values``, ``_next_block``), not a posting at a time.
- ``segment_file``, ``segment_id``: a segment's own files (``reader._segment``,
  ``reader._storage``), where the compact postings copy lives (``kb.search.postings``).
- ``column_bytes``: a fixed-width column's bytes in one read (``_dbfile``, ``_basepos``), for
  field lengths and priors, instead of a call per document.
- ``field_b``: BM25F's per-field ``B`` (``_field_B``), to score postings as Whoosh does.
- ``SegmentWriterWithCopy``: a segment writer whose flush (``_flush_segment``) passes every
  posting through a field-writer wrapper, and whose new segment's field lengths are read once
  per field.
- ``POSITIONS_HEADER``: the size of the header of an encoded positions value (``_INT_SIZE``).
"""

from collections.abc import Callable
from typing import Any, Protocol

from whoosh.codec.whoosh3 import LENGTHS_COLUMN, W3LeafMatcher
from whoosh.matching.wrappers import FilterMatcher
from whoosh.system import _INT_SIZE
from whoosh.util.numeric import byte_to_length
from whoosh.writing import SegmentWriter

POSITIONS_HEADER = _INT_SIZE


def public_postings(matcher: Any) -> tuple[list[int], list[float], list[Any]]:
    """All (docnum, weight, value) postings of a term through the matcher's public methods,
    a posting at a time."""
    ids: list[int] = []
    weights: list[float] = []
    values: list[Any] = []
    while matcher.is_active():
        ids.append(matcher.id())
        weights.append(matcher.weight())
        values.append(matcher.value())
        matcher.next()
    return ids, weights, values


def block_postings(matcher: Any) -> tuple[list[int], list[float], list[Any]]:
    """All (docnum, weight, value) postings of one segment's term, read a block at a time.

    The same postings as iterating the matcher (``id``, ``weight``, ``value``, ``next``), about
    a microsecond a posting faster.
    """
    deleted: set[int] = set()
    if isinstance(matcher, FilterMatcher):  # a segment with deleted documents
        deleted, matcher = matcher._ids, matcher.child
    ids: list[int] = []
    weights: list[float] = []
    values: list[Any] = []
    if isinstance(matcher, W3LeafMatcher):
        while matcher.is_active():
            matcher._read_ids()
            matcher._read_weights()
            matcher._read_values()
            ids.extend(matcher._ids)
            weights.extend(matcher._weights)
            values.extend(matcher._values)
            matcher._next_block()
    else:  # postings inlined in the term's entry, or any other matcher: the public way
        ids, weights, values = public_postings(matcher)
    if deleted:
        kept = [number for number, docnum in enumerate(ids) if docnum not in deleted]
        ids = [ids[number] for number in kept]
        weights = [weights[number] for number in kept]
        values = [values[number] for number in kept]
    return ids, weights, values


def segment_id(reader: Any) -> str:
    """The ID of a segment reader's segment: its files never change once written."""
    found: str = reader._segment.segment_id()
    return found


def segment_file(reader: Any, extension: str) -> Any:
    """A segment's own file with ``extension``, opened for reading, or None if it has none."""
    name = reader._segment.make_filename(extension)
    return reader._storage.open_file(name) if reader._storage.file_exists(name) else None


def column_bytes(column_reader: Any, size: int) -> bytes:
    """The first ``size`` bytes of a fixed-width column's values, in one read."""
    found: bytes = column_reader._dbfile.get(column_reader._basepos, size)
    return found


def lengths_column(reader: Any, fieldname: str) -> bytes | None:
    """One byte per document, its encoded length in ``fieldname`` (``byte_to_length``), from
    a segment's per-document reader; None for a field without lengths."""
    column = f"_{fieldname}_len"
    if not reader.has_column(column):
        return None
    lengths = reader.column_reader(column, LENGTHS_COLUMN)
    return column_bytes(lengths, lengths._count)  # the lengths written; the rest are 0


def per_document_reader(reader: Any) -> Any:
    """A segment reader's per-document reader (its columns)."""
    return reader._perdoc


def field_b(weighting: Any, fieldname: str) -> float:
    """BM25F's ``B`` for ``fieldname``: its own where the weighting sets one, else the default."""
    b: float = weighting._field_B.get(fieldname, weighting.B)
    return b


class FieldWriterCopy(Protocol):
    """What ``SegmentWriterWithCopy`` wraps Whoosh's field writer in while flushing."""

    def write(self, storage: Any, segment: Any) -> None: ...


class _LengthsInMemory:
    """A new segment's per-document reader whose field lengths are read once per field.

    Whoosh asks it for the length of every posting it writes; the stock reader looks the
    column up on disk each time, and for fields without lengths (IDs, keywords) checks that the
    file exists, a system call per posting: most of the time of a commit.
    """

    def __init__(self, reader: Any) -> None:
        self._reader = reader
        self._lengths: dict[str, bytes | None] = {}

    def __getattr__(self, name: str) -> Any:
        return getattr(self._reader, name)

    def doc_field_length(self, docnum: int, fieldname: str, default: int = 0) -> int | None:
        if fieldname not in self._lengths:
            self._lengths[fieldname] = lengths_column(self._reader, fieldname)
        lengths = self._lengths[fieldname]
        if lengths is None:
            return default
        encoded = lengths[docnum] if docnum < len(lengths) else 0
        return byte_to_length(encoded) if encoded else None  # as Whoosh's reader answers


class SegmentWriterWithCopy(SegmentWriter):
    """Whoosh's segment writer, whose flush passes every posting through ``copy(field
    writer)`` (then asked to ``write`` its own file into the segment), with the new segment's
    field lengths read once per field.

    Its segments are left as separate files (``compound=False``, a public option): Whoosh
    opens a compound file's parts by copying each into memory, 60 ms of every ``kb search``
    at 10,000 studies, where a separate file is read only where a query looks."""

    fieldwriter: Any

    def __init__(self, opened: Any, copy: Callable[[Any], FieldWriterCopy], limitmb: float) -> None:
        super().__init__(opened, limitmb=limitmb, compound=False)
        self._copy = copy

    def per_document_reader(self) -> Any:
        return _LengthsInMemory(super().per_document_reader())

    def _flush_segment(self) -> None:
        copy = self._copy(self.fieldwriter)
        self.fieldwriter = copy
        super()._flush_segment()
        copy.write(self.storage, self.get_segment())
