"""Tell whether a reference is already in the knowledge base.

Two rules, in order:

1. **Same DOI** — DOIs compared without resolver prefix (``https://doi.org/``, ``doi:``) and
   ignoring case, as DOIs are case-insensitive. A DOI match is a duplicate, always.
2. **Likely duplicate** — otherwise title, year and first author are compared after removing
   accents, case and punctuation. Titles are scored with rapidfuzz's ``token_set_ratio``
   (0–100), which scores 100 when one title's words are all in the other (a subtitle or
   series note added) and must reach ``LIKELY_THRESHOLD`` (90). The years must be equal and
   the first authors' family names must score at least 90 too, unless either side lacks
   them. So a changed colon, dash, capital or accent still matches, while the same title in
   another year (an annual report) or by another first author does not. Of several alike, the
   one whose whole title is most alike (``fuzz.ratio``) is named. When the known
   reference has no title (a record made from an in-text citation alone), the same year and
   first author make a likely duplicate. When the new one has no title, the same year and
   first author are only a **possible** duplicate (``untitled``): too little to tell two works
   apart, so the caller asks the reviewer rather than dropping it.

A part is never a duplicate of the whole it is in, nor the whole of its part: a reference
whose container (``booktitle``, journal) is the other's title is a different work (a paper
and its proceedings volume). Callers that know more (a BibTeX ``crossref``) pass the IDs a
reference must not be matched with as ``ignore``.

References with different DOIs are never likely duplicates: a DOI names one work.

Finding is indexed, so importing n entries takes time about linear in n, not n²: known
references are kept by year, and within a year by first author in ``_NameIndex``, which finds
every name that can score 90 with a given one without comparing it with all of them. Only those
candidates are scored, by the rules above, so the index changes how fast, never what, is found.
A reference with no year, or no first author, is still compared with every reference of every
year, or of its year.
"""

import re
import unicodedata
from collections import defaultdict
from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass, field

from rapidfuzz import fuzz, process

from kb.records.models import normalise_doi

LIKELY_THRESHOLD = 90.0

_NOT_WORD = re.compile(r"[^\w]+")


@dataclass(frozen=True)
class Reference:
    """What duplicate detection looks at in a study or an imported entry."""

    id: str
    title: str | None = None
    year: int | None = None
    authors: tuple[str, ...] = ()
    doi: str | None = None
    container: str | None = None


@dataclass(frozen=True)
class Match:
    """An existing reference that a new one duplicates: ``same-doi`` or ``likely``; or, for a
    new reference without a title, may duplicate: ``untitled``."""

    kind: str
    existing_id: str
    score: float

    def __str__(self) -> str:
        if self.kind == "same-doi":
            return f"same DOI as {self.existing_id}"
        if self.kind == "untitled":
            return (
                f"no title to tell it from {self.existing_id}, which has the same first author "
                "and year"
            )
        return f"likely duplicate of {self.existing_id} ({self.score:.0f}% alike)"


def doi_key(doi: str | None) -> str | None:
    """The form DOIs are compared in: no resolver prefix, lower case."""
    return normalise_doi(doi).lower() if doi else None


def _plain(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    if not decomposed.isascii():  # accents are combining characters once decomposed
        decomposed = "".join(char for char in decomposed if not unicodedata.combining(char))
    return _NOT_WORD.sub(" ", decomposed.casefold()).strip()


def family_name(author: str) -> str:
    """The family name of an author written 'Family, I.'; an organisation's whole name."""
    return author.split(",", 1)[0].strip()


def _comparable(reference: Reference) -> tuple[str, int | None, str]:
    first = family_name(reference.authors[0]) if reference.authors else ""
    return _plain(reference.title or ""), reference.year, _plain(first)


def _score(new: tuple[str, int | None, str], known: tuple[str, int | None, str]) -> float:
    """How alike two references are (0–100), or 0 when year or first author differ."""
    (title, year, author), (known_title, known_year, known_author) = new, known
    if year and known_year and year != known_year:
        return 0.0
    if author and known_author and fuzz.ratio(author, known_author) < LIKELY_THRESHOLD:
        return 0.0
    if title and known_title:
        return fuzz.token_set_ratio(title, known_title)
    if year and known_year and author and known_author:  # a record without a title
        return fuzz.ratio(author, known_author)
    return 0.0


def _pair_edits(length: int, other: int) -> int:
    """The most insertions and deletions between names of these lengths that score at least
    ``LIKELY_THRESHOLD``: ``fuzz.ratio`` is 100·(1 − edits/(both lengths))."""
    return int((100 - LIKELY_THRESHOLD) * (length + other) // 100)


def _most_edits(length: int) -> int:
    """The most edits between a name of ``length`` and any name it scores 90 with: with
    edits ≤ (la + lb)/10 and lb ≤ la + edits, edits ≤ 2·la/9."""
    return int(2 * (100 - LIKELY_THRESHOLD) * length // LIKELY_THRESHOLD)


# Names up to this long (13) are at most two edits from a match: found by deleting letters.
_SHORT_NAME = max(length for length in range(100) if _most_edits(length) <= 2)


def _deletions(name: str, most: int) -> list[set[str]]:
    """``name`` with any k of its letters deleted, for k from 0 to ``most``: one set per k."""
    found = [{name}]
    for _ in range(most):
        found.append({text[:at] + text[at + 1 :] for text in found[-1] for at in range(len(text))})
    return found


def _pieces(length: int) -> list[tuple[int, int]]:
    """Where the ``_most_edits(length) + 1`` pieces of a name of ``length`` start, and their
    lengths: as even as can be, the longer ones last."""
    count = _most_edits(length) + 1
    short, longer = divmod(length, count)
    starts, start = [], 0
    for number in range(count):
        size = short + (number >= count - longer)
        starts.append((start, size))
        start += size
    return starts


@dataclass
class _NameIndex:
    """Names, found again by any name that can score at least ``LIKELY_THRESHOLD`` with them.

    Two names that score 90 are at most ``_most_edits`` insertions and deletions apart, so they
    have a common subsequence that each reaches by deleting k letters, the two k adding up to
    at most that. A short name (two edits at most) is filed under itself with every k letters
    deleted, k up to its ``_most_edits``, and looked up the same way (a "deletion
    neighbourhood", as in SymSpell). A longer name is cut into one piece more than its
    ``_most_edits``, so one piece is untouched in any name that scores 90 with it, moved by at
    most that many places; it is looked up by its own substrings at those places (Li et al.,
    "PASS-JOIN", VLDB 2011), or, when the pieces are so common that this would list more names
    than there are of lengths that could match, by scoring those in one call to rapidfuzz.
    Some names found score less than 90; every name that scores 90 or more is found.
    """

    _by_deletion: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    _by_piece: dict[tuple[int, int, str], list[str]] = field(
        default_factory=lambda: defaultdict(list)
    )
    _long_by_length: dict[int, list[str]] = field(default_factory=lambda: defaultdict(list))

    def add(self, name: str) -> None:
        if len(name) <= _SHORT_NAME:
            for count, shorter_names in enumerate(_deletions(name, _most_edits(len(name)))):
                for shorter in shorter_names:
                    self._by_deletion[f"{count}{shorter}"].append(name)
            return
        self._long_by_length[len(name)].append(name)
        for number, (start, size) in enumerate(_pieces(len(name))):
            self._by_piece[len(name), number, name[start : start + size]].append(name)

    def candidates(self, name: str) -> set[str]:
        return self._short_candidates(name) | self._long_candidates(name)

    def _short_candidates(self, name: str) -> set[str]:
        # A short name that scores 90 with ``name`` has k letters deleted where ``name`` has
        # j deleted to reach their longest common subsequence, j + k at most the edits their
        # lengths allow: look up only those (j, k).
        length = len(name)
        pairs = [
            (deleted, known_deleted)
            for deleted in range(3)
            for known_deleted in range(3 - deleted)
            if 1 <= length - deleted + known_deleted <= _SHORT_NAME
            and deleted + known_deleted <= _pair_edits(length, length - deleted + known_deleted)
        ]
        found: set[str] = set()
        if not pairs:
            return found
        shorter_names = _deletions(name, max(deleted for deleted, _ in pairs))
        for deleted, known_deleted in pairs:
            for shorter in shorter_names[deleted]:
                found.update(self._by_deletion.get(f"{known_deleted}{shorter}", ()))
        return found

    def _long_candidates(self, name: str) -> set[str]:
        length = len(name)
        lengths = [
            known
            for known in self._long_by_length
            if abs(length - known) <= _pair_edits(length, known)
        ]
        keys = set()
        for known_length in lengths:
            difference, edits = length - known_length, _pair_edits(length, known_length)
            for number, (start, size) in enumerate(_pieces(known_length)):
                first = max(0, start - edits, start + difference - edits)
                last = min(length - size, start + edits, start + difference + edits)
                for place in range(first, last + 1):
                    key = (known_length, number, name[place : place + size])
                    if key in self._by_piece:
                        keys.add(key)
        listed = sum(len(self._by_piece[key]) for key in keys)
        if listed <= sum(len(self._long_by_length[known]) for known in lengths):
            return {known for key in keys for known in self._by_piece[key]}
        return {
            known
            for known_length in lengths
            for known, _, _ in process.extract(
                name,
                self._long_by_length[known_length],
                scorer=fuzz.ratio,
                score_cutoff=LIKELY_THRESHOLD,
                limit=None,
            )
        }


@dataclass
class _Known:
    """One known reference as duplicate detection compares it; ``order`` breaks ties."""

    comparable: tuple[str, int | None, str]
    id: str
    doi: str | None
    order: int
    container: str = ""


@dataclass
class _Year:
    """The known references of one year (or of no year), by first author."""

    by_author: dict[str, list[_Known]] = field(default_factory=lambda: defaultdict(list))
    names: _NameIndex = field(default_factory=_NameIndex)

    def add(self, known: _Known) -> None:
        author = known.comparable[2]
        if author and author not in self.by_author:
            self.names.add(author)
        self.by_author[author].append(known)

    def candidates(self, author: str) -> Iterator[_Known]:
        """Every reference whose first author is alike ``author``, or either has none."""
        if not author:
            for references in self.by_author.values():
                yield from references
            return
        yield from self.by_author.get("", ())
        for name in self.names.candidates(author):
            yield from self.by_author[name]


class DuplicateFinder:
    """Finds duplicates of new references among known ones, learning each one added."""

    def __init__(self, known: Iterable[Reference] = ()):
        self._by_doi: dict[str, str] = {}
        self._by_year: dict[int | None, _Year] = defaultdict(_Year)
        self._count = 0
        for reference in known:
            self.add(reference)

    def add(self, reference: Reference) -> None:
        """Remember ``reference``, so later ones that duplicate it are found."""
        key = doi_key(reference.doi)
        if key:
            self._by_doi.setdefault(key, reference.id)
        comparable = _comparable(reference)
        container = _plain(reference.container or "")
        known = _Known(comparable, reference.id, key, self._count, container)
        self._by_year[comparable[1] or None].add(known)
        self._count += 1

    def find(self, reference: Reference, ignore: Collection[str] = ()) -> Match | None:
        """The same-DOI or best likely-duplicate match for ``reference``, or None; never one
        of the IDs in ``ignore``, nor the reference's part or whole."""
        key = doi_key(reference.doi)
        if key and key in self._by_doi and self._by_doi[key] not in ignore:
            return Match("same-doi", self._by_doi[key], 100.0)
        new = _comparable(reference)
        title, year, author = new
        container = _plain(reference.container or "")
        if year:  # the same year, or none
            years = [self._by_year[known] for known in (year, None) if known in self._by_year]
        else:
            years = list(self._by_year.values())
        # The highest score; of equal scores, the title most alike as a whole (the same title
        # before one it is a part of), then the first known.
        best: tuple[float, float, int] | None = None
        best_id = ""
        for known in (known for found in years for known in found.candidates(author)):
            if key and known.doi and key != known.doi:
                continue
            if known.id in ignore or _part_and_whole(title, container, known):
                continue
            score = _score(new, known.comparable)
            if score >= LIKELY_THRESHOLD:
                rank = (score, fuzz.ratio(title, known.comparable[0]), -known.order)
                if best is None or rank > best:
                    best, best_id = rank, known.id
        if best is None:
            return None
        return Match("likely" if title else "untitled", best_id, best[0])


def _part_and_whole(title: str, container: str, known: _Known) -> bool:
    """Whether one reference is in the other: its container is the other's title."""
    known_title = known.comparable[0]
    return bool(
        (container and container == known_title) or (known.container and known.container == title)
    )
