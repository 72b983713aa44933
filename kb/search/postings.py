"""Reading a term's postings fast: a compact copy of the long postings lists, and BM25 scores.

Whoosh stores each block of 128 postings as a compressed pickle of tuples, and reading one
back costs about a microsecond a posting in Python: at 10,000 studies a long query's common
words hold tens of thousands of postings, and reading them was most of its time. So when a
segment is written (``CompactWriter``, wrapped around Whoosh's field writer by the index's
writer), the postings of every word with at least ``COMPACT_MIN_POSTINGS`` of them in the
ranked fields are also written, as plain arrays of document numbers, weights and field length
bytes, to one more file of the segment (``.kbpost``, which Whoosh deletes with the segment).
Reading a word is then a slice of that file. Shorter lists, positions (for phrases), and
segments without the file are read from Whoosh.
"""

import pickle
import sys
from array import array
from bisect import bisect_left
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import accumulate
from typing import Any

from whoosh.codec.base import FieldWriter
from whoosh.util.numeric import byte_to_length, length_to_byte

from kb.search.whoosh_internals import (
    POSITIONS_HEADER,
    block_postings,
    column_bytes,
    field_b,
    lengths_column,
    per_document_reader,
    segment_file,
    segment_id,
)

# Fields whose postings every query reads (query.DEFAULT_FIELDS); ``context`` is read only for
# words no title or text holds, whose lists are short.
RANKED_FIELDS = frozenset({"ref", "title", "text"})
# Words with fewer postings than this are read from Whoosh: one or two blocks, cheap enough.
COMPACT_MIN_POSTINGS = 64
COMPACT_EXT = ".kbpost"
# The format (bump when it changes: other files are not read), and the machine's byte order,
# which the arrays are written in.
_MAGIC = b"KBP2" + sys.byteorder[0].encode()

_LENGTH_OF_BYTE = [byte_to_length(byte) for byte in range(256)]
_BYTE_OF_LENGTH = [length_to_byte(length) for length in range(4096)]
# Process-wide caches keyed by segment id: a segment's files never change once written.
_LENGTHS: dict[tuple[str, str], bytes] = {}
_Table = dict[tuple[str, bytes], tuple[int, int, list[tuple[float, int]]]]
_PRIORS: dict[tuple[str, ...], list[int]] = {}


def frontier(pairs: Any) -> list[tuple[float, int]]:
    """The (weight, length byte) pairs no other pair beats on both: a heavier, shorter one.

    BM25 rises with the weight and falls with the length, so a term's best score in any
    document is the best score of one of these: a bound from a handful of pairs.
    """
    found: list[tuple[float, int]] = []
    for weight, length in sorted(set(pairs), key=lambda pair: (-pair[0], pair[1])):
        if not found or length < found[-1][1]:
            found.append((weight, length))
    return found


# --- Writing the compact copy ----------------------------------------------------------------


class CompactWriter(FieldWriter):
    """Whoosh's field writer, also keeping the ranked fields' long postings lists as arrays.

    Every posting of a new or merged segment passes through ``add``; ``write`` saves the lists
    of at least ``COMPACT_MIN_POSTINGS`` postings to the segment's ``.kbpost`` file.
    """

    def __init__(self, writer: Any) -> None:
        self._writer = writer
        self._fieldname = ""
        self._ranked = False
        self._term: tuple[array[int], array[float], bytearray] | None = None
        self._btext = b""
        self._lists: dict[tuple[str, bytes], tuple[array[int], array[float], bytearray]] = {}
        self._frontiers: dict[tuple[str, bytes], list[tuple[float, int]]] = {}

    def __getattr__(self, name: str) -> Any:
        return getattr(self._writer, name)

    def start_field(self, fieldname: str, fieldobj: Any) -> None:
        self._fieldname, self._ranked = fieldname, fieldname in RANKED_FIELDS
        self._writer.start_field(fieldname, fieldobj)

    def start_term(self, text: bytes) -> None:
        self._btext = text
        self._term = (array("I"), array("f"), bytearray()) if self._ranked else None
        self._writer.start_term(text)

    def add(self, docnum: int, weight: float, vbytes: bytes, length: int) -> None:
        term = self._term
        if term is not None:
            term[0].append(docnum)
            term[1].append(weight)
            small = length is not None and length < len(_BYTE_OF_LENGTH)
            term[2].append(_BYTE_OF_LENGTH[length] if small else length_to_byte(length))
        self._writer.add(docnum, weight, vbytes, length)

    def finish_term(self) -> None:
        if self._term is not None and len(self._term[0]) >= COMPACT_MIN_POSTINGS:
            key = (self._fieldname, self._btext)
            self._lists[key] = self._term
            self._frontiers[key] = frontier(zip(self._term[1], self._term[2], strict=True))
        self._term = None
        self._writer.finish_term()

    def finish_field(self) -> None:
        self._writer.finish_field()

    def close(self) -> None:
        self._writer.close()

    def write(self, storage: Any, segment: Any) -> None:
        """Save the long lists as the segment's ``.kbpost`` file: a table, then the arrays."""
        table: dict[tuple[str, bytes], tuple[int, int, list[tuple[float, int]]]] = {}
        chunks: list[bytes] = []
        offset = 0
        for key, (ids, weights, lengths) in self._lists.items():
            table[key] = (offset, len(ids), self._frontiers[key])
            for chunk in (ids.tobytes(), weights.tobytes(), bytes(lengths)):
                chunks.append(chunk)
                offset += len(chunk)
        header = pickle.dumps(table, protocol=pickle.HIGHEST_PROTOCOL)
        with storage.create_file(segment.make_filename(COMPACT_EXT)) as file:
            file.write(_MAGIC + len(header).to_bytes(8, "little") + header)
            for chunk in chunks:
                file.write(chunk)
        self._lists, self._frontiers = {}, {}


# --- Reading --------------------------------------------------------------------------------


def _compact_table(reader: Any) -> tuple[Any, _Table] | None:
    """The segment's ``.kbpost`` file and its table, or None when it has none (older index).

    Read once per segment reader, and kept with it (the searcher is cached, query.py).
    """
    if "_kb_compact" not in reader.__dict__:
        found = None
        file = segment_file(reader, COMPACT_EXT)
        if file is not None:
            size = int.from_bytes(file.get(len(_MAGIC), 8), "little")
            if file.get(0, len(_MAGIC)) == _MAGIC:
                start = len(_MAGIC) + 8
                table = pickle.loads(file.get(start, size))
                found = (file, {k: (start + size + o, n, f) for k, (o, n, f) in table.items()})
        reader._kb_compact = found
    compact: tuple[Any, _Table] | None = reader._kb_compact
    return compact


def _compact_postings(
    reader: Any, fieldname: str, text: bytes
) -> tuple[list[int], list[float], bytes, list[tuple[float, int]]] | None:
    """A long list's (docnums, weights, length bytes, ``frontier``) from the compact copy."""
    found = _compact_table(reader)
    if found is None:
        return None
    file, table = found
    where = table.get((fieldname, text))
    if where is None:
        return None
    offset, count, pairs = where
    data = file.get(offset, count * 9)
    ids, weights = array("I"), array("f")
    ids.frombytes(data[: count * 4])
    weights.frombytes(data[count * 4 : count * 8])
    lengths = bytes(data[count * 8 :])
    if reader.has_deletions():
        deleted = reader.deleted_docs_set
        kept = [number for number, docnum in enumerate(ids) if docnum not in deleted]
        kept_ids, kept_weights = [ids[n] for n in kept], [weights[n] for n in kept]
        return kept_ids, kept_weights, bytes(lengths[n] for n in kept), pairs
    return ids.tolist(), weights.tolist(), lengths, pairs


def _segment_lengths(reader: Any, fieldname: str) -> bytes:
    """One byte per document of a segment: its encoded length in ``fieldname``."""
    key = (segment_id(reader), fieldname)
    if key not in _LENGTHS:
        lengths = lengths_column(per_document_reader(reader), fieldname) or b""
        _LENGTHS[key] = lengths.ljust(reader.doc_count_all(), b"\0")
        if len(_LENGTHS) > 256:
            _LENGTHS.pop(next(iter(_LENGTHS)))
    return _LENGTHS[key]


def _segment_priors(reader: Any) -> list[int]:
    """Each document's prior (analysis.PRIOR, in per cent) in one segment, read as one array."""
    column = reader.column_reader("prior", translate=False)
    raw = array("I")  # stored big-endian ("!I")
    raw.frombytes(column_bytes(column, len(column) * 4))  # len: its documents
    if sys.byteorder == "little":
        raw.byteswap()
    translate = reader.schema["prior"].from_column_value
    values = {value: translate(value) or 100 for value in set(raw)}
    return [values[value] for value in raw]


def document_priors(segments: list[tuple[Any, int]]) -> list[int]:
    """Each document's prior in per cent, by global docnum; read once per set of segments."""
    key = tuple(segment_id(reader) for reader, _ in segments)
    if key not in _PRIORS:
        priors: list[int] = []
        for reader, _ in segments:
            priors.extend(_segment_priors(reader))
        _PRIORS[key] = priors
        if len(_PRIORS) > 16:
            _PRIORS.pop(next(iter(_PRIORS)))
    return _PRIORS[key]


@dataclass(frozen=True)
class BM25:
    """A term's BM25F score from a posting's weight and encoded field length (Whoosh's bm25)."""

    idf: float
    top: float  # K1 + 1
    norms: list[float]  # K1 * ((1 - B) + B * length / average length), by length byte

    def __call__(self, weight: float, length: int) -> float:
        return self.idf * ((weight * self.top) / (weight + self.norms[length]))


@dataclass
class Postings:
    """A term's postings in docnum order: weights, the field length byte of each, positions.

    ``values`` (Whoosh's encoded positions) are read only when asked for, for phrases.
    """

    ids: list[int]
    weights: list[float]
    lengths: bytearray
    values: list[Any] | None = None
    pairs: list[tuple[float, int]] = field(default_factory=list)  # frontier(), for bounds

    def positions(self, docnum: int) -> list[int]:
        """The term's positions in a document it occurs in (Whoosh's Positions format)."""
        assert self.values is not None, "read with positions=True"
        value = self.values[bisect_left(self.ids, docnum)]
        return list(accumulate(pickle.loads(value[POSITIONS_HEADER:])))


class PostingsReader:
    """The searcher's segments, and each term's postings and BM25 scorer, read once per query."""

    def __init__(self, searcher: Any) -> None:
        self.searcher = searcher
        self.schema = searcher.schema
        self.segments = [(sub.reader(), offset) for sub, offset in searcher.leaf_searchers()]
        self.weighting = searcher.weighting
        self._postings: dict[tuple[str, Any, bool], Postings] = {}
        self.priors = document_priors(self.segments)
        self._norm_tables: dict[tuple[str, float, float, float], list[float]] = {}

    def postings(self, fieldname: str, text: bytes, positions: bool = False) -> Postings:
        """Global docnums, weights and the field's length byte of each (and values), by docnum."""
        key = (fieldname, text, positions)
        if key not in self._postings:
            found = Postings([], [], bytearray(), [] if positions else None)
            for reader, offset in self.segments:
                if (fieldname, text) not in reader:
                    continue
                compact = None if positions else _compact_postings(reader, fieldname, text)
                if compact is not None:
                    ids, weights, lengths, pairs = compact
                else:
                    ids, weights, values = block_postings(reader.postings(fieldname, text))
                    table = _segment_lengths(reader, fieldname)
                    lengths = bytes([table[docnum] for docnum in ids])
                    if found.values is not None:
                        found.values.extend(values)
                    pairs = frontier(zip(weights, lengths, strict=True))
                found.pairs.extend(pairs)
                found.ids.extend([docnum + offset for docnum in ids] if offset else ids)
                found.weights.extend(weights)
                found.lengths.extend(lengths)
            self._postings[key] = found
        return self._postings[key]

    def _norms(self, fieldname: str, k1: float, b: float, average: float) -> list[float]:
        """BM25's length normalisation for each of the 256 encoded field lengths."""
        key = (fieldname, k1, b, average)
        if key not in self._norm_tables:
            norms = [k1 * ((1 - b) + b * length / average) for length in _LENGTH_OF_BYTE]
            norms[0] = k1 * ((1 - b) + b * 1 / average)  # Whoosh's default length
            self._norm_tables[key] = norms
        return self._norm_tables[key]

    def term_scorer(self, fieldname: str, text: bytes) -> Callable[[float, int], float]:
        """A function (weight, length byte) -> the term's BM25F score, as Whoosh computes it."""
        if not self.schema[fieldname].scorable:

            def plain(weight: float, length: int) -> float:
                return weight

            return plain
        k1, b = self.weighting.K1, field_b(self.weighting, fieldname)
        idf = self.searcher.idf(fieldname, text)
        average = self.searcher.avg_field_length(fieldname) or 1
        return BM25(idf, k1 + 1, self._norms(fieldname, k1, b, average))
